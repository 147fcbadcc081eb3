"""Shared helpers for the policy library tests (no Django needed)."""

from __future__ import annotations

import asyncio
import itertools
import uuid

from gateway.policies import (
    HandshakeContext,
    PolicyRuntime,
    Refusal,
    compile_policy,
    effective_document,
)

_counter = itertools.count()


def inbound(body: str) -> str:
    return f"<policies><inbound>{body}</inbound></policies>"


def make_ctx(**kw) -> HandshakeContext:
    kw.setdefault("api_id", "api-1")
    kw.setdefault("api_name", "chat")
    kw.setdefault("subscription_id", "sub-1")
    kw.setdefault("peer_ip", "198.51.100.7")
    return HandshakeContext(**kw)


def run_policy(xml: str, runtime: PolicyRuntime | None = None, **ctx_kw) -> Refusal | None:
    runtime = runtime or PolicyRuntime(key_prefix=new_prefix())
    pipeline = compile_policy(effective_document(xml, [], None), runtime)
    ctx = make_ctx(**ctx_kw)
    return asyncio.run(pipeline.run(ctx))


def new_prefix() -> str:
    return f"portico-test-{uuid.uuid4().hex}"
