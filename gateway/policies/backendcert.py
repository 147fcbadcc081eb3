"""authentication-certificate: present a certificate from the catalog (by its name,
`certificate-id`) to the backend as the TLS client certificate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar
from xml.etree.ElementTree import Element

from .context import HandshakeContext, Refusal
from .model import Attrs, Policy, Step, children
from .xmlnode import Node

if TYPE_CHECKING:
    from .runtime import PolicyRuntime


@dataclass(frozen=True, kw_only=True)
class AuthenticationCertificate(Policy):
    """Connect to the wss:// backend with this catalog certificate as the client's."""

    tag: ClassVar[str] = "authentication-certificate"
    certificate_id: str

    @classmethod
    def parse(cls, node: Node) -> AuthenticationCertificate:
        a = Attrs(node)
        certificate_id = a.text("certificate-id", required=True) or ""
        a.done()
        children(node, ())
        return cls(certificate_id=certificate_id, line=node.line)

    def to_element(self) -> Element:
        return Element(self.tag, {"certificate-id": self.certificate_id})

    def compile(self, runtime: PolicyRuntime) -> Step:
        name = self.certificate_id

        async def step(ctx: HandshakeContext) -> Refusal | None:
            ctx.backend_certificate = name
            return None

        return step
