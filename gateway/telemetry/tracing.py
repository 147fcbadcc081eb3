"""OpenTelemetry traces of handshakes: a span per handshake, its backend connect, the connection.

Built by the composition root only when an OTLP endpoint is configured (the SDK is imported
here, on first use, so a gateway without tracing never loads it). Each traced handshake wraps
the connection's telemetry `Attempt` in a `HandshakeTrace`, which hears the same steps and turns
them into spans; the relay's per-message path is never touched: the close is recorded once, from
the counters the relay keeps anyway. Export goes through the SDK's bounded batch processor,
configured by the standard `OTEL_*` variables (endpoint, headers, timeout, service name,
resource attributes, sampler, batch sizes).

Why spans are not the SDK's live `Span`s: a live span costs a lock, bounded attribute and
event containers, a `Context` per child and an end-of-span hook, and the exporter then walks
those containers again; three of them per handshake were most of what tracing cost a handshake.
Here the SDK's sampler and id generator decide and name each span, the times and attributes are
kept in plain fields while the handshake runs, and each span is built once, finished, as the
SDK's `ReadableSpan` (what a live span hands its processor at its end) and given to the SDK's
batch processor, whose OTLP exporter encodes it as usual.
"""

import time

from gateway.logredact import scrub

# The W3C trace context headers: taken from the client, and replaced by the gateway's own
# (its backend-connect span as the parent) on the way to the backend.
TRACE_HEADERS = ("traceparent", "tracestate")
HANDSHAKE = "websocket handshake"


class Tracing:
    """One process's sampler, id generator and batch exporter, and where handshake traces start."""

    def __init__(self, *, gateway: str, node: str, exporter=None) -> None:
        from opentelemetry import trace as api
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()  # endpoint, headers, timeout: the OTEL_* variables
        resource = service_resource(Resource, "portico-gateway").merge(
            Resource({"portico.gateway": gateway, "portico.node": node})
        )
        # The provider reads OTEL_TRACES_SAMPLER(_ARG) and owns the processor (shutdown flushes it).
        self.provider = TracerProvider(resource=hashed_once(Resource, resource))
        self.processor = BatchSpanProcessor(exporter)
        self.provider.add_span_processor(self.processor)
        self.resource = self.provider.resource
        self.sampler, self.ids = self.provider.sampler, self.provider.id_generator
        self.scope = InstrumentationScope("portico.gateway")
        self.propagator = TraceContextTextMapPropagator()
        # Every handshake span starts with these; the API's own are added by `identify`. (Each
        # attribute costs the exporter's encoder a few µs: no constant ones beyond these.)
        self.base = {"portico.gateway": gateway, "portico.node": node}
        # The API's names, kept so the module's other code needs no import of its own.
        self.api, self.Event, self.ReadableSpan = api, Event, ReadableSpan
        self.error, self.unset = api.Status(api.StatusCode.ERROR), api.Status(api.StatusCode.UNSET)
        self.sampled_flags = api.TraceFlags(api.TraceFlags.SAMPLED)
        self.random_flag = api.TraceFlags.RANDOM_TRACE_ID if self.ids.is_trace_id_random() else 0

    def begin(self, scope: dict) -> "HandshakeTrace":
        """Decide the handshake's trace: a child of the client's `traceparent` if it sent one."""
        carrier = {}
        for name, value in scope.get("headers") or ():
            lowered = name.lower()
            if lowered in (b"traceparent", b"tracestate"):
                carrier[lowered.decode("latin-1")] = value.decode("latin-1")
        api = self.api
        context = parent = None
        if carrier:
            context = self.propagator.extract(carrier)
            parent = api.get_current_span(context).get_span_context()
            if not parent.is_valid:
                context = parent = None
        if parent is None:
            trace_id, random_flag = self.ids.generate_trace_id(), self.random_flag
        else:
            trace_id = parent.trace_id
            random_flag = parent.trace_flags & api.TraceFlags.RANDOM_TRACE_ID
        result = self.sampler.should_sample(context, trace_id, HANDSHAKE, api.SpanKind.SERVER)
        decision = result.decision
        flags = api.TraceFlags((self.sampled_flags if decision.is_sampled() else 0) | random_flag)
        trace = HandshakeTrace(self, trace_id, parent, flags, result.trace_state)
        trace.continued = parent is not None and "traceparent" in carrier
        if decision.is_recording():  # (the sampler may add attributes of its own)
            trace.attributes = {**self.base, **(result.attributes or {})}
            trace.attributes["url.path"] = (scope.get("path") or "")[:300]
            trace.decisions = []
        return trace

    def context(self, trace: "HandshakeTrace", span_id: int):
        return self.api.SpanContext(
            trace.trace,
            span_id,
            is_remote=False,
            trace_flags=trace.flags,
            trace_state=trace.trace_state,
        )

    def emit(
        self, name, context, parent, kind, attributes, start, events=(), links=(), error=False
    ):
        """Hand one finished span to the batch processor (which drops it unless sampled)."""
        span = self.ReadableSpan(
            name,
            context=context,
            parent=parent,
            resource=self.resource,
            attributes=attributes,
            events=events,
            links=links,
            kind=kind,
            start_time=start,
            end_time=time.time_ns(),
            status=self.error if error else self.unset,
            instrumentation_scope=self.scope,
        )
        self.processor.on_end(span)

    def shutdown(self) -> None:
        """Export what is still queued (blocks up to the exporter's timeout): at process exit."""
        self.provider.shutdown()


