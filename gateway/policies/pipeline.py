"""Compile an effective document once; run its inbound policies for every handshake."""

from __future__ import annotations

from .context import HandshakeContext, Refusal
from .counters import CountersUnavailable
from .document import EffectivePolicy, PolicyDocument
from .message_pipeline import MessagePipeline, compile_messages
from .model import Base, Step
from .runtime import PolicyRuntime


class CompiledPipeline:
    """The inbound policies of one effective document as ready-to-await steps.

    `run` evaluates them in document order and stops at the first refusal. On a refusal (or an
    exception) it runs `ctx.release()` itself; after a successful run the gateway owns the
    release callbacks and calls `ctx.release()` when the connection ends.
    """

    __slots__ = ("steps", "tags", "runtime", "document", "messages")

    def __init__(
        self,
        steps: tuple[Step, ...],
        runtime: PolicyRuntime,
        document: PolicyDocument,
        messages: MessagePipeline | None = None,
        tags: tuple[str, ...] = (),
    ) -> None:
        self.steps = steps
        self.tags = tags or ("policy",) * len(steps)  # each step's element name, for traces
        self.runtime = runtime
        self.document = document
        self.messages = messages  # onMessage policies; None keeps the relay's plain loops

    def __bool__(self) -> bool:
        return bool(self.steps) or self.messages is not None

    async def run(self, ctx: HandshakeContext) -> Refusal | None:
        steps = self.steps
        if not steps:
            return None
        if ctx.client_ip is None:
            ctx.client_ip = self.runtime.client_ip(ctx.peer_ip, ctx.headers)
        if not ctx.region:
            ctx.region = self.runtime.region
        decisions = ctx.decisions  # None unless the handshake is traced: nothing to record
        try:
            for index, step in enumerate(steps):
                try:
                    refusal = await step(ctx)
                except CountersUnavailable as exc:
                    refusal = self.runtime.counters_unavailable(exc)
                if decisions is not None:
                    decisions.append((self.tags[index], refusal))
                if refusal is not None:
                    ctx.release()
                    return refusal
        except BaseException:
            ctx.release()
            raise
        return None


def compile_policy(
    effective: EffectivePolicy | PolicyDocument,
    runtime: PolicyRuntime,
    *,
    message_schemas: dict | None = None,
) -> CompiledPipeline:
    """Build the pipeline for an effective document (do this once per catalog snapshot).

    `message_schemas` ({"send": [...], "receive": [...]} JSON Schemas from the API's AsyncAPI
    contract, None without one) serves `validate-message schema-source="asyncapi"`.
    """
    doc = effective.document if isinstance(effective, EffectivePolicy) else effective
    inbound = [p for p in (doc.inbound or ()) if not isinstance(p, Base)]
    steps = tuple(p.compile(runtime) for p in inbound)
    messages = compile_messages(
        doc.on_message_inbound or (), doc.on_message_outbound or (), runtime, message_schemas
    )
    tags = tuple(p.tag or type(p).__name__ for p in inbound)
    return CompiledPipeline(steps, runtime, doc, messages, tags)
