"""validate-jwt: check a bearer token's signature, lifetime, audience, issuer and claims."""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from xml.etree.ElementTree import Element, SubElement

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.algorithms import RSAAlgorithm

from .context import HandshakeContext, Refusal
from .expressions import Value, evaluate, is_literal
from .jwks import EC_ALGS_BY_CURVE, HMAC_ALGS, RSA_ALGS, KeyCandidate
from .model import (
    Attrs,
    Policy,
    Step,
    add_values,
    children,
    set_attr,
    set_value_attr,
    value_children,
)
from .xmlnode import Node

if TYPE_CHECKING:
    from .runtime import PolicyRuntime


@dataclass(frozen=True, slots=True)
class Jwt:
    """A validated token as stored by output-token-variable-name (`claims`, `header`, `raw`)."""

    raw: str
    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def subject(self) -> str | None:
        sub = self.claims.get("sub")
        return None if sub is None else str(sub)


@dataclass(frozen=True, kw_only=True)
class SigningKey:
    """One `<key>`: base64 symmetric text, RSA `n`/`e`, or a PEM public key / certificate."""

    text: str | None = None
    n: str | None = None
    e: str | None = None

    def candidate(self) -> KeyCandidate:
        """The verification key and its algorithms; raises ValueError when it is unusable."""
        if self.n or self.e:
            if not (self.n and self.e):
                raise ValueError("both n and e are required for an RSA key")
            key = RSAAlgorithm.from_jwk(json.dumps({"kty": "RSA", "n": self.n, "e": self.e}))
            return KeyCandidate(key, RSA_ALGS)
        text = (self.text or "").strip()
        if not text:
            raise ValueError("a key needs base64 text, n and e attributes, or a PEM")
        if text.startswith("-----BEGIN"):
            data = text.encode()
            if "CERTIFICATE" in text.split("\n", 1)[0]:
                pub = x509.load_pem_x509_certificate(data).public_key()
            else:
                pub = load_pem_public_key(data)
            if isinstance(pub, rsa.RSAPublicKey):
                return KeyCandidate(pub, RSA_ALGS)
            if isinstance(pub, ec.EllipticCurvePublicKey):
                curve = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
                algs = EC_ALGS_BY_CURVE.get(curve.get(pub.curve.name, ""), ())
                if not algs:
                    raise ValueError(f"unsupported EC curve {pub.curve.name}")
                return KeyCandidate(pub, algs)
            if isinstance(pub, ed25519.Ed25519PublicKey):
                return KeyCandidate(pub, ("EdDSA",))
            raise ValueError("unsupported public key type")
        try:
            secret = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            try:
                secret = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            except (binascii.Error, ValueError):
                raise ValueError("symmetric key must be base64") from None
        if len(secret) < 16:
            raise ValueError("symmetric key must be at least 16 bytes (128 bits)")
        return KeyCandidate(secret, HMAC_ALGS)


