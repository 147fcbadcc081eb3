"""Settings for the test run: production settings with test-only secrets and plain static files."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production")
# Test-only Fernet key for secret named values (inherited by the servers the tests start).
os.environ.setdefault("PORTICO_SECRETS_KEY", "dGVzdHMtb25seS1zZWNyZXRzLWtleS0zMmJ5dGVzISE=")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")

from portal.settings import *  # noqa: E402,F403
from portal.settings import STORAGES, VAR_DIR  # noqa: E402

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast users in tests
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = VAR_DIR / "test-static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# A file (not :memory:) so the server subprocesses the tests start see the test data, and one
# file per test run, so runs side by side never share (or delete) a file.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(VAR_DIR / f"test-portico-{os.getpid()}.sqlite3")
    }
