"""Save-time validation of onHandshake policy documents through the gateway's policy library."""

from django.core.exceptions import ValidationError

from gateway.policies import PolicyError, parse_document


def check_policy_document(xml: str, *, scope: str, field: str) -> None:
    """Raise a field ValidationError naming the element and line when the document is invalid."""
    if not xml or not xml.strip():
        return
    try:
        parse_document(xml, scope=scope)
    except PolicyError as exc:
        raise ValidationError({field: str(exc)}) from None
