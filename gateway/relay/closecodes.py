"""Close codes as they cross the gateway: reserved codes mapped, server limits respected."""

# 1005 (no status), 1006 (abnormal) and 1015 (TLS) describe a close; they are never sent.
NO_STATUS = 1005
ABNORMAL = 1006
TLS_FAILURE = 1015
GOING_AWAY = 1001
POLICY_VIOLATION = 1008
PROTOCOL_ERROR = 1002
INVALID_DATA = 1007  # e.g. a text message that is not UTF-8
INVALID_FRAME = (PROTOCOL_ERROR, INVALID_DATA)
MESSAGE_TOO_BIG = 1009
BAD_GATEWAY = 1014

_SENDABLE = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}


def sendable(code: int) -> bool:
    return code in _SENDABLE or 3000 <= code <= 4999


def from_client(code: int | None) -> int:
    """The code to send the backend when the client closed (or vanished) with `code`."""
    if code is None or code == NO_STATUS:
        return 1000
    if code in (ABNORMAL, TLS_FAILURE):
        return GOING_AWAY
    return code if sendable(code) else 1000


def from_backend(code: int | None) -> int:
    """The code to send the client when the backend closed (or vanished) with `code`."""
    if code is None or code == NO_STATUS:
        return 1000
    if code in (ABNORMAL, TLS_FAILURE):
        return BAD_GATEWAY
    return code if sendable(code) else 1000


def for_server(code: int, *, full_range: bool) -> int:
    """Daphne can only send 1000 and 3000-4999; uvicorn sends any valid code."""
    if full_range or code == 1000 or 3000 <= code <= 4999:
        return code
    return 1000
