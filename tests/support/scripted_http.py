"""A tiny real HTTP server on a loopback port that answers from a script and records requests.

For client tests that need answers Portico does not give on demand (429, 503 with Retry-After)
or operations another branch adds: the client under test talks to it over real TCP.
"""

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    status: int = 200
    body: object = None
    headers: dict | None = None


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: object


class ScriptedServer:
    """Answers each request with the next Answer of `script`, then with `last` for ever."""

    def __init__(self, script: list[Answer], last: Answer | None = None) -> None:
        self.script = list(script)
        self.last = last or Answer()
        self.seen: list[Seen] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                owner.seen.append(Seen(self.command, self.path, dict(self.headers), body))
                answer = owner.script.pop(0) if owner.script else owner.last
                payload = json.dumps(answer.body).encode() if answer.body is not None else b""
                self.send_response(answer.status)
                headers = {"Content-Type": "application/json", **(answer.headers or {})}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
