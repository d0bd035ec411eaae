"""Settings for the Kehobalanssi customer register, read from the environment.

Every value comes from an environment variable (or a `.env` file beside
`manage.py`, which `make run` writes for local development). The README lists
them. Production runs with DEBUG off, which is the default.
"""

import datetime
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if os.environ.get("DJANGO_READ_DOT_ENV", "1") != "0":
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _env_bool(name: str, default: bool) -> bool:
    raw = env.str(name, default=str(default))
    if raw.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


DEBUG = _env_bool("DEBUG", False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG:
        # Only for a developer's machine; `make run` writes a random key to .env.
        SECRET_KEY = "insecure-development-key-never-used-in-production"  # noqa: S105
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])

INSTALLED_APPS = [
    "kehobalanssi.apps.RegisterAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_totp",
    "two_factor",
    "axes",
    "csp",
    "crispy_forms",
    "crispy_bootstrap5",
    "import_export",
    "phonenumber_field",
    "post_office",
    "customers",
    "privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A NUL byte in an address is a 400, before any view or query sees it.
    "privacy.hostile_input.RejectNulBytesMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Before any view reads the body; it needs to know whether the user is staff.
    "privacy.body_limit.RequestBodyLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kehobalanssi.urls"

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
                "privacy.context_processors.public_site",
            ],
        },
    },
]

WSGI_APPLICATION = "kehobalanssi.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Requests are not wrapped in a transaction. Whatever writes several rows does so in one
# atomic block of its own: the operations (privacy/*.py, customers/*.py) are
# @transaction.atomic functions, admin actions wrap their loop, and Django's admin wraps
# its add, change and delete views. A page that only reads therefore takes no lock: on
# PostgreSQL readers never wait for writers, and on SQLite WAL lets it read while another
# request writes. ATOMIC_REQUESTS would make every request, GET included, wait for
# SQLite's write lock (IMMEDIATE, below) and would hold the audit log's lock
# (privacy/audit.py) until the response had been rendered.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # A writer waits up to 20 s for another writer instead of failing at once.
            "timeout": 20,
            # Readers see the last commit while a writer works (write-ahead log).
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            # Every transaction (atomic block) takes the write lock when it begins, so
            # writers are serialised and the audit log's hash chain never forks
            # (privacy/audit.py); no transaction fails half-way upgrading a read lock.
            # Reads outside an atomic block take no lock at all.
            "transaction_mode": "IMMEDIATE",
        }
    )
    # Tests use a file, not shared-cache memory, so threads lock as in production.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(BASE_DIR / "test-db.sqlite3")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that stops answering must not hold a worker until gunicorn kills it
    # (deploy/gunicorn.conf.py, timeout 30 s): a connection is given up after
    # DATABASE_CONNECT_TIMEOUT seconds and a statement cancelled after
    # DATABASE_STATEMENT_TIMEOUT seconds (0: no limit; the daily retention run sets its
    # own, deploy/kehobalanssi-retention.service). The page then says so (privacy/outage.py).
    _statement_timeout_ms = env.int("DATABASE_STATEMENT_TIMEOUT", default=30) * 1000
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "connect_timeout": env.int("DATABASE_CONNECT_TIMEOUT", default=5),
            "options": f"-c statement_timeout={_statement_timeout_ms}",
        }
    )
