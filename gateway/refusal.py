"""A refused handshake: the HTTP status and JSON body, sent as a real response where possible.

Uvicorn implements the ASGI WebSocket denial response, so the client gets the real status (401,
403, 404, 429, 502, 504) and body. Daphne does not: there the only way to refuse is to close
before accepting, which Daphne answers with 403 and no body.
"""

import json

DENIAL_EXTENSION = "websocket.http.response"


class Refusal(Exception):
    """Raised anywhere in the handshake to refuse it; `reason` is for the log, never a secret."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        reason: str = "",
        headers: dict | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message
        self.reason = reason or message
        self.headers = headers or {}
        self.custom_body = body  # return-response's own body, sent as it is

    def body(self, correlation_id: str) -> bytes:
        return json.dumps(
            {"statusCode": self.status, "message": self.message, "correlationId": correlation_id}
        ).encode()


def supports_denial_response(scope: dict) -> bool:
    return DENIAL_EXTENSION in (scope.get("extensions") or {})


async def send_refusal(send, scope: dict, refusal: Refusal, correlation_id: str) -> None:
    if not supports_denial_response(scope):
        await send({"type": "websocket.close", "code": 1000})
        return
    own = {k.lower(): v for k, v in refusal.headers.items() if k.lower() != "content-length"}
    if refusal.custom_body is not None:
        body = refusal.custom_body.encode()
        own.setdefault("content-type", "text/plain; charset=utf-8")
    else:
        body = refusal.body(correlation_id)
        own["content-type"] = "application/json"
    own["content-length"] = str(len(body))
    own["x-correlation-id"] = correlation_id
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in own.items()]
    await send(
        {"type": "websocket.http.response.start", "status": refusal.status, "headers": headers}
    )
    await send({"type": "websocket.http.response.body", "body": body})
