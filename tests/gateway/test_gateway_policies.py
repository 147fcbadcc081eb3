"""onHandshake policies enforced by the real gateway, at every scope, before the backend."""

import base64
import os
import time
import uuid

import jwt
import pytest

from apis import services
from apis.telemetry.models import ConnectionLog
from tests.support.client import refused, run, ws_connect
from tests.support.servers import ServerProcess, serve_current_catalog
from tests.support.telemetry import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def doc(inbound: str) -> str:
    return f"<policies><inbound>{inbound}</inbound><backend><base/></backend></policies>"


CHECK_HEADER = (
    '<check-header name="X-Client" failed-check-httpcode="401" '
    'failed-check-error-message="Unknown client" ignore-case="true">'
    "<value>web</value></check-header>"
)


async def echo_once(url: str, **kwargs) -> str:
    async with ws_connect(url, **kwargs) as ws:
        await ws.send("hi")
        return await ws.recv()


def telemetry_written(attempts: int) -> None:
    """Wait (bounded) until the gateway has written this test's connection records, so its
    telemetry insert cannot deadlock with the database flush that ends the test (PostgreSQL)."""
    wait_for(lambda: ConnectionLog.objects.count() >= attempts)


def key_url(gateway, catalog, path="/echo") -> str:
    return f"{gateway.ws_url}{path}?subscription-key={catalog.key}"


def test_check_header_at_api_scope_refuses_then_allows(gateway, catalog, backend):
    services.update_api(api=catalog.api, policy_xml=doc(f"<base/>{CHECK_HEADER}"))
    serve_current_catalog(gateway)
    result = run(refused(key_url(gateway, catalog)))
    assert (result.status, result.body["message"]) == (401, "Unknown client")
    assert backend.requests == []
    headers = {"X-Client": "WEB"}
    assert run(echo_once(key_url(gateway, catalog), additional_headers=headers)) == "hi"


def test_product_scope_applies_through_base_and_not_without_it(gateway, catalog, backend):
    services.update_product(product=catalog.product, policy_xml=doc(f"<base/>{CHECK_HEADER}"))
    services.update_api(api=catalog.api, policy_xml=doc("<base/>"))
    serve_current_catalog(gateway)
    assert run(refused(key_url(gateway, catalog))).status == 401

    services.update_api(api=catalog.api, policy_xml=doc(""))  # no <base/>: parents dropped
    serve_current_catalog(gateway)
    assert run(echo_once(key_url(gateway, catalog))) == "hi"


def test_global_scope_ip_filter_reaches_every_api(gateway, catalog, backend):
    services.set_global_policy(
        policy_xml="<policies><inbound>"
        '<ip-filter action="forbid"><address>127.0.0.1</address></ip-filter>'
        "</inbound></policies>"
    )
    serve_current_catalog(gateway)
    result = run(refused(key_url(gateway, catalog)))
    assert result.status == 403
    assert backend.requests == []
    services.set_global_policy(policy_xml="")


def test_rate_limit_by_key_answers_429_with_retry_after(gateway, catalog, backend):
    counter = uuid.uuid4().hex
    services.update_api(
        api=catalog.api,
        policy_xml=doc(
            f'<rate-limit-by-key calls="2" renewal-period="60" counter-key="{counter}"/>'
        ),
    )
    serve_current_catalog(gateway)
    assert run(echo_once(key_url(gateway, catalog))) == "hi"
    assert run(echo_once(key_url(gateway, catalog))) == "hi"
    result = run(refused(key_url(gateway, catalog)))
    assert result.status == 429
    assert 0 < int(result.headers["retry-after"]) <= 60
    assert len(backend.requests) == 2


def test_quota_answers_403(gateway, catalog, backend):
    services.update_api(api=catalog.api, policy_xml=doc('<quota calls="1" renewal-period="3600"/>'))
    serve_current_catalog(gateway)
    assert run(echo_once(key_url(gateway, catalog))) == "hi"
    assert run(refused(key_url(gateway, catalog))).status == 403


def test_set_header_and_query_parameter_reach_the_backend(gateway, catalog, backend):
    services.update_api(
        api=catalog.api,
        policy_xml=doc(
            '<set-header name="X-Subscription" exists-action="override">'
            "<value>@(context.Subscription.Name)</value></set-header>"
            '<set-header name="User-Agent" exists-action="delete"/>'
            '<set-query-parameter name="tenant" exists-action="override">'
            "<value>@(context.Api.Name)</value></set-query-parameter>"
        ),
    )
    serve_current_catalog(gateway)
    run(echo_once(key_url(gateway, catalog), user_agent_header="secret-agent"))
    seen = backend.requests[-1]
    assert seen.headers["x-subscription"] == "Test subscription"
    assert "user-agent" not in seen.headers
    assert seen.path == "/base/?tenant=echo"


