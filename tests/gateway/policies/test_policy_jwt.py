"""validate-jwt with symmetric keys, RSA n/e, PEM keys and a local OpenID/JWKS server."""

# ruff: noqa: E501 - policy XML is clearer on one line

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from policy_helpers import inbound, make_ctx

from gateway.policies import PolicyRuntime, compile_policy, effective_document

SECRET = b"a-very-secret-symmetric-key-0123456789-padded-to-sixty-four-bytes!"
SECRET_B64 = base64.b64encode(SECRET).decode()
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_PUBLIC_PEM = RSA_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def claims(**kw):
    now = int(time.time())
    base = {"sub": "alice", "aud": "api://chat", "iss": "https://idp.test/", "exp": now + 300}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


class JwksServer:
    """A discovery document and JWKS on 127.0.0.1, counting requests per path."""

    def __init__(self, jwks: dict):
        self.jwks = jwks
        self.counts: dict[str, int] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.counts[self.path] = outer.counts.get(self.path, 0) + 1
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": "https://idp.test/", "jwks_uri": outer.url("/keys")}
                elif self.path == "/keys":
                    body = outer.jwks
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def jwk_of(key, kid: str, alg_cls) -> dict:
    data = json.loads(alg_cls.to_jwk(key.public_key()))
    data["kid"] = kid
    data["use"] = "sig"
    return data


@pytest.fixture
def idp():
    server = JwksServer(
        {"keys": [jwk_of(RSA_KEY, "rsa1", RSAAlgorithm), jwk_of(EC_KEY, "ec1", ECAlgorithm)]}
    )
    yield server
    server.stop()


def openid_policy(url: str, extra: str = "") -> str:
    return inbound(
        '<validate-jwt header-name="Authorization" require-scheme="Bearer" '
        'output-token-variable-name="jwt">'
        f'<openid-config url="{url}" />'
        "<audiences><audience>api://chat</audience></audiences>"
        "<issuers><issuer>https://idp.test/</issuer></issuers>"
        f"{extra}</validate-jwt>"
        '<set-header name="X-User"><value>@(((Jwt)context.Variables["jwt"]).Claims.GetValueOrDefault("sub",""))</value></set-header>'
    )


def check(pipeline, token: str | None, *, header="Authorization", scheme="Bearer "):
    headers = [] if token is None else [(header, scheme + token)]
    ctx = make_ctx(headers=headers)
    return asyncio.run(pipeline.run(ctx)), ctx


def build(xml: str, runtime: PolicyRuntime | None = None):
    return compile_policy(effective_document(xml, [], None), runtime or PolicyRuntime())


def test_rs256_and_es256_from_jwks(idp):
    p = build(openid_policy(idp.url("/.well-known/openid-configuration")))
    rs = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa1"})
    refusal, ctx = check(p, rs)
    assert refusal is None
    assert ctx.variables["jwt"].claims["sub"] == "alice"
    assert ctx.backend_headers[0].values == ("alice",)
    es = jwt.encode(claims(sub="bob"), EC_KEY, algorithm="ES256", headers={"kid": "ec1"})
    refusal, ctx = check(p, es)
    assert refusal is None and ctx.backend_headers[0].values == ("bob",)
    ps = jwt.encode(claims(), RSA_KEY, algorithm="PS256", headers={"kid": "rsa1"})
    assert check(p, ps)[0] is None
    assert idp.counts["/keys"] == 1  # cached


def test_claim_checks(idp):
    extra = (
        '<required-claims><claim name="roles" match="any"><value>admin</value><value>ops</value></claim>'
        '<claim name="scp" match="all" separator=" "><value>read</value><value>write</value></claim>'
        "</required-claims>"
    )
    p = build(openid_policy(idp.url("/.well-known/openid-configuration"), extra))

    def tok(**kw):
        return jwt.encode(claims(**kw), RSA_KEY, algorithm="RS256", headers={"kid": "rsa1"})

    good = {"roles": ["user", "ops"], "scp": "read write"}
    assert check(p, tok(**good))[0] is None
    for bad, reason in [
        ({**good, "aud": "api://other"}, "audience"),
        ({**good, "iss": "https://evil.test/"}, "issuer"),
        ({**good, "roles": ["user"]}, "roles"),
        ({"scp": "read write"}, "roles"),
        ({**good, "scp": "read"}, "scp"),
        ({**good, "exp": int(time.time()) - 60}, "expired"),
        ({**good, "nbf": int(time.time()) + 600}, "not yet valid"),
        ({**good, "exp": None}, "exp"),
    ]:
        refusal, _ = check(p, tok(**bad))
        assert refusal is not None and refusal.status == 401, bad
        assert reason in refusal.message, (bad, refusal.message)
        assert refusal.headers["WWW-Authenticate"].startswith("Bearer")


def test_missing_token_and_wrong_scheme(idp):
    p = build(openid_policy(idp.url("/.well-known/openid-configuration")))
    refusal, _ = check(p, None)
    assert refusal.status == 401 and "not present" in refusal.message
    rs = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa1"})
    assert check(p, rs, scheme="Basic ")[0].status == 401
    assert check(p, "not-a-jwt")[0].status == 401


