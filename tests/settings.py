"""Settings for the test suite: the real ones, with test-only defaults for what
the environment does not set. DATABASE_URL / REDIS_URL must point at a real
PostgreSQL and Redis (`make test` starts throwaway ones when they are unset)."""

import os
import tempfile
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-insecure-secret-key")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
os.environ.setdefault("HELPDESK_SECURE_COOKIES", "0")
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", "helpdesk-test")

from helpdesk.settings import *  # noqa: E402,F403
from helpdesk.settings import CACHES, DATABASES, REDIS_URL  # noqa: E402

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise RuntimeError(
        "The test suite runs against PostgreSQL: set DATABASE_URL, or run `make test`, "
        "which starts a throwaway server when it is unset."
    )
if not REDIS_URL:
    raise RuntimeError("The test suite needs a real Redis: set REDIS_URL or run `make test`.")

# Fast hashing: the suite creates many users; production keeps PBKDF2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = os.path.join(
    os.environ.get("HELPDESK_TEST_MEDIA", tempfile.gettempdir()), "helpdesk-test-media"
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# WhiteNoise warns (an error here) when the collected-static folder is missing.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# The cache lives in the next Redis database so a test can clear it (an
# autouse fixture does) without touching the Celery broker's keys.
_broker = urlsplit(REDIS_URL)
_db = int((_broker.path or "/0").lstrip("/") or 0)
CACHES = {
    "default": {
        # The production backend and options (core.cache.FailSafeRedisCache).
        **CACHES["default"],
        "LOCATION": urlunsplit(_broker._replace(path=f"/{(_db + 1) % 16}")),
        "KEY_PREFIX": "helpdesk-test",
    }
}
