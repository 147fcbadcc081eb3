"""Named values and policy fragments enforced by the real gateway, and changed while it runs
(issue 14 items 3 and 4): plain and secret values in check-header, set-header, ip-filter and
validate-jwt, one fragment included by two APIs, and a secret never in the gateway's log."""

import base64
import os
import stat
import time

import jwt
import pytest

from apis import selectors, services
from apis.models import NamedValue, PolicyFragment
from apis.telemetry.models import ConnectionLog
from tests.support.backend import free_port
from tests.support.client import refused, run, ws_connect
from tests.support.servers import ServerProcess, serve_current_catalog
from tests.support.telemetry import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "sv-" + os.urandom(8).hex()  # one value per run, so finding it means it leaked


def doc(inbound: str) -> str:
    return f"<policies><inbound><base/>{inbound}</inbound></policies>"


async def echo_once(url: str, **kwargs) -> str:
    async with ws_connect(url, **kwargs) as ws:
        await ws.send("hi")
        return await ws.recv()


def key_url(gateway, catalog, path="/echo") -> str:
    return f"{gateway.ws_url}{path}?subscription-key={catalog.key}"


@pytest.fixture
def cleanup():
    """Named values and fragments are not removed with the catalog fixture's rows."""
    yield
    from apis.models import Api, GlobalPolicy

    Api.objects.update(policy_xml="")
    GlobalPolicy.objects.update(policy_xml="")
    PolicyFragment.objects.all().delete()
    NamedValue.objects.all().delete()


def test_plain_and_secret_named_values_and_a_change_reaching_the_running_gateway(
    gateway, catalog, backend, cleanup
):
    services.create_named_value(name="client-header", value="X-Client")
    services.create_named_value(name="client-secret", value=SECRET, secret=True)
    services.create_named_value(name="team", value="blue")
    services.create_named_value(name="allowed.ip", value="127.0.0.1")
    services.update_api(
        api=catalog.api,
        policy_xml=doc(
            '<ip-filter action="allow"><address>{{allowed.ip}}</address></ip-filter>'
            '<check-header name="{{client-header}}" failed-check-httpcode="401" '
            'failed-check-error-message="Unknown client"><value>{{client-secret}}</value>'
            "</check-header>"
            '<set-header name="X-Team" exists-action="override"><value>{{team}}</value>'
            "</set-header>"
        ),
    )
    serve_current_catalog(gateway)
    url = key_url(gateway, catalog)
    assert run(refused(url)).status == 401
    assert run(refused(url, additional_headers={"X-Client": "{{client-secret}}"})).status == 401
    assert run(echo_once(url, additional_headers={"X-Client": SECRET})) == "hi"
    assert backend.requests[-1].headers["x-team"] == "blue"

    # Replacing the secret and the plain value recompiles the policy on the running gateway.
    named = NamedValue.objects.get(name="client-secret")
    services.update_named_value(named_value=named, value=SECRET + "-2")
    services.update_named_value(named_value=NamedValue.objects.get(name="team"), value="red")
    serve_current_catalog(gateway)  # bounded wait: fails after 10 s
    assert run(refused(url, additional_headers={"X-Client": SECRET})).status == 401
    assert run(echo_once(url, additional_headers={"X-Client": SECRET + "-2"})) == "hi"
    assert backend.requests[-1].headers["x-team"] == "red"

    services.update_named_value(
        named_value=NamedValue.objects.get(name="allowed.ip"), value="10.9.9.9"
    )
    serve_current_catalog(gateway)
    assert run(refused(url, additional_headers={"X-Client": SECRET + "-2"})).status == 403
    assert SECRET not in gateway.output()


def test_validate_jwt_signing_key_from_a_secret_named_value(gateway, catalog, backend, cleanup):
    key = os.urandom(32)
    services.create_named_value(name="jwt-key", value=base64.b64encode(key).decode(), secret=True)
    services.update_api(
        api=catalog.api,
        policy_xml=doc(
            '<validate-jwt query-parameter-name="access_token">'
            "<issuer-signing-keys><key>{{jwt-key}}</key></issuer-signing-keys>"
            "</validate-jwt>"
        ),
    )
    serve_current_catalog(gateway)
    token = jwt.encode({"exp": int(time.time()) + 60}, key, "HS256")
    other = jwt.encode({"exp": int(time.time()) + 60}, os.urandom(32), "HS256")
    base = key_url(gateway, catalog)
    assert run(echo_once(f"{base}&access_token={token}")) == "hi"
    assert run(refused(f"{base}&access_token={other}")).status == 401
    assert base64.b64encode(key).decode() not in gateway.output()


FRAGMENT = (
    "<fragment>"
    '<check-header name="X-Team" failed-check-httpcode="403" '
    'failed-check-error-message="Wrong team"><value>{{team}}</value></check-header>'
    "</fragment>"
)


