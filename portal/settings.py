"""Portico settings from the environment: safe demo defaults, hard failures in production."""

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

from portal.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_required,
    env_str,
    problem,
    raise_problems,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PORTICO_VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)
LOCAL_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]

# A self-hosted gateway node: configuration from the control plane, never a database.
PORTICO_CONTROL_URL = env_str("PORTICO_CONTROL_URL").rstrip("/")
PORTICO_GATEWAY_TOKEN = env_str("PORTICO_GATEWAY_TOKEN")
SELF_HOSTED_NODE = bool(PORTICO_CONTROL_URL)
if SELF_HOSTED_NODE:
    if not PORTICO_GATEWAY_TOKEN:
        problem(
            "PORTICO_CONTROL_URL is set, so this is a self-hosted gateway node: set "
            "PORTICO_GATEWAY_TOKEN to the node token shown on the gateway's page."
        )
    if not env_str("PORTICO_GATEWAY"):
        problem("A self-hosted gateway node needs PORTICO_GATEWAY (the gateway's name).")
    if env_str("DATABASE_URL"):
        problem(
            "A self-hosted gateway node takes its configuration from PORTICO_CONTROL_URL and "
            "never uses a database: unset DATABASE_URL."
        )
elif PORTICO_GATEWAY_TOKEN:
    problem("PORTICO_GATEWAY_TOKEN is set without PORTICO_CONTROL_URL.")

if SELF_HOSTED_NODE and not DEBUG:
    # A node renders no page and signs nothing that outlives the process.
    SECRET_KEY = env_str("SECRET_KEY") or secrets.token_urlsafe(50)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
elif DEBUG:
    SECRET_KEY = env_str("SECRET_KEY") or "insecure-demo-key-only-for-DEBUG"
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", LOCAL_HOSTS)
    _public = [h for h in ALLOWED_HOSTS if h not in LOCAL_HOSTS]
    if _public and not env_bool("PORTICO_ALLOW_DEBUG_ON_PUBLIC_HOST", False):
        problem(
            f"DEBUG is on while ALLOWED_HOSTS names public host(s) {_public}: "
            "turn DEBUG off for anything reachable from outside this machine."
        )
else:
    SECRET_KEY = env_required("SECRET_KEY", "when DEBUG is off (use a long random value)")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        problem("ALLOWED_HOSTS must be set when DEBUG is off (comma-separated host names).")

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "django_filters",
    "axes",  # sign-in throttling (portal/loginthrottle.py)
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / ReDoc assets served from here, not a CDN
    "apis",
    "apis.telemetry.apps.TelemetryConfig",
    "gateway",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
ASGI_APPLICATION = "portal.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

# SQLite file by default; DATABASE_URL (postgres://...) switches to PostgreSQL through psycopg 3.
_SQLITE_PATH = VAR_DIR / "portico.sqlite3"
if SELF_HOSTED_NODE:
    DATABASES = {"default": {"ENGINE": "portal.nodatabase"}}  # any use raises, saying why
