"""Held config long-polls end at once when the server stops, so stopping never waits for them.

uvicorn waits for in-flight requests before it exits; a node's long-poll is held up to
`MAX_WAIT_SECONDS`. The serving command calls `release_held_polls()` when shutdown begins; the
wait loop answers 503 and the node retries (another instance, or this one once restarted).
"""

import threading

from django.http import JsonResponse

# A threading.Event, not an asyncio one: set from the server's loop, read by any worker's loop.
_stopping = threading.Event()


def release_held_polls() -> None:
    _stopping.set()


def stopping() -> bool:
    return _stopping.is_set()


def stopping_response() -> JsonResponse:
    response = JsonResponse({"error": "the control plane is stopping: retry"}, status=503)
    response["Retry-After"] = "1"
    response["Cache-Control"] = "no-store"
    return response
