"""Settings and clients for the API tests.

The API relies on REST_FRAMEWORK and SPECTACULAR_SETTINGS entries (schema
class, exception handler, throttle rates, title, offline docs). The autouse
fixture supplies only those the project settings do not have yet, so these
tests run before the settings land and, once they have, test the real ones.
"""

import pytest
from drf_spectacular.settings import patched_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

# The same entries as the REST API block of helpdesk/settings.py.
API_REST_FRAMEWORK = {
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
    "DEFAULT_THROTTLE_RATES": {"anon": "30/min", "user": "120/min"},
    "NUM_PROXIES": 0,
}

API_SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk API",
    "DESCRIPTION": (
        "Tickets, their conversation, categories, teams and agents. Authenticate with "
        "`Authorization: Token <key>` (`python manage.py api_token EMAIL`) or a "
        "signed-in session."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {"AgentTierEnum": "tickets.models.AgentTier"},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}


@pytest.fixture(autouse=True)
def _api_settings(settings):
    # The classifier is built in parallel; routing alone keeps these tests
    # about the API, not about what a model predicts.
    settings.HELPDESK_INTAKE_STEPS = ["tickets.routing.route_step"]
    settings.REST_FRAMEWORK = {**API_REST_FRAMEWORK, **settings.REST_FRAMEWORK}
    configured = getattr(settings, "SPECTACULAR_SETTINGS", {})
    # drf-spectacular reads its settings once; patching is how it takes a
    # change. SERVE_* entries are read at import and cannot be patched.
    missing = {
        name: value
        for name, value in API_SPECTACULAR_SETTINGS.items()
        if name not in configured and not name.startswith("SERVE_")
    }
    with patched_settings(missing):
        yield


@pytest.fixture
def api_as(db):
    """api_as(user): a client that authenticates with the user's API token."""

    def client_for(user) -> APIClient:
        token, _ = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for
