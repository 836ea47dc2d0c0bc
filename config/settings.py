"""Patolab settings: one module, configured from the environment.

Unset variables fall back to the embedded defaults (SQLite in WAL mode, Celery over
SQLAlchemy on a local SQLite file, mail to the console), so `make run` needs nothing
but Python. Every variable is documented in README.md and `.env.example`.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PATOLAB_VAR_DIR", BASE_DIR / "var"))


# ---------------------------------------------------------------------------
# Tiny strict environment parsers (malformed values fail loudly at start-up)
# ---------------------------------------------------------------------------
def env_str(name: str, default: str = "") -> str:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean, got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_time(name: str, default: str) -> tuple[int, int]:
    """`HH:MM` (24 h) as (hour, minute)."""
    raw = os.environ.get(name) or default
    hour, sep, minute = raw.strip().partition(":")
    if not (sep and hour.isdigit() and minute.isdigit()):
        raise ImproperlyConfigured(f"{name} must be HH:MM, got {raw!r}")
    if not (0 <= int(hour) <= 23 and 0 <= int(minute) <= 59):
        raise ImproperlyConfigured(f"{name} must be HH:MM, got {raw!r}")
    return int(hour), int(minute)


def parse_database_url(url: str) -> dict[str, object]:
    """Parse `postgres://user:pass@host:port/name` or `sqlite:///path`."""
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "patolab",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
            "TEST": {"NAME": os.environ.get("TEST_DATABASE_NAME") or None},
        }
    if parts.scheme == "sqlite":
        path = url.removeprefix("sqlite://").lstrip("/")
        return sqlite_database(
            Path("/" + path) if url.startswith("sqlite:////") else BASE_DIR / path
        )
    raise ImproperlyConfigured(f"DATABASE_URL scheme not supported: {parts.scheme!r}")


def sqlite_database(path: Path) -> dict[str, object]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # Web, worker and beat write to the same file: WAL lets readers go on while
        # one process writes, IMMEDIATE transactions avoid "database is locked"
        # upgrade deadlocks, and the timeout makes writers wait instead of failing.
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
        # A file, not ":memory:", so worker subprocesses in tests share it.
        "TEST": {"NAME": str(path.with_name(f"test_{path.name}"))},
    }


def parse_email_url(url: str) -> dict[str, object]:
    """`smtp://host:port`, `smtp+tls://user:pass@host:port`, `smtp+ssl://…`,
    `consolemail://` or `filemail:///path`."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    scheme = parts.scheme
    if scheme == "consolemail":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "filemail":
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": parts.path or str(VAR_DIR / "mail"),
        }
    if scheme in {"smtp", "smtp+tls", "smtp+ssl", "submission"}:
        return {
            "EMAIL_BACKEND": "patolab.notifications.backends.PooledSmtpBackend",
            "EMAIL_HOST": parts.hostname or "localhost",
            "EMAIL_PORT": parts.port or (465 if scheme == "smtp+ssl" else 25),
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_TLS": scheme in {"smtp+tls", "submission"},
            "EMAIL_USE_SSL": scheme == "smtp+ssl",
            "EMAIL_TIMEOUT": int(query.get("timeout", ["10"])[0]),
        }
    raise ImproperlyConfigured(f"EMAIL_URL scheme not supported: {scheme!r}")


# ---------------------------------------------------------------------------
# Core. Safe by default: DEBUG only when set explicitly, never a public key.
# ---------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", default=False)


def generated_secret_key(path: Path) -> str:
    """The key kept in the var folder, created on first start (owner-only file).

    For a single machine without SECRET_KEY: every process of `make run` (web,
    worker, beat) reads the same file, so signed links stay valid across them
    and across restarts. A fleet sets SECRET_KEY (or SECRET_KEY_FILE) instead.
    """
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    try:
        # O_EXCL: two processes starting at once agree on the first key written.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


