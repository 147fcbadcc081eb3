"""An API's messages by direction, from its AsyncAPI contract: for validation, pages and console.

`message_schemas` is the contract side of `validate-message schema-source="asyncapi"` (issue 14):
a client message must match one of the schemas under "send", a backend message one under
"receive". Only messages whose payload is a JSON Schema (AsyncAPI's own schema format, a superset
of Draft 7) are listed; a payload in another format (Avro, ...) cannot be checked here.
"""

from dataclasses import dataclass

from apis.asyncapi.reading import RECEIVE, SEND

DIRECTIONS = (SEND, RECEIVE)


@dataclass(frozen=True)
class MessageSchema:
    channel: str
    message: str
    schema: dict | bool  # the payload's JSON Schema (references already inlined)
    content_type: str = ""


def _contract(api_or_contract) -> dict:
    if isinstance(api_or_contract, dict):
        return api_or_contract
    return getattr(api_or_contract, "asyncapi_contract", None) or {}


def messages(api_or_contract):
    """(channel, message) pairs of the contract, in document order."""
    for channel in _contract(api_or_contract).get("channels", []):
        for message in channel.get("messages", []):
            yield channel, message


def message_schemas(api_or_contract) -> dict[str, list[MessageSchema]]:
    """{"send": [...], "receive": [...]}: payload schemas the client may send / may receive.

    Both lists are empty when the API has no contract. A message the document lists in both
    directions appears in both; one with no payload schema accepts any payload (`{}`).
    """
    out: dict[str, list[MessageSchema]] = {d: [] for d in DIRECTIONS}
    for channel, message in messages(api_or_contract):
        if "schemaFormat" in message:
            continue
        schema = message.get("payload", {})
        for direction in message.get("directions", []):
            out[direction].append(
                MessageSchema(
                    channel=channel["name"],
                    message=message["name"],
                    schema=schema if isinstance(schema, dict | bool) else {},
                    content_type=message.get("contentType", ""),
                )
            )
    return out


def has_contract(api_or_contract) -> bool:
    return bool(_contract(api_or_contract).get("channels"))
