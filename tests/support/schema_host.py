"""A real loopback HTTP server that serves a JSON Schema at every path and records each request
(the host a schema's remote reference points at, to prove that nothing ever fetches it), and the
documents that refer to it or nest references too deep."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_DEPTH = 64  # the documented nesting limit of schemas (test_the_nesting_limit_is_64 checks it)
KINDS = ("ref-http", "ref-nested", "dynamicRef", "recursiveRef", "file", "relative")
SERVED = {"type": "string", "definitions": {"x": {"type": "string"}}}


class SchemaHost:
    """`with SchemaHost() as host:` ... `host.url("/s.json")` ... `host.requests` (paths asked)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                host.requests.append(self.path)
                body = json.dumps(SERVED).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/schema+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str = "/schema.json") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def __enter__(self) -> "SchemaHost":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def remote_references(host: SchemaHost, tmp_path: Path) -> dict[str, tuple[dict, str]]:
    """name -> (a schema holding a reference outside itself, the JSON path of that reference).

    Every kind of reference a validator could fetch: `$ref`, `$dynamicRef`, `$recursiveRef`
    to the host, a file, and relative references that a base URI (`$id`) turns into URLs.
    """
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(SERVED))
    return {
        "ref-http": ({"$ref": host.url()}, "$['$ref']"),
        "ref-nested": (
            {"type": "object", "properties": {"a": {"$ref": host.url("/a.json")}}},
            "$.properties.a['$ref']",
        ),
        "dynamicRef": (
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$dynamicRef": host.url("/dyn.json"),
            },
            "$['$dynamicRef']",
        ),
        "recursiveRef": (
            {
                "$schema": "https://json-schema.org/draft/2019-09/schema",
                "$recursiveRef": host.url("/rec.json"),
            },
            "$['$recursiveRef']",
        ),
        "file": ({"allOf": [{"$ref": schema_file.as_uri()}]}, "$.allOf[0]['$ref']"),
        "relative": (
            {"$id": host.url("/base/"), "items": {"$ref": "other.json#/definitions/x"}},
            "$.items['$ref']",
        ),
    }


def validate_message(schema) -> str:
    """A policy document with `schema` inline in a validate-message (its <schema> on line 5)."""
    return (
        "<policies>\n  <on-message>\n    <inbound>\n      <validate-message>\n"
        f"        <schema>{json.dumps(schema)}</schema>\n"
        "      </validate-message>\n    </inbound>\n  </on-message>\n</policies>"
    )


def document(payload, schemas: dict | None = None) -> dict:
    """An AsyncAPI 3.0 document with one message the client sends, whose payload is given."""
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Refs", "version": "1"},
        "servers": {"s": {"host": "backend.example", "protocol": "ws"}},
        "channels": {"c": {"address": "/c", "messages": {"m": {"payload": payload}}}},
        "operations": {"o": {"action": "receive", "channel": {"$ref": "#/channels/c"}}},
        "components": {"schemas": schemas or {}},
    }


def chain(schemas: int, depth: int) -> dict:
    """`schemas` component schemas, each `depth` levels deep, each referring to the next."""
    found = {}
    for i in range(schemas):
        inner = (
            {"$ref": f"#/components/schemas/s{i + 1}"} if i + 1 < schemas else {"type": "string"}
        )
        for _ in range(depth):
            inner = {"items": inner}
        found[f"s{i}"] = inner
    return document({"$ref": "#/components/schemas/s0"}, found)
