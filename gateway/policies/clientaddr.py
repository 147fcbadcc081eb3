"""Who the client is behind trusted proxies: the one rule for X-Forwarded-For (pure Python)."""

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str | Network]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


def _address(text: str):
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted(ip: str, networks: tuple[Network, ...]) -> bool:
    if not networks or not ip:
        return False
    address = _address(ip)
    return address is not None and any(address in network for network in networks)


def client_ip(peer_ip: str, forwarded_for: Iterable[str], networks: tuple[Network, ...]) -> str:
    """The socket peer, unless it is a trusted proxy.

    Behind trusted proxies, `X-Forwarded-For` is read right to left, skipping trusted hops;
    the first untrusted hop is the client (hops further left could be forged by it).
    """
    if not is_trusted(peer_ip, networks):
        return peer_ip
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    client = peer_ip
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        client = str(address)
        if not any(address in network for network in networks):
            break
    return client
