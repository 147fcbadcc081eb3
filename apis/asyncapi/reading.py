"""Read a checked AsyncAPI 3.0 or 2.x document: display name, backend URL and the contract.

The contract is what Portico keeps of a document: its channels and, in each, its messages with
payload schemas and examples (references inlined) and the directions the *client* may use them:
"send" (client to API) or "receive" (API to client). AsyncAPI describes the application, so
in 3.0 an operation with `action: receive` is a message the client sends (its reply goes back to
the client), and in 2.x `publish` is what the client sends, `subscribe` what it receives.
"""

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from apis.asyncapi import loading, schema_check
from apis.asyncapi.errors import AsyncApiError, Problem, json_path
from apis.asyncapi.refs import Resolver, pointer_parts
from gateway.policies.jsonschemas import member

SEND, RECEIVE = "send", "receive"
WS_PROTOCOLS = ("ws", "wss")
# Event brokers an API's backend may be (docs/event-sources.md): servers that may be the backend.
BROKER_PROTOCOLS = ("redis", "rediss", "nats", "mqtt", "mqtts")
# Portico's own exports mark each server as the gateway (its clients' URL, never a backend).
GATEWAY_MARK = "x-portico-gateway"
JSON_SCHEMA_FORMATS = re.compile(
    r"^application/(vnd\.aai\.asyncapi(\+json|\+yaml)?|schema(\+json|\+yaml)?)(;.*)?$"
)
MESSAGE_TEXT = ("title", "summary", "description")


@dataclass
class Imported:
    """What a document says about the API."""

    display_name: str
    description: str
    backend_url: str | None
    servers: list[tuple[str, str]] = field(default_factory=list)  # (name, url) of ws/wss ones
    contract: dict = field(default_factory=dict)
    gateway_servers: list[str] = field(default_factory=list)  # names marked GATEWAY_MARK


def read(source, *, server: str | None = None, need_backend: bool = True) -> Imported:
    """Parse (text or data), check against the official schema, and read the document."""
    if isinstance(source, dict):
        document = loading.plain(source)
    elif isinstance(source, str | bytes):
        document = loading.parse_text(source)
    else:
        message = "An AsyncAPI document is a mapping, or its YAML or JSON text."
        raise AsyncApiError([Problem("$", message)])
    version = schema_check.check(document)
    resolver = Resolver(document)
    reader = _Reader3(resolver) if version == "3.0.0" else _Reader2(resolver)
    channels = reader.channels()
    servers, gateways = reader.servers()
    if resolver.problems:
        raise AsyncApiError(list(dict.fromkeys(resolver.problems)))
    info = document["info"]
    contract = {
        "version": str(info.get("version", "")),
        "channels": channels,
    }
    backend = choose_server(servers, server, gateways) if need_backend else None
    return Imported(
        display_name=str(info.get("title", ""))[:100],
        description=str(info.get("description", "")),
        backend_url=backend,
        servers=servers,
        contract=contract,
        gateway_servers=gateways,
    )


def choose_server(
    servers: list[tuple[str, str]], wanted: str | None, gateways: Collection[str] = ()
) -> str:
    """The backend URL: the one ws/wss server, or the named one; never a Portico gateway."""
    listed = ", ".join(f"{name} ({url})" for name, url in servers)
    if wanted:
        for name, url in servers:
            if name == wanted:
                return url
        if wanted in gateways:
            message = (
                f"The server {wanted!r} is the Portico gateway that serves this API "
                f"({GATEWAY_MARK}), not its backend."
            )
            where = json_path(["servers", wanted])
            raise AsyncApiError([Problem(where, message, field="server")])
        hint = f" The ws/wss servers are: {listed}." if servers else ""
        message = f"The document has no ws/wss server named {wanted!r}.{hint}"
        raise AsyncApiError([Problem("$.servers", message, field="server")])
    if len(servers) == 1:
        return servers[0][1]
    if not servers and gateways:
        message = (
            f"The document's ws/wss servers are the Portico gateway ({GATEWAY_MARK}), not a "
            "backend: give the backend URL."
        )
        raise AsyncApiError([Problem("$.servers", message, field="backend_url")])
    if not servers:
        message = "The document has no server with protocol ws or wss to use as the backend."
        raise AsyncApiError([Problem("$.servers", message, field="server")])
    message = f"The document has several ws/wss servers; choose one: {listed}."
    raise AsyncApiError([Problem("$.servers", message, field="server")])


def _substitute(text: str, variables: dict, resolver: Resolver, where: str) -> str:
    def value(match: re.Match) -> str:
        variable = resolver.deref(variables.get(match[1]), where)
        if isinstance(variable, dict):
            if "default" in variable:
                return str(variable["default"])
            if variable.get("enum"):
                return str(variable["enum"][0])
        resolver.problems.append(
            Problem(where, f"The server variable {{{match[1]}}} has no default value.")
        )
        return match[0]

    return re.sub(r"\{([^{}]+)\}", value, text)


