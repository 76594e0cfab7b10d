"""Settings and clients for the API tests."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _api_settings(settings):
    # Routing alone keeps these tests about the API, not about what a
    # classifier model predicts; REST_FRAMEWORK and SPECTACULAR_SETTINGS are
    # the project's own (helpdesk/settings.py).
    settings.HELPDESK_INTAKE_STEPS = ["tickets.routing.route_step"]


@pytest.fixture
def api_as(db):
    """api_as(user): a client that authenticates with the user's API token."""

    def client_for(user) -> APIClient:
        token, _ = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for
