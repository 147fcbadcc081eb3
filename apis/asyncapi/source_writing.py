"""What an AsyncAPI export says of an event-source API: the envelope its clients receive, where
their messages go, and how they resume (WebSocket channel bindings), never the broker's URL.

The document describes the API as its clients see it, through the gateway; the broker behind it
is the publisher's business, so it appears only as its kind (`x-portico-event-source`).
"""

from gateway.catalog.eventsource import MQTT, backend_kind

SOURCE_MARK = "x-portico-event-source"
BINDING_VERSION = "0.1.0"  # AsyncAPI's WebSocket bindings
RESUME = "The last id received: everything after it that the broker still holds comes first."
ENVELOPE = {
    "type": "object",
    "required": ["id", "subject", "data"],
    "properties": {
        "id": {"type": "string", "description": "The entry's id: send it back to resume."},
        "subject": {"type": "string", "description": "The stream, subject or topic."},
        "data": {"description": "The payload, decoded as JSON when it is JSON."},
    },
}


def event_source(api) -> dict | None:
    """The API's `source` when its backend is an event broker, else None."""
    if not api.source or backend_kind(api.backend_url) == "websocket":
        return None
    return api.source


def describe(document: dict, api, source: dict) -> None:
    """Add the event source's facts, resume bindings and (without a contract) its channel."""
    kind = backend_kind(api.backend_url)
    resumes = kind != MQTT  # an MQTT broker keeps no per-client history for the gateway's session
    document[SOURCE_MARK] = {
        "kind": kind,
        "envelope": source.get("envelope", True),
        "resume": resumes,
        "clientMessages": bool(source.get("publish")),
    }
    channels = document.setdefault("channels", {})
    if not channels:
        _default_channel(document, source)
    if resumes:
        for channel in channels.values():
            channel["bindings"] = {"ws": _resume_binding()}


def _default_channel(document: dict, source: dict) -> None:
    """One channel for an API without a contract: the events in, client messages out."""
    events = {"title": "Event", "payload": ENVELOPE if source.get("envelope", True) else {}}
    messages = {"event": events}
    operations = {
        "events.clientReceives": {
            "action": "send",
            "channel": {"$ref": "#/channels/events"},
            "messages": [{"$ref": "#/channels/events/messages/event"}],
        }
    }
    if source.get("publish"):
        messages["clientMessage"] = {"title": "Client message", "payload": {}}
        operations["events.clientSends"] = {
            "action": "receive",
            "channel": {"$ref": "#/channels/events"},
            "messages": [{"$ref": "#/channels/events/messages/clientMessage"}],
        }
    document["channels"]["events"] = {"address": None, "messages": messages}
    document.setdefault("operations", {}).update(operations)


def _resume_binding() -> dict:
    return {
        "query": {
            "type": "object",
            "properties": {"last-event-id": {"type": "string", "description": RESUME}},
        },
        "headers": {
            "type": "object",
            "properties": {"Last-Event-ID": {"type": "string", "description": RESUME}},
        },
        "bindingVersion": BINDING_VERSION,
    }
