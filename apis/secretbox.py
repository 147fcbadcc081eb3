"""Secrets at rest (named values, private keys): Fernet under PORTICO_SECRETS_KEY, never logged."""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError

HOW_TO_MAKE_A_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class SecretsKeyError(ImproperlyConfigured):
    """No usable key: secrets can be neither stored nor read (the message says how to fix it)."""


@cache
def _fernet(key: str, secret_key: str, debug: bool) -> Fernet:
    if not key:
        if not debug:
            raise SecretsKeyError(
                "PORTICO_SECRETS_KEY is not set, so secret named values can be neither stored "
                f"nor read. Make a key with {HOW_TO_MAKE_A_KEY} and keep it: secrets stored "
                "under one key cannot be read with another."
            )
        # Demo/DEBUG only: a stable key derived from SECRET_KEY (its own purpose string).
        digest = hashlib.sha256(b"portico-secret-named-values:" + secret_key.encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    try:
        return Fernet(key.encode())
    except ValueError:
        raise SecretsKeyError(
            "PORTICO_SECRETS_KEY must be a Fernet key (urlsafe base64 of 32 bytes); make one "
            f"with {HOW_TO_MAKE_A_KEY}"
        ) from None


def fernet() -> Fernet:
    return _fernet(settings.PORTICO_SECRETS_KEY, settings.SECRET_KEY, settings.DEBUG)


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The clear value; SecretsKeyError when the key is missing or is not the one it used."""
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SecretsKeyError(
            "a secret named value cannot be decrypted with PORTICO_SECRETS_KEY: it was stored "
            "under another key (restore that key, or enter the secret's value again)"
        ) from None


def encrypt_for(field: str, value: str) -> str:
    """The token to store; without a usable key a ValidationError on `field` (a form or the API
    shows how to fix it) and nothing is stored."""
    try:
        return encrypt(value)
    except SecretsKeyError as exc:
        raise ValidationError({field: str(exc)}) from None


def decrypt_stored(token: str) -> str:
    """The clear value of a stored token, "" when nothing is stored."""
    return decrypt(token) if token else ""