@dataclass(frozen=True, kw_only=True)
class RequiredClaim:
    """`<claim name match separator>`: the claim must exist and hold all/any of `values`."""

    name: str
    match: str = "all"
    separator: str | None = None
    values: tuple[Value, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ValidateJwt(Policy):
    """Validate a JWT from a header, query parameter or value; refuse with 401 by default."""

    tag: ClassVar[str] = "validate-jwt"
    header_name: str | None = None
    query_parameter_name: str | None = None
    token_value: Value | None = None
    failed_validation_httpcode: int = 401
    failed_validation_error_message: str | None = None
    require_expiration_time: bool = True
    require_scheme: str | None = None
    require_signed_tokens: bool = True
    clock_skew: int = 0
    output_token_variable_name: str | None = None
    signing_keys: tuple[SigningKey, ...] = ()
    openid_configs: tuple[str, ...] = ()
    audiences: tuple[Value, ...] = ()
    issuers: tuple[Value, ...] = ()
    required_claims: tuple[RequiredClaim, ...] = field(default=())

    @classmethod
    def parse(cls, node: Node) -> ValidateJwt:
        a = Attrs(node)
        header_name = a.text("header-name")
        query_name = a.text("query-parameter-name")
        token_value = a.value("token-value")
        sources = [s for s in (header_name, query_name, token_value) if s is not None]
        if len(sources) != 1:
            raise node.error(
                "exactly one of header-name, query-parameter-name, token-value is required"
            )
        code = a.integer("failed-validation-httpcode", 401, minimum=100) or 401
        if not 400 <= code <= 599:
            raise node.error("must be an HTTP error status (400-599)", "failed-validation-httpcode")
        kw: dict[str, Any] = {
            "header_name": header_name,
            "query_parameter_name": query_name,
            "token_value": token_value,
            "failed_validation_httpcode": code,
            "failed_validation_error_message": a.text("failed-validation-error-message"),
            "require_expiration_time": a.boolean("require-expiration-time", True),
            "require_scheme": a.text("require-scheme"),
            "require_signed_tokens": a.boolean("require-signed-tokens", True),
            "clock_skew": a.integer("clock-skew", 0, minimum=0),
            "output_token_variable_name": a.text("output-token-variable-name"),
            "line": node.line,
        }
        a.done()
        if not kw["require_signed_tokens"]:
            raise node.error("unsigned tokens are never accepted", "require-signed-tokens")
        keys: list[SigningKey] = []
        configs: list[str] = []
        audiences: tuple[Value, ...] = ()
        issuers: tuple[Value, ...] = ()
        claims: list[RequiredClaim] = []
        allowed = (
            "issuer-signing-keys",
            "openid-config",
            "audiences",
            "issuers",
            "required-claims",
            "decryption-keys",
        )
        for child in children(node, allowed):
            if child.tag == "decryption-keys":
                raise child.error("encrypted tokens are not supported")
            if child.tag == "issuer-signing-keys":
                Attrs(child).done()
                for kn in children(child, ("key",)):
                    ka = Attrs(kn)
                    if "certificate-id" in kn.attrib:
                        raise kn.error(
                            "is not supported; put the PEM certificate in the element",
                            "certificate-id",
                        )
                    key = SigningKey(text=kn.text.strip() or None, n=ka.text("n"), e=ka.text("e"))
                    ka.done()
                    children(kn, ())
                    try:
                        key.candidate()
                    except Exception as exc:  # noqa: BLE001 - any key problem is a policy error
                        raise kn.error(
                            f"unusable key: {exc}", reason="is not a usable key"
                        ) from None
                    keys.append(key)
            elif child.tag == "openid-config":
                ca = Attrs(child)
                url = ca.text("url", required=True) or ""
                ca.done()
                children(child, ())
                if not url.startswith(("https://", "http://")):
                    raise child.error("must be an http(s) URL", "url")
                configs.append(url)
            elif child.tag == "audiences":
                Attrs(child).done()
                audiences += value_children(child, "audience")
            elif child.tag == "issuers":
                Attrs(child).done()
                issuers += value_children(child, "issuer")
            else:
                Attrs(child).done()
                for cn in children(child, ("claim",)):
                    ca = Attrs(cn)
                    claims.append(
                        RequiredClaim(
                            name=ca.text("name", required=True) or "",
                            match=ca.choice("match", ("all", "any"), "all"),
                            separator=_raw_separator(ca),
                            values=value_children(cn),
                        )
                    )
                    ca.done()
        if not keys and not configs:
            raise node.error("<issuer-signing-keys> or <openid-config> is required")
        return cls(
            signing_keys=tuple(keys),
            openid_configs=tuple(configs),
            audiences=audiences,
            issuers=issuers,
            required_claims=tuple(claims),
            **kw,
        )

    def to_element(self) -> Element:
        el = Element(self.tag)
        set_attr(el, "header-name", self.header_name)
        set_attr(el, "query-parameter-name", self.query_parameter_name)
        set_value_attr(el, "token-value", self.token_value)
        set_attr(el, "failed-validation-httpcode", self.failed_validation_httpcode)
        set_attr(el, "failed-validation-error-message", self.failed_validation_error_message)
        set_attr(el, "require-expiration-time", self.require_expiration_time)
        set_attr(el, "require-scheme", self.require_scheme)
        set_attr(el, "require-signed-tokens", self.require_signed_tokens)
        set_attr(el, "clock-skew", self.clock_skew)
        set_attr(el, "output-token-variable-name", self.output_token_variable_name)
        for url in self.openid_configs:
            SubElement(el, "openid-config", {"url": url})
        if self.signing_keys:
            keys = SubElement(el, "issuer-signing-keys")
            for k in self.signing_keys:
                ke = SubElement(keys, "key")
                set_attr(ke, "n", k.n)
                set_attr(ke, "e", k.e)
                if k.text:
                    ke.text = k.text
        if self.audiences:
            add_values(SubElement(el, "audiences"), self.audiences, "audience")
        if self.issuers:
            add_values(SubElement(el, "issuers"), self.issuers, "issuer")
        if self.required_claims:
            rc = SubElement(el, "required-claims")
            for c in self.required_claims:
                ce = SubElement(rc, "claim", {"name": c.name, "match": c.match})
                set_attr(ce, "separator", c.separator)
                add_values(ce, c.values)
        return el

    def compile(self, runtime: PolicyRuntime) -> Step:
        return _JwtStep(self, runtime).run


def _raw_separator(a: Attrs) -> str | None:
    a.seen.add("separator")
    return a.node.attrib.get("separator") or None


class _Invalid(Exception):
    pass


# Tokens whose signature and claims this step verified: a client that reconnects with the same
# token skips the parse, the signature and (literal) claim checks, as Kong's and Envoy's JWT
# caches do (about half of a key + validate-jwt handshake's policy time).
VERIFIED_TOKENS = 1024  # per compiled step (a new snapshot starts afresh); oldest out first
VERIFIED_SECONDS = 300.0  # even a token without `exp` is verified again after this


class _JwtStep:
    """The compiled form of one validate-jwt policy."""

    def __init__(self, policy: ValidateJwt, runtime: PolicyRuntime) -> None:
        self.p = policy
        self.static_keys = [k.candidate() for k in policy.signing_keys]
        self.caches = [runtime.jwks_cache(url) for url in policy.openid_configs]
        self.options: dict[str, Any] = {
            "require": ["exp"] if policy.require_expiration_time else [],
            "verify_aud": False,
            "verify_iss": False,
        }
        # With only literal audiences, issuers and claim values, a token's claims pass or fail
        # the same way at every handshake: a remembered token skips them too.
        values = [*policy.audiences, *policy.issuers]
        values += [v for claim in policy.required_claims for v in claim.values]
        self.literal_claims = all(is_literal(v) for v in values)
        # token -> (claims, header, the key that verified it, time it stops being valid); only
        # tokens whose signature and claims passed
        self.verified: dict[str, tuple[dict, dict, KeyCandidate, float]] = {}

    def _refuse(self, reason: str) -> Refusal:
        p = self.p
        message = p.failed_validation_error_message or f"Unauthorized: {reason}"
        headers = {}
        if p.failed_validation_httpcode == 401:
            headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return Refusal(p.failed_validation_httpcode, message, headers)

    def _token(self, ctx: HandshakeContext) -> str | None:
        p = self.p
        if p.header_name is not None:
            values = ctx.header_values(p.header_name)
            if not values:
                return None
            raw = values[0].strip()
            scheme, _, rest = raw.partition(" ")
            if p.require_scheme is not None:
                if scheme.lower() != p.require_scheme.lower() or not rest.strip():
                    raise _Invalid(
                        f"the {p.header_name} header must use the {p.require_scheme} scheme"
                    )
                return rest.strip()
            if rest and scheme.lower() == "bearer":
                return rest.strip()
            return raw or None
        if p.query_parameter_name is not None:
            values = ctx.query_values(p.query_parameter_name)
            return values[0].strip() or None if values else None
        assert p.token_value is not None
        return evaluate(p.token_value, ctx).strip() or None

    async def run(self, ctx: HandshakeContext) -> Refusal | None:
        try:
            token = self._token(ctx)
            if token is None:
                return self._refuse("JWT not present.")
            hit = self.verified.get(token)
            if hit is not None and await self._still_valid(token, hit):
                claims, header = hit[0], hit[1]
                if not self.literal_claims:  # an expression may differ between handshakes
                    self._check_claims(claims, ctx)
            else:
                claims, header, key = await self._verify(token)
                self._check_claims(claims, ctx)
                self._remember(token, claims, header, key)
        except _Invalid as exc:
            return self._refuse(str(exc))
        if self.p.output_token_variable_name:
            ctx.variables[self.p.output_token_variable_name] = Jwt(token, header, claims)
        return None

    async def _still_valid(self, token: str, hit: tuple[dict, dict, KeyCandidate, float]) -> bool:
        """A remembered token is still within its lifetime (exp, as PyJWT judges it) and its key
        still trusted (a JWKS may have dropped it): its signature and claims are as verified."""
        _claims, header, key, until = hit
        # Static keys are fixed for this compiled step: only a JWKS can drop one.
        if time.time() < until and (not self.caches or key in await self._candidates(header)):
            return True
        # pop: another handshake with this token may have dropped it while this one awaited
        self.verified.pop(token, None)
        return False

    async def _verify(self, token: str) -> tuple[dict[str, Any], dict[str, Any], KeyCandidate]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise _Invalid("malformed JWT") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or not alg or alg.lower() == "none":
            raise _Invalid("unsigned tokens are not accepted")
        candidates = await self._candidates(header)
        if not candidates:
            kid = self._kid(header)
            raise _Invalid(f"no signing key for alg {alg}" + (f" and kid {kid}" if kid else ""))
        for cand in candidates:
            try:
                claims = jwt.decode(
                    token,
                    cand.key,
                    algorithms=[alg],
                    options=self.options,
                    leeway=self.p.clock_skew,
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.ExpiredSignatureError:
                raise _Invalid("token expired") from None
            except jwt.ImmatureSignatureError:
                raise _Invalid("token not yet valid") from None
            except jwt.MissingRequiredClaimError as exc:
                raise _Invalid(f"token has no {exc.claim} claim") from None
            except (jwt.InvalidTokenError, ValueError, TypeError):
                continue
            return claims, header, cand
        raise _Invalid("signature verification failed")

    @staticmethod
    def _kid(header: dict[str, Any]) -> str | None:
        kid = header.get("kid")
        return kid if isinstance(kid, str) else None

    async def _candidates(self, header: dict[str, Any]) -> list[KeyCandidate]:
        """The keys that may verify a token with this header's `alg` and `kid`."""
        alg, kid = header.get("alg"), self._kid(header)
        candidates = [k for k in self.static_keys if alg in k.algorithms]
        for cache in self.caches:
            candidates += [k for k in await cache.candidates(kid) if alg in k.algorithms]
        return candidates

    def _remember(self, token: str, claims: dict, header: dict, key: KeyCandidate) -> None:
        now = time.time()
        until = now + VERIFIED_SECONDS
        if "exp" in claims:  # PyJWT: expired once exp <= now - leeway (and exp is an integer)
            until = min(until, int(claims["exp"]) + self.p.clock_skew)
        if len(self.verified) >= VERIFIED_TOKENS:
            del self.verified[next(iter(self.verified))]
        self.verified[token] = (claims, header, key, until)

    def _check_claims(self, claims: dict[str, Any], ctx: HandshakeContext) -> None:
        p = self.p
        if p.audiences:
            allowed = {evaluate(v, ctx) for v in p.audiences}
            aud = claims.get("aud")
            auds = aud if isinstance(aud, list) else [aud] if aud is not None else []
            if not any(isinstance(a, str) and a in allowed for a in auds):
                raise _Invalid("audience not allowed")
        if p.issuers:
            allowed = {evaluate(v, ctx) for v in p.issuers}
            if claims.get("iss") not in allowed:
                raise _Invalid("issuer not allowed")
        for rc in p.required_claims:
            if rc.name not in claims:
                raise _Invalid(f"required claim {rc.name} missing")
            if not rc.values:
                continue
            raw = claims[rc.name]
            have: list[str]
            if isinstance(raw, list):
                have = [str(x) for x in raw]
            elif rc.separator and isinstance(raw, str):
                have = raw.split(rc.separator)
            else:
                have = [str(raw).lower() if isinstance(raw, bool) else str(raw)]
            wanted = [evaluate(v, ctx) for v in rc.values]
            ok = (
                all(w in have for w in wanted)
                if rc.match == "all"
                else any(w in have for w in wanted)
            )
            if not ok:
                raise _Invalid(f"required claim {rc.name} does not have the required value")
