"""ip-filter: allow or forbid client addresses and ranges (IPv4 and IPv6)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar
from xml.etree.ElementTree import Element, SubElement

from .context import HandshakeContext, Refusal
from .model import Attrs, Policy, Step, children
from .xmlnode import Node

if TYPE_CHECKING:
    from .runtime import PolicyRuntime

Addr = ipaddress.IPv4Address | ipaddress.IPv6Address


def _addr(node: Node, text: str, attribute: str | None = None) -> Addr:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        reason = "is not an IP address"
        raise node.error(f"{text.strip()!r} {reason}", attribute, reason=reason) from None


@dataclass(frozen=True, kw_only=True)
class IpFilter(Policy):
    """Let only listed client addresses in (allow), or keep listed addresses out (forbid)."""

    tag: ClassVar[str] = "ip-filter"
    action: str
    addresses: tuple[str, ...] = ()
    ranges: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, node: Node) -> IpFilter:
        a = Attrs(node)
        action = a.choice("action", ("allow", "forbid"))
        a.done()
        addresses: list[str] = []
        ranges: list[tuple[str, str]] = []
        for child in children(node, ("address", "address-range")):
            ca = Attrs(child)
            if child.tag == "address":
                ca.done()
                if not child.text.strip():
                    raise child.error("an IP address is required")
                addresses.append(str(_addr(child, child.text)))
            else:
                lo = _addr(child, ca.text("from", required=True) or "", "from")
                hi = _addr(child, ca.text("to", required=True) or "", "to")
                ca.done()
                if lo.version != hi.version:
                    raise child.error("from and to must both be IPv4 or both IPv6")
                if int(lo) > int(hi):
                    raise child.error("from must not be greater than to", "from")
                ranges.append((str(lo), str(hi)))
        if not addresses and not ranges:
            raise node.error("at least one <address> or <address-range> is required")
        return cls(action=action, addresses=tuple(addresses), ranges=tuple(ranges), line=node.line)

    def to_element(self) -> Element:
        el = Element(self.tag, {"action": self.action})
        for address in self.addresses:
            SubElement(el, "address").text = address
        for lo, hi in self.ranges:
            SubElement(el, "address-range", {"from": lo, "to": hi})
        return el

    def compile(self, runtime: PolicyRuntime) -> Step:
        exact = {ipaddress.ip_address(a) for a in self.addresses}
        spans = [
            (
                ipaddress.ip_address(lo).version,
                int(ipaddress.ip_address(lo)),
                int(ipaddress.ip_address(hi)),
            )
            for lo, hi in self.ranges
        ]
        allow = self.action == "allow"
        refusal = Refusal(403, "Forbidden: client address not allowed")

        def listed(ip: str) -> bool:
            try:
                addr = ipaddress.ip_address(ip)
            except ValueError:
                return False
            if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
                addr = addr.ipv4_mapped
            if addr in exact:
                return True
            n = int(addr)
            return any(v == addr.version and lo <= n <= hi for v, lo, hi in spans)

        async def step(ctx: HandshakeContext) -> Refusal | None:
            hit = listed(ctx.client_ip or ctx.peer_ip)
            return None if hit == allow else refusal

        return step
