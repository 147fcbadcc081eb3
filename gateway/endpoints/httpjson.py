"""Answering a plain HTTP request with JSON from the gateway's own small ASGI endpoints."""

import json


async def send_json(send, data: dict, *, status: int = 200, headers=()) -> None:
    body = json.dumps(data).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