# A connection is kept for CONN_MAX_AGE seconds instead of one per request (0: one per
# request, as in the tests), and checked before a request reuses it, so a connection the
# database dropped (a restart, an outage) is replaced instead of failing the request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if DEBUG else 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# The request form's rate limit counts in the cache, which every server process must share
# (privacy/shared_cache.py): by default the database (a table `migrate` creates), or Redis
# (e.g. redis://127.0.0.1:6379/1), which falls back to the process's memory while it is down.
CACHES = {"default": env.cache_url("CACHE_URL", default="dbcache://kehobalanssi_cache")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "privacy.shared_cache.RedisCacheOrLocalMemory"
    # A Redis that hangs must not hold up a page: a second, then the fallback.
    for _option in ("socket_connect_timeout", "socket_timeout"):
        CACHES["default"].setdefault("OPTIONS", {}).setdefault(_option, 1)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Staff logins (privacy notice S13) ------------------------------------------
ADMIN_URL = env.str("ADMIN_URL", default="admin/")
if not ADMIN_URL.endswith("/") or ADMIN_URL.startswith("/"):
    raise ImproperlyConfigured("ADMIN_URL must look like 'admin/': no leading, one trailing slash.")
LOGIN_URL = "staff-login"
LOGIN_REDIRECT_URL = "admin:index"
LOGOUT_REDIRECT_URL = "staff-login"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Sessions end after 30 idle minutes and when the browser closes.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# django-axes: the sixth failure for the same user name from the same address locks
# that pair out for a cool-off period (axes' default would lock forever).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=6)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "privacy/locked_out.html"
AXES_DISABLE_ACCESS_LOG = True  # the audit log records logins
# What a failed login posted is kept with the attempt: the two-factor login's password
# field is "auth-password", not axes' default "password", and the one-time codes are
# masked too, so no typed password or code is stored (migration privacy 0008 masked
# the attempts stored before).
AXES_PASSWORD_FORM_FIELD = "auth-password"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "token-otp_token", "backup-otp_token"]
# Behind reverse proxies the client address is the PROXY_COUNT-th entry from the
# right of X-Forwarded-For (privacy/client_address.py); 0 = no proxy, header ignored.
# The same address keys the login lockout and the request form's rate limit.
PROXY_COUNT = env.int("PROXY_COUNT", default=env.int("AXES_PROXY_COUNT", default=0))
AXES_CLIENT_IP_CALLABLE = "privacy.client_address.client_ip"
RATELIMIT_IP_META_KEY = "privacy.client_address.client_ip"

