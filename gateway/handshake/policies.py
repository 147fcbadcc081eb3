"""onHandshake policies at the gateway: compiled once per snapshot, run once per handshake.

The policy language lives in `gateway.policies` (pure Python); this module feeds it the
catalog's documents and a handshake's context, and applies what the policies decide to the
backend request.
"""

import logging
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from gateway import policies
from gateway.backend.open import BackendRequest
from gateway.refusal import Refusal

log = logging.getLogger("portico.gateway")


class BrokenPipeline:
    """Stands in for a policy the gateway refuses (it does not compile, or the control plane
    could not resolve it): fail closed, never skip the policy; 500 as before, the reason in the
    log."""

    def __init__(self, error: str) -> None:
        self.error = error

    async def run(self, ctx) -> policies.Refusal:
        return policies.Refusal(500, "The API's policy could not be evaluated.")


def compile_route_pipelines(api, products: dict, catalog, *, runtime) -> dict:
    """The compiled effective policies of `api`, one per way a handshake can reach it.

    As in Azure, only the subscription's own product's policy applies: key `product_id` is
    API -> that product -> All APIs, for subscriptions to that product; key None is API ->
    All APIs, for all-APIs and API-scoped subscriptions and keyless handshakes. Compiled once
    per snapshot, so picking one at the handshake is a dict lookup. Empty ones are left out.
    `runtime` is the process's PolicyRuntime (counters, JWKS caches, concurrency slots).
    """
    pipelines: dict = {}
    for product_id in (None, *api.product_ids):
        if product_id is not None and product_id not in products:
            continue
        product_docs = [] if product_id is None else [products[product_id].policy_xml]
        label = "" if product_id is None else f" (product {products[product_id].name})"
        try:
            effective = policies.effective_document(
                api.policy_xml, product_docs, catalog.global_policy_xml
            )
            pipeline = policies.compile_policy(
                effective, runtime, message_schemas=api.message_schemas
            )
        except policies.PolicyError as exc:
            log.error("policy of API %s%s does not compile: %s", api.name, label, exc)
            pipelines[product_id] = BrokenPipeline(str(exc))
            continue
        for warning in effective.warnings:
            log.warning("policy of API %s%s: %s", api.name, label, warning)
        if pipeline:
            pipelines[product_id] = pipeline
    return pipelines


def handshake_context(
    handshake, *, raw_headers, product_names, decisions=None
) -> policies.HandshakeContext:
    """The policies' view of one handshake (also what an event source's name is evaluated in).

    `decisions`: a list that hears each policy's outcome (a traced handshake), or None."""
    route, subscription = handshake.route, handshake.subscription
    return policies.HandshakeContext(
        api_id=str(route.api.id),
        api_name=route.api.name,
        product_names=product_names,
        product_id=(
            str(subscription.product_id)
            if subscription is not None and subscription.scope == "product"
            else None
        ),
        subscription_id=str(subscription.id) if subscription else None,
        subscription_name=subscription.name if subscription else None,
        subscription_key=handshake.presented_key,
        user_id=str(subscription.owner_id) if subscription and subscription.owner_id else None,
        user_email=subscription.owner_email or None if subscription else None,
        peer_ip=handshake.peer_ip,
        client_ip=handshake.client_ip,
        host=handshake.host,
        client_certificate=handshake.client_certificate,
        client_cas=handshake.client_cas,
        client_crls=handshake.client_crls,
        headers=(
            handshake.header_pairs
            if handshake.header_pairs is not None
            else [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw_headers]
        ),
        forwarded_headers=list(handshake.backend.headers.items()),
        query=handshake.query,
        decisions=decisions,
    )


async def run_policies(pipeline, *, handshake, raw_headers, product_names, decisions=None):
    """Run the inbound policies; raise Refusal, or apply their changes to the backend request."""
    route = handshake.route
    ctx = handshake_context(
        handshake, raw_headers=raw_headers, product_names=product_names, decisions=decisions
    )
    try:
        refusal = await pipeline.run(ctx)
    except Exception as exc:  # a counter store down, a JWKS fetch crashing: fail closed
        log.exception("policy evaluation failed for API %s", route.api.name)
        raise Refusal(
            503, "The gateway cannot evaluate the API's policy.", reason=f"policy error: {exc}"
        ) from None
    if refusal is not None:
        raise Refusal(
            refusal.status,
            refusal.message,
            reason=f"policy refused: {refusal.message}"
            + (f" ({refusal.detail})" if refusal.detail else ""),
            headers=dict(refusal.headers),
            body=refusal.body,
        )
    apply_to_backend(handshake.backend, ctx)
    if ctx.connection_tags:
        handshake.tags = ctx.connection_tags
    return ctx


def apply_to_backend(backend: BackendRequest, ctx: policies.HandshakeContext) -> None:
    """set-header, set-query-parameter and set-backend-service, as the backend will see them."""
    if ctx.backend_headers:
        pairs = policies.apply_changes(list(backend.headers.items()), ctx.backend_headers)
        merged: dict[str, tuple[str, str]] = {}  # by lower-case name: (name as first seen, value)
        for name, value in pairs:
            seen = merged.get(name.lower())
            merged[name.lower()] = (seen[0], f"{seen[1]}, {value}") if seen else (name, value)
        backend.headers = dict(merged.values())
    if ctx.backend_url:
        backend_url = urlsplit(ctx.backend_url)
        backend.base = f"{backend_url.scheme}://{backend_url.netloc}{backend_url.path.rstrip('/')}"
        if backend_url.query:
            backend.query = "&".join(q for q in (backend_url.query, backend.query) if q)
    if ctx.backend_query:
        pairs = parse_qsl(backend.query, keep_blank_values=True)
        pairs = policies.apply_changes(pairs, ctx.backend_query, case_insensitive=False)
        backend.query = urlencode(pairs, quote_via=quote)
