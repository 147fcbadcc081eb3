"""Writes to the policy library: named values and policy fragments, each change checked against
every policy that uses it."""

from django.core.exceptions import ValidationError
from django.db import transaction

from apis.models import NamedValue, PolicyFragment
from apis.policy_validation import check_users, policy_environment, users
from apis.services.common import InUse


def _in_use(what: str, docs) -> InUse:
    labels = ", ".join(doc.label for doc in docs)
    return InUse(f"{what} is used by {labels}: remove it from them first")


@transaction.atomic
def create_named_value(
    *, name: str, value: str = "", secret: bool = False, description: str = ""
) -> NamedValue:
    """A new `{{name}}`; a secret's value is encrypted before it is stored."""
    named = NamedValue(name=name, description=description)
    if secret:
        named.set_secret_value(value)
    else:
        named.value = value
    named.full_clean()
    named.save()
    return named


@transaction.atomic
def update_named_value(
    *,
    named_value: NamedValue,
    value: str | None = None,
    secret: bool | None = None,
    description: str | None = None,
) -> NamedValue:
    """Change a named value; every policy using it is checked with the new value first, and
    recompiled on every node (the catalog revision changes). For a secret, `value=None` keeps
    the stored one: it is never read back to be edited."""
    named = named_value
    if description is not None:
        named.description = description
    becomes_secret = named.secret if secret is None else secret
    if named.secret and not becomes_secret and value is None:
        raise ValidationError({"value": "Enter the value: a secret's value is never shown."})
    if value is None:
        value = None if named.secret else named.value
    if becomes_secret:
        if value is not None:
            named.set_secret_value(value)
    else:
        named.secret, named.value, named.encrypted_value = False, value, ""
    named.full_clean()
    if not becomes_secret:
        brokers = [d for d in users(named_value=named.name) if d.kind == "broker"]
        if brokers:
            raise ValidationError(
                {
                    "secret": f"{brokers[0].label} uses it as a password: it stays secret "
                    "(a plain value is shown on pages and in answers)."
                }
            )
    if value is not None:
        env = policy_environment(values={named.name: value})
        check_users(users(named_value=named.name), env, field="value")
    named.save()
    return named


@transaction.atomic
def delete_named_value(*, named_value: NamedValue) -> None:
    using = users(named_value=named_value.name)
    if using:
        raise _in_use(f"named value '{named_value.name}'", using)
    named_value.delete()


@transaction.atomic
def create_policy_fragment(*, name: str, xml: str, description: str = "") -> PolicyFragment:
    fragment = PolicyFragment(name=name, xml=xml, description=description)
    fragment.full_clean()
    fragment.save()
    return fragment


@transaction.atomic
def update_policy_fragment(
    *, fragment: PolicyFragment, xml: str | None = None, description: str | None = None
) -> PolicyFragment:
    """Change a fragment; every policy including it is checked first, then recompiled on every
    node (the catalog revision changes)."""
    if description is not None:
        fragment.description = description
    if xml is not None:
        fragment.xml = xml
    fragment.full_clean()
    if xml is not None:
        env = policy_environment(fragments={fragment.name: xml})
        check_users(users(fragment=fragment.name), env, field="xml", skip=fragment.name)
    fragment.save()
    return fragment


@transaction.atomic
def delete_policy_fragment(*, fragment: PolicyFragment) -> None:
    using = users(fragment=fragment.name)
    if using:
        raise _in_use(f"policy fragment '{fragment.name}'", using)
    fragment.delete()
