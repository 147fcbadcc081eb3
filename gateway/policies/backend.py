"""set-backend-service and return-response: where the handshake goes, or the publisher's refusal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar
from xml.etree.ElementTree import Element, SubElement

from gateway.catalog.backend_url import HOST_MISSING_MESSAGE, SCHEME_MESSAGE, backend_url_problem

from .context import HandshakeContext, Refusal
from .expressions import evaluate
from .headers import SetHeader, bad_header_value, is_header_value
from .model import Attrs, Policy, Step, children, set_attr
from .xmlnode import Node

if TYPE_CHECKING:
    from .runtime import PolicyRuntime


@dataclass(frozen=True, kw_only=True)
class SetBackendService(Policy):
    """Send the handshake to another ws:// or wss:// base URL."""

    tag: ClassVar[str] = "set-backend-service"
    base_url: str

    @classmethod
    def parse(cls, node: Node) -> SetBackendService:
        a = Attrs(node)
        if "backend-id" in node.attrib:
            raise node.error("is not supported; use base-url", "backend-id")
        url = a.text("base-url", required=True) or ""
        a.done()
        children(node, ())
        # Named values are filled in by now: user info from a secret is allowed here.
        problem = backend_url_problem(url, allow_credentials=True)
        if problem is not None and problem.message in (SCHEME_MESSAGE, HOST_MISSING_MESSAGE):
            raise node.error("must be a ws:// or wss:// URL with a host", "base-url")
        if problem is not None:
            message, reason = (
                f"is not a valid URL: {text[0].lower()}{text[1:]}"
                for text in (problem.message, problem.reason)
            )
            raise node.error(message, "base-url", reason=reason)
        return cls(base_url=url, line=node.line)

    def to_element(self) -> Element:
        return Element(self.tag, {"base-url": self.base_url})

    def compile(self, runtime: PolicyRuntime) -> Step:
        url = self.base_url

        async def step(ctx: HandshakeContext) -> Refusal | None:
            ctx.backend_url = url
            return None

        return step


@dataclass(frozen=True, kw_only=True)
class ReturnResponse(Policy):
    """Refuse the handshake with the publisher's own status (>= 400), headers and body."""

    tag: ClassVar[str] = "return-response"
    status_code: int
    reason: str | None = None
    headers: tuple[SetHeader, ...] = ()
    body: str | None = None

    @classmethod
    def parse(cls, node: Node) -> ReturnResponse:
        a = Attrs(node)
        if "response-variable-name" in node.attrib:
            raise node.error("is not supported on onHandshake", "response-variable-name")
        a.done()
        status: int | None = None
        reason: str | None = None
        headers: list[SetHeader] = []
        body: str | None = None
        for child in children(node, ("set-status", "set-header", "set-body")):
            if child.tag == "set-status":
                if status is not None:
                    raise child.error("only one <set-status> is allowed")
                ca = Attrs(child)
                status = ca.integer("code", required=True, minimum=100)
                reason = ca.text("reason")
                ca.done()
                if status is None or not 400 <= status <= 599:
                    raise child.error(
                        "must be 400-599: a handshake cannot be completed without the backend",
                        "code",
                    )
            elif child.tag == "set-header":
                headers.append(SetHeader.parse(child, check_name=False))
            else:
                if body is not None:
                    raise child.error("only one <set-body> is allowed")
                Attrs(child).done()
                children(child, ())
                body = child.text.strip()
        if status is None:
            raise node.error("<set-status code=...> is required")
        return cls(
            status_code=status, reason=reason, headers=tuple(headers), body=body, line=node.line
        )

    def to_element(self) -> Element:
        el = Element(self.tag)
        st = SubElement(el, "set-status")
        set_attr(st, "code", self.status_code)
        set_attr(st, "reason", self.reason)
        for h in self.headers:
            el.append(h.to_element())
        if self.body is not None:
            SubElement(el, "set-body").text = self.body
        return el

    def compile(self, runtime: PolicyRuntime) -> Step:
        status, reason, headers, body = self.status_code, self.reason, self.headers, self.body

        async def step(ctx: HandshakeContext) -> Refusal | None:
            out: dict[str, str] = {}
            for h in headers:
                if h.exists_action == "delete":
                    out.pop(h.name, None)
                    continue
                if h.exists_action == "skip" and h.name in out:
                    continue
                texts = [evaluate(v, ctx) for v in h.values]
                for source, text in zip(h.values, texts, strict=True):
                    if not is_header_value(text):
                        return bad_header_value(h.name, text, source)
                value = ",".join(texts)
                if h.exists_action == "append" and h.name in out:
                    value = out[h.name] + "," + value
                out[h.name] = value
            return Refusal(status, reason or "", out, body)

        return step
