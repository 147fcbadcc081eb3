"""An event-source API's `source` object from an AsyncAPI document whose backend server is a
broker (protocol redis, nats or mqtt): the channel the client receives on is what it subscribes
to, the one it sends on is where its messages are published.

A channel address with parameters (`prices.{symbol}`) becomes an expression reading the query
parameter of the same name (its default from the document), and the address with a wildcard in
each parameter's place becomes the one `allow` pattern.
"""

import re

from apis.asyncapi.reading import RECEIVE, SEND
from gateway.catalog.eventsource import MQTT, NATS

PARAMETER = re.compile(r"\{([^{}]+)\}")
WILDCARD = {NATS: "*", MQTT: "+"}  # Redis stream names take a glob "*"


def source_from_contract(kind: str, contract: dict) -> dict:
    """The `source` the document implies; empty when it names no single channel to read."""
    channels = contract.get("channels") or []
    receiving = [c for c in channels if _carries(c, RECEIVE) and c.get("address")]
    sending = [c for c in channels if _carries(c, SEND) and c.get("address")]
    if len(receiving) != 1:
        return {}
    channel = receiving[0]
    source = _subscribe(kind, channel["address"], channel.get("parameters") or {})
    if len(sending) == 1 and not PARAMETER.search(sending[0]["address"]):
        source["publish"] = sending[0]["address"]
    return source


def _carries(channel: dict, direction: str) -> bool:
    return any(direction in m.get("directions", ()) for m in channel.get("messages", ()))


def _subscribe(kind: str, address: str, parameters: dict) -> dict:
    names = PARAMETER.findall(address)
    if not names:
        return {"subscribe": address}
    parts, last = [], 0
    for match in PARAMETER.finditer(address):
        if match.start() > last:
            parts.append(_literal(address[last : match.start()]))
        name = match[1]
        default = (parameters.get(name) or {}).get("default", "")
        parts.append(
            f"context.Request.Url.Query.GetValueOrDefault({_literal(name)}, {_literal(default)})"
        )
        last = match.end()
    if last < len(address):
        parts.append(_literal(address[last:]))
    allow = PARAMETER.sub(WILDCARD.get(kind, "*"), address)
    return {"subscribe": "@(" + " + ".join(parts) + ")", "allow": [allow]}


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
