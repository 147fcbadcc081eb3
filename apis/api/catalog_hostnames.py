"""Gateway host names in the declarative catalog: exported as `{hostname, certificate,
negotiate_client_certificate}` (the certificate by name: certificates and keys are never part of
a catalog) and applied when an entry lists them."""

from apis import services
from apis.models import Certificate, Gateway

HOSTNAME_KEYS = {"hostname", "certificate", "negotiate_client_certificate"}


def hostnames_entry(gateway: Gateway) -> dict:
    """{"hostnames": [...]} for a gateway that has some, else nothing (older files unchanged)."""
    rows = [
        {
            "hostname": h.hostname,
            "certificate": h.certificate.name if h.certificate else None,
            "negotiate_client_certificate": h.negotiate_client_certificate,
        }
        for h in sorted(gateway.hostnames.all(), key=lambda h: h.hostname)
    ]
    return {"hostnames": rows} if rows else {}


def check_hostnames(value, where: str, errors) -> bool:
    """Whether `value` has the shape of a `hostnames` list; what is wrong goes to `errors`."""
    if not isinstance(value, list):
        errors.add(where, "Expected a list of host names.")
        return False
    ok = True
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("hostname"), str):
            errors.add(at, "Expected {hostname, certificate, negotiate_client_certificate}.")
            ok = False
            continue
        for key in sorted(set(item) - HOSTNAME_KEYS):
            errors.add(f"{at}.{key}", "Unknown field.")
            ok = False
        if not isinstance(item.get("certificate"), str | None):
            errors.add(f"{at}.certificate", "Expected a certificate's name.")
            ok = False
        if not isinstance(item.get("negotiate_client_certificate", False), bool):
            errors.add(f"{at}.negotiate_client_certificate", "Expected true or false.")
            ok = False
    return ok


def apply_hostnames(gateway: Gateway, entries: list[dict], where: str, errors) -> bool:
    """Make `entries` the gateway's host names; True when that changed anything."""
    names = {e["certificate"] for e in entries if e.get("certificate")}
    found = {c.name: c for c in Certificate.objects.filter(name__in=names)}
    if missing := sorted(names - set(found)):
        errors.add(where, f"Unknown certificate(s): {', '.join(missing)}.")
        return False
    wanted = [
        {
            "hostname": e["hostname"],
            "certificate": found.get(e.get("certificate") or ""),
            "negotiate_client_certificate": e.get("negotiate_client_certificate", False),
        }
        for e in entries
    ]
    current = hostnames_entry(gateway).get("hostnames", [])
    normal = sorted(
        (
            e["hostname"].strip().lower().rstrip("."),
            e["certificate"].name if e["certificate"] else None,
            e["negotiate_client_certificate"],
        )
        for e in wanted
    )
    if normal == [tuple(h.values()) for h in current]:
        return False
    with errors.located(where):
        services.set_gateway_hostnames(gateway=gateway, hostnames=wanted)
    return True
