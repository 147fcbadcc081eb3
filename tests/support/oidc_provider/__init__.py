"""A real OpenID Connect provider for the tests: django-oauth-toolkit, a Django project of its own.

Run in its own process (`python -m tests.support.oidc_provider <port> <dir> ...`), with its own
SQLite database and RSA key under `<dir>`; `tests/support/oidc.py` starts and drives it.
"""
