"""Write an API as an AsyncAPI 3.0 document: the gateway as its server, the key as security."""

import yaml

from apis.asyncapi.reading import GATEWAY_MARK, RECEIVE, SEND
from apis.asyncapi.refs import pointer
from apis.asyncapi.source_writing import describe, event_source

VERSION = "3.0.0"
HEADER_SCHEME = "subscriptionKeyHeader"
QUERY_SCHEME = "subscriptionKeyQuery"
MESSAGE_FIELDS = ("title", "summary", "description", "contentType", "payload", "examples")
# Which operation (from the API's side, as AsyncAPI says it) carries each client direction.
OPERATIONS = ((SEND, "receive", "clientSends"), (RECEIVE, "send", "clientReceives"))


def export_document(api, *, host: str | None = None, schemes=None) -> dict:
    """The API as an AsyncAPI 3.0 document.

    With `host` (the gateway's host[:port] as clients reach it) the document lists one server per
    URL scheme the API allows (`schemes` narrows them), each marked as the gateway; without it,
    no servers: the catalog carries the contract alone, since the backend URL is its own field
    there.
    """
    contract = api.asyncapi_contract or {}
    info = {"title": api.display_name, "version": contract.get("version") or "1.0.0"}
    if api.description:
        info["description"] = api.description
    document: dict = {"asyncapi": VERSION, "info": info}
    if host:
        document["servers"] = _servers(api, host, schemes)
    channels, operations = {}, {}
    for channel in contract.get("channels", []):
        name = channel["name"]
        out = {"address": channel.get("address")}
        for key in ("title", "summary", "description", "parameters"):
            if channel.get(key):
                out[key] = channel[key]
        messages = {}
        for message in channel.get("messages", []):
            messages[message["name"]] = _message(message)
        if messages:
            out["messages"] = messages
        channels[name] = out
        for direction, action, suffix in OPERATIONS:
            names = [m["name"] for m in channel.get("messages", []) if direction in m["directions"]]
            if names:
                operations[f"{name}.{suffix}"] = {
                    "action": action,
                    "channel": {"$ref": pointer(["channels", name])},
                    "messages": [
                        {"$ref": pointer(["channels", name, "messages", n])} for n in names
                    ],
                }
    if channels:
        document["channels"] = channels
    if operations:
        document["operations"] = operations
    source = event_source(api)
    if source is not None:
        describe(document, api, source)
    if host and api.subscription_required:
        document["components"] = {"securitySchemes": _security_schemes(api)}
    return document


def _message(message: dict) -> dict:
    out = {k: message[k] for k in MESSAGE_FIELDS if k in message}
    if "schemaFormat" in message and "payload" in message:
        out["payload"] = {"schemaFormat": message["schemaFormat"], "schema": message["payload"]}
    return out


def _servers(api, host: str, schemes) -> dict:
    allowed = {"ws": ["ws"], "wss": ["wss"]}.get(api.url_scheme, ["wss", "ws"])
    servers = {}
    for scheme in [s for s in allowed if schemes is None or s in schemes] or allowed:
        server = {
            "host": host,
            "pathname": f"/{api.url_suffix}",
            "protocol": scheme,
            "description": "The Portico gateway.",
            GATEWAY_MARK: True,  # so that importing this document never takes it as a backend
        }
        if api.subscription_required:
            server["security"] = [
                {"$ref": pointer(["components", "securitySchemes", HEADER_SCHEME])},
                {"$ref": pointer(["components", "securitySchemes", QUERY_SCHEME])},
            ]
        servers[scheme] = server
    return servers


def _security_schemes(api) -> dict:
    return {
        HEADER_SCHEME: {
            "type": "httpApiKey",
            "name": api.subscription_key_header,
            "in": "header",
            "description": "A subscription key in a header (not possible from a browser).",
        },
        QUERY_SCHEME: {
            "type": "httpApiKey",
            "name": api.subscription_key_query,
            "in": "query",
            "description": "A subscription key in the query string.",
        },
    }


def to_yaml(document: dict) -> str:
    """Block-style YAML in the document's own key order."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