HS_POLICY = inbound(
    '<validate-jwt query-parameter-name="access_token" failed-validation-httpcode="403" '
    'failed-validation-error-message="go away" clock-skew="5" require-expiration-time="false">'
    f"<issuer-signing-keys><key>{SECRET_B64}</key></issuer-signing-keys></validate-jwt>"
)


def run_query(p, token):
    return asyncio.run(p.run(make_ctx(query=[("access_token", token)])))


def test_hs256_symmetric_key():
    p = build(HS_POLICY)
    assert run_query(p, jwt.encode({"sub": "a"}, SECRET, algorithm="HS256")) is None
    assert run_query(p, jwt.encode({"sub": "a"}, SECRET, algorithm="HS512")) is None
    refusal = run_query(p, jwt.encode({"sub": "a"}, SECRET + b"x", algorithm="HS256"))
    assert (refusal.status, refusal.message) == (403, "go away")
    # clock-skew: expired 3 s ago is still within the 5 s skew, 30 s ago is not
    assert (
        run_query(p, jwt.encode({"exp": int(time.time()) - 3}, SECRET, algorithm="HS256")) is None
    )
    assert run_query(p, jwt.encode({"exp": int(time.time()) - 30}, SECRET, algorithm="HS256"))


def test_alg_none_refused():
    p = build(HS_POLICY)
    unsigned = jwt.encode({"sub": "a"}, None, algorithm="none")
    assert run_query(p, unsigned).status == 403
    header = base64.urlsafe_b64encode(b'{"alg":"None","typ":"JWT"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(b'{"sub":"a"}').rstrip(b"=").decode()
    assert run_query(p, f"{header}.{body}.").status == 403


def _hs256_forged_with(secret: bytes) -> str:
    import hashlib
    import hmac

    def b64(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    header = b64(b'{"alg":"HS256","typ":"JWT"}')
    signing_input = f"{header}.{b64(json.dumps(claims()).encode())}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(sig)}"


def test_hs256_signed_with_rsa_public_key_refused(idp):
    forged = _hs256_forged_with(RSA_PUBLIC_PEM)
    pem_policy = inbound(
        '<validate-jwt header-name="Authorization">'
        f"<issuer-signing-keys><key>{RSA_PUBLIC_PEM.decode()}</key></issuer-signing-keys>"
        "</validate-jwt>"
    )
    p = build(pem_policy)
    refusal, _ = check(p, forged)
    assert refusal is not None and refusal.status == 401
    # the same policy accepts a real RS256 token
    assert check(p, jwt.encode(claims(), RSA_KEY, algorithm="RS256"))[0] is None
    # n/e form and the OpenID form refuse it too
    n_e = json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
    ne_policy = inbound(
        '<validate-jwt header-name="Authorization">'
        f'<issuer-signing-keys><key n="{n_e["n"]}" e="{n_e["e"]}" /></issuer-signing-keys>'
        "</validate-jwt>"
    )
    assert check(build(ne_policy), forged)[0].status == 401
    assert check(build(ne_policy), jwt.encode(claims(), RSA_KEY, algorithm="RS256"))[0] is None
    oid = build(openid_policy(idp.url("/.well-known/openid-configuration")))
    assert check(oid, forged)[0].status == 401


def test_unknown_kid_flood_fetches_once_per_cooldown(idp):
    rt = PolicyRuntime(jwks_cooldown=300.0)
    p = build(openid_policy(idp.url("/.well-known/openid-configuration")), rt)
    good = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa1"})

    async def flood():
        assert (await p.run(make_ctx(headers=[("Authorization", "Bearer " + good)]))) is None
        tokens = [
            jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": f"unknown-{i}"})
            for i in range(50)
        ]
        results = await asyncio.gather(
            *(p.run(make_ctx(headers=[("Authorization", "Bearer " + t)])) for t in tokens)
        )
        return results

    results = asyncio.run(flood())
    assert all(r is not None and r.status == 401 for r in results)
    # one initial fetch plus at most one refetch for the unknown kids
    assert idp.counts["/keys"] <= 2
    assert idp.counts["/.well-known/openid-configuration"] <= 2
    before = idp.counts["/keys"]
    more = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "unknown-x"})
    assert check(p, more)[0].status == 401
    assert idp.counts["/keys"] == before  # still inside the cooldown


def test_rotated_key_is_picked_up_after_cooldown(idp):
    rt = PolicyRuntime(jwks_cooldown=0.2)
    p = build(openid_policy(idp.url("/.well-known/openid-configuration")), rt)
    assert (
        check(p, jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa1"}))[0]
        is None
    )
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    idp.jwks = {"keys": [jwk_of(new_key, "rsa2", RSAAlgorithm)]}
    time.sleep(0.25)
    assert (
        check(p, jwt.encode(claims(), new_key, algorithm="RS256", headers={"kid": "rsa2"}))[0]
        is None
    )


def test_cached_key_accepted_when_jwks_server_is_down(idp):
    rt = PolicyRuntime(jwks_cooldown=0.0, http_timeout=0.5)
    p = build(openid_policy(idp.url("/.well-known/openid-configuration")), rt)
    good = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa1"})
    assert check(p, good)[0] is None
    idp.stop()
    assert check(p, good)[0] is None
    # an unknown kid tries to refetch, fails, and is refused; the cached key still works
    unknown = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "zzz"})
    assert check(p, unknown)[0].status == 401
    assert check(p, good)[0] is None