TWO_FACTOR_PATCH_ADMIN = False  # the admin site itself requires the second factor
TWO_FACTOR_QR_FACTORY = "qrcode.image.svg.SvgPathImage"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fi"
LANGUAGES = [("fi", _("Finnish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Helsinki")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
# django-environ puts EMAIL_URL's ?timeout=5 in OPTIONS, which Django's SMTP backend ignores:
# it becomes EMAIL_TIMEOUT here. A mail server that accepts and never answers costs the
# worker this many seconds per try, and the web request nothing (it never talks to SMTP).
_email_timeout = EMAIL_CONFIG.pop("OPTIONS", {}).pop("TIMEOUT", None)
vars().update(EMAIL_CONFIG)
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=float(_email_timeout or 10))
# The outbox (privacy/outbox.py): a mail is a row written with what it announces; the
# worker (manage.py run_worker) sends what is due, BATCH_SIZE at a time over THREADS
# connections. A failed try is retried MAX_RETRIES times, RETRY_INTERVAL after the first
# failure and twice as long after each next one (1, 2, 4, 8 min by default), then the mail
# is "failed" on the request's timeline. A batch takes at most BATCH_SIZE / THREADS *
# EMAIL_TIMEOUT seconds, so the worker stops within that on SIGTERM.
POST_OFFICE = {
    "BATCH_SIZE": env.int("EMAIL_BATCH_SIZE", default=25),
    "THREADS_PER_PROCESS": 5,
    "MAX_RETRIES": env.int("EMAIL_MAX_RETRIES", default=4),
    "RETRY_INTERVAL": datetime.timedelta(seconds=env.int("EMAIL_RETRY_SECONDS", default=60)),
    "BATCH_DELIVERY_TIMEOUT": int(6 * EMAIL_TIMEOUT) + 5,
    # Failures only, in the outbox's own table (the worker deletes a mail once it is done).
    "LOG_LEVEL": 1,
    "SENDING_ORDER": ["created", "id"],
}
# The functions run_worker calls in turn, each doing one bounded batch and returning how
# many items it handled (privacy/management/commands/run_worker.py).
WORKER_TASKS = ["privacy.outbox.deliver_mail", "customers.import_jobs.run_pending"]
WORKER_IDLE_SECONDS = env.float("WORKER_IDLE_SECONDS", default=2.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="asiakaspalvelu@kehobalanssi.fi")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The audit log's hash chain is keyed with this (default: SECRET_KEY). Set it
# explicitly before rotating SECRET_KEY, or old events will no longer verify.
AUDIT_LOG_KEY = env.str("AUDIT_LOG_KEY", default="")

# audit_checkpoint (README "Audit log") appends the newest event's id and hash, signed
# with AUDIT_CHECKPOINT_KEY, to AUDIT_CHECKPOINT_FILE, outside the database, so that
# `verify_audit_log --checkpoint` sees events cut from the end of the log. Without the
# key, one is derived from the audit log's key (AUDIT_LOG_KEY or SECRET_KEY): then
# whoever has SECRET_KEY can also sign a checkpoint. Keep the file away from the backups.
AUDIT_CHECKPOINT_KEY = env.str("AUDIT_CHECKPOINT_KEY", default="")
AUDIT_CHECKPOINT_FILE = env.str("AUDIT_CHECKPOINT_FILE", default=str(BASE_DIR / "audit-checkpoints.log"))

# Retention (privacy notice S11, S19; README "Retention").
# Kirjanpitolaki 1336/1997 chapter 2 section 10: vouchers (invoices, receipts)
# are kept six years from the end of the year in which the financial year
# ended; books and financial statements ten years (kept in the accounting
# system, not here). Orders are vouchers here.
BOOKKEEPING_RETENTION_YEARS = env.int("BOOKKEEPING_RETENTION_YEARS", default=6)
FINANCIAL_YEAR_END = env.str("FINANCIAL_YEAR_END", default="12-31")  # MM-DD
# Customers with no activity for this long, and no hold, are anonymised by apply_retention.
RETENTION_YEARS = env.int("RETENTION_YEARS", default=5)
# Closed requests keep who asked this long (to show how a request was handled), then only
# the reference, kind, dates and outcome remain.
REQUEST_IDENTITY_RETENTION_DAYS = env.int("REQUEST_IDENTITY_RETENTION_DAYS", default=365)
# Purchase history has a period of its own (GDPR art. 5(1)(e), 25(2); the Ombudsman's
# Kesko decision, 2023): an order older than this is detached from the person by
# apply_retention, even while they keep buying; it stays, with no buyer, for statistics
# and bookkeeping. Between 1 year and the bookkeeping period: beyond it nothing
# requires the link.
ORDER_HISTORY_YEARS = env.int("ORDER_HISTORY_YEARS", default=BOOKKEEPING_RETENTION_YEARS)
if BOOKKEEPING_RETENTION_YEARS < 6:
    raise ImproperlyConfigured("BOOKKEEPING_RETENTION_YEARS cannot be under the Accounting Act's 6.")
if not 1 <= ORDER_HISTORY_YEARS <= BOOKKEEPING_RETENTION_YEARS:
    raise ImproperlyConfigured(
        "ORDER_HISTORY_YEARS must be at least 1 and at most BOOKKEEPING_RETENTION_YEARS "
        f"({BOOKKEEPING_RETENTION_YEARS}): a purchase history kept longer has no stated need."
    )
if RETENTION_YEARS < 1:
    raise ImproperlyConfigured("RETENTION_YEARS must be at least 1.")

# Request bodies: a request whose Content-Length is over the limit gets a 413 before
# anything of it is read (privacy/body_limit.py); staff in the admin may send an import
# file. Django's own cap on what it reads into memory (the form fields, not files) is
# the public limit too.
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=512 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES

# Public data requests (privacy notice S16-S19).
REQUEST_RATE_LIMIT = env.str("REQUEST_RATE_LIMIT", default="5/h")  # per IP address
SIGNATURE_MAX_BYTES = 150_000
RATELIMIT_VIEW = "privacy.views.rate_limited"
# Analytics (S15): empty means no analytics at all; when set, only after consent.
ANALYTICS_ID = env.str("ANALYTICS_ID", default="")
SITE_URL = env.str("SITE_URL", default="")  # e.g. https://rekisteri.kehobalanssi.fi, for e-mail links
# The controller's contact by post and phone on the 503 and 500 pages (privacy/outage.py),
# which cannot read the controller details from the database: it may be what is down.
OUTAGE_CONTACT_NAME = env.str("OUTAGE_CONTACT_NAME", default="Kehobalanssi")
OUTAGE_CONTACT_ADDRESS = env.str("OUTAGE_CONTACT_ADDRESS", default="")
OUTAGE_CONTACT_PHONE = env.str("OUTAGE_CONTACT_PHONE", default="")

# Mailing labels (S6): A4, 3 x 8 labels of 70 x 37 mm unless set otherwise. A line too
# long for its label is wrapped, then set smaller down to LABEL_MIN_FONT_SIZE points, and
# only then cut; nothing is printed nearer the sheet's edge than LABEL_PRINTER_MARGIN_MM.
LABEL_SHEET = {
    "columns": env.int("LABEL_COLUMNS", default=3),
    "rows": env.int("LABEL_ROWS", default=8),
    "width_mm": env.float("LABEL_WIDTH_MM", default=70.0),
    "height_mm": env.float("LABEL_HEIGHT_MM", default=37.0),
    "padding_mm": 5.0,
    "font_size": 9,
    "min_font_size": env.float("LABEL_MIN_FONT_SIZE", default=6.0),
    "printer_margin_mm": env.float("LABEL_PRINTER_MARGIN_MM", default=5.0),
}
if not 4 <= LABEL_SHEET["min_font_size"] <= LABEL_SHEET["font_size"]:
    raise ImproperlyConfigured(f"LABEL_MIN_FONT_SIZE must be 4 to {LABEL_SHEET['font_size']} points.")
if not 0 <= LABEL_SHEET["printer_margin_mm"] <= 20:
    raise ImproperlyConfigured("LABEL_PRINTER_MARGIN_MM must be 0 to 20 millimetres.")
LABEL_FONT = env.str("LABEL_FONT", default="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
# Imports larger than this are refused before they are read.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
# Scanned letters of requests staff register (privacy/letter_scans.py): a private folder,
# never under a path the web server serves; a scan at most this large, which the admin's
# body limit (an import's, privacy/body_limit.py) must admit.
LETTER_SCAN_DIR = env.str("LETTER_SCAN_DIR", default=str(BASE_DIR / "private" / "letter-scans"))
LETTER_SCAN_MAX_BYTES = env.int("LETTER_SCAN_MAX_BYTES", default=10 * 1024 * 1024)
if LETTER_SCAN_MAX_BYTES > IMPORT_MAX_BYTES:
    raise ImproperlyConfigured("LETTER_SCAN_MAX_BYTES cannot be over IMPORT_MAX_BYTES (the admin's limit).")
# What an import (or a ban list) may hold, checked while it is read (customers/import_limits.py).
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=100_000)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=100)
IMPORT_MAX_CELL_CHARS = env.int("IMPORT_MAX_CELL_CHARS", default=10_000)
IMPORT_MAX_UNPACKED_BYTES = env.int("IMPORT_MAX_UNPACKED_BYTES", default=200 * 1024 * 1024)
# Where an uploaded import waits (a private subfolder, at most an hour) between its
# preview and its confirmation; empty: the system's temporary directory.
IMPORT_UPLOAD_DIR = env.str("IMPORT_UPLOAD_DIR", default="")
# A file of more rows than this is previewed and imported by the background worker, with
# a progress page (customers/import_jobs.py); one whose worker makes no progress for
# IMPORT_JOB_STALE_SECONDS is shown as failed.
IMPORT_BACKGROUND_ROWS = env.int("IMPORT_BACKGROUND_ROWS", default=2000)
IMPORT_JOB_STALE_SECONDS = env.int("IMPORT_JOB_STALE_SECONDS", default=15 * 60)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

PHONENUMBER_DEFAULT_REGION = "FI"
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "E164"

IMPORT_EXPORT_USE_TRANSACTIONS = True

# Security headers and cookies ---------------------------------------------
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
if _env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy (django-csp 4): no inline or third-party scripts.
# Styles allow 'unsafe-inline' because Django's admin sets style attributes.
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

if ANALYTICS_ID:
    _google = ["https://www.googletagmanager.com", "https://*.google-analytics.com"]
    for _directive in ("script-src", "connect-src", "img-src"):
        CONTENT_SECURITY_POLICY["DIRECTIVES"][_directive] += _google

# Logs name no person: messages carry ids and counts only (see DESIGN.md).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # The status and confirmation links' tokens never reach a log (privacy/log_filters.py).
    "filters": {"redact_tokens": {"()": "privacy.log_filters.RedactTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Replaces Django's default "django" logger, whose own console handler (when DEBUG)
        # and mail_admins handler (error reports with the request) would bypass the filter.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # django-post-office logs a failed send with its exception, which can name the
        # recipient: the worker logs its own counts instead (privacy/outbox.py).
        "post_office": {"handlers": ["console"], "level": "CRITICAL", "propagate": False},
        # The development server's request lines, through the same filter.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