def test_validate_jwt_with_a_symmetric_key(gateway, catalog, backend):
    secret = os.urandom(32)
    key_b64 = base64.b64encode(secret).decode()
    services.update_api(
        api=catalog.api,
        policy_xml=doc(
            '<validate-jwt query-parameter-name="access_token">'
            f"<issuer-signing-keys><key>{key_b64}</key></issuer-signing-keys>"
            "<audiences><audience>portico</audience></audiences></validate-jwt>"
        ),
    )
    serve_current_catalog(gateway)
    good = jwt.encode({"aud": "portico", "exp": int(time.time()) + 60}, secret, "HS256")
    wrong_aud = jwt.encode({"aud": "other", "exp": int(time.time()) + 60}, secret, "HS256")
    unsigned = jwt.encode({"aud": "portico", "exp": int(time.time()) + 60}, None, "none")
    base = key_url(gateway, catalog)
    assert run(echo_once(f"{base}&access_token={good}")) == "hi"
    for token in (wrong_aud, unsigned, "garbage"):
        assert run(refused(f"{base}&access_token={token}")).status == 401
    assert run(refused(base)).status == 401
    assert good not in gateway.output()  # tokens are redacted from the log like keys


def test_return_response_sends_the_publishers_own_refusal(gateway, catalog, backend):
    services.update_api(
        api=catalog.api,
        policy_xml=doc(
            '<return-response><set-status code="503" reason="Maintenance"/>'
            '<set-header name="Retry-After" exists-action="override"><value>600</value>'
            '</set-header><set-body>{"error": "down for maintenance"}</set-body>'
            "</return-response>"
        ),
    )
    serve_current_catalog(gateway)
    result = run(refused(key_url(gateway, catalog)))
    assert result.status == 503
    assert result.body == {"error": "down for maintenance"}
    assert result.headers["retry-after"] == "600"
    assert backend.requests == []


def test_limit_concurrency_frees_the_slot_when_a_client_vanishes(gateway, catalog, backend):
    services.update_api(
        api=catalog.api,
        policy_xml=doc('<limit-concurrency key="@(context.Subscription.Id)" max-count="1"/>'),
    )
    serve_current_catalog(gateway)

    async def scenario():
        first = await ws_connect(key_url(gateway, catalog))
        await first.send("hi")
        await first.recv()
        second = await refused(key_url(gateway, catalog))
        first.transport.abort()  # vanish without a close frame
        deadline = time.monotonic() + 5
        while True:
            try:
                return second, await echo_once(key_url(gateway, catalog))
            except AssertionError:
                raise
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await __import__("asyncio").sleep(0.1)

    second, third = run(scenario())
    assert second.status == 429
    assert third == "hi"


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set (CI sets it)")
def test_rate_limit_is_shared_by_two_gateway_processes_through_redis(catalog, backend, server_logs):
    prefix = f"portico-shared-{uuid.uuid4().hex}"
    services.update_api(
        api=catalog.api,
        policy_xml=doc('<rate-limit calls="3" renewal-period="60"/>'),
    )
    first = ServerProcess("gateway", server_logs, PORTICO_LIMITS_KEY_PREFIX=prefix)
    second = ServerProcess("gateway", server_logs, PORTICO_LIMITS_KEY_PREFIX=prefix)
    try:
        serve_current_catalog(first, second)
        assert run(echo_once(key_url(first, catalog))) == "hi"
        assert run(echo_once(key_url(second, catalog))) == "hi"
        assert run(echo_once(key_url(first, catalog))) == "hi"
        assert run(refused(key_url(second, catalog))).status == 429
        assert run(refused(key_url(first, catalog))).status == 429
    finally:
        first.stop()
        second.stop()


