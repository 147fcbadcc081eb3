"""Messages to live connections as they travel between the planes: requests, answers, channels.

The control plane sends a gateway process one request naming the connections it holds and the
message ({"id", "reply", "connections", "text" | "data" (base64)}); the process answers once,
on the request's `reply` channel, how each delivery ended ({"id", "results": {connection id:
outcome}}). Over Redis the request goes to the process's own channel (`process_channel`);
through the control channel it comes with the answer to a live report (no `reply`: the outcomes
go back in the next report's "answered"); in the demo it is a function call in one process.
Django-free: both planes import it.
"""

import base64
import binascii
import json

# How one delivery ended (an answer's per-connection outcome).
DELIVERED = "delivered"  # handed to the client's transport
GONE = "gone"  # this process does not hold it (any more), or it is closing
TOO_BIG = "too_big"  # over the API's message size limit
FULL = "full"  # the client's outgoing buffer is full: not queued
OUTCOMES = (DELIVERED, GONE, TOO_BIG, FULL)

MAX_CONNECTIONS_PER_REQUEST = 20_000  # one process holds at most about 10,000
CHANNEL_PREFIX = "portico:deliver"


class BadDelivery(ValueError):
    """A request or answer that does not follow this format."""


def process_channel(gateway: str, node_id: str, worker: str) -> str:
    """The Redis channel one gateway process listens on (worker: its pid, as it reports it)."""
    return f"{CHANNEL_PREFIX}:{gateway}:{node_id}:{worker}"


def reply_channel(request_id: str) -> str:
    return f"{CHANNEL_PREFIX}:reply:{request_id}"


def encode_request(
    *, request_id: str, reply: str, connections: list[str], text: str | None, data: bytes | None
) -> bytes:
    body: dict = {"id": request_id, "reply": reply, "connections": connections}
    if text is not None:
        body["text"] = text
    else:
        body["data"] = base64.b64encode(data or b"").decode("ascii")
    return json.dumps(body, separators=(",", ":")).encode()


def decode_request(raw: bytes | str) -> dict:
    """{"id", "reply", "connections", "text" or "data" (bytes)}; BadDelivery when malformed."""
    try:
        body = json.loads(raw)
    except (TypeError, ValueError):
        raise BadDelivery("not JSON") from None
    return clean_request(body)


def clean_request(body) -> dict:
    """`decode_request` of parsed JSON; a control channel request has no `reply` (empty)."""
    if not isinstance(body, dict):
        raise BadDelivery("not a JSON object")
    request_id, reply = body.get("id"), body.get("reply", "")
    connections = body.get("connections")
    if not isinstance(request_id, str) or not isinstance(reply, str):
        raise BadDelivery("id and reply must be text")
    if not isinstance(connections, list) or len(connections) > MAX_CONNECTIONS_PER_REQUEST:
        raise BadDelivery("connections must be a list")
    if not all(isinstance(c, str) for c in connections):
        raise BadDelivery("connection ids must be text")
    clean = {"id": request_id, "reply": reply, "connections": connections}
    if isinstance(body.get("text"), str):
        clean["text"], clean["data"] = body["text"], None
    elif isinstance(body.get("data"), str):
        try:
            clean["text"], clean["data"] = None, base64.b64decode(body["data"], validate=True)
        except (binascii.Error, ValueError):
            raise BadDelivery("data must be base64") from None
    else:
        raise BadDelivery("a request carries text or data")
    return clean


def encode_answer(request_id: str, results: dict[str, str]) -> bytes:
    return json.dumps({"id": request_id, "results": results}, separators=(",", ":")).encode()


def decode_answer(raw: bytes | str) -> tuple[str, dict[str, str]]:
    """(request id, {connection id: outcome}); BadDelivery when malformed."""
    try:
        body = json.loads(raw)
        request_id, results = body["id"], body["results"]
    except (TypeError, ValueError, KeyError):
        raise BadDelivery("not an answer") from None
    if not isinstance(request_id, str) or not isinstance(results, dict):
        raise BadDelivery("not an answer")
    return request_id, {str(k): v if v in OUTCOMES else GONE for k, v in results.items()}


def message_size(text: str | None, data: bytes | None) -> int:
    """Bytes on the wire of the message's payload, as the API's message limit counts them."""
    return len(text.encode()) if text is not None else len(data or b"")