def service_resource(Resource, default_name: str):
    """The resource from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES, named `default_name`
    when neither names the service (the SDK would say "unknown_service")."""
    resource = Resource.create()
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": default_name}))
    return resource


def hashed_once(Resource, resource):
    """The same resource, hashed once: the OTLP encoder groups spans by resource, and the SDK's
    `Resource.__hash__` serialises every attribute to JSON for each span it is asked for."""

    class HashedResource(Resource):
        def __init__(self, attributes, schema_url) -> None:
            super().__init__(attributes, schema_url)
            self._hash = Resource.__hash__(self)

        def __hash__(self) -> int:
            return self._hash

    return HashedResource(resource.attributes, resource.schema_url)


class HandshakeTrace:
    """The spans of one connection, as far as they go: a telemetry `Attempt` that also records
    the handshake as spans (it hears the same calls, in the same order, and passes them on).

    The handshake span ends when the client is accepted or refused; the backend-connect span is
    its child; the connection itself is a span of its own, opened at accept and ended at close
    with the close code and message counts (a child of the handshake span, linked to it too).
    Spans are plain fields until they end (`Tracing.emit`); when the handshake is not sampled
    nothing is recorded, but its trace context still reaches the backend.
    """

    __slots__ = (
        "tracing",
        "attempt",
        "trace",
        "trace_id",
        "parent",
        "flags",
        "trace_state",
        "continued",
        "span_id",
        "context",
        "started",
        "name",
        "attributes",
        "events",
        "decisions",
        "handshake",
        "backend_context",
        "backend_started",
        "backend_address",
        "connection_id",
        "connection_started",
    )

    def __init__(self, tracing: Tracing, trace: int, parent, flags, trace_state) -> None:
        self.tracing, self.attempt = tracing, None
        self.trace, self.parent, self.flags, self.trace_state = trace, parent, flags, trace_state
        self.trace_id = format(trace, "032x")  # the connection's correlation id
        self.continued = False
        self.span_id = tracing.ids.generate_span_id()
        self.context = tracing.context(self, self.span_id)  # the handshake span's
        self.started = time.time_ns()
        self.name = HANDSHAKE
        # Set by `Tracing.begin` when the sampler records this handshake, else None: then
        # nothing is recorded, and `decisions` (the policies' outcomes) stays None.
        self.attributes: dict | None = None
        self.decisions: list | None = None
        self.events: list = []
        self.handshake = None
        self.backend_context = self.backend_started = self.backend_address = None
        self.connection_id = self.connection_started = None

    def wrap(self, attempt) -> "HandshakeTrace":
        self.attempt = attempt
        return self

    # the handshake -------------------------------------------------------------------------

    def saw(self, snapshot) -> None:
        self.attempt.saw(snapshot)

    def identify(self, handshake) -> None:
        attempt = self.attempt
        attempt.identify(handshake)
        self.handshake = handshake
        if self.attributes is None:  # not sampled: only the trace context travels on
            return
        self.name = f"{HANDSHAKE} {attempt.api_name}"
        attributes = self.attributes
        attributes["portico.api"] = attempt.api_name
        attributes["portico.api.id"] = attempt.api_id
        if attempt.product_id is not None:
            attributes["portico.product"] = attempt.product_name
            attributes["portico.product.id"] = attempt.product_id
        if attempt.subscription_id is not None:  # its id; the key never
            attributes["portico.subscription.id"] = attempt.subscription_id
        if attempt.client_ip:
            attributes["client.address"] = attempt.client_ip

    def backend_connecting(self) -> None:
        self.attempt.backend_connecting()
        self._add_decisions()
        tracing = self.tracing
        if self.attributes is not None:
            self.backend_context = tracing.context(self, tracing.ids.generate_span_id())
            self.backend_started = time.time_ns()
            parent = self.backend_context
        else:  # not sampled: the backend still continues the trace, under the handshake's id
            parent = self.context
        handshake = self.handshake
        if handshake is not None:
            # The backend continues this trace: the client's trace headers (if it sent any)
            # are replaced by the gateway's, whose parent is the backend-connect span.
            request = handshake.backend
            headers = {k: v for k, v in request.headers.items() if k.lower() not in TRACE_HEADERS}
            span = tracing.api.NonRecordingSpan(parent)
            tracing.propagator.inject(headers, context=tracing.api.set_span_in_context(span))
            request.headers = headers
            if self.backend_context is not None:
                host = request.base.split("/")[2].rpartition("@")[2]  # never credentials
                self.backend_address = host[:200]

    def backend_connected(self) -> None:
        self.attempt.backend_connected()
        if self.backend_started is not None:
            self._end_backend({})

    # outcomes ----------------------------------------------------------------------------------

    def refused(self, refusal) -> None:
        self.attempt.refused(refusal)
        if self.attributes is None or self.started is None:
            return
        self._add_decisions()
        reason = scrub(refusal.reason)[:300]
        if self.backend_started is not None:
            self._end_backend({"portico.refusal.reason": reason}, error=True)
        self._name_api()
        attributes = self.attributes
        attributes["http.response.status_code"] = refusal.status
        attributes["portico.outcome"] = "refused"
        attributes["portico.refusal.reason"] = reason
        self._end_handshake(error=refusal.status >= 500)

    def failed(self, error: str) -> None:
        done = self.attempt.done
        self.attempt.failed(error)
        if done or self.attributes is None:
            return
        extra = {"portico.error": scrub(error)[:300]}
        if self.backend_started is not None:
            self._end_backend(dict(extra), error=True)  # (each span keeps its own dict)
        if self.connection_started is not None:
            self._end_connection(dict(extra), error=True)
        if self.started is not None:
            self.attributes.update(extra)
            self._end_handshake(error=True)

    def accepted(self, stats, handshake_ms: float) -> None:
        self.attempt.accepted(stats, handshake_ms)
        self.handshake = None  # the connection holds no handshake past this point
        if self.attributes is None or self.started is None:
            return
        self.attributes["http.response.status_code"] = 101
        self.attributes["portico.outcome"] = "accepted"
        self._end_handshake()
        self.connection_id = self.tracing.ids.generate_span_id()
        self.connection_started = time.time_ns()

    def closed(self) -> None:
        attempt = self.attempt
        done = attempt.done
        attempt.closed()
        if done or self.connection_started is None:
            return
        stats = attempt.stats
        counts = {
            "websocket.close.code": stats.close_code or 0,
            "portico.closed_by": stats.closed_by or "",
            "portico.duration_ms": round((time.perf_counter() - attempt.started) * 1000, 3),
            "portico.messages_up": stats.messages_up,
            "portico.messages_down": stats.messages_down,
            "portico.bytes_up": stats.bytes_up,
            "portico.bytes_down": stats.bytes_down,
            "portico.messages_dropped": stats.messages_dropped,
        }
        # In the close event only: as span attributes too they would double the span's encoding.
        self._end_connection({}, event=self.tracing.Event("websocket.close", counts))

    # -------------------------------------------------------------------------------------------

    def _add_decisions(self) -> None:
        """One event per onHandshake policy run so far: its element and what it decided."""
        decisions = self.decisions
        if not decisions:
            return
        self.decisions = []
        Event, now = self.tracing.Event, time.time_ns()
        for tag, refusal in decisions:
            attributes = {"portico.policy": tag, "portico.decision": "pass"}
            if refusal is not None:
                attributes["portico.decision"] = "refuse"
                attributes["http.response.status_code"] = refusal.status
            self.events.append(Event("policy", attributes, now))

    def _name_api(self) -> None:
        """A refusal before `identify` (a bad key) still names the API it was for."""
        attempt = self.attempt
        if attempt.api_name and self.handshake is None:
            self.name = f"{HANDSHAKE} {attempt.api_name}"
            self.attributes["portico.api"] = attempt.api_name
            if attempt.api_id is not None:
                self.attributes["portico.api.id"] = attempt.api_id

    def _end_handshake(self, *, error: bool = False) -> None:
        tracing = self.tracing
        tracing.emit(
            self.name,
            self.context,
            self.parent,
            tracing.api.SpanKind.SERVER,
            self.attributes,
            self.started,
            events=self.events,
            error=error,
        )
        self.started = None

    def _end_backend(self, attributes: dict, *, error: bool = False) -> None:
        tracing = self.tracing
        if self.backend_address is not None:
            attributes["server.address"] = self.backend_address
        tracing.emit(
            "websocket backend connect",
            self.backend_context,
            self.context,
            tracing.api.SpanKind.CLIENT,
            attributes,
            self.backend_started,
            error=error,
        )
        self.backend_started = None

    def _end_connection(self, attributes: dict, *, event=None, error: bool = False) -> None:
        tracing = self.tracing
        handshake = self.context
        tracing.emit(
            f"websocket connection {self.attempt.api_name}",
            tracing.context(self, self.connection_id),
            handshake,
            tracing.api.SpanKind.INTERNAL,
            attributes,  # (its API is in its name and its parent's attributes)
            self.connection_started,
            events=(event,) if event is not None else (),
            links=(tracing.api.Link(handshake),),
            error=error,
        )
        self.connection_started = None