def test_unreachable_openid_config_refuses():
    rt = PolicyRuntime(http_timeout=0.5)
    p = build(openid_policy("http://127.0.0.1:9/.well-known/openid-configuration"), rt)
    token = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa1"})
    refusal, _ = check(p, token)
    assert refusal is not None and refusal.status == 401


def test_token_value_expression_and_subject():
    xml = inbound(
        '<validate-jwt token-value=\'@(context.Request.Headers.GetValueOrDefault("X-Token",""))\' '
        'output-token-variable-name="t">'
        f"<issuer-signing-keys><key>{SECRET_B64}</key></issuer-signing-keys></validate-jwt>"
        '<set-header name="X-Sub"><value>@(((Jwt)context.Variables["t"]).Subject)</value></set-header>'
    )
    p = build(xml)
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    ctx = make_ctx(headers=[("X-Token", token)])
    assert asyncio.run(p.run(ctx)) is None
    assert ctx.backend_headers[0].values == ("alice",)


def test_a_remembered_token_still_expires_and_still_needs_its_key(idp):
    """The verified-token shortcut keeps every check that can change: exp, and the key."""
    p = build(
        inbound(
            '<validate-jwt query-parameter-name="access_token">'
            f"<issuer-signing-keys><key>{SECRET_B64}</key></issuer-signing-keys></validate-jwt>"
        )
    )
    exp = int(time.time()) + 1
    token = jwt.encode({"sub": "a", "exp": exp}, SECRET, algorithm="HS256")
    assert run_query(p, token) is None
    assert run_query(p, token) is None  # remembered
    time.sleep(max(0.0, exp - time.time()) + 0.05)  # let its exp pass (no clock-skew here)
    refusal = run_query(p, token)
    assert refusal is not None and "token expired" in refusal.message

    # A JWKS that drops the key: the same token is refused at its next check.
    rt = PolicyRuntime(jwks_cooldown=0.0, jwks_max_age=0.0)
    p = build(openid_policy(idp.url("/.well-known/openid-configuration")), rt)
    good = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa1"})
    assert check(p, good)[0] is None
    assert check(p, good)[0] is None
    idp.jwks = {"keys": [jwk_of(EC_KEY, "ec1", ECAlgorithm)]}
    assert check(p, good)[0].status == 401


def test_a_remembered_token_meets_each_handshakes_audience():
    """A remembered token skips only what cannot change: an audience read from the handshake is
    checked again at every use, and a token refused for its claims is refused again."""
    p = build(
        inbound(
            '<validate-jwt query-parameter-name="access_token">'
            f"<issuer-signing-keys><key>{SECRET_B64}</key></issuer-signing-keys>"
            '<audiences><audience>@(context.Request.Headers.GetValueOrDefault("X-Aud",""))'
            "</audience></audiences></validate-jwt>"
        )
    )
    token = jwt.encode(claims(aud="api://chat"), SECRET, algorithm="HS256")

    def run(aud: str):
        ctx = make_ctx(query=[("access_token", token)], headers=[("X-Aud", aud)])
        return asyncio.run(p.run(ctx))

    assert run("api://chat") is None
    assert run("api://chat") is None  # remembered
    refusal = run("api://other")
    assert refusal is not None and "audience" in refusal.message
    assert run("api://chat") is None

    literal = build(
        inbound(
            '<validate-jwt query-parameter-name="access_token">'
            f"<issuer-signing-keys><key>{SECRET_B64}</key></issuer-signing-keys>"
            "<audiences><audience>api://other</audience></audiences></validate-jwt>"
        )
    )
    for _ in range(2):
        refusal = run_query(literal, token)
        assert refusal is not None and "audience" in refusal.message


def test_concurrent_handshakes_with_a_remembered_token_whose_key_went_away(idp):
    """Both are refused 401; the second must not fail on the entry the first one dropped."""
    rt = PolicyRuntime(jwks_cooldown=0.0, jwks_max_age=0.0)  # every use refetches the JWKS
    p = build(openid_policy(idp.url("/.well-known/openid-configuration")), rt)
    good = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa1"})
    assert check(p, good)[0] is None  # remembered
    idp.jwks = {"keys": [jwk_of(EC_KEY, "ec1", ECAlgorithm)]}

    async def both():
        ctxs = [make_ctx(headers=[("Authorization", f"Bearer {good}")]) for _ in range(2)]
        return await asyncio.gather(*(p.run(ctx) for ctx in ctxs))

    assert [refusal.status for refusal in asyncio.run(both())] == [401, 401]