def test_a_fragment_written_once_guards_two_apis_and_its_change_reaches_both(
    gateway, catalog, backend, cleanup
):
    builtin = services.ensure_builtin_gateway()
    second = services.create_api(
        display_name="Echo two",
        backend_url=f"{backend.url}/two",
        url_suffix="echo-two",
        gateways=[builtin],
        products=[catalog.product],
    )
    services.create_named_value(name="team", value="blue")
    services.create_policy_fragment(name="team-check", xml=FRAGMENT)
    include = doc('<include-fragment fragment-id="team-check" />')
    services.update_api(api=catalog.api, policy_xml=include)
    services.update_api(api=second, policy_xml=include)
    serve_current_catalog(gateway)
    urls = [key_url(gateway, catalog), key_url(gateway, catalog, "/echo-two")]
    for url in urls:
        result = run(refused(url, additional_headers={"X-Team": "red"}))
        assert (result.status, result.body["message"]) == (403, "Wrong team")
        assert run(echo_once(url, additional_headers={"X-Team": "blue"})) == "hi"

    fragment = PolicyFragment.objects.get(name="team-check")
    services.update_policy_fragment(
        fragment=fragment, xml=FRAGMENT.replace("Wrong team", "Not your team")
    )
    serve_current_catalog(gateway)
    for url in urls:
        result = run(refused(url, additional_headers={"X-Team": "red"}))
        assert result.body["message"] == "Not your team"
    # The named value the fragment uses changes both APIs too.
    services.update_named_value(named_value=NamedValue.objects.get(name="team"), value="red")
    serve_current_catalog(gateway)
    for url in urls:
        assert run(echo_once(url, additional_headers={"X-Team": "red"})) == "hi"
    assert selectors.catalog_revision()


def test_a_self_hosted_node_follows_a_named_value_change(
    control, edge, start_edge_node, tmp_path, cleanup
):
    """The node gets resolved policies (it never holds PORTICO_SECRETS_KEY); its saved
    configuration therefore holds the secret, and is 0600."""
    services.create_named_value(name="client-secret", value=SECRET, secret=True)
    api = edge.gateway.apis.get()
    services.update_api(
        api=api,
        policy_xml=doc(
            '<check-header name="X-Client" failed-check-httpcode="401" '
            'failed-check-error-message="no"><value>{{client-secret}}</value></check-header>'
        ),
    )
    node = start_edge_node(control)
    try:
        node.wait_for_revision(selectors.catalog_revision())
        url = f"{node.ws_url}/echo?subscription-key={edge.key}"
        assert run(echo_once(url, additional_headers={"X-Client": SECRET})) == "hi"
        saved = tmp_path / "gateway-edge.config.json"
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600

        services.update_named_value(
            named_value=NamedValue.objects.get(name="client-secret"), value="rotated"
        )
        node.wait_for_revision(selectors.catalog_revision())  # long-poll: well within 10 s
        assert run(refused(url, additional_headers={"X-Client": SECRET})).status == 401
        assert run(echo_once(url, additional_headers={"X-Client": "rotated"})) == "hi"
        assert SECRET not in node.output() and SECRET not in control.output()
    finally:
        node.stop()


def test_a_header_carrying_a_secret_is_redacted_even_at_debug_level(
    catalog, backend, server_logs, cleanup
):
    """The node cannot tell a secret value from another: the catalog names the headers that
    carry one, and the node's log redacts them like credential headers."""
    services.create_named_value(name="team-token", value=SECRET, secret=True)
    services.update_api(
        api=catalog.api,
        policy_xml=doc(
            '<set-header name="X-Team" exists-action="override"><value>{{team-token}}</value>'
            "</set-header>"
        ),
    )
    assert selectors.gateway_catalog("managed").secret_headers == ("X-Team",)
    server = ServerProcess("uvicorn", server_logs, UVICORN_LOG_LEVEL="DEBUG", LOG_LEVEL="DEBUG")
    try:
        serve_current_catalog(server)
        assert run(echo_once(key_url(server, catalog))) == "hi"
    finally:
        server.stop()
    assert backend.requests[-1].headers["x-team"] == SECRET
    log = server.output()
    assert "x-team: [redacted]" in log.lower()
    assert SECRET not in log


def test_a_secret_in_a_backend_url_is_redacted_in_the_log_and_the_connection_record(
    catalog, backend, server_logs, cleanup
):
    """Wherever a secret value lands, the node redacts it by value: in a backend path (the
    request line printed at DEBUG) and in a URL the backend leg cannot use (the value as user
    info, on a port nothing listens on), which the refusal's reason quotes whole."""
    services.create_named_value(name="backend-token", value=SECRET, secret=True)
    set_backend = '<set-backend-service base-url="{}" />'
    services.update_api(
        api=catalog.api,  # the test backend answers /reject with 403
        policy_xml=doc(set_backend.format(f"{backend.url}/reject/{{{{backend-token}}}}/feed")),
    )
    services.create_api(
        display_name="Down",
        backend_url=f"{backend.url}/down",
        url_suffix="down",
        gateways=[catalog.gateway],
        products=[catalog.product],
        policy_xml=doc(set_backend.format(f"ws://{{{{backend-token}}}}@127.0.0.1:{free_port()}/")),
    )
    assert selectors.gateway_catalog("managed").secret_values == (SECRET,)
    server = ServerProcess(
        "gateway", server_logs, LOG_LEVEL="DEBUG", UVICORN_LOG_LEVEL="DEBUG",
        PORTICO_TELEMETRY_FLUSH_MS="100",
    )  # fmt: skip
    try:
        serve_current_catalog(server)
        answers = [run(refused(key_url(server, catalog, path))) for path in ("/echo", "/down")]
        assert [answer.status for answer in answers] == [502, 502]
        ids = [answer.body["correlationId"] for answer in answers]
        found = ConnectionLog.objects.filter(correlation_id__in=ids)
        records = wait_for(lambda: len(rows := list(found.all())) == 2 and rows)
    finally:
        server.stop()
    log = server.output()
    assert "> GET /reject/[redacted]/feed/ HTTP/1.1" in log
    assert "reason=backend handshake: ws://[redacted]@127.0.0.1:" in log
    assert SECRET not in log
    down = next(r for r in records if r.correlation_id == ids[1])
    assert down.reason.startswith("backend handshake: ws://[redacted]@127.0.0.1:"), down.reason
    for record in records:
        assert SECRET not in f"{record.reason} {record.error} {record.path}"
