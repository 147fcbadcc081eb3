"""OpenTelemetry traces of handshakes: a span per handshake, its backend connect, the connection.

Built by the composition root only when an OTLP endpoint is configured (the SDK is imported
here, on first use, so a gateway without tracing never loads it). Each traced handshake wraps
the connection's telemetry `Attempt` in a `TracedAttempt`, which hears the same steps and turns
them into spans; the relay's per-message path is never touched: the close is recorded once, from
the counters the relay keeps anyway. Export goes through the SDK's bounded batch processor,
configured by the standard `OTEL_*` variables (endpoint, headers, timeout, service name,
resource attributes, sampler, batch sizes).
"""

import time

from gateway.logredact import scrub

# The W3C trace context headers: taken from the client, and replaced by the gateway's own
# (its backend-connect span as the parent) on the way to the backend.
TRACE_HEADERS = ("traceparent", "tracestate")


class Tracing:
    """One process's tracer (its provider and exporter), and where handshake traces start."""

    def __init__(self, *, gateway: str, node: str, exporter=None) -> None:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.trace import Link, SpanKind, Status, StatusCode, set_span_in_context
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()  # endpoint, headers, timeout: the OTEL_* variables
        resource = service_resource(Resource, "portico-gateway").merge(
            Resource({"portico.gateway": gateway, "portico.node": node})
        )
        self.provider = TracerProvider(resource=resource)
        self.provider.add_span_processor(BatchSpanProcessor(exporter))
        self.tracer = self.provider.get_tracer("portico.gateway")
        self.propagator = TraceContextTextMapPropagator()
        self.gateway, self.node = gateway, node
        # The API's names, kept so the module's other code needs no import of its own.
        self.Link, self.SpanKind, self.set_span_in_context = Link, SpanKind, set_span_in_context
        self.error = Status(StatusCode.ERROR)

    def begin(self, scope: dict) -> "HandshakeTrace":
        """Start the handshake's span, as a child of the client's `traceparent` if it sent one."""
        carrier = {}
        for name, value in scope.get("headers") or ():
            lowered = name.lower()
            if lowered in (b"traceparent", b"tracestate"):
                carrier[lowered.decode("latin-1")] = value.decode("latin-1")
        parent = self.propagator.extract(carrier) if carrier else None
        span = self.tracer.start_span(
            "websocket handshake",
            context=parent,
            kind=self.SpanKind.SERVER,
            attributes={
                "portico.gateway": self.gateway,
                "portico.node": self.node,
                "url.path": (scope.get("path") or "")[:300],
                "network.protocol.name": "websocket",
            },
        )
        return HandshakeTrace(self, span, continued=parent is not None and "traceparent" in carrier)

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


class HandshakeTrace:
    """The spans of one connection, as far as they go."""

    __slots__ = ("tracing", "span", "trace_id", "continued")

    def __init__(self, tracing: Tracing, span, *, continued: bool) -> None:
        self.tracing, self.span, self.continued = tracing, span, continued
        self.trace_id = format(span.get_span_context().trace_id, "032x")

    def wrap(self, attempt) -> "TracedAttempt":
        return TracedAttempt(attempt, self)


