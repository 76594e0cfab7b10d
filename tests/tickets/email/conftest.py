"""Settings every e-mail test runs with."""

import pytest

from tests.tickets.email.mails import TOKEN


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.DEFAULT_FROM_EMAIL = "Helpdesk <support@helpdesk.test>"
    settings.HELPDESK_EMAIL_DOMAIN = "helpdesk.test"
    settings.HELPDESK_INTAKE_STEPS = ["tickets.routing.route_step", "tickets.intake.acknowledge"]
    settings.HELPDESK_INBOUND_EMAIL_TOKEN = TOKEN
    settings.HELPDESK_INBOUND_EMAIL_MAX_BYTES = 1024 * 1024
