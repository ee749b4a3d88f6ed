"""Settings read from the environment; see docs/operations.md for every variable.

With no environment set this is development mode on the embedded default:
SQLite, an in-memory channel layer, a local-memory cache and Celery tasks run
in process. `DATABASE_URL` and `REDIS_URL` select the real services.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

django_stubs_ext.monkeypatch()  # lets admin and querysets take type parameters at run time

BASE_DIR = Path(__file__).resolve().parents[2]  # the repository

INSECURE_DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-in-production-0123456789"


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


COLLAB_ENV = env_str("COLLAB_ENV", "development")
if COLLAB_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("COLLAB_ENV must be 'development' or 'production'")
PRODUCTION = COLLAB_ENV == "production"

DEBUG = env_bool("DEBUG", not PRODUCTION)
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else INSECURE_DEV_SECRET_KEY)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])


def check_production_settings() -> None:
    """Refuse to start a production deployment with insecure defaults."""
    problems = []
    if DEBUG:
        problems.append("DEBUG must be off")
    if not SECRET_KEY or SECRET_KEY == INSECURE_DEV_SECRET_KEY or len(SECRET_KEY) < 32:
        problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS must list the served host names (no '*')")
    if env_bool("EMAIL_USE_TLS", False) and env_bool("EMAIL_USE_SSL", False):
        problems.append("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive: set one of them")
    if problems:
        raise ImproperlyConfigured("insecure production settings: " + "; ".join(problems))


if PRODUCTION:
    check_production_settings()
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_CONTENT_TYPE_NOSNIFF = True

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "collab",
    "documents",
    "chat",
]

MIDDLEWARE = [
    "collab.conf.middleware.ProbeMiddleware",
    # Outside all others, so every error under /api/ leaves as JSON (collab/realtime/errors.py).
    "collab.conf.middleware.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "collab.conf.middleware.SessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "collab.conf.urls"
ASGI_APPLICATION = "asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0), conn_health_checks=True
    )
}
# libpq waits forever for an unreachable host by default: a request, probe or websocket
# set-up must fail within seconds instead (libpq's minimum is 2).
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 2)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    # A worker that vanishes mid-transaction (crash, lost network) keeps its row locks until
    # PostgreSQL notices: TCP keepalives on both ends find a dead peer in about 25 s, and an
    # open transaction left idle is ended after DATABASE_IDLE_IN_TRANSACTION_SECONDS.
    DATABASES["default"]["OPTIONS"].update(
        {
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "options": " ".join(
                [
                    "-c tcp_keepalives_idle=10",
                    "-c tcp_keepalives_interval=5",
                    "-c tcp_keepalives_count=3",
                    "-c idle_in_transaction_session_timeout="
                    f"{env_int('DATABASE_IDLE_IN_TRANSACTION_SECONDS', 30) * 1000}",
                ]
            ),
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL", True):
    # Under ASGI every HTTP request runs in a thread of its own, so per-thread persistent
    # connections (CONN_MAX_AGE > 0) pile up, one per finished request thread, until
    # PostgreSQL refuses new clients. A pool per process hands connections to whichever
    # thread needs one and takes them back on close. collab.realtime.pgbackend is Django's backend
    # with a pool that fails fast while the database is unreachable, replaces connections
    # the server closed without a round trip per checkout, and reconnects every second.
    DATABASES["default"]["ENGINE"] = "collab.realtime.pgbackend"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False  # the pool checks idle connections itself
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN", 2),
        "max_size": env_int("DATABASE_POOL_MAX", 10),
        # How long a request queues for a connection while all are busy (bursts) ...
        "timeout": env_float("DATABASE_POOL_TIMEOUT", 10.0),
        # ... and while the database cannot be reached (then: 503 database_unavailable).
        "unavailable_timeout": env_float("DATABASE_POOL_UNAVAILABLE_TIMEOUT", 0.5),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Websocket workers write the update log from a thread while requests read:
    # WAL plus a busy timeout keeps the embedded default from "database is locked".
    # Connections persist per thread: the threads that touch the database are few and
    # fixed (Channels' database thread, the write pool, the default executor), and
    # closing and reopening the file around every batch of log writes took a quarter of
    # the database thread's time with 50 documents open (issue 8's profile).
    DATABASES["default"]["CONN_MAX_AGE"] = None
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL)
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
REDIS_PREFIX = env_str("COLLAB_REDIS_PREFIX", "collab")

if REDIS_URL:
    # Redis pub/sub: one PUBLISH per message and one subscription per document
    # per worker. At-most-once, like every layer; rooms repair what it drops.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "collab.realtime.redis_layer.RedisPubSubLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{REDIS_PREFIX}:asgi:"},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
            "VERSION": env_int("COLLAB_CACHE_VERSION", 1),
            # A hung or unreachable Redis fails within a second, so the callers' in-process
            # fallbacks (login throttle, chat rate limit) take over instead of stalling.
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 2000, "expiry": 30},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not (REDIS_URL or os.environ.get("CELERY_BROKER_URL"))
CELERY_TASK_EAGER_PROPAGATES = True

# Passwords (docs/operations.md#authentication): at least COLLAB_PASSWORD_MIN_LENGTH
# characters, not similar to the username or e-mail, not a common password, and
# 3 of 4 character classes unless at least COLLAB_PASSWORD_PASSPHRASE_LENGTH long.
COLLAB_PASSWORD_MIN_LENGTH = env_int("COLLAB_PASSWORD_MIN_LENGTH", 8)
COLLAB_PASSWORD_PASSPHRASE_LENGTH = env_int("COLLAB_PASSWORD_PASSPHRASE_LENGTH", 16)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": COLLAB_PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {
        "NAME": "collab.accounts.passwords.ComplexityValidator",
        "OPTIONS": {"passphrase_length": COLLAB_PASSWORD_PASSPHRASE_LENGTH},
    },
]

# Brute-force throttle for login, token creation and registration (collab/accounts/throttle.py):
# failures allowed per account and per client address ("COUNT/SECONDS").
COLLAB_AUTH_ACCOUNT_RATE = env_str("COLLAB_AUTH_ACCOUNT_RATE", "10/900")
COLLAB_AUTH_ADDRESS_RATE = env_str("COLLAB_AUTH_ADDRESS_RATE", "50/900")
# Proxies (addresses or CIDR networks) whose X-Forwarded-For names the client; none by default.
COLLAB_TRUSTED_PROXIES = env_list("COLLAB_TRUSTED_PROXIES", [])
# API tokens one user may hold at once (expired ones are pruned before refusing).
COLLAB_MAX_TOKENS_PER_USER = env_int("COLLAB_MAX_TOKENS_PER_USER", 100)
# Password-reset requests per e-mail address per window ("COUNT/SECONDS"); each request also
# counts against the client address's COLLAB_AUTH_ADDRESS_RATE.
COLLAB_PASSWORD_RESET_RATE = env_str("COLLAB_PASSWORD_RESET_RATE", "5/3600")
# How long a password-reset link works (Django's token generator).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600)
# The site's address as users reach it (e.g. https://collab.example.com), for links in e-mails;
# empty: the origin of the request that asked for the e-mail.
COLLAB_PUBLIC_URL = env_str("COLLAB_PUBLIC_URL", "").rstrip("/")
if COLLAB_PUBLIC_URL and not COLLAB_PUBLIC_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("COLLAB_PUBLIC_URL must start with http:// or https://")

# Browser sessions live in the database; the engine is Django's, plus the record of each
# signed-in session (collab.accounts.sessions) kept in step when a session key changes.
SESSION_ENGINE = "collab.accounts.session_store"

# E-mail (password reset). Development prints mails to the console; production sends by SMTP.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "collab@localhost")

# Uploaded files (avatars): Django's default storage, on the file system under MEDIA_ROOT
# (shared by every worker: a common volume in deployments). Never served by URL directly.
MEDIA_ROOT = Path(env_str("COLLAB_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
# Avatars: the largest upload accepted, and the largest image (in pixels and per side) decoded.
COLLAB_AVATAR_MAX_BYTES = env_int("COLLAB_AVATAR_MAX_BYTES", 2 * 1024 * 1024)
COLLAB_AVATAR_MAX_PIXELS = env_int("COLLAB_AVATAR_MAX_PIXELS", 25_000_000)
COLLAB_AVATAR_MAX_SIDE = env_int("COLLAB_AVATAR_MAX_SIDE", 10_000)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
STATICFILES_DIRS = [("app", FRONTEND_DIST)] if FRONTEND_DIST.is_dir() else []
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "/login"

# Origins allowed for cookie-authenticated websockets. Token clients send none.
COLLAB_ALLOWED_ORIGINS = env_list("COLLAB_ALLOWED_ORIGINS", [])

# Sync engine tuning (see docs/operations.md).
COLLAB_MAX_FRAME_BYTES = env_int("COLLAB_MAX_FRAME_BYTES", 32 * 1024 * 1024)
# JSON sockets (chat, inbox, presence) refuse larger frames at the transport (1009).
COLLAB_JSON_MAX_FRAME_BYTES = env_int("COLLAB_JSON_MAX_FRAME_BYTES", 96 * 1024)
# The websocket routes whose consumers declare their own transport frame limits.
COLLAB_WS_ROUTES = env_str("COLLAB_WS_ROUTES", "collab.conf.ws_routing.websocket_urlpatterns")
COLLAB_MAX_CONNECTIONS = env_int("COLLAB_MAX_CONNECTIONS", 10000)
# New websockets admitted per second and worker (a token bucket with bursts of COLLAB_ADMIT_BURST);
# the rest are refused before authentication with 4503 and a retry hint.
COLLAB_ADMIT_PER_SECOND = env_float("COLLAB_ADMIT_PER_SECOND", 500.0)
COLLAB_ADMIT_BURST = env_float("COLLAB_ADMIT_BURST", 1000.0)
# Set-ups mostly wait on gathered lookups: more at once make larger batches, not more work.
COLLAB_ADMIT_IN_SETUP = env_int("COLLAB_ADMIT_IN_SETUP", 256)
# Connections the kernel may complete before the worker accepts them (daphne's listen backlog).
COLLAB_LISTEN_BACKLOG = env_int("COLLAB_LISTEN_BACKLOG", 2048)
COLLAB_ADMIT_MAX_HELD = env_int("COLLAB_ADMIT_MAX_HELD", 5000)
# A new websocket whose turn comes within this many seconds waits for it (its handshake
# answered late) instead of being refused; 0 turns the line off.
COLLAB_ADMIT_QUEUE_SECONDS = env_float("COLLAB_ADMIT_QUEUE_SECONDS", 1.0)
# A socket not set up (authenticated, authorised, loaded) within this time is closed with 4500;
# keep it below daphne's --websocket_connect_timeout (5 s).
COLLAB_WS_SETUP_TIMEOUT = env_float("COLLAB_WS_SETUP_TIMEOUT", 4.0)
# /readyz answers within this time, whatever hangs.
COLLAB_READYZ_TIMEOUT = env_float("COLLAB_READYZ_TIMEOUT", 1.5)
# HTTP connections: the request head within HEADER seconds, the body within BODY seconds after
# it; at most MAX_PENDING connections waiting for a request head (the longest waiting goes).
COLLAB_HTTP_HEADER_TIMEOUT = env_float("COLLAB_HTTP_HEADER_TIMEOUT", 10.0)
COLLAB_HTTP_BODY_TIMEOUT = env_float("COLLAB_HTTP_BODY_TIMEOUT", 30.0)
COLLAB_MAX_PENDING_CONNECTIONS = env_int("COLLAB_MAX_PENDING_CONNECTIONS", 1000)
COLLAB_ROOM_GRACE_SECONDS = env_float("COLLAB_ROOM_GRACE_SECONDS", 10.0)
COLLAB_FLUSH_INTERVAL_MS = env_int("COLLAB_FLUSH_INTERVAL_MS", 50)
COLLAB_WRITE_GATHER_MS = env_int("COLLAB_WRITE_GATHER_MS", 25)
COLLAB_COMPACT_THRESHOLD = env_int("COLLAB_COMPACT_THRESHOLD", 200)
COLLAB_ANTIENTROPY_SECONDS = env_float("COLLAB_ANTIENTROPY_SECONDS", 5.0)
COLLAB_AWARENESS_TIMEOUT_SECONDS = env_float("COLLAB_AWARENESS_TIMEOUT_SECONDS", 30.0)
# How often a worker re-checks access (membership, role, token) of its open CRDT sockets:
# access events travel over pub/sub, which can lose them.
COLLAB_ACCESS_CHECK_SECONDS = env_float("COLLAB_ACCESS_CHECK_SECONDS", 3.0)
# A socket that has been sent nothing for this long gets a no-op frame: stock y-websocket
# clients reconnect when nothing arrives for 30 s.
COLLAB_KEEPALIVE_SECONDS = env_float("COLLAB_KEEPALIVE_SECONDS", 10.0)
# Full-state requests (SyncStep1, QueryAwareness) a CRDT socket may make per minute (bursts of 10).
COLLAB_SYNC_REQUESTS_PER_MINUTE = env_float("COLLAB_SYNC_REQUESTS_PER_MINUTE", 60.0)
# Output a socket may have waiting in the server's buffers before it is dropped (a client
# that does not read); one message larger than this is still sent to a drained socket.
COLLAB_MAX_UNSENT_BYTES = env_int("COLLAB_MAX_UNSENT_BYTES", 8 * 1024 * 1024)
# Accepted updates a room may hold unwritten while the database is down; past it the
# room's writers are closed with 4507 (retry later) instead of growing without bound.
COLLAB_MAX_OUTBOX_BYTES = env_int("COLLAB_MAX_OUTBOX_BYTES", 64 * 1024 * 1024)
# SIGTERM: stop accepting, close sockets with 1012, flush, exit within this many seconds.
COLLAB_SHUTDOWN_SECONDS = env_float("COLLAB_SHUTDOWN_SECONDS", 10.0)

# Threads (each with its own database connection) that run websocket writes in parallel.
COLLAB_DB_WRITE_THREADS = env_int("COLLAB_DB_WRITE_THREADS", 4)

# Chat: messages a user may post per room per window ("COUNT/SECONDS").
COLLAB_CHAT_RATE = env_str("COLLAB_CHAT_RATE", "30/10")
# Flood guard per chat socket: frames per second sustained (bursts of five seconds' worth).
COLLAB_CHAT_FRAMES_PER_SECOND = env_float("COLLAB_CHAT_FRAMES_PER_SECOND", 50.0)
# How often a worker checks its chat sockets for lost events and lost access.
COLLAB_CHAT_CHECK_SECONDS = env_float("COLLAB_CHAT_CHECK_SECONDS", 5.0)
COLLAB_CHAT_TYPING_SECONDS = env_float("COLLAB_CHAT_TYPING_SECONDS", 6.0)

# Presence (presence/): a connection not renewed within the TTL is gone (a crashed
# worker's users go offline then); a user idle for AWAY_AFTER is "away".
COLLAB_PRESENCE_HEARTBEAT_SECONDS = env_float("COLLAB_PRESENCE_HEARTBEAT_SECONDS", 10.0)
COLLAB_PRESENCE_TTL_SECONDS = env_float("COLLAB_PRESENCE_TTL_SECONDS", 30.0)
COLLAB_PRESENCE_AWAY_SECONDS = env_float("COLLAB_PRESENCE_AWAY_SECONDS", 300.0)
# How often a worker re-reads who is here for its open objects (expiries, away).
COLLAB_PRESENCE_SWEEP_SECONDS = env_float("COLLAB_PRESENCE_SWEEP_SECONDS", 2.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Tokens and passwords never reach the log (also wraps daphne's access log).
    "filters": {"redact_secrets": {"()": "collab.conf.log_redaction.RedactSecretsFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default config gives "django" a console handler of its own (with DEBUG on):
        # drop it, so that Django's records too reach the redacting handler above, once.
        "django": {"handlers": [], "propagate": True},
        "django.channels.server": {"level": "WARNING"},
    },
}