SECRET_KEY = env_str("SECRET_KEY", "") or generated_secret_key(VAR_DIR / "secret_key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])
LAB_NAME = env_str("LAB_NAME", "Laboratorio de Patología Veterinaria")
# Letterhead of report PDFs: address and phone lines (omitted when empty) and a
# logo image (PNG/JPEG path; empty for none; default: a neutral bundled mark).
LAB_ADDRESS = env_str("LAB_ADDRESS", "")
LAB_PHONE = env_str("LAB_PHONE", "")
LAB_LOGO = env_str(
    "LAB_LOGO", str(BASE_DIR / "patolab" / "core" / "pdf" / "lab-logo.png")
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_beat",
    "axes",
    "csp",
    "patolab.core",
    "patolab.accounts",
    "patolab.jobs",
    "patolab.protocols",
    "patolab.labels",
    "patolab.reports",
    "patolab.workorders",
    "patolab.notifications",
    "patolab.stats",
    "patolab.exports",
    # Audit trail: django-auditlog with our entry model (patolab.audit).
    "auditlog",
    "patolab.audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the body or touches the database with the query.
    "patolab.core.middleware.RequestGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "patolab.core.middleware.PreferredLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "patolab.audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: turns a lockout signalled by the axes backend into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# ---------------------------------------------------------------------------
# Cache and sessions
# ---------------------------------------------------------------------------
# Sessions are read on every request, so they should cost no database query,
# and logging out must end a session everywhere (a stolen cookie must not
# outlive its logout). Hence `cached_db` (read from the cache, written through
# to the database, so a cache restart logs nobody out) over a cache that every
# process serving the site shares:
# - CACHE_URL=redis://…: shared by the whole fleet; one Redis GET per request.
# - no CACHE_URL and SQLite: one machine by construction (SQLite is a local
#   file), so the file cache under the var folder is shared by all its
#   processes; one small file read per request.
# - no CACHE_URL but PostgreSQL: machines may share the database without
#   sharing a cache, and a per-machine cache would keep serving a session
#   another machine ended; sessions stay in the database (one query).
# Signed-cookie sessions were ruled out: they cannot be revoked on logout.
# https://docs.djangoproject.com/en/5.2/topics/http/sessions/#using-cached-sessions
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "patolab.core.cache.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "patolab",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
elif CACHE_URL:
    raise ImproperlyConfigured(f"CACHE_URL must be a redis:// URL, got {CACHE_URL!r}")
else:
    # One machine: files under the var folder, shared by every process there
    # (the login/e-mail throttling counters must be).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# django-auditlog (https://django-auditlog.readthedocs.io/): entries are
# patolab.audit.AuditEntry rows (via + protocol columns), changes stored as
# JSON values.
AUDITLOG_LOGENTRY_MODEL = "audit.AuditEntry"
AUDITLOG_STORE_JSON_CHANGES = True
# auditlog's own migrations create its default entry table even when the model
# is swapped out (they predate the setting); without them, no unused table
# holds a foreign key to users.
MIGRATION_MODULES = {"auditlog": None}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "patolab.core.context_processors.lab",
            ],
        },
    },
]

