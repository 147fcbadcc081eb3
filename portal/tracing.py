"""OpenTelemetry tracing of the portal's requests (pages, admin, REST API, node endpoints).

Turned on from the portal app's `ready()` only when an OTLP endpoint is configured, so Django's
instrumentation adds its middleware before the first request handler is built; the SDK and the
exporter then read every other standard `OTEL_*` variable themselves.
"""


def instrument_django() -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create()
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": "portico-portal"}))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    DjangoInstrumentor().instrument(
        tracer_provider=provider, is_sql_commentor_enabled=False, request_hook=without_query
    )


def without_query(span, request) -> None:
    """Query strings may carry keys, tokens and search terms: the request's URL is recorded
    without one (the instrumentation would keep it, redacting only a few known parameters)."""
    if not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    url = f"{request.scheme}://{request.META.get('HTTP_HOST', '')}{request.path}"
    for name in ("http.url", "url.full"):
        if name in attributes:
            span.set_attribute(name, url)
    if "url.query" in attributes:
        span.set_attribute("url.query", "")
