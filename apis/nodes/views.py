"""Node endpoints: a self-hosted node pulls its gateway's configuration here (long-poll by ETag)
and reports its heartbeats. Every request carries the node token, which names the gateway.

`GET config` answers the gateway's catalog as JSON with the catalog revision as ETag. With
`If-None-Match` naming the current revision and `?wait=N` (seconds, at most 60; a negative N
does not wait; nan and infinities are refused), it holds the request until the revision changes
(then answers 200 at once) or N seconds pass (304), so a change reaches every node within about
`REVISION_CHECK_SECONDS` plus a round trip. A request that waited checks its token again before
it answers: a token replaced meanwhile gets 401, never the configuration.
"""

import asyncio
import json
import math
import time

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apis import selectors, services
from apis.nodes import shutdown
from apis.nodes.auth import node_gateway, unauthorized
from apis.nodes.reports import BadReport, clean_heartbeat
from apis.wire import catalog_to_json

MAX_WAIT_SECONDS = 60.0
REVISION_CHECK_SECONDS = 0.25  # one single-row read per waiting node per check


def etag_of(revision: int) -> str:
    return f'"{revision}"'


def wait_seconds(text: str) -> float:
    """`?wait=`'s seconds, at most MAX_WAIT_SECONDS, 0 for a negative value; ValueError unless
    a finite number (nan would pass any clamp and hold the request for ever)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return min(max(value, 0.0), MAX_WAIT_SECONDS)


@require_GET
async def config(request: HttpRequest) -> HttpResponse:
    authenticate = sync_to_async(node_gateway)
    gateway = await authenticate(request)
    if gateway is None:
        return unauthorized()
    known = request.headers.get("If-None-Match", "")
    try:
        wait = wait_seconds(request.GET.get("wait", "0"))
    except ValueError:
        return JsonResponse(
            {"error": "wait must be a finite number of seconds", "field": "wait"}, status=400
        )
    deadline = time.monotonic() + wait
    revision_of = sync_to_async(selectors.catalog_revision)
    waited = False
    while unchanged := known == etag_of(await revision_of()):
        if shutdown.stopping():  # the server is stopping: do not hold it up
            return shutdown.stopping_response()
        if time.monotonic() >= deadline:
            break
        await asyncio.sleep(REVISION_CHECK_SECONDS)
        waited = True
    if waited:  # the token may have been replaced (or the gateway deleted) meanwhile
        gateway = await authenticate(request)
        if gateway is None:
            return unauthorized()
    if unchanged:
        response = HttpResponse(status=304)
        response["ETag"] = known
        response["Cache-Control"] = "no-store"
        return response
    catalog = await sync_to_async(selectors.gateway_catalog)(gateway.name)
    response = HttpResponse(
        json.dumps(catalog_to_json(catalog), separators=(",", ":")),
        content_type="application/json",
    )
    response["ETag"] = etag_of(catalog.revision)
    response["Cache-Control"] = "no-store"
    response["X-Portico-Gateway"] = gateway.name  # the node checks it is the one it runs as
    return response


MAX_REPORT_BYTES = 16 * 1024


@csrf_exempt  # bearer-token API for nodes, never a browser session
@require_POST
def heartbeat(request: HttpRequest) -> HttpResponse:
    """Store one node process's heartbeat under the token's gateway."""
    gateway = node_gateway(request)
    if gateway is None:
        return unauthorized()
    if len(request.body) > MAX_REPORT_BYTES:
        return JsonResponse({"error": "report too large"}, status=413)
    try:
        report = clean_heartbeat(json.loads(request.body or b"null"))
    except (ValueError, BadReport) as error:
        return JsonResponse({"error": str(error)}, status=400)
    services.record_node_heartbeat(gateway_name=gateway.name, report=report)
    return JsonResponse({"revision": selectors.catalog_revision()}, status=200)