class _Reader:
    """What 2.x and 3.0 share: messages, examples, payloads."""

    def __init__(self, resolver: Resolver) -> None:
        self.r = resolver
        self.doc = resolver.document

    def servers(self) -> tuple[list[tuple[str, str]], list[str]]:
        """(name, URL) of the ws/wss servers that may be the backend; names of gateway ones."""
        found, gateways = [], []
        for name, raw in (self.doc.get("servers") or {}).items():
            where = json_path(["servers", name])
            server = self.r.deref(raw, where)
            if not isinstance(server, dict):
                continue
            protocol = str(server.get("protocol", "")).lower()
            if protocol not in WS_PROTOCOLS + BROKER_PROTOCOLS:
                continue
            if server.get(GATEWAY_MARK) is True:
                gateways.append(name)
                continue
            address = self.address(server)
            variables = self.r.deref(server.get("variables"), where) or {}
            address = _substitute(address, variables, self.r, where)
            found.append((name, f"{protocol}://{address}"))
        return found, gateways

    def parameters(self, channel: dict, where: str) -> dict:
        """{"parameters": ...} in 3.0's shape (2.x keeps enum and default in a schema)."""
        out = {}
        for name, raw in (self.r.deref(channel.get("parameters"), where) or {}).items():
            parameter = self.r.deref(raw, f"{where}.parameters")
            if not isinstance(parameter, dict):
                continue
            at = member(member(f"{where}.parameters", name), "schema")
            schema = self.r.inline(parameter.get("schema", {}), at)
            schema = schema if isinstance(schema, dict) else {}
            entry = {}
            description = parameter.get("description") or schema.get("description")
            if description:
                entry["description"] = str(description)
            enum = parameter.get("enum", schema.get("enum"))
            if isinstance(enum, list):
                entry["enum"] = [str(v) for v in enum]
            default = parameter.get("default", schema.get("default"))
            if default is not None:
                entry["default"] = str(default)
            if isinstance(parameter.get("examples"), list):
                entry["examples"] = [str(v) for v in parameter["examples"]]
            out[str(name)] = entry
        return {"parameters": out} if out else {}

    def message(self, raw, name: str, where: str) -> dict | None:
        message = self.r.deref(raw, where)
        if not isinstance(message, dict):
            return None
        message = dict(message)  # traits are merged into a copy, never into the document
        for trait in message.get("traits") or []:
            trait = self.r.deref(trait, where)
            if isinstance(trait, list):  # 2.x allows [trait, bindings] pairs
                trait = self.r.deref(trait[0], where) if trait else None
            for key, value in (trait or {}).items():
                message.setdefault(key, value)
        out = {"name": name}
        for key in MESSAGE_TEXT:
            if message.get(key):
                out[key] = str(message[key])
        content_type = message.get("contentType") or self.doc.get("defaultContentType")
        if content_type:
            out["contentType"] = content_type
        payload, schema_format = message.get("payload"), message.get("schemaFormat")
        payload_path = f"{where}.payload"
        if isinstance(payload, dict) and "schemaFormat" in payload and "schema" in payload:
            payload, schema_format = payload["schema"], payload["schemaFormat"]  # 3.0 multi-format
            payload_path += ".schema"
        if payload is not None:
            out["payload"] = self.r.inline(payload, payload_path)
        if schema_format and not JSON_SCHEMA_FORMATS.match(str(schema_format)):
            out["schemaFormat"] = schema_format
        examples = []
        for i, example in enumerate(message.get("examples") or []):
            example = self.r.inline(example, f"{where}.examples[{i}]")
            if isinstance(example, dict) and ("payload" in example or "headers" in example):
                examples.append(
                    {
                        k: example[k]
                        for k in ("name", "summary", "headers", "payload")
                        if k in example
                    }
                )
        if examples:
            out["examples"] = examples
        out["directions"] = []
        return out


def _direct(message: dict, direction: str) -> None:
    if direction not in message["directions"]:
        message["directions"].append(direction)
        message["directions"].sort(key=[SEND, RECEIVE].index)


def _channel_head(name: str, address, channel: dict) -> dict:
    out = {"name": name, "address": address}
    for key in MESSAGE_TEXT:
        if channel.get(key):
            out[key] = str(channel[key])
    return out


