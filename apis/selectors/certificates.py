"""Reads about certificates and host names: expiry states, and the host names where clients
reach an API (the URLs every page, the console and the AsyncAPI export show)."""

from datetime import timedelta

from django.utils import timezone

from apis.models import EXPIRY_WARNING_DAYS, Api, Certificate, GatewayHostname


def expiry_state(certificate: Certificate) -> str:
    """ "expired", "expiring" (within EXPIRY_WARNING_DAYS) or "valid"."""
    now = timezone.now()
    if certificate.not_after <= now:
        return "expired"
    if certificate.not_after <= now + timedelta(days=EXPIRY_WARNING_DAYS):
        return "expiring"
    return "valid"


def api_hosts(api: Api, fallback: str) -> list[str]:
    """The host names of the gateways serving `api` (wildcards left out), or `fallback` (the
    host the page was reached on) when none has one."""
    names = (
        GatewayHostname.objects.filter(gateway__apis=api)
        .exclude(hostname__startswith="*")
        .order_by("gateway__name", "hostname")
        .values_list("hostname", flat=True)
    )
    return list(dict.fromkeys(names)) or [fallback]


def gateway_host(gateway_name: str, fallback: str) -> str:
    """The first host name of a gateway (wildcards left out), or `fallback`."""
    found = (
        GatewayHostname.objects.filter(gateway__name=gateway_name)
        .exclude(hostname__startswith="*")
        .order_by("hostname")
        .values_list("hostname", flat=True)
        .first()
    )
    return found or fallback
