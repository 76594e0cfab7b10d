"""Answering: signed links, the one-answer-per-round rules, the change
window, the bad-rating notification, and following up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing

from analytics.models import CSATResponse, NPSInvite, NPSResponse, SurveyInvite
from analytics.surveys import services
from analytics.surveys.tokens import CSAT_SALT, NPS_SALT, SurveyLinkError, make_token, read_token
from tests.factories import make_user
from tickets.errors import DomainError
from tickets.models import OutboundEmail, Role

pytestmark = pytest.mark.django_db


def test_a_token_names_its_invite_until_it_expires(clock, sent_invite):
    token = make_token(sent_invite.pk, salt=CSAT_SALT)
    assert read_token(token, salt=CSAT_SALT) == sent_invite.pk
    clock.shift(timedelta(days=13, hours=23))
    assert read_token(token, salt=CSAT_SALT) == sent_invite.pk
    clock.shift(timedelta(hours=2))
    with pytest.raises(SurveyLinkError) as error:
        read_token(token, salt=CSAT_SALT)
    assert error.value.expired


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: signing.dumps(999, salt=CSAT_SALT)[:-1] + t[-1],
        lambda t: make_token(1, salt=NPS_SALT),  # an NPS token is no CSAT token
        lambda t: signing.dumps("1", salt=CSAT_SALT),
        lambda t: "not-a-token",
        lambda t: "",
    ],
)
def test_a_tampered_token_is_refused(clock, sent_invite, tamper):
    token = make_token(sent_invite.pk, salt=CSAT_SALT)
    with pytest.raises(SurveyLinkError) as error:
        read_token(tamper(token), salt=CSAT_SALT)
    assert not error.value.expired


def test_one_answer_per_round_same_answer_changes_nothing(clock, sent_invite, customer, agent):
    first = services.csat_answer(invite=sent_invite, customer=customer, rating=4)
    assert (first.rating, first.round, first.agent, first.source) == (4, 1, agent, "email")
    clock.shift(timedelta(minutes=5))
    again = services.csat_answer(invite=sent_invite, customer=customer, rating=4)
    assert again.pk == first.pk and again.updated_at == first.answered_at
    assert CSATResponse.objects.count() == 1


def test_a_different_rating_within_the_window_updates_it_later_it_is_final(
    clock, sent_invite, customer
):
    first = services.csat_answer(invite=sent_invite, customer=customer, rating=3)
    clock.shift(timedelta(hours=23))
    changed = services.csat_answer(
        invite=sent_invite, customer=customer, rating=5, comment="Quick!", effort=6
    )
    assert (changed.pk, changed.rating, changed.comment, changed.effort) == (
        first.pk,
        5,
        "Quick!",
        6,
    )
    assert changed.updated_at > changed.answered_at
    clock.shift(timedelta(hours=2))
    with pytest.raises(DomainError) as error:
        services.csat_answer(invite=sent_invite, customer=customer, rating=1)
    assert error.value.code == "final"
    # A comment may still be added while the link works; the rating stays.
    later = services.csat_answer(invite=sent_invite, customer=customer, rating=5, comment="Thanks")
    assert (later.rating, later.comment, later.effort) == (5, "Thanks", 6)
    # The one-click form carries no comment: what was said stays.
    kept = services.csat_answer(invite=sent_invite, customer=customer, rating=5)
    assert kept.comment == "Thanks"


@pytest.mark.parametrize(
    ("rating", "effort", "comment", "field"),
    [
        (0, None, None, "rating"),
        (6, None, None, "rating"),
        (5, 8, None, "effort"),
        (5, 0, None, "effort"),
        (5, None, "x" * 2001, "comment"),
    ],
)
def test_bad_values_are_refused(clock, sent_invite, customer, rating, effort, comment, field):
    with pytest.raises(DomainError) as error:
        services.csat_answer(
            invite=sent_invite, customer=customer, rating=rating, effort=effort, comment=comment
        )
    assert error.value.field == field
    assert not CSATResponse.objects.exists()


def test_a_cancelled_round_cannot_be_answered(clock, ticket, agent, customer):
    from tests.analytics.surveys.conftest import reopen, solve

    solve(ticket, agent)
    reopen(ticket, customer)
    with pytest.raises(DomainError):
        services.csat_answer(
            invite=SurveyInvite.objects.get(ticket=ticket), customer=customer, rating=5
        )


def lead_mails():
    return list(OutboundEmail.objects.filter(kind=services.KIND_BAD_RATING))


def test_a_bad_rating_notifies_the_team_lead_once(clock, sent_invite, customer, access_team):
    lead = make_user(
        Role.AGENT, email="lena@helpdesk.test", full_name="Lena Lead", teams=[access_team]
    )
    access_team.lead = lead
    access_team.save()
    services.csat_answer(invite=sent_invite, customer=customer, rating=2, comment="Slow.")
    [mail] = lead_mails()
    assert mail.recipient == "lena@helpdesk.test" and mail.audience == "team_lead"
    assert mail.ticket_id == sent_invite.ticket_id
    assert "rated" in mail.body and "2 out of 5" in mail.body and "Slow." in mail.body
    assert "https://help.example/survey/follow-up/" in mail.body
    # Still bad (1 after 2): no second mail; good then bad again: one more.
    services.csat_answer(invite=sent_invite, customer=customer, rating=1)
    assert len(lead_mails()) == 1
    services.csat_answer(invite=sent_invite, customer=customer, rating=4)
    services.csat_answer(invite=sent_invite, customer=customer, rating=2)
    assert len(lead_mails()) == 2


def test_a_good_rating_or_a_team_without_lead_notifies_nobody(clock, sent_invite, customer):
    services.csat_answer(invite=sent_invite, customer=customer, rating=5)
    assert lead_mails() == []
    CSATResponse.objects.all().delete()
    services.csat_answer(invite=sent_invite, customer=customer, rating=1)
    assert lead_mails() == []  # Access has no lead: the follow-up list has it


def test_mark_followed_up_once_managers_only(clock, sent_invite, customer, manager, agent):
    response = services.csat_answer(invite=sent_invite, customer=customer, rating=1)
    with pytest.raises(DomainError) as error:
        services.csat_mark_followed_up(response_id=response.pk, actor=agent)
    assert error.value.code == "permission_denied"
    assert services.csat_mark_followed_up(response_id=response.pk, actor=manager) is True
    assert services.csat_mark_followed_up(response_id=response.pk, actor=manager) is False
    response.refresh_from_db()
    assert response.followed_up_by == manager and response.followed_up_at is not None
    with pytest.raises(DomainError) as error:
        services.csat_mark_followed_up(response_id=response.pk + 100, actor=manager)
    assert error.value.code == "not_found"


def test_nps_answers_follow_the_same_rules(clock, customer):
    invite = NPSInvite.objects.create(customer=customer, period_start=clock_date())
    first = services.nps_answer(invite=invite, score=9)
    assert services.nps_answer(invite=invite, score=9).updated_at == first.answered_at
    clock.shift(timedelta(hours=1))
    assert services.nps_answer(invite=invite, score=10, comment="Great").score == 10
    clock.shift(timedelta(days=2))
    with pytest.raises(DomainError):
        services.nps_answer(invite=invite, score=3)
    for bad in (-1, 11):
        with pytest.raises(DomainError):
            services.nps_answer(invite=invite, score=bad)
    assert NPSResponse.objects.get().score == 10


def clock_date():
    from django.utils import timezone

    return timezone.localdate()
