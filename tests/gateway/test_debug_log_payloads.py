"""No message payload and no secret value reaches the log, even at DEBUG (issue 23, item 10).

At DEBUG, websockets' Sans-I/O protocols (uvicorn's server side under `uvicorn.error`, the
backend leg under `websockets.client`) print every frame with its payload, and the backend
request line carries what set-query-parameter and set-backend-service put in the URL, secret
named values included, percent-encoded where they hold reserved characters.
"""

import logging
import os
from urllib.parse import quote, quote_plus

import pytest
from websockets.frames import Close, Frame, Opcode
from websockets.uri import DELIMS

from apis import services
from apis.models import NamedValue
from gateway.logredact import RedactSecrets, remember_secret_values, scrub
from tests.support.client import run, ws_connect
from tests.support.raw_client import RawClient
from tests.support.servers import ServerProcess, serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)

MARK = "pl-" + os.urandom(6).hex()  # a payload: finding it in the log means it leaked


def secret(label: str) -> str:
    # Reserved characters: in a URL the value appears percent-encoded, not as stored.
    return f"{label}+{os.urandom(6).hex()}/={os.urandom(3).hex()}&é"


def until_close(client: RawClient) -> None:
    for _ in range(1000):
        got = client.read_frames()
        if any(f.opcode is Opcode.CLOSE for f in got) or not (got or client.established()):
            return
    raise AssertionError("no close frame")


@pytest.fixture
def cleanup():
    yield
    NamedValue.objects.all().delete()


def test_payloads_and_secret_url_parts_stay_out_of_the_debug_log(
    catalog, backend, server_logs, cleanup
):
    query_secret, path_secret, sig_secret = secret("q"), secret("p"), secret("s")
    services.create_named_value(name="query-token", value=query_secret, secret=True)
    services.create_named_value(name="path-token", value=path_secret, secret=True)
    services.create_named_value(name="sig-token", value=sig_secret, secret=True)
    inbound = (
        '<set-query-parameter name="token" exists-action="override">'
        "<value>{{query-token}}</value></set-query-parameter>"
        f'<set-backend-service base-url="{backend.url}/feed/{{{{path-token}}}}/x'
        '?sig={{sig-token}}" />'
    )
    # The tunnel: no onMessage policy that reads payloads.
    services.update_api(
        api=catalog.api, policy_xml=f"<policies><inbound><base/>{inbound}</inbound></policies>"
    )
    # The framed relay: a validate-message policy reads every payload.
    services.create_api(
        display_name="Framed",
        backend_url=f"{backend.url}/framed",
        url_suffix="framed",
        gateways=[catalog.gateway],
        products=[catalog.product],
        policy_xml=(
            f"<policies><inbound><base/>{inbound}</inbound><on-message><inbound><base/>"
            '<validate-message action="log"><schema>{"type": "string"}</schema>'
            "</validate-message></inbound><outbound><base/></outbound></on-message></policies>"
        ),
    )
    server = ServerProcess("gateway", server_logs, LOG_LEVEL="DEBUG", UVICORN_LOG_LEVEL="DEBUG")
    try:
        serve_current_catalog(server)
        payloads = {}
        for path in ("echo", "framed"):
            url = f"{server.ws_url}/{path}?subscription-key={catalog.key}"

            async def scenario(url=url, path=path) -> list:
                got = []
                async with ws_connect(url) as ws:
                    for message in (f"{MARK}-{path}-text", f"{MARK}-{path}-bin".encode()):
                        await ws.send(message)
                        got.append(await ws.recv())
                    await ws.ping(f"{MARK}-{path}-ping".encode())
                    await ws.close(4000, f"{MARK}-{path}-close")
                return got

            payloads[path] = run(scenario())
            seen = backend.requests[-1]
            assert seen.path.startswith("/feed/"), seen.path  # set-backend-service applied
            assert backend.wait_closed(seen)
            # A close whose code says "invalid data" carries the peer's text as its reason.
            client = RawClient(url)
            try:
                client.send_text(f'["{MARK}-{path}-json"]')  # JSON, not what the schema wants
                client.send_text(f"!send-fragments {MARK}-{path}-frag one two")
                reason = f"{MARK}-{path}-reason"
                client.send_raw(
                    Frame(Opcode.CLOSE, Close(1007, reason).serialize()).serialize(mask=True)
                )
                until_close(client)
            finally:
                client.close()
    finally:
        server.stop()
    assert payloads == {
        path: [f"{MARK}-{path}-text", f"{MARK}-{path}-bin".encode()] for path in payloads
    }
    log = server.output()
    assert "> GET /feed/" in log  # the backend request line is logged, redacted
    leaks = [MARK, query_secret, path_secret, sig_secret]
    leaks += [s.encode().hex() for s in leaks]  # websockets prints binary payloads in hex
    for value in (query_secret, path_secret, sig_secret):
        leaks += [quote(value, safe=""), quote_plus(value), quote(value)]
        leaks += [part for part in value.replace("+", "/").split("/") if len(part) > 6]
    found = [line for line in log.splitlines() if any(leak in line for leak in leaks)]
    assert found == []


def test_a_secret_value_is_redacted_in_each_form_a_url_gives_it():
    value = secret("v") + " 100%"
    query = quote(value, safe="")  # set-query-parameter's encoding
    forms = [value, query, quote_plus(value), quote(value, safe=DELIMS), quote(query, safe=DELIMS)]
    remember_secret_values([value])
    try:
        lines = [scrub(f"backend handshake: ws://h/feed/{form}/x failed") for form in forms]
    finally:
        remember_secret_values(())
    assert lines == ["backend handshake: ws://h/feed/[redacted]/x failed"] * len(forms)


@pytest.mark.parametrize(
    ("frame", "shown"),
    [
        (Frame(Opcode.TEXT, MARK.encode()), "< TEXT [15 bytes]"),
        (
            Frame(Opcode.BINARY, b"\xff" + MARK.encode(), fin=False),
            "< BINARY [16 bytes, continued]",
        ),
        (Frame(Opcode.CONT, b"x"), "< CONT [1 byte]"),
        (Frame(Opcode.PING, MARK.encode()), "< PING [15 bytes]"),
        (Frame(Opcode.CLOSE, Close(4000, MARK).serialize()), "< CLOSE 4000 [17 bytes]"),
        (Frame(Opcode.CLOSE, b""), "< CLOSE [0 bytes]"),
    ],
)
def test_a_frame_line_shows_the_kind_and_size_of_the_frame_but_not_its_payload(frame, shown):
    record = logging.LogRecord(
        "websockets.client", logging.DEBUG, __file__, 1, "< %s", (frame,), None
    )
    assert RedactSecrets().filter(record)
    assert record.getMessage() == shown
