"""An API's contract as pages show it: directions in words, payload schemas as trees, examples."""

import json

from apis.asyncapi.reading import RECEIVE, SEND
from apis.asyncapi.refs import RECURSIVE

MAX_DEPTH = 8
MAX_NODES = 400  # per message: a huge schema is cut, with a note, rather than a huge page
DIRECTION_LABELS = {SEND: "You send", RECEIVE: "You receive"}
DETAILS = (
    "const",
    "enum",
    "format",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "default",
)
ALTERNATIVES = (("oneOf", "one of"), ("anyOf", "any of"), ("allOf", "all of"))


def schema_type(schema: dict) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind:
        return str(kind)
    if "const" in schema:
        return type(schema["const"]).__name__.replace("str", "string").replace("NoneType", "null")
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "any"


def _details(schema: dict) -> list[str]:
    out = []
    for key in DETAILS:
        if key in schema:
            out.append(f"{key}: {json.dumps(schema[key], ensure_ascii=False)[:200]}")
    if RECURSIVE in schema:
        out.append(f"recursive: {schema[RECURSIVE]}")
    return out


def schema_tree(schema, *, name: str = "payload", required: bool = False) -> dict:
    """{name, type, required, description, details, children} for a template to nest."""
    budget = [MAX_NODES]

    def node(schema, name: str, required: bool, depth: int) -> dict:
        budget[0] -= 1
        if not isinstance(schema, dict):
            schema = {} if schema is True else {"not": {}}
        out = {
            "name": name,
            "type": schema_type(schema),
            "required": required,
            "description": str(schema.get("description") or schema.get("title") or ""),
            "details": _details(schema),
            "children": [],
        }
        if depth >= MAX_DEPTH or budget[0] <= 0:
            if _has_children(schema):
                out["details"].append("(deeper levels not shown)")
            return out
        needed = set(schema.get("required") or [])
        for child, sub in (schema.get("properties") or {}).items():
            out["children"].append(node(sub, child, child in needed, depth + 1))
        items = schema.get("items")
        if isinstance(items, dict):
            out["children"].append(node(items, "[items]", False, depth + 1))
        for key, label in ALTERNATIVES:
            for i, sub in enumerate(schema.get(key) or []):
                out["children"].append(node(sub, f"{label} #{i + 1}", False, depth + 1))
        return out

    return node(schema, name, required, 0)


def _has_children(schema: dict) -> bool:
    return any(k in schema for k in ("properties", "items", "oneOf", "anyOf", "allOf"))


def example_text(example: dict) -> str:
    """The example's payload as the text a client would send (JSON unless it is a string)."""
    payload = example.get("payload")
    if isinstance(payload, str):
        return payload
    return json.dumps(payload, indent=2, ensure_ascii=False)


def display_channels(contract: dict) -> list[dict]:
    """Channels with their messages ready for a template."""
    channels = []
    for channel in contract.get("channels", []):
        messages = []
        for message in channel.get("messages", []):
            examples = [
                {
                    "name": e.get("name") or f"Example {i + 1}",
                    "summary": e.get("summary", ""),
                    "text": example_text(e),
                }
                for i, e in enumerate(message.get("examples", []))
                if "payload" in e
            ]
            messages.append(
                {
                    **message,
                    "direction_labels": [DIRECTION_LABELS[d] for d in message["directions"]],
                    "tree": schema_tree(message["payload"]) if "payload" in message else None,
                    "example_list": examples,
                }
            )
        channels.append({**channel, "messages": messages})
    return channels


def console_data(contract: dict) -> dict:
    """What the test console needs: examples to send, and the shapes of messages to receive."""
    examples, receivable = [], []
    for channel in contract.get("channels", []):
        for message in channel.get("messages", []):
            label = message.get("title") or message["name"]
            if SEND in message["directions"]:
                for i, example in enumerate(message.get("examples", [])):
                    if "payload" not in example:
                        continue
                    name = example.get("name") or (f"example {i + 1}" if i else "example")
                    examples.append(
                        {
                            "label": f"{channel['name']} · {label} · {name}",
                            "text": example_text(example),
                        }
                    )
            if RECEIVE in message["directions"] and "schemaFormat" not in message:
                receivable.append(
                    {"name": f"{channel['name']} · {label}", "schema": message.get("payload", {})}
                )
    return {"examples": examples, "receive": receivable}
