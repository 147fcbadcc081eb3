"""Node endpoints of telemetry: POST /_portico/gateways/v1/telemetry (a self-hosted node's batch
of connection records and per-minute figures, stored under the node token's gateway and at most
once per batch id) and POST .../connections (its open connections, live)."""

import json

from django.db import DataError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apis.nodes.auth import node_gateway, unauthorized
from apis.nodes.reports import BadReport
from apis.telemetry import live_services, services
from apis.telemetry.wire import decode_batch


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
    for row in (*batch["records"], *batch["usage"], *batch["refusals"]):
        row["gateway"] = gateway.name
    try:
        stored = services.write_batch(
            records=batch["records"],
            usage=batch["usage"],
            refusals=batch["refusals"],
            batch_id=f"{gateway.name}:{batch['batch_id']}"[:120],
        )
    except (TypeError, ValueError, DataError) as error:  # wrong types or sizes
        return JsonResponse({"error": f"malformed batch: {error}"}, status=400)
    return JsonResponse({"stored": stored, "records": len(batch["records"])})


MAX_LIVE_REPORT_BYTES = 8 * 1024 * 1024  # a full list of ~20,000 connections


@csrf_exempt  # bearer-token API for nodes, never a browser session
@require_POST
def live_connections(request: HttpRequest) -> HttpResponse:
    """POST /_portico/gateways/v1/connections: a node process's open connections (deltas, counts
    or its full list); the answer names those an administrator asked it to close."""
    gateway = node_gateway(request)
    if gateway is None:
        return unauthorized()
    if len(request.body) > MAX_LIVE_REPORT_BYTES:
        return JsonResponse({"error": "report too large"}, status=413)
    try:
        asked = live_services.record_live_report(
            gateway_name=gateway.name, report=json.loads(request.body or b"null")
        )
    except (ValueError, BadReport) as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"disconnect": asked})
