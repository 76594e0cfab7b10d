"""The survey e-mails, written to the outbox by the beat sweeps (never by a
long Celery countdown: with Redis those run more than once, see DESIGN.md).

CSAT: `send_due_csat` claims the rounds whose delay has passed (PENDING, due)
with FOR UPDATE SKIP LOCKED, so two sweeps never take the same round; in the
same transaction it marks each SENT, CANCELLED (reopened since) or SKIPPED
(no survey for it) and writes the e-mails, so a round is mailed exactly once.

NPS: `send_due_nps` asks customers who had a ticket solved in the current
period and were not asked in it; the unique (customer, period) invite decides
who is asked, so a second sweep or a retry cannot ask twice."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from analytics.models import CSATResponse, NPSInvite, SurveyInvite
from analytics.surveys.tokens import CSAT_SALT, NPS_SALT, make_token
from tickets.email.outbox import first_attempt_at
from tickets.email.outgoing import mail_headers, make_message_id
from tickets.models import OutboundEmail, Role, Status, User
from tickets.services.mail import mail_queue, ticket_mail

KIND_CSAT = "survey.csat"
KIND_NPS = "survey.nps"
BATCH = 200
# Periods of the NPS cadence are counted from this day, so every process
# agrees on where a period starts whatever day it runs.
NPS_EPOCH = date(2024, 1, 1)

RATING_WORDS = {1: "Very poor", 2: "Poor", 3: "Okay", 4: "Good", 5: "Excellent"}


def _site(path: str) -> str:
    return f"{settings.HELPDESK_SITE_URL.rstrip('/')}{path}"


def csat_rating_url(invite_id: int, rating: int, *, token: str | None = None) -> str:
    token = token or make_token(invite_id, salt=CSAT_SALT)
    return _site(reverse("surveys:csat_rate", kwargs={"token": token, "rating": rating}))


def nps_score_url(invite_id: int, score: int, *, token: str | None = None) -> str:
    token = token or make_token(invite_id, salt=NPS_SALT)
    return _site(reverse("surveys:nps_rate", kwargs={"token": token, "score": score}))


# --- CSAT ---------------------------------------------------------------------------


def csat_mail(invite: SurveyInvite) -> OutboundEmail | None:
    ticket = invite.ticket
    token = make_token(invite.pk, salt=CSAT_SALT)
    links = "\n".join(
        f"  {n} - {RATING_WORDS[n]}: {csat_rating_url(invite.pk, n, token=token)}"
        for n in range(5, 0, -1)
    )
    return ticket_mail(
        ticket,
        kind=KIND_CSAT,
        subject=f"[{ticket.key}] How did we do? {ticket.subject}",
        body=(
            f"Hello {ticket.requester.get_short_name()},\n\n"
            f"Your request {ticket.key} was solved. How would you rate the help you got?\n"
            "One click records your rating:\n\n"
            f"{links}\n\n"
            f"The links work for {settings.HELPDESK_CSAT_LINK_DAYS} days.\n"
        ),
        auto="auto-generated",
    )


def _wants_survey(invite: SurveyInvite) -> bool:
    """Customers only (not the helpdesk's own people), and not a ticket
    merged into another (closed as a duplicate)."""
    ticket = invite.ticket
    requester = ticket.requester
    return (
        requester.role == Role.CUSTOMER
        and requester.is_active
        and bool(requester.email)
        and ticket.merged_into_id is None
    )


def send_due_csat(*, now: datetime | None = None, limit: int = BATCH) -> int:
    """Claim up to `limit` due rounds and mail the ones still owed; returns
    how many e-mails were written."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            SurveyInvite.objects.filter(state=SurveyInvite.State.PENDING, due_at__lte=now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("ticket", "ticket__requester")
            .order_by("due_at", "id")[:limit]
        )
        if not due:
            return 0
        answered = set(
            CSATResponse.objects.filter(ticket_id__in=[i.ticket_id for i in due]).values_list(
                "ticket_id", "round"
            )
        )
        by_state: dict[str, list[int]] = {s: [] for s in SurveyInvite.State.values}
        mails: list[OutboundEmail | None] = []
        for invite in due:
            state: str
            if invite.ticket.status not in (Status.SOLVED, Status.CLOSED):
                state = SurveyInvite.State.CANCELLED
            elif (invite.ticket_id, invite.round) in answered or not _wants_survey(invite):
                state = SurveyInvite.State.SKIPPED
            else:
                mail = csat_mail(invite)
                state = SurveyInvite.State.SENT if mail else SurveyInvite.State.SKIPPED
                mails.append(mail)
            by_state[state].append(invite.pk)
        for new_state, ids in by_state.items():
            if ids:
                SurveyInvite.objects.filter(pk__in=ids).update(
                    state=new_state, sent_at=now if new_state == SurveyInvite.State.SENT else None
                )
        return len(mail_queue(mails))


# --- NPS ---------------------------------------------------------------------------


def nps_period_start(now: datetime, cadence_days: int) -> date:
    """The first day of the cadence period `now` falls in."""
    today = timezone.localdate(now)
    periods = (today - NPS_EPOCH).days // cadence_days
    return NPS_EPOCH + timedelta(days=periods * cadence_days)


def nps_mail(invite: NPSInvite, customer: User) -> OutboundEmail:
    token = make_token(invite.pk, salt=NPS_SALT)
    links = "\n".join(
        f"  {n}: {nps_score_url(invite.pk, n, token=token)}" for n in range(10, -1, -1)
    )
    now = timezone.now()
    return OutboundEmail(
        kind=KIND_NPS,
        audience="customer",
        recipient=customer.email,
        subject="How likely are you to recommend us?",
        body=(
            f"Hello {customer.get_short_name()},\n\n"
            "On a scale from 0 (not at all likely) to 10 (extremely likely), how likely "
            "are you to recommend our support to a friend or colleague? One click answers:\n\n"
            f"{links}\n\n"
            f"The links work for {settings.HELPDESK_CSAT_LINK_DAYS} days.\n"
        ),
        headers=mail_headers(message_id=make_message_id(), auto="auto-generated"),
        created_at=now,
        next_attempt_at=first_attempt_at(now),
    )


def nps_candidates(period_start: date, *, limit: int) -> list[User]:
    """Active customers with a ticket solved in the period (from the survey
    rounds, index survey_invite_created) who have no invite for it yet."""
    start = timezone.make_aware(datetime.combine(period_start, datetime.min.time()))
    asked = NPSInvite.objects.filter(period_start=period_start).values("customer_id")
    solved_for = SurveyInvite.objects.filter(created_at__gte=start).values("customer_id")
    return list(
        User.objects.filter(pk__in=solved_for, role=Role.CUSTOMER, is_active=True)
        .exclude(email="")
        .exclude(pk__in=asked)
        .order_by("pk")[:limit]
    )


def send_due_nps(*, now: datetime | None = None, limit: int = BATCH) -> int:
    """Ask up to `limit` customers for this period; returns how many were
    asked. A customer somebody else asked meanwhile is skipped (unique)."""
    cadence = settings.HELPDESK_NPS_CADENCE_DAYS
    if cadence <= 0:
        return 0
    now = now or timezone.now()
    period_start = nps_period_start(now, cadence)
    asked = 0
    for customer in nps_candidates(period_start, limit=limit):
        try:
            with transaction.atomic():
                invite = NPSInvite.objects.create(
                    customer=customer, period_start=period_start, sent_at=now
                )
                mail_queue([nps_mail(invite, customer)])
        except IntegrityError:
            continue  # another sweep asked this customer for the period
        asked += 1
    return asked
