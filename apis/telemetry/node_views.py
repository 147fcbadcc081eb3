"""Node endpoints of telemetry: POST /_portico/gateways/v1/telemetry (a self-hosted node's batch
of connection records and per-minute figures, stored under the node token's gateway and at most
once per batch id) and POST .../connections (its open connections, live).

Rows naming another gateway's API, product or subscription are dropped, counted in the answer
(`dropped`) and logged, and the rest is stored: refusing the batch would leave it at the head
of the node's spool, retried for ever, holding back every later batch.
"""

import json
import logging

from django.db import DataError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apis.nodes.auth import node_gateway, unauthorized
from apis.nodes.reports import BadReport
from apis.nodes.scope import NodeScope
from apis.telemetry import live_services, services
from apis.telemetry.wire import decode_batch

log = logging.getLogger("portico.portal")


def _warn_dropped(scope: NodeScope, gateway: str, what: str, total: int) -> None:
    if scope.dropped:
        log.warning(
            "dropped %d of %d %s from gateway %s's node: not its APIs or subscriptions",
            scope.dropped,
            total,
            what,
            gateway,
        )


@csrf_exempt  # bearer-token API for nodes, never a browser session
@require_POST
def telemetry(request: HttpRequest) -> HttpResponse:
    gateway = node_gateway(request)
    if gateway is None:
        return unauthorized()
    try:
        batch = decode_batch(json.loads(request.body))
    except (ValueError, KeyError, TypeError) as error:
        return JsonResponse({"error": f"malformed batch: {error}"}, status=400)
    # A node writes only its own gateway's telemetry, whatever its batch says.
    rows = (*batch["records"], *batch["usage"], *batch["refusals"])
    for row in rows:
        row["gateway"] = gateway.name
    scope = NodeScope(gateway, rows)
    kept = {part: scope.keep(batch[part]) for part in ("records", "usage", "refusals")}
    try:
        stored = services.write_batch(**kept, batch_id=f"{gateway.name}:{batch['batch_id']}"[:120])
    except (TypeError, ValueError, DataError) as error:  # wrong types or sizes
        return JsonResponse({"error": f"malformed batch: {error}"}, status=400)
    _warn_dropped(scope, gateway.name, "telemetry rows", len(rows))
    answer = {"stored": stored, "records": len(kept["records"]), "dropped": scope.dropped}
    return JsonResponse(answer)


MAX_LIVE_REPORT_BYTES = 8 * 1024 * 1024  # a full list of ~20,000 connections


@csrf_exempt  # bearer-token API for nodes, never a browser session
@require_POST
def live_connections(request: HttpRequest) -> HttpResponse:
    """POST /_portico/gateways/v1/connections: a node process's open connections (deltas, counts
    or its full list); the answer names those an administrator asked it to close, and the
    messages waiting for it in the control channel."""
    gateway = node_gateway(request)
    if gateway is None:
        return unauthorized()
    if len(request.body) > MAX_LIVE_REPORT_BYTES:
        return JsonResponse({"error": "report too large"}, status=413)
    dropped = 0

    def own(entries: list[dict]) -> list[dict]:
        nonlocal dropped
        scope = NodeScope(gateway, entries)
        kept = scope.keep(entries)
        dropped = scope.dropped
        _warn_dropped(scope, gateway.name, "opened connections", len(entries))
        return kept

    try:
        answer = live_services.answer_live_report(
            gateway_name=gateway.name, report=json.loads(request.body or b"null"), keep=own
        )
    except (ValueError, BadReport) as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({**answer, "dropped": dropped})
