"""The API against its own OpenAPI schema, driven by schemathesis on a live
server: requests generated from the schema (valid and invalid ones, with a
fixed seed) as a member of staff and as a customer. It fails on any 5xx and on
any answer the schema does not describe: an undocumented status code or
content type, a body or header of the wrong shape, valid input refused or
invalid input accepted.

Bounded for `make test`; HELPDESK_SCHEMATHESIS_EXAMPLES raises the number of
cases per operation for a longer run (the figures are in the test's output).
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

from tests.conftest import REPO_ROOT
from tests.factories import CategoryFactory, TeamFactory, make_user
from tickets import services
from tickets.models import Role

SEED = 20261130
EXAMPLES = int(os.environ.get("HELPDESK_SCHEMATHESIS_EXAMPLES", "25"))
# A run stops after this long whatever is left (a bound for `make test`).
MAX_SECONDS = int(os.environ.get("HELPDESK_SCHEMATHESIS_MAX_SECONDS", "75"))

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(MAX_SECONDS + 600)]


@pytest.fixture
def quiet_server_log():
    """The live server logs a warning for each of the run's many 4xx answers."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)  # a 5xx is still logged, with its traceback
    yield
    logger.setLevel(level)


@pytest.fixture
def api_people(settings, acme):
    """Staff and a customer with tokens, and tickets with a conversation and
    an attachment for them to find."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        # The run is one client sending thousands of requests on purpose.
        "DEFAULT_THROTTLE_RATES": {"anon": "1000000/min", "user": "1000000/min"},
    }
    team = TeamFactory(name="Access", slug="access")
    CategoryFactory(name="Login", slug="login", default_team=team)
    manager = make_user(Role.MANAGER, email="maggie@helpdesk.test")
    customer = make_user(Role.CUSTOMER, email="carol@acme.example", organization=acme)
    for n in range(3):
        ticket = services.ticket_create(
            requester=customer, subject=f"Cannot log in {n}", description="Password refused."
        )
        services.ticket_reply(
            ticket=ticket,
            author=manager,
            body="Try this.",
            attachments=[SimpleUploadedFile("a.txt", b"hello", content_type="text/plain")],
        )
    return {
        "staff": Token.objects.create(user=manager).key,
        "customer": Token.objects.create(user=customer).key,
    }


def run_schemathesis(base_url: str, token: str, reports: Path) -> subprocess.CompletedProcess:
    command = [
        str(Path(sys.executable).with_name("st")),
        f"--config-file={Path(__file__).with_name('schemathesis.toml')}",
        "run",
        f"{base_url}/api/schema/?format=json",
        "--checks=all",
        # Replaced by valid_input_accepted (schemathesis_hooks.py), which knows
        # what a schema cannot say (which ids exist, rules over several fields).
        "--exclude-checks=positive_data_acceptance",
        f"--seed={SEED}",
        f"--max-examples={EXAMPLES}",
        f"--max-time={MAX_SECONDS}",
        "--workers=1",
        "--generation-database=none",
        "--request-timeout=30",
        f"--header=Authorization: Token {token}",
        # Every request and answer (HTTP Archive), to count them.
        "--report=har",
        f"--report-har-path={reports / 'run.har'}",
        "--no-color",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.tickets.api.schemathesis_hooks"}
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=MAX_SECONDS + 300,
        check=False,
        cwd=REPO_ROOT,
        env=env,
    )


@pytest.mark.parametrize("who", ["staff", "customer"])
def test_the_api_answers_as_its_schema_says(
    live_server, api_people, quiet_server_log, who, tmp_path
):
    result = run_schemathesis(live_server.url, api_people[who], tmp_path)
    output = result.stdout + result.stderr
    print(output)
    entries = json.loads((tmp_path / "run.har").read_text())["log"]["entries"]
    server_errors = [e for e in entries if e["response"]["status"] >= 500]
    print(f"schemathesis as {who}: {len(entries)} requests, {len(server_errors)} answered 5xx")
    assert not server_errors, output
    # The run reached the API: every operation was tested.
    assert re.search(r"Operations:\s+(\d+) selected / \1 total", output), output
    assert result.returncode == 0, output


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize(
    ("query", "body", "explained"),
    [
        ({"q": "a\x00b"}, {"error": "Invalid input.", "fields": {"q": ["Null characters"]}}, True),
        ({}, {"error": "Closed tickets take no replies.", "field": None, "code": "invalid"}, True),
        ({}, {"error": "Invalid input.", "fields": {"category": ["No category"]}}, True),
        ({}, {"error": "Invalid input.", "fields": {"created_to": ["before the start"]}}, True),
        # The dashboard's custom range (analytics.dashboard.forms): end before start.
        ({}, {"error": "Invalid input.", "fields": {"end": ["before the first"]}}, True),
        # What the issue found: `q` with `cursor` refused although the schema allows it.
        ({}, {"error": "Invalid input.", "fields": {"cursor": ["Search results..."]}}, False),
        ({}, {"error": "Invalid input.", "fields": {"category": ["x"], "cursor": ["y"]}}, False),
        ({}, "<html>Bad Request</html>", False),
    ],
)
def test_which_refusals_of_valid_input_the_run_accepts(query, body, explained):
    from types import SimpleNamespace

    from tests.tickets.api.schemathesis_hooks import refusal_is_explained

    case = SimpleNamespace(query=query, body=None, path_parameters={})
    assert refusal_is_explained(case, body) is explained


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize(
    ("media_type", "message", "erased"),
    [
        (
            "multipart/form-data",
            "Invalid component: in body - violates `type` at /properties/description "
            "(was string, became integer)",
            True,
        ),
        # In JSON the number stays a number: accepting it is a real failure.
        (
            "application/json",
            "Invalid component: in body - violates `type` at /properties/description "
            "(was string, became integer)",
            False,
        ),
        (
            "multipart/form-data",
            "Invalid component: in body\n - violates `type` at /properties/body (was string, "
            "became integer)\n - violates `enum` at /properties/status/allOf/0",
            False,
        ),
    ],
)
def test_only_what_form_encoding_erases_is_not_a_failure(media_type, message, erased):
    from types import SimpleNamespace

    from tests.tickets.api.schemathesis_hooks import erased_by_form_encoding

    case = SimpleNamespace(media_type=media_type)
    assert erased_by_form_encoding("ST201", message, case) is erased