def test_only_the_subscriptions_own_product_policy_applies(gateway, catalog, backend):
    """Item 8 of issue 12: product B's return-response must not refuse product A's subscribers."""
    closed = services.create_product(
        display_name="Closed",
        state="published",
        apis=[catalog.api],
        policy_xml=doc(
            '<base/><return-response><set-status code="503" reason="Closed"/>'
            "<set-body>closed product</set-body></return-response>"
        ),
    )
    services.update_product(product=catalog.product, policy_xml=doc(f"<base/>{CHECK_HEADER}"))
    closed_sub = services.create_subscription(display_name="Closed sub", product=closed)
    all_apis = services.create_subscription(display_name="All", scope="all_apis")
    api_only = services.create_subscription(display_name="API", scope="api", api=catalog.api)
    serve_current_catalog(gateway)

    url = f"{gateway.ws_url}/echo?subscription-key="
    client = {"X-Client": "web"}
    # Starter's subscriber gets Starter's check-header and nothing of Closed's.
    assert run(refused(url + catalog.key)).status == 401
    assert run(echo_once(url + catalog.key, additional_headers=client)) == "hi"
    # Closed's subscriber gets Closed's refusal, not Starter's check-header.
    assert run(refused(url + closed_sub.primary_key, additional_headers=client)).status == 503
    # All-APIs and API-scoped subscriptions get no product's policy.
    assert run(echo_once(url + all_apis.primary_key)) == "hi"
    assert run(echo_once(url + api_only.primary_key)) == "hi"
    telemetry_written(5)


def test_two_apis_with_the_same_rate_limit_count_apart(gateway, catalog, backend):
    """Item 9 of issue 12: equal `<rate-limit>`s on two APIs used to share one counter."""
    limit = doc('<rate-limit calls="2" renewal-period="60"/>')
    services.update_api(api=catalog.api, policy_xml=limit)
    other = services.create_api(
        display_name="Echo two",
        backend_url=f"{backend.url}/two",
        url_suffix="echo-two",
        gateways=[catalog.gateway],
        products=[catalog.product],
        policy_xml=limit,
    )
    assert other.products.filter(pk=catalog.product.pk).exists()
    serve_current_catalog(gateway)
    for path in ("/echo", "/echo-two"):
        assert run(echo_once(key_url(gateway, catalog, path))) == "hi"
        assert run(echo_once(key_url(gateway, catalog, path))) == "hi"
        assert run(refused(key_url(gateway, catalog, path))).status == 429
    telemetry_written(6)


def test_client_headers_reach_the_backend_and_skip_append_see_them(gateway, catalog, backend):
    """Item 10 of issue 12: the backend got only Origin, User-Agent and X-Forwarded-*."""
    services.update_api(
        api=catalog.api,
        policy_xml=doc(
            '<set-header name="X-Tenant" exists-action="skip"><value>default</value></set-header>'
            '<set-header name="X-Absent" exists-action="skip"><value>filled</value></set-header>'
            '<set-header name="X-Trace" exists-action="append"><value>gw</value></set-header>'
        ),
    )
    serve_current_catalog(gateway)
    sent = {
        "X-Tenant": "acme",
        "X-Trace": "client",
        "Authorization": "Bearer for-the-backend",
        "Ocp-Apim-Subscription-Key": catalog.key,
        "Cookie": "sessionid=portal-session; theme=dark; csrftoken=portal-csrf; messages=m",
        "Proxy-Authorization": "Basic cHJveHk6cHc=",
        "TE": "trailers",
        "Keep-Alive": "timeout=5",
    }
    url = f"{gateway.ws_url}/echo"
    assert run(echo_once(url, additional_headers=sent)) == "hi"
    seen = backend.requests[-1].headers
    assert seen["x-tenant"] == "acme"  # skip: the client's header is there, so it stays
    assert seen["x-absent"] == "filled"
    assert seen["x-trace"] == "client, gw"  # append: added to the client's value
    assert seen["authorization"] == "Bearer for-the-backend"
    assert seen["cookie"] == "theme=dark"  # the portal's own cookies never reach a backend
    for name in ("ocp-apim-subscription-key", "proxy-authorization", "te", "keep-alive"):
        assert name not in seen, name
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["host"] == f"127.0.0.1:{backend.port}"
    telemetry_written(1)


JWT_NAME_TO_HEADER = (
    '<validate-jwt query-parameter-name="access_token" output-token-variable-name="jwt">'
    "<issuer-signing-keys><key>{key}</key></issuer-signing-keys></validate-jwt>"
    '<set-header name="X-Name" exists-action="override">'
    '<value>@(((Jwt)context.Variables["jwt"]).Claims.GetValueOrDefault("name", ""))</value>'
    "</set-header>"
)