class TracedAttempt:
    """A telemetry `Attempt` that also records the handshake as spans (same calls, same order).

    The handshake span ends when the client is accepted or refused; the backend-connect span is
    its child; the connection itself is a span of its own, opened at accept and ended at close
    with the close code and message counts (a child of the handshake span, linked to it too).
    """

    __slots__ = ("attempt", "trace", "decisions", "backend_span", "connection_span", "handshake")

    def __init__(self, attempt, trace: HandshakeTrace) -> None:
        self.attempt = attempt
        self.trace = trace
        # (policy element, Refusal or None), filled by the policies; None when not sampled.
        self.decisions: list | None = [] if trace.span.is_recording() else None
        self.backend_span = self.connection_span = self.handshake = None

    # the handshake -------------------------------------------------------------------------

    def saw(self, snapshot) -> None:
        self.attempt.saw(snapshot)

    def identify(self, handshake) -> None:
        self.attempt.identify(handshake)
        self.handshake = handshake
        attempt, span = self.attempt, self.trace.span
        if not span.is_recording():  # not sampled: only the trace context travels on
            return
        span.update_name(f"websocket handshake {attempt.api_name}")
        attributes = {"portico.api": attempt.api_name, "portico.api.id": attempt.api_id}
        if attempt.product_id is not None:
            attributes["portico.product"] = attempt.product_name
            attributes["portico.product.id"] = attempt.product_id
        if attempt.subscription_id is not None:  # its id; the key never
            attributes["portico.subscription.id"] = attempt.subscription_id
        if attempt.client_ip:
            attributes["client.address"] = attempt.client_ip
        span.set_attributes(attributes)  # one call: the span takes its lock once

    def backend_connecting(self) -> None:
        self.attempt.backend_connecting()
        self._add_decisions()
        tracing = self.trace.tracing
        if self.trace.span.is_recording():
            self.backend_span = span = tracing.tracer.start_span(
                "websocket backend connect",
                context=tracing.set_span_in_context(self.trace.span),
                kind=tracing.SpanKind.CLIENT,
            )
        else:  # not sampled: the backend still continues the trace, under the handshake's id
            span = self.trace.span
        handshake = self.handshake
        if handshake is not None:
            # The backend continues this trace: the client's trace headers (if it sent any)
            # are replaced by the gateway's, whose parent is the backend-connect span.
            request = handshake.backend
            headers = {k: v for k, v in request.headers.items() if k.lower() not in TRACE_HEADERS}
            tracing.propagator.inject(headers, context=tracing.set_span_in_context(span))
            request.headers = headers
            if self.backend_span is not None:
                host = request.base.split("/")[2].rpartition("@")[2]  # never credentials
                self.backend_span.set_attribute("server.address", host[:200])

    def backend_connected(self) -> None:
        self.attempt.backend_connected()
        if self.backend_span is not None:
            self.backend_span.end()

    # outcomes ----------------------------------------------------------------------------------

    def refused(self, refusal) -> None:
        self.attempt.refused(refusal)
        span = self.trace.span
        if not span.is_recording():
            return
        self._add_decisions()
        reason = scrub(refusal.reason)[:300]
        if self.backend_span is not None and self.backend_span.is_recording():
            self.backend_span.set_status(self.trace.tracing.error)
            self.backend_span.set_attribute("portico.refusal.reason", reason)
            self.backend_span.end()
        self._name_api(span)
        span.set_attribute("http.response.status_code", refusal.status)
        span.set_attribute("portico.outcome", "refused")
        span.set_attribute("portico.refusal.reason", reason)
        if refusal.status >= 500:
            span.set_status(self.trace.tracing.error)
        span.end()

    def failed(self, error: str) -> None:
        done = self.attempt.done
        self.attempt.failed(error)
        if done:
            return
        for span in (self.backend_span, self.connection_span, self.trace.span):
            if span is not None and span.is_recording():
                span.set_status(self.trace.tracing.error)
                span.set_attribute("portico.error", scrub(error)[:300])
                span.end()

    def accepted(self, stats, handshake_ms: float) -> None:
        self.attempt.accepted(stats, handshake_ms)
        self.handshake = None  # the connection holds no handshake past this point
        span, tracing = self.trace.span, self.trace.tracing
        if not span.is_recording():
            return
        span.set_attribute("http.response.status_code", 101)
        span.set_attribute("portico.outcome", "accepted")
        span.end()
        self.connection_span = tracing.tracer.start_span(
            f"websocket connection {self.attempt.api_name}",
            context=tracing.set_span_in_context(span),
            links=[tracing.Link(span.get_span_context())],
            attributes={"portico.api": self.attempt.api_name},
        )

    def closed(self) -> None:
        attempt = self.attempt
        done = attempt.done
        attempt.closed()
        span = self.connection_span
        if done or span is None or not span.is_recording():
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
        span.add_event("websocket.close", counts)
        span.set_attributes(counts)
        span.end()

    # -------------------------------------------------------------------------------------------

    def _add_decisions(self) -> None:
        """One event per onHandshake policy run so far: its element and what it decided."""
        span = self.trace.span
        if not span.is_recording():
            return
        decisions, self.decisions = self.decisions, []
        for tag, refusal in decisions:
            attributes = {"portico.policy": tag, "portico.decision": "pass"}
            if refusal is not None:
                attributes["portico.decision"] = "refuse"
                attributes["http.response.status_code"] = refusal.status
            span.add_event("policy", attributes)

    def _name_api(self, span) -> None:
        """A refusal before `identify` (a bad key) still names the API it was for."""
        attempt = self.attempt
        if attempt.api_name and self.handshake is None:
            span.update_name(f"websocket handshake {attempt.api_name}")
            span.set_attribute("portico.api", attempt.api_name)
            if attempt.api_id is not None:
                span.set_attribute("portico.api.id", attempt.api_id)