class _Reader3(_Reader):
    """AsyncAPI 3.0: channels own their messages; operations say who sends them."""

    def address(self, server: dict) -> str:
        return f"{server.get('host', '')}{server.get('pathname', '')}"

    def channels(self) -> list[dict]:
        channels, by_key = [], {}
        for key, raw in (self.doc.get("channels") or {}).items():
            where = json_path(["channels", key])
            channel = self.r.deref(raw, where)
            if not isinstance(channel, dict):
                continue
            out = _channel_head(key, channel.get("address"), channel)
            out |= self.parameters(channel, where)
            messages = {}
            for name, message in (channel.get("messages") or {}).items():
                read = self.message(message, name, json_path(["channels", key, "messages", name]))
                if read is not None:
                    messages[name] = read
            out["messages"] = list(messages.values())
            channels.append(out)
            by_key[key] = (raw, messages)
        for key, raw in (self.doc.get("operations") or {}).items():
            where = json_path(["operations", key])
            operation = self.r.deref(raw, where)
            if not isinstance(operation, dict):
                continue
            direction = SEND if operation.get("action") == "receive" else RECEIVE
            channel = self.channel_key(operation.get("channel"), by_key, where)
            self.mark(operation.get("messages"), channel, by_key, direction, where)
            reply = self.r.deref(operation.get("reply"), where)
            if isinstance(reply, dict):
                reply_channel = channel
                if reply.get("channel"):
                    reply_channel = self.channel_key(reply["channel"], by_key, where + ".reply")
                back = RECEIVE if direction == SEND else SEND
                self.mark(reply.get("messages"), reply_channel, by_key, back, where + ".reply")
        return channels

    def channel_key(self, ref, by_key: dict, where: str) -> str | None:
        """The key in `channels` that a reference names (directly or via components)."""
        target = ref.get("$ref") if isinstance(ref, dict) else None
        parts = pointer_parts(target) if isinstance(target, str) else []
        if len(parts) == 2 and parts[0] == "channels" and parts[1] in by_key:
            return parts[1]
        for key, (raw, _) in by_key.items():
            if isinstance(raw, dict) and raw.get("$ref") == target:
                return key
        self.r.problems.append(Problem(where, f"{target} is not one of the document's channels."))
        return None

    def mark(self, refs, channel: str | None, by_key: dict, direction: str, where: str) -> None:
        if channel is None:
            return
        messages = by_key[channel][1]
        if refs is None:  # no list: every message of the channel
            for message in messages.values():
                _direct(message, direction)
            return
        for i, ref in enumerate(refs):
            target = ref.get("$ref") if isinstance(ref, dict) else None
            parts = pointer_parts(target) if isinstance(target, str) else []
            name = None
            if len(parts) == 4 and parts[0] == "channels" and parts[2] == "messages":
                if parts[1] == channel and parts[3] in messages:
                    name = parts[3]
            else:  # e.g. #/components/messages/x: the channel's message that refers to it
                raw_messages = (self.r.deref(by_key[channel][0], where) or {}).get("messages", {})
                name = next(
                    (n for n, m in raw_messages.items() if m == ref and n in messages), None
                )
            if name is None:
                message = f"{target} is not a message of the channel {channel!r}."
                self.r.problems.append(Problem(f"{where}.messages[{i}]", message))
                continue
            _direct(messages[name], direction)


class _Reader2(_Reader):
    """AsyncAPI 2.x: each channel's `publish` is what clients send, `subscribe` what they get."""

    def address(self, server: dict) -> str:
        url = str(server.get("url", ""))
        return url.split("://", 1)[1] if "://" in url else url

    def channels(self) -> list[dict]:
        channels = []
        for key, raw in (self.doc.get("channels") or {}).items():
            where = json_path(["channels", key])
            channel = self.r.deref(raw, where)
            if not isinstance(channel, dict):
                continue
            out = _channel_head(key, key, channel)
            out |= self.parameters(channel, where)
            messages: dict[str, dict] = {}
            for verb, direction in (("publish", SEND), ("subscribe", RECEIVE)):
                operation = self.r.deref(channel.get(verb), f"{where}.{verb}")
                if not isinstance(operation, dict) or "message" not in operation:
                    continue
                self.collect(operation, messages, direction, f"{where}.{verb}.message")
            out["messages"] = list(messages.values())
            channels.append(out)
        return channels

    def collect(self, operation: dict, messages: dict, direction: str, where: str) -> None:
        raw = operation["message"]
        resolved = self.r.deref(raw, where)
        candidates = (
            resolved["oneOf"] if isinstance(resolved, dict) and "oneOf" in resolved else [raw]
        )
        for i, candidate in enumerate(candidates):
            ref = candidate.get("$ref") if isinstance(candidate, dict) else None
            parts = pointer_parts(ref) if isinstance(ref, str) else []
            message = self.r.deref(candidate, where)
            if not isinstance(message, dict):
                continue
            number = str(i + 1) if len(candidates) > 1 else ""
            name = (
                message.get("messageId")
                or (parts[-1] if len(parts) == 3 and parts[1] == "messages" else None)
                or message.get("name")
                or f"{operation.get('operationId') or direction}{number}"
            )
            name = str(name)
            read = self.message(
                candidate, name, where if len(candidates) == 1 else f"{where}.oneOf[{i}]"
            )
            if read is None:
                continue
            existing = messages.get(name)
            if existing is not None and _same(existing, read):
                _direct(existing, direction)
                continue
            while name in messages:
                name += "_"
                read["name"] = name
            _direct(read, direction)
            messages[name] = read


def _same(a: dict, b: dict) -> bool:
    skip = ("directions",)
    return {k: v for k, v in a.items() if k not in skip} == {
        k: v for k, v in b.items() if k not in skip
    }