def test_header_values_from_the_clients_data_that_cannot_be_sent_are_a_400(
    gateway, catalog, backend
):
    """Item 12 of issue 12: a non-Latin-1 claim gave a vague 502 (and CR/LF split headers)."""
    secret = os.urandom(32)
    key = base64.b64encode(secret).decode()
    services.update_api(api=catalog.api, policy_xml=doc(JWT_NAME_TO_HEADER.format(key=key)))
    serve_current_catalog(gateway)
    base = key_url(gateway, catalog)

    def token(name: str) -> str:
        return jwt.encode({"name": name, "exp": int(time.time()) + 60}, secret, "HS256")

    assert run(echo_once(f"{base}&access_token={token('Zoë')}")) == "hi"  # Latin-1 is fine
    assert backend.requests[-1].headers["x-name"] == "Zoë"
    backend.reset()
    for bad in ("名前", "a\r\nX-Injected: 1"):
        answer = run(refused(f"{base}&access_token={token(bad)}"))
        assert answer.status == 400, bad
        assert "X-Name" in answer.body["message"]
    assert backend.requests == []
    log = gateway.output()
    assert "\nX-Injected" not in log and "\\r\\nX-Injected" in log  # logged, escaped
    telemetry_written(3)


def test_a_renamed_subscription_cannot_forge_headers_or_log_lines(gateway, catalog, backend):
    """Item 12 of issue 12: from configuration, an invalid header value is a 502."""
    services.update_api(
        api=catalog.api,
        policy_xml=doc(
            '<set-header name="X-Subscription" exists-action="override">'
            "<value>@(context.Subscription.Name)</value></set-header>"
        ),
    )
    services.rename_subscription(
        subscription=catalog.subscription, display_name="Bob\nFORGED handshake accepted"
    )
    serve_current_catalog(gateway)
    answer = run(refused(key_url(gateway, catalog)))
    assert answer.status == 502
    assert answer.body["message"] == "The policy produced an invalid header value (X-Subscription)."
    assert backend.requests == []
    log = gateway.output()
    assert "\nFORGED" not in log and "Bob\\nFORGED" in log  # logged, escaped
    telemetry_written(1)


def test_choose_on_a_request_header_refuses_or_passes(gateway, catalog, backend):
    condition = '@(context.Request.Headers.GetValueOrDefault("X-Plan", "") == "free")'
    services.update_api(
        api=catalog.api,
        policy_xml=doc(
            f"<base/><choose><when condition='{condition}'>"
            '<return-response><set-status code="402" reason="Upgrade"/>'
            '<set-body>{"error": "paid plans only"}</set-body></return-response></when>'
            '<otherwise><set-header name="X-Plan-Checked" exists-action="override">'
            "<value>yes</value></set-header></otherwise></choose>"
        ),
    )
    serve_current_catalog(gateway)
    result = run(refused(key_url(gateway, catalog), additional_headers={"X-Plan": "free"}))
    assert (result.status, result.body) == (402, {"error": "paid plans only"})
    assert backend.requests == []
    url = key_url(gateway, catalog)
    assert run(echo_once(url, additional_headers={"X-Plan": "gold"})) == "hi"
    assert backend.requests[-1].headers.get("x-plan-checked") == "yes"


def test_choose_on_a_jwt_claim_and_a_query_parameter(gateway, catalog, backend):
    secret = os.urandom(32)
    key_b64 = base64.b64encode(secret).decode()
    claim = '((Jwt)context.Variables["token"]).Claims.GetValueOrDefault("role", "")'
    room = 'context.Request.Url.Query.GetValueOrDefault("room", "lobby")'
    condition = f'@({room}.StartsWith("admin-") &amp;&amp; {claim} != "admin")'
    services.update_api(
        api=catalog.api,
        policy_xml=doc(
            '<validate-jwt query-parameter-name="access_token" output-token-variable-name="token">'
            f"<issuer-signing-keys><key>{key_b64}</key></issuer-signing-keys></validate-jwt>"
            f"<choose><when condition='{condition}'>"
            '<return-response><set-status code="403" reason="Forbidden"/></return-response>'
            "</when></choose>"
        ),
    )
    serve_current_catalog(gateway)

    def token(role: str) -> str:
        return jwt.encode({"role": role, "exp": int(time.time()) + 60}, secret, "HS256")

    base = key_url(gateway, catalog)
    assert run(refused(f"{base}&room=admin-1&access_token={token('user')}")).status == 403
    assert run(echo_once(f"{base}&room=admin-1&access_token={token('admin')}")) == "hi"
    assert run(echo_once(f"{base}&room=public&access_token={token('user')}")) == "hi"
    assert len(backend.requests) == 2
