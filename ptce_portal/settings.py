"""Settings for the PTCE portal, read from the environment (django-environ).

Production differs from development only by environment values: see README.md, section
"Configuration". Secure defaults apply as soon as DEBUG is off.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONCE as CSP_NONCE
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(environ.Env().str("PTCE_DATA_DIR", default=str(BASE_DIR / ".data")))

env = environ.Env()

# --- Core ---
DEBUG = env.bool("DEBUG", default=False)
# A dev default that `check --deploy` flags (it starts with "django-insecure-").
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-dev-only-change-me-3b1f9c2e7a")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "accounts.apps.PortalAdminConfig",  # django.contrib.admin, with the portal's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "accounts",
    "jobs",
    "applications",
    "reviews",
    "awards",
    "audit",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffSessionMiddleware",
    "accounts.middleware.PrivateCacheMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "ptce_portal.urls"
WSGI_APPLICATION = "ptce_portal.wsgi.application"

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
            ],
        },
    },
]

# --- Database ---
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/ptce")}
# A process keeps its connection (checked before reuse) for ten minutes: a new one costs the request
# that opens it 6-10 ms (connection, the server process's cold caches, statements prepared again).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# psycopg 3 with parameters bound by the server, so a statement a connection runs again is prepared
# once and its plan kept (planning a dossier page's five-table join costs 0.6 ms, running it 0.06).
# Behind a pooler in transaction mode that cannot keep prepared statements, set
# DB_PREPARE_THRESHOLD=off.
_prepare_threshold = env.str("DB_PREPARE_THRESHOLD", default="2")
DATABASES["default"].setdefault("OPTIONS", {}).update(
    server_side_binding=True,
    prepare_threshold=None if _prepare_threshold.lower() in ("off", "none", "") else int(_prepare_threshold),
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker ---
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
if env.str("REDIS_DB", default=""):
    # Pick another logical database on the same server (the test suite uses one of its own).
    REDIS_URL = urlsplit(REDIS_URL)._replace(path="/" + env.str("REDIS_DB")).geturl()
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="ptce"),
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# --- Accounts ---
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Django's, with permissions read in the query that reads the roles (accounts/rights.py).
    "accounts.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Portail PTCE] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# Throttling (allauth, in the Redis cache): failed log-ins per account and per address, with a
# cool-off: the oldest failure leaves the window after 15 minutes, nothing is locked for good.
# The address limit is higher because a ministry's staff may share one outgoing address.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "20/15m/ip,5/15m/key",
    "signup": "5/h/ip",
    "reset_password": "10/h/ip,3/h/key",
    "reset_password_from_key": "20/h/ip",
    # Signed-in users: a wrong current password counts like a failed log-in.
    "change_password": "5/15m/user",
    "reauthenticate": "5/15m/user",
    # Ours: team invitations sent by one person (applications' team page).
    "invite_member": "20/h/user",
}
# Behind the reverse proxy, the client address is the last one it appends to X-Forwarded-For.
ALLAUTH_TRUSTED_PROXY_COUNT = 1 if env.bool("BEHIND_PROXY", default=False) else 0
# Two-factor authentication (allauth.mfa): TOTP with recovery codes, required for staff and
# reviewers (accounts.middleware), offered to nobody else.
MFA_ADAPTER = "accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Portail PTCE"
# One 30-second step either side, for phones whose clock drifts (RFC 6238 recommends one).
MFA_TOTP_TOLERANCE = 1
MFA_RECOVERY_CODE_COUNT = 10
# Staff and reviewers: the session ends at browser close and after this idle time (seconds).
STAFF_SESSION_IDLE_TIMEOUT = env.int("STAFF_SESSION_IDLE_TIMEOUT", default=30 * 60)

# --- Mail ---
# Development writes each message to a file in .data/mail (printed by `make run`).
# (environ keeps the path after "filemail://" relative: a third slash makes it absolute.)
globals().update(env.email_url("EMAIL_URL", default=f"filemail:///{DATA_DIR / 'mail'}"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Portail PTCE <ne-pas-repondre@ptce.example.gouv.fr>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation ---
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True

# --- Static and media files ---
STATIC_URL = "/static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files are private: never under a public URL, served only by views that check rights.
# Production serves hashed, compressed files built by `collectstatic`; development and tests
# serve them straight from the app folders.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=not DEBUG)
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = not STATIC_MANIFEST
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(DATA_DIR / "media"))
STORAGES = {
    "default": {
        "BACKEND": env.str("MEDIA_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"),
        "OPTIONS": env.json("MEDIA_STORAGE_OPTIONS", default={}),
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
if STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):
    STORAGES["default"]["OPTIONS"].setdefault("location", MEDIA_ROOT)

# --- Uploads ---
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
ATTACHMENT_DOSSIER_MAX_BYTES = env.int("ATTACHMENT_DOSSIER_MAX_BYTES", default=50 * 1024 * 1024)
# Anything larger is streamed to a temporary file, never held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Antivirus ---
# clamd, when configured (a Unix socket, or a host and port): every upload is scanned and a file
# stays unusable until scanned clean. Empty: no antivirus, files are marked "not scanned".
# clamd's StreamMaxLength must exceed the largest attachment allowed.
CLAMD_SOCKET = env.str("CLAMD_SOCKET", default="")
CLAMD_HOST = env.str("CLAMD_HOST", default="")
CLAMD_PORT = env.int("CLAMD_PORT", default=3310)
CLAMD_TIMEOUT = env.float("CLAMD_TIMEOUT", default=30.0)

# --- Reviewing ---
REVIEW_DUE_DAYS = env.int("REVIEW_DUE_DAYS", default=21)
# Calibration: ridge shrinkage of reviewer biases (in "phantom reviews" of zero bias) and the
# number of reviews below which a reviewer's bias is not estimated.
CALIBRATION_SHRINKAGE = 1.0
CALIBRATION_MIN_REVIEWS = 3

# --- Security ---
# HTTPS-only behaviour follows DEBUG unless HTTPS is set explicitly (tests turn it off).
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_PROXY", default=False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Content Security Policy (django-csp): scripts only from our own origin, or inline with the
# nonce of the response (`{{ request.csp_nonce }}`); the admin's JSON data blocks are not scripts
# and need none. No inline styles either; "data:" images are Bootstrap's icons and the TOTP QR code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF, CSP_NONCE],
        "style-src": [CSP_SELF],
        "img-src": [CSP_SELF, "data:"],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_NONE],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    }
}

# --- Forms ---
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Celery ---
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged only once done, so a worker crash leaves it to be redelivered.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
# Redelivery of unacknowledged tasks must come after the hard limit, never during a run.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue("default"), Queue("pdf"), Queue("email")]
CELERY_TASK_ROUTES = {
    "applications.tasks.render_*": {"queue": "pdf"},
    "applications.tasks.send_*": {"queue": "email"},
    "reviews.tasks.send_*": {"queue": "email"},
    "awards.tasks.render_*": {"queue": "pdf"},
    "awards.tasks.send_*": {"queue": "email"},
}
CELERY_BEAT_SCHEDULE = {
    "sweep-outbox": {"task": "jobs.tasks.sweep_outbox_task", "schedule": 60.0},
    "close-due-calls": {"task": "applications.tasks.close_due_calls_task", "schedule": 60.0},
    "send-due-reminders": {"task": "applications.tasks.send_due_reminders_task", "schedule": 60.0},
    "record-history-digest": {"task": "audit.tasks.record_digest_task", "schedule": 3600.0},  # first run of each day
    "refresh-rankings": {"task": "reviews.tasks.refresh_rankings_task", "schedule": 60.0},
}
# The outbox sweep sends a pending job again when its last dispatch is older than this (seconds).
OUTBOX_REDISPATCH_AFTER = env.int("OUTBOX_REDISPATCH_AFTER", default=300)
OUTBOX_SWEEP_BATCH = 500
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# --- Logging ---
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_url_secrets": {"()": "ptce_portal.logfilters.RedactUrlSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # WeasyPrint reports each rendering step at INFO: keep worker logs readable.
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "django.request": {"filters": ["redact_url_secrets"]},  # secret tokens in 4xx paths
    },
}