# ---------------------------------------------------------------------------
# Database: PostgreSQL from DATABASE_URL, else SQLite (WAL) under var/
# ---------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
DATABASES = {
    "default": parse_database_url(DATABASE_URL)
    if DATABASE_URL
    else sqlite_database(VAR_DIR / "patolab.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if not CACHE_URL and DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # See "Cache and sessions": SQLite means one machine, whose file cache
    # every process shares.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# ---------------------------------------------------------------------------
# Auth
# ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if env_bool("FAST_PASSWORD_HASHER", default=False):
    # Tests only: MD5 makes creating personas cheap.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 30)
# The token endpoint never mints without bound: past this many live tokens a user's
# oldest token is revoked when a new one is issued.
API_TOKENS_MAX_PER_USER = env_int("API_TOKENS_MAX_PER_USER", 10)
EMAIL_VERIFICATION_HOURS = 24
# Password-reset and verification e-mails: at most this many per address and per
# client address within the window (seconds); more requests get the same answer
# and send nothing.
ACCOUNT_EMAILS_PER_ADDRESS = env_int("ACCOUNT_EMAILS_PER_ADDRESS", 3)
ACCOUNT_EMAILS_PER_CLIENT = env_int("ACCOUNT_EMAILS_PER_CLIENT", 10)
ACCOUNT_EMAILS_WINDOW_SECONDS = env_int("ACCOUNT_EMAILS_WINDOW_SECONDS", 3600)

# Login throttling (django-axes, https://django-axes.readthedocs.io/): the web
# login, the admin login and the API token endpoint all authenticate through
# the axes backend. A username or a client address with LOGIN_FAILURE_LIMIT
# failures is locked out for LOGIN_LOCKOUT_MINUTES (or until an admin deletes
# the attempt in the admin, or the user resets the password).
AUTHENTICATION_BACKENDS = [
    "patolab.accounts.backends.LoginThrottleBackend",
    # ModelBackend with a prepared per-request user read.
    "patolab.accounts.backends.UserBackend",
    # Only so that sessions started before UserBackend (they name the backend
    # that logged them in) stay valid; remove once they have expired
    # (SESSION_COOKIE_AGE after the upgrade). New logins never reach it.
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "patolab.accounts.throttling.lockout_response"
AXES_CLIENT_IP_CALLABLE = "patolab.accounts.throttling.client_ip"
# Behind N reverse proxies that append to X-Forwarded-For, the client address is
# the N-th entry from the right; 0 (default) trusts only the socket's address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_VERBOSE = False

# ---------------------------------------------------------------------------
# i18n: Spanish (Argentina) first, English available
# ---------------------------------------------------------------------------
LANGUAGE_CODE = "es-ar"
LANGUAGES = [("es-ar", _("Español (Argentina)")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Argentina/Buenos_Aires"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------
# Static and media files. Media is never served by URL: PDFs and exports go
# through permission-checked views (DESIGN section 5).
# ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Static files are served by the web process itself (WhiteNoise, compressed and
# cached; `manage.py collectstatic` fills STATIC_ROOT, `make run` does it).
STATIC_STORAGE = {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"}


def parse_storage_url(url: str) -> dict[str, object]:
    """`s3://bucket/prefix?endpoint_url=…&region=…` (S3 or any S3-compatible
    server, via django-storages) or `file:///path`. Credentials come from the
    usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or an instance role)."""
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if parts.scheme == "s3":
        options: dict[str, object] = {
            "bucket_name": parts.hostname or "",
            "location": parts.path.strip("/"),
            # Files are only ever served through permission-checked views.
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": True,
        }
        if "endpoint_url" in query:
            options["endpoint_url"] = query["endpoint_url"]
        if "region" in query:
            options["region_name"] = query["region"]
        if not options["bucket_name"]:
            raise ImproperlyConfigured("STORAGE_URL needs a bucket: s3://bucket/")
        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
    if parts.scheme == "file":
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": parts.path},
        }
    raise ImproperlyConfigured(f"STORAGE_URL scheme not supported: {parts.scheme!r}")


STORAGE_URL = env_str("STORAGE_URL", "")
if not STORAGE_URL and env_str("AWS_STORAGE_BUCKET_NAME", ""):
    # django-storages' own AWS_* settings (AWS_S3_ENDPOINT_URL, AWS_S3_REGION_NAME…).
    STORAGE_URL = "s3://" + env_str("AWS_STORAGE_BUCKET_NAME")
    AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL", "") or None
    AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME", "") or None
STORAGES = {
    "default": parse_storage_url(STORAGE_URL)
    if STORAGE_URL
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": STATIC_STORAGE,
}

# ---------------------------------------------------------------------------
# Signed report PDFs (PAdES, pyHanko) and PDF/A-2b. Unset: a demo CA and a demo
# lab certificate are created in SIGNING_DEMO_DIR on first use (no legal value;
# the pages say so). README, "Signed reports", for a real certificate.
# ---------------------------------------------------------------------------
# The PKCS#12 is binary: SIGNING_PKCS12_FILE names the file (not read as text
# like other *_FILE variables); SIGNING_PKCS12 may carry it in base64 instead.
SIGNING_PKCS12_FILE = os.environ.get("SIGNING_PKCS12_FILE", "")
SIGNING_PKCS12 = os.environ.get("SIGNING_PKCS12", "")
SIGNING_PASSPHRASE = env_str("SIGNING_PASSPHRASE", "")  # or SIGNING_PASSPHRASE_FILE
SIGNING_TRUST_ROOTS = env_list("SIGNING_TRUST_ROOTS", [])
SIGNING_TSA_URL = env_str("SIGNING_TSA_URL", "")
SIGNING_LOCATION = env_str("SIGNING_LOCATION", "")
SIGNING_DEMO_DIR = Path(env_str("SIGNING_DEMO_DIR", str(VAR_DIR / "signing")))
PDFA_ICC_PROFILE = env_str("PDFA_ICC_PROFILE", "/usr/share/color/icc/sRGB.icc")

# ---------------------------------------------------------------------------
# E-mail: console by default, SMTP (or a file) from EMAIL_URL
# ---------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str(
    "DEFAULT_FROM_EMAIL", "Patolab <no-responder@patolab.local>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
globals().update(parse_email_url(env_str("EMAIL_URL", "consolemail://")))
# Transient SMTP failures (4xx, connection refused, timeouts) are retried with
# capped backoff (CELERY_RETRY_BACKOFF_MAX) for this long, like an MTA's queue
# lifetime; 5xx answers fail at once. EMAIL_MAX_RETRIES > 0 also caps attempts.
EMAIL_RETRY_FOR_SECONDS = env_int("EMAIL_RETRY_FOR_SECONDS", 48 * 3600)
EMAIL_MAX_RETRIES = env_int("EMAIL_MAX_RETRIES", 0)
# A row in `sending` whose heartbeat is this old lost its worker and is retaken;
# the sweeper runs every EMAIL_SWEEP_EVERY_SECONDS (so: within a minute).
EMAIL_SENDING_STALE_SECONDS = env_int("EMAIL_SENDING_STALE_SECONDS", 30)
EMAIL_QUEUED_STALE_SECONDS = env_int("EMAIL_QUEUED_STALE_SECONDS", 120)
EMAIL_SWEEP_EVERY_SECONDS = env_int("EMAIL_SWEEP_EVERY_SECONDS", 20)
# A worker keeps its SMTP connections for the next e-mail (NOOP-checked before
# use; patolab/notifications/backends.py) unless idle longer than this.
EMAIL_POOL_IDLE_SECONDS = env_int("EMAIL_POOL_IDLE_SECONDS", 30)

# ---------------------------------------------------------------------------
# Celery (https://docs.celeryq.dev/en/stable/userguide/configuration.html)
# ---------------------------------------------------------------------------
CELERY_BROKER_URL = env_str(
    "CELERY_BROKER_URL", f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_IGNORE_RESULT = True  # the Job table is the record, not a result backend
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 660)
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("CELERY_WORKER_MAX_TASKS_PER_CHILD", 500)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int(
    "CELERY_WORKER_MAX_MEMORY_PER_CHILD", 400_000
)
# Redis redelivers an unacked message after the visibility timeout. It must be
# longer than the longest task (hard time limit) or long tasks run twice; crashes
# are recovered sooner by the job sweeper (heartbeats), not by this timeout.
# (The SQLAlchemy transport hands its options to create_engine(): none there.)
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
    if CELERY_BROKER_URL.startswith(("redis", "rediss"))
    else {}
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_SEND_TASK_EVENTS = True  # Flower
# No "task-sent" event from the web process: it is a second Redis publish on
# every request that starts a job. Flower still shows every task from the
# workers' own events (received, started, succeeded/failed); only a task no
# worker has taken yet is missing there, and the Job table (in-app monitor)
# shows those as `queued`. CELERY_TASK_SEND_SENT_EVENT=true turns it back on.
CELERY_TASK_SEND_SENT_EVENT = env_bool("CELERY_TASK_SEND_SENT_EVENT", False)
CELERY_TASK_DEFAULT_QUEUE = "default"
PATOLAB_QUEUES = ["pdf_generation", "emails", "bulk", "default"]
CELERY_TASK_ROUTES = {
    "patolab.notifications.*": {"queue": "emails"},
    "patolab.jobs.sweep": {"queue": "default"},
    "patolab.stats.*": {"queue": "default"},
    "patolab.exports.cleanup": {"queue": "default"},
    # patolab.jobs.run is routed per call from the job kind's registered queue.
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Retry delays are capped far below the visibility timeout (DESIGN section 8).
CELERY_RETRY_BACKOFF_MAX = env_int("CELERY_RETRY_BACKOFF_MAX", 300)

# ---------------------------------------------------------------------------
# Jobs: heartbeats and the sweeper (DESIGN section 4)
# ---------------------------------------------------------------------------
JOBS_HEARTBEAT_SECONDS = env_int("JOBS_HEARTBEAT_SECONDS", 10)
JOBS_STALE_RUNNING_SECONDS = env_int("JOBS_STALE_RUNNING_SECONDS", 60)
JOBS_STUCK_QUEUED_SECONDS = env_int("JOBS_STUCK_QUEUED_SECONDS", 120)
JOBS_SWEEP_EVERY_SECONDS = env_int("JOBS_SWEEP_EVERY_SECONDS", 30)
# A job whose run dies (its worker killed: OOM, segfault) this many times is
# failed instead of re-sent; admins retry it from the monitor.
JOBS_MAX_ATTEMPTS = env_int("JOBS_MAX_ATTEMPTS", 5)
# One JSON line per job state change (logger `patolab.jobs.events`).
JOBS_LOG_JSON = env_bool("JOBS_LOG_JSON", default=False)
# Extra modules that register job kinds (used by the test-suite's test kinds).
JOBS_EXTRA_MODULES = env_list("PATOLAB_JOB_MODULES", [])
WORKER_PRESENCE_SECONDS = env_int("WORKER_PRESENCE_SECONDS", 10)

# ---------------------------------------------------------------------------
# Daily statistics: yesterday's figures and the admins' e-mail, at this lab
# time (HH:MM). `manage.py setup_periodic_tasks` writes it into the beat schedule.
# ---------------------------------------------------------------------------
STATS_DAILY_AT = env_time("STATS_DAILY_AT", "07:00")

# ---------------------------------------------------------------------------
# Exports: files are downloadable for this many days, then deleted by the
# hourly cleanup task
# ---------------------------------------------------------------------------
EXPORTS_EXPIRY_DAYS = env_int("EXPORTS_EXPIRY_DAYS", 7)

# ---------------------------------------------------------------------------
# HTTP security (https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/)
# Production behind TLS: SITE_URL=https://…, SECURE_SSL_REDIRECT=true,
# SECURE_HSTS_SECONDS=31536000 and, behind a proxy that terminates TLS,
# SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto (`manage.py check --deploy` passes
# with that configuration; README "Production").
# ---------------------------------------------------------------------------
HTTPS = SITE_URL.startswith("https://")
# Secure cookies follow the site's scheme: on the plain-HTTP loopback of
# `make run` a Secure cookie would never come back and nobody could log in.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
_proxy_header = env_str("SECURE_PROXY_SSL_HEADER", "")
if _proxy_header:
    # "X-Forwarded-Proto" (the value meaning HTTPS is "https").
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + _proxy_header.upper().replace("-", "_"),
        "https",
    )
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS", [])

# Content-Security-Policy (django-csp, https://django-csp.readthedocs.io/).
# Everything is served from our origin; inline style attributes are allowed
# (templates use a few), inline scripts are not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Request size limits, enforced from Content-Length before the body is read
# (RequestGuardMiddleware answers 413). Uploads may be larger than other bodies.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_MAX_BYTES", 2_621_440)
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 25 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "bare": {"format": "%(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "json_lines": {"class": "logging.StreamHandler", "formatter": "bare"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # JOBS_LOG_JSON: job state changes as bare JSON lines, for a log shipper.
        "patolab.jobs.events": {
            "handlers": ["json_lines"],
            "level": "INFO",
            "propagate": False,
        },
    },
}
