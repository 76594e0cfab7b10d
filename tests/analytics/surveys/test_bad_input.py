"""The site-wide bad-input walk (tests/test_bad_input.py) over the survey
pages, as it will run once helpdesk/urls.py includes them: every route, form
and parameter with the values people and scanners send, as a customer, a
manager and anonymously, with real tokens and objects. No 500."""

from __future__ import annotations

import pytest
from django.utils import timezone

from analytics.models import NPSInvite, SurveyInvite
from analytics.surveys import services
from analytics.surveys.tokens import CSAT_SALT, NPS_SALT, make_token
from tests.analytics.surveys.conftest import solve
from tests.test_bad_input import fuzz_site, fuzzer, site_routes, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey_world(world, agent, customer):  # noqa: F811  (the imported fixture)
    ticket = world["ticket"]
    solve(ticket, agent)
    invite = SurveyInvite.objects.get(ticket=ticket)
    answer = services.csat_answer(invite=invite, customer=customer, rating=1)
    nps = NPSInvite.objects.create(customer=customer, period_start=timezone.localdate())
    # The CSAT token for the csat routes; the NPS pages get it too (refused)
    # and, through a second walk, their own.
    world["str"]["token"] = make_token(invite.pk, salt=CSAT_SALT)
    world["int"] = sorted({*world["int"], answer.pk, 3, 5, 10})
    world["nps_token"] = make_token(nps.pk, salt=NPS_SALT)
    return world


@pytest.mark.timeout(600)
def test_no_survey_page_answers_a_bad_value_with_a_500(survey_world, fuzzer):  # noqa: F811
    routes = [r for r in site_routes() if r.route.startswith("survey/")]
    assert len(routes) == 8, routes
    fuzz_site(routes, survey_world, fuzzer)
    survey_world["str"]["token"] = survey_world["nps_token"]
    fuzz_site([r for r in routes if r.route.startswith("survey/nps/")], survey_world, fuzzer)
    print(f"bad input: {fuzzer.requests} requests")
    assert not fuzzer.failures, (
        f"{len(fuzzer.failures)} of {fuzzer.requests} requests failed:\n"
        + "\n".join(fuzzer.failures[:60])
    )