else:
    DATABASES = {
        "default": dj_database_url.parse(
            env_str("DATABASE_URL") or f"sqlite:///{_SQLITE_PATH}",
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        )
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# In-memory channel layer by default; REDIS_URL shares it between processes.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (django-axes): failed sign-ins on the portal and admin pages are counted per
# account and per client address; either reaching the limit locks it for the lockout time.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out sign-ins
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("PORTICO_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("PORTICO_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The client's address by the project's one rule (trusted proxies), not axes' own IP settings.
AXES_CLIENT_IP_CALLABLE = "portal.loginthrottle.client_address"
AXES_LOCKOUT_CALLABLE = "portal.loginthrottle.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_ON_SUCCESS = False  # a success must not wipe the failures counted against an address

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:home"

# Sign-in through an OpenID Connect provider (docs/oidc.md): mozilla-django-oidc with PKCE, its
# endpoints found by discovery at the issuer. Users are matched by (issuer, subject), never by
# e-mail; the role claim is applied at every sign-in.
PORTICO_OIDC_ISSUER = env_str("PORTICO_OIDC_ISSUER").rstrip("/")
PORTICO_OIDC_CLIENT_ID = env_str("PORTICO_OIDC_CLIENT_ID")
PORTICO_OIDC_CLIENT_SECRET = env_str("PORTICO_OIDC_CLIENT_SECRET")
PORTICO_OIDC_PROVIDER_NAME = env_str("PORTICO_OIDC_PROVIDER_NAME") or "single sign-on"
PORTICO_OIDC_ROLE_CLAIM = env_str("PORTICO_OIDC_ROLE_CLAIM") or "groups"
PORTICO_OIDC_ADMIN_VALUES = env_list("PORTICO_OIDC_ADMIN_VALUES")
PORTICO_OIDC_PUBLISHER_VALUES = env_list("PORTICO_OIDC_PUBLISHER_VALUES")
PORTICO_LOCAL_ACCOUNTS = env_bool("PORTICO_LOCAL_ACCOUNTS", True)
if PORTICO_OIDC_ISSUER:
    if not (PORTICO_OIDC_CLIENT_ID and PORTICO_OIDC_CLIENT_SECRET):
        problem("PORTICO_OIDC_ISSUER needs PORTICO_OIDC_CLIENT_ID and PORTICO_OIDC_CLIENT_SECRET.")
    if not DEBUG and not PORTICO_OIDC_ISSUER.startswith("https://"):
        problem("PORTICO_OIDC_ISSUER must be an https:// URL (plain http only with DEBUG on).")
    AUTHENTICATION_BACKENDS.append("portal.oidc_backend.OidcBackend")
    OIDC_RP_CLIENT_ID = PORTICO_OIDC_CLIENT_ID
    OIDC_RP_CLIENT_SECRET = PORTICO_OIDC_CLIENT_SECRET
    OIDC_RP_SIGN_ALGO = "RS256"
    OIDC_RP_SCOPES = "openid email profile"
    OIDC_USE_PKCE = True
    OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
    OIDC_STORE_ID_TOKEN = True  # in the server-side session: the end-session request's hint
    OIDC_TIMEOUT = 10
    OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
    LOGIN_REDIRECT_URL_FAILURE = "login"
if not PORTICO_LOCAL_ACCOUNTS:
    if not PORTICO_OIDC_ISSUER:
        problem("PORTICO_LOCAL_ACCOUNTS=0 needs PORTICO_OIDC_ISSUER: nobody could sign in.")
    AUTHENTICATION_BACKENDS.remove("django.contrib.auth.backends.ModelBackend")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Production hardening; all overridable for a TLS-terminating proxy setup.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO") else None
)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

EMAIL_BACKEND = env_str("EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend"

# The gateway (data plane).
PORTICO_GATEWAY = env_str("PORTICO_GATEWAY") or "managed"
PORTICO_NODE_ID = env_str("PORTICO_NODE_ID")  # default: host:port
PORTICO_HEARTBEAT_SECONDS = env_float("PORTICO_HEARTBEAT_SECONDS", 10.0, minimum=0.1)
PORTICO_SNAPSHOT_POLL_SECONDS = env_float("PORTICO_SNAPSHOT_POLL_SECONDS", 1.0, minimum=0.05)
PORTICO_BACKEND_CONNECT_TIMEOUT = env_float("PORTICO_BACKEND_CONNECT_TIMEOUT", 10.0, minimum=0.1)
PORTICO_KEEPALIVE_SECONDS = env_float("PORTICO_KEEPALIVE_SECONDS", 30.0, minimum=0.0)
PORTICO_SHUTDOWN_GRACE_SECONDS = env_float("PORTICO_SHUTDOWN_GRACE_SECONDS", 10.0, minimum=0.0)
PORTICO_HANDSHAKE_TIMEOUT_SECONDS = env_float(
    "PORTICO_HANDSHAKE_TIMEOUT_SECONDS", 10.0, minimum=0.0
)
PORTICO_CLOSE_GRACE_SECONDS = env_float("PORTICO_CLOSE_GRACE_SECONDS", 2.0, minimum=0.1)
# Per worker: handshakes in progress at once (the rest wait their turn; 0 = no bound), and the
# listening socket's accept queue (the kernel caps it at net.core.somaxconn). See
# docs/operations: reconnect storms.
PORTICO_HANDSHAKE_CONCURRENCY = env_int("PORTICO_HANDSHAKE_CONCURRENCY", 128, minimum=0)
PORTICO_LISTEN_BACKLOG = env_int("PORTICO_LISTEN_BACKLOG", 4096, minimum=1)
# "auto": after both handshakes, APIs without onMessage policies are relayed as a tunnel (frame
# headers read, payloads passed as they are) where the server offers it (uvicorn); "framed":
# every message is parsed and re-framed (the relay before the tunnel; Daphne always is).
PORTICO_RELAY_MODE = env_str("PORTICO_RELAY_MODE") or "auto"
if PORTICO_RELAY_MODE not in ("auto", "framed"):
    problem(f"PORTICO_RELAY_MODE must be 'auto' or 'framed', got {PORTICO_RELAY_MODE!r}.")
PORTICO_MAX_MESSAGE_BYTES_CEILING = env_int(
    "PORTICO_MAX_MESSAGE_BYTES_CEILING", 16 * 1024 * 1024, minimum=1024
)
PORTICO_TRUSTED_PROXIES = env_list("PORTICO_TRUSTED_PROXIES")
# run_gateway serves wss:// itself: SNI picks each gateway host name's certificate from the
# catalog; the files (both or neither) are the certificate for every other name.
PORTICO_GATEWAY_TLS_CERTFILE = env_str("PORTICO_GATEWAY_TLS_CERTFILE")
PORTICO_GATEWAY_TLS_KEYFILE = env_str("PORTICO_GATEWAY_TLS_KEYFILE")
PORTICO_GATEWAY_TLS = env_bool("PORTICO_GATEWAY_TLS", False) or bool(PORTICO_GATEWAY_TLS_CERTFILE)
# Fernet key (urlsafe base64 of 32 bytes) that encrypts secret named values in the database. Only
# the control plane needs it (nodes receive resolved policies). Without it DEBUG derives one from
# SECRET_KEY; production refuses to store or read a secret (apis.secretbox says how to make one).
PORTICO_SECRETS_KEY = env_str("PORTICO_SECRETS_KEY")
PORTICO_LIMITS_STORAGE = env_str("PORTICO_LIMITS_STORAGE") or (REDIS_URL or "memory://")
PORTICO_LIMITS_KEY_PREFIX = env_str("PORTICO_LIMITS_KEY_PREFIX") or "portico"
PORTICO_COUNTERS_TIMEOUT_SECONDS = env_float("PORTICO_COUNTERS_TIMEOUT_SECONDS", 0.3, minimum=0.01)
PORTICO_COUNTERS_FAIL_OPEN = env_bool("PORTICO_COUNTERS_FAIL_OPEN", False)
PORTICO_CONCURRENCY_LEASE_SECONDS = env_float(
    "PORTICO_CONCURRENCY_LEASE_SECONDS", 30.0, minimum=0.5
)

# Telemetry: connection logs, per-minute figures, /metrics and the log format.
PORTICO_TELEMETRY_ENABLED = env_bool("PORTICO_TELEMETRY_ENABLED", True)
PORTICO_TELEMETRY_RETENTION_DAYS = env_int("PORTICO_TELEMETRY_RETENTION_DAYS", 30, minimum=1)
PORTICO_TELEMETRY_BUFFER_SIZE = env_int("PORTICO_TELEMETRY_BUFFER_SIZE", 10000, minimum=1)
PORTICO_TELEMETRY_SPOOL_RECORDS = env_int("PORTICO_TELEMETRY_SPOOL_RECORDS", 100_000, minimum=1)
PORTICO_TELEMETRY_BATCH_SIZE = env_int("PORTICO_TELEMETRY_BATCH_SIZE", 500, minimum=1)
PORTICO_TELEMETRY_FLUSH_MS = env_int("PORTICO_TELEMETRY_FLUSH_MS", 1000, minimum=10)
PORTICO_METRICS_TOKEN = env_str("PORTICO_METRICS_TOKEN")
PORTICO_METRICS_ALLOWED_NETWORKS = env_list(
    "PORTICO_METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"]
)
PORTICO_LOG_JSON = env_bool("PORTICO_LOG_JSON", False)

# OpenTelemetry tracing (docs/tracing.md): on only when an OTLP endpoint is set, as the SDK
# itself reads it; every other OTEL_* variable (headers, service name, sampler) is the SDK's.
PORTICO_TRACING_ENABLED = bool(
    env_str("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env_str("OTEL_EXPORTER_OTLP_ENDPOINT")
) and not env_bool("OTEL_SDK_DISABLED", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "gateway.telemetry.jsonlog.JsonFormatter"},
    },
    "filters": {
        "redact": {"()": "gateway.logredact.RedactSecrets"},
        "no_refusal_tracebacks": {"()": "portal.logfilters.NoRefusalTracebacks"},
        "routine_at_debug": {"()": "portal.logfilters.RoutineAtDebug"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if PORTICO_LOG_JSON else "plain",
            "filters": ["redact", "no_refusal_tracebacks"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "INFO"},
    "loggers": {
        # Django's default config gives "django" its own console handler (DEBUG on) on top of
        # propagating to root: every django.request line was printed twice. Root prints it once.
        "django": {"handlers": [], "propagate": True},
        # A self-hosted node's heartbeats, long-polls and telemetry posts: routine, DEBUG.
        "httpx": {"filters": ["routine_at_debug"]},
        "django.db.backends": {"level": "WARNING"},
        "axes.apps": {"level": "WARNING"},  # a "BEGIN" line at every start; lockouts still log
        # Access logs print full query strings (subscription keys): the gateway logs its own lines.
        "uvicorn.access": {"level": "WARNING", "propagate": False},
        # Uvicorn logs every WebSocket handshake at INFO, with its query string.
        "uvicorn.error": {"level": env_str("UVICORN_LOG_LEVEL") or "WARNING"},
        "daphne.access": {"level": "WARNING"},
    },
}

REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    # Management API (apis/api): personal access tokens for scripts, the session for the browser.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apis.api.authentication.PersonalAccessTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PAGINATION_CLASS": "apis.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apis.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Portico management API",
    "DESCRIPTION": "Manage WebSocket APIs, products, gateways, subscriptions and policies.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Client errors are documented so that a schema-driven client (and schemathesis) expects them.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apis.api.schema_hooks.document_errors",
    ],
    # The docs pages run on the portal's origin: their scripts come from this server, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ProductStateEnum": "apis.models.Product.State",
        "SubscriptionStateEnum": "apis.models.Subscription.State",
        "PrimarySecondaryEnum": [("primary", "primary"), ("secondary", "secondary")],
    },
}

# Last: every missing or invalid setting found above, named in one message.
raise_problems()
