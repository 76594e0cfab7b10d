"""Survey pages: answering by link without logging in, on the portal, the
staff panel, and the managers' follow-up list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from analytics.models import CSATResponse, NPSInvite, NPSResponse
from analytics.surveys import services
from analytics.surveys.tokens import CSAT_SALT, NPS_SALT, make_token
from tests.analytics.surveys.conftest import solve
from tests.factories import make_ticket
from tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db


def rate_url(invite, rating):
    token = make_token(invite.pk, salt=CSAT_SALT)
    return reverse("surveys:csat_rate", kwargs={"token": token, "rating": rating})


def answer_url(invite):
    return reverse("surveys:csat", kwargs={"token": make_token(invite.pk, salt=CSAT_SALT)})


def test_a_rating_link_records_nothing_on_get_and_posts_the_rating(client, sent_invite):
    page = client.get(rate_url(sent_invite, 5))
    assert page.status_code == 200
    html = page.content.decode()
    assert "data-autosubmit" in html and 'name="rating" value="5"' in html
    assert "analytics/survey.js" in html and "<script>" not in html
    assert not CSATResponse.objects.exists()  # a link scanner's GET records nothing

    action = answer_url(sent_invite)
    response = client.post(action, {"rating": "5"})
    assert response.status_code == 302 and response["Location"] == f"{action}?saved=1"
    assert CSATResponse.objects.get().rating == 5
    thanks = client.get(response["Location"])
    assert b"We recorded your rating of 5 out of 5" in thanks.content
    # Then the comment and the effort score, on the same page.
    client.post(action, {"rating": "5", "comment": "Fixed in minutes", "effort": "7"})
    answer = CSATResponse.objects.get()
    assert (answer.rating, answer.comment, answer.effort) == (5, "Fixed in minutes", 7)


@pytest.mark.parametrize("rating", [0, 6, 99])
def test_a_rating_outside_1_to_5_is_a_400(client, sent_invite, rating):
    assert client.get(rate_url(sent_invite, rating)).status_code == 400


def test_bad_form_input_is_a_400_with_errors(client, sent_invite):
    action = answer_url(sent_invite)
    for data in ({"rating": "9"}, {}, {"rating": "3", "effort": "12"}, {"rating": "x"}):
        response = client.post(action, data)
        assert response.status_code == 400
        assert b"field-error" in response.content
    assert not CSATResponse.objects.exists()


def test_a_final_rating_is_refused_with_a_400(client, clock, sent_invite):
    action = answer_url(sent_invite)
    client.post(action, {"rating": "4"})
    clock.shift(timedelta(hours=25))
    response = client.post(action, {"rating": "1"})
    assert response.status_code == 400
    assert b"can no longer be changed" in response.content
    assert CSATResponse.objects.get().rating == 4


@pytest.mark.parametrize(
    "token",
    ["garbage", "1:abc:def", make_token(1, salt=NPS_SALT), "%00", "\u00e9t\u00e9"],
)
def test_invalid_links_are_a_clear_400(client, sent_invite, token):
    for url in (
        reverse("surveys:csat", kwargs={"token": token}),
        reverse("surveys:csat_rate", kwargs={"token": token, "rating": 5}),
    ):
        response = client.get(url)
        assert response.status_code == 400
        assert b"not valid" in response.content
    assert (
        client.post(reverse("surveys:csat", kwargs={"token": token}), {"rating": "5"}).status_code
        == 400
    )


def test_expired_links_are_a_410(client, clock, sent_invite):
    url = rate_url(sent_invite, 5)
    action = answer_url(sent_invite)
    clock.shift(timedelta(days=15))
    assert client.get(url).status_code == 410
    response = client.post(action, {"rating": "5"})
    assert response.status_code == 410 and b"expired" in response.content
    assert not CSATResponse.objects.exists()


def test_a_cancelled_round_link_is_refused(client, clock, ticket, agent, customer):
    from analytics.models import SurveyInvite
    from tests.analytics.surveys.conftest import reopen

    solve(ticket, agent)
    invite = SurveyInvite.objects.get()
    reopen(ticket, customer)
    assert client.get(rate_url(invite, 5)).status_code == 400


# --- portal ------------------------------------------------------------------------


def test_the_requester_answers_on_the_portal(client, clock, ticket, agent, customer):
    url = reverse("surveys:portal", kwargs={"key": ticket.key})
    client.force_login(customer)
    assert client.get(url).status_code == 404  # not solved yet: nothing to rate
    solve(ticket, agent)
    page = client.get(url)
    assert page.status_code == 200 and b"How did we do?" in page.content
    assert client.post(url, {"rating": "4", "comment": "ok", "effort": "5"}).status_code == 302
    answer = CSATResponse.objects.get()
    assert (answer.rating, answer.source, answer.customer) == (4, "portal", customer)


def test_the_portal_survey_is_the_requesters_only(
    client, clock, ticket, agent, other_customer, colleague
):
    solve(ticket, agent)
    url = reverse("surveys:portal", kwargs={"key": ticket.key})
    for person in (other_customer, colleague, agent):
        client.force_login(person)
        assert client.get(url).status_code == 404
        assert client.post(url, {"rating": "1"}).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the log-in page
    assert not CSATResponse.objects.exists()


# --- the staff panel -----------------------------------------------------------------


def test_the_staff_ticket_page_loads_the_answers_in_its_panel(
    client, sent_invite, customer, agent, other_agent, manager
):
    services.csat_answer(invite=sent_invite, customer=customer, rating=2, comment="Too slow")
    ticket = sent_invite.ticket
    panel_url = reverse("surveys:ticket_panel", kwargs={"key": ticket.key})
    client.force_login(agent)
    page = client.get(ticket.get_absolute_url())
    assert f'hx-get="{panel_url}"'.encode() in page.content
    fragment = client.get(panel_url)
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert 'data-csat-rating="2"' in html and "Too slow" in html and "needs follow-up" in html
    follow_up_url = reverse("surveys:follow_up")
    assert follow_up_url not in html  # agents do not follow up ratings
    client.force_login(manager)
    assert follow_up_url in client.get(panel_url).content.decode()
    client.force_login(customer)
    assert client.get(panel_url).status_code == 403
    client.force_login(other_agent)  # of another team: cannot see the ticket
    assert client.get(panel_url).status_code == 404


def test_the_panel_adds_no_query_to_the_ticket_page(
    client, ticket, agent, settings, warm_caches, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(agent)
    warm_caches(agent)
    counts = []
    for panels in (
        ["escalation.panels.sla_panel", "knowledge_base.panels.articles_panel"],
        [
            "escalation.panels.sla_panel",
            "knowledge_base.panels.articles_panel",
            "analytics.surveys.panels.survey_panel",
        ],
    ):
        settings.HELPDESK_TICKET_PANELS = panels
        client.get(ticket.get_absolute_url())
        with CaptureQueriesContext(connection) as queries:
            assert client.get(ticket.get_absolute_url()).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- follow-up list ------------------------------------------------------------------


def bad_answers(n, *, customer, agent, access_team):
    from analytics.models import SurveyInvite

    for i in range(n):
        ticket = make_ticket(requester=customer, subject=f"Bad {i}", team=access_team)
        solve(ticket, agent)
        services.csat_answer(
            invite=SurveyInvite.objects.get(ticket=ticket), customer=customer, rating=1 + i % 2
        )


def test_follow_up_list_managers_only_constant_queries(
    client, clock, customer, agent, manager, access_team, warm_caches, django_assert_num_queries
):
    url = reverse("surveys:follow_up")
    bad_answers(2, customer=customer, agent=agent, access_team=access_team)
    client.force_login(manager)
    warm_caches(manager)
    client.get(url)
    # The user (session from the cache: the user row) and the responses with
    # their ticket, customer, agent and team in one statement.
    with django_assert_num_queries(2):
        page = client.get(url)
    assert page.content.count(b"data-csat-response=") == 2
    bad_answers(8, customer=customer, agent=agent, access_team=access_team)
    with django_assert_num_queries(2):
        page = client.get(url)
    assert page.content.count(b"data-csat-response=") == 10


def test_mark_followed_up_takes_it_off_the_list(
    client, clock, customer, agent, manager, access_team
):
    bad_answers(1, customer=customer, agent=agent, access_team=access_team)
    answer = CSATResponse.objects.get()
    client.force_login(manager)
    done = reverse("surveys:follow_up_done", kwargs={"pk": answer.pk})
    assert client.post(done).status_code == 302
    answer.refresh_from_db()
    assert answer.followed_up_by == manager
    assert b"Nothing to follow up" in client.get(reverse("surveys:follow_up")).content
    assert (
        client.post(reverse("surveys:follow_up_done", kwargs={"pk": answer.pk + 99})).status_code
        == 404
    )
    assert client.get(done).status_code == 405


def test_follow_up_list_is_403_for_agents_404_for_customers(
    client, clock, customer, agent, access_team
):
    bad_answers(1, customer=customer, agent=agent, access_team=access_team)
    answer = CSATResponse.objects.get()
    done = reverse("surveys:follow_up_done", kwargs={"pk": answer.pk})
    client.force_login(agent)
    assert client.get(reverse("surveys:follow_up")).status_code == 403
    assert client.post(done).status_code == 403
    client.force_login(customer)
    assert client.get(reverse("surveys:follow_up")).status_code == 404
    assert client.post(done).status_code == 404
    assert CSATResponse.objects.get().followed_up_at is None


# --- NPS ---------------------------------------------------------------------------


def test_nps_link_and_form(client, clock, customer):
    from django.utils import timezone

    invite = NPSInvite.objects.create(customer=customer, period_start=timezone.localdate())
    token = make_token(invite.pk, salt=NPS_SALT)
    page = client.get(reverse("surveys:nps_rate", kwargs={"token": token, "score": 9}))
    assert page.status_code == 200 and b'name="score" value="9"' in page.content
    assert not NPSResponse.objects.exists()
    action = reverse("surveys:nps", kwargs={"token": token})
    assert client.post(action, {"score": "9"}).status_code == 302
    assert client.post(action, {"score": "9", "comment": "Fast"}).status_code == 302
    answer = NPSResponse.objects.get()
    assert (answer.score, answer.comment) == (9, "Fast")
    assert (
        client.get(reverse("surveys:nps_rate", kwargs={"token": token, "score": 11})).status_code
        == 400
    )
    assert client.post(action, {"score": "11"}).status_code == 400
    csat_token = make_token(invite.pk, salt=CSAT_SALT)
    assert client.get(reverse("surveys:nps", kwargs={"token": csat_token})).status_code == 400
    clock.shift(timedelta(days=15))
    assert client.get(action).status_code == 410


def test_closed_ticket_status_is_no_obstacle_to_answering(client, clock, sent_invite, agent):
    from tickets import services as ticket_services

    ticket_services.ticket_change_status(
        ticket=sent_invite.ticket, status=Status.CLOSED, actor=agent
    )
    assert client.post(answer_url(sent_invite), {"rating": "5"}).status_code == 302


def test_the_customer_panel_invites_the_requester_of_a_solved_ticket(
    rf, clock, ticket, agent, customer, colleague
):
    from analytics.surveys.panels import customer_survey_panel

    def panel_for(user):
        request = rf.get("/")
        request.user = user
        # As the ticket page would load it.
        return customer_survey_panel(request, Ticket.objects.get(pk=ticket.pk))

    assert panel_for(customer) == ""  # not solved yet
    solve(ticket, agent)
    html = panel_for(customer)
    url = reverse("surveys:portal", kwargs={"key": ticket.key})
    assert "Rate this request" in html and f'href="{url}"' in html
    assert panel_for(colleague) == "" and panel_for(agent) == ""
    services.csat_answer(
        invite=ticket.survey_invites.get(), customer=customer, rating=4, source="portal"
    )
    assert "You rated this request <strong>4 out of 5</strong>" in panel_for(customer)


def test_the_portal_ticket_page_shows_the_survey_to_its_requester(
    client, clock, ticket, agent, customer
):
    # tickets.ticket_page renders HELPDESK_CUSTOMER_TICKET_PANELS on the
    # customer's own ticket page.
    client.force_login(customer)
    page = ticket.get_absolute_url()
    assert "Rate this request" not in client.get(page).content.decode()
    solve(ticket, agent)
    html = client.get(page).content.decode()
    assert "Rate this request" in html
    assert reverse("surveys:portal", kwargs={"key": ticket.key}) in html
