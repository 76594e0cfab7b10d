"""Writes of the surveys: answering CSAT and NPS (by the e-mail's signed link
or on the portal), and a manager marking a bad rating followed up.

Rules of an answer: one per ticket round (NPS: per customer and period); the
same answer again changes nothing; a different rating within
HELPDESK_CSAT_CHANGE_HOURS of the first answer replaces it, later it is
final (a comment or effort score may still be added while the link works).
A rating that is bad (1-2) when it is given, or becomes bad, e-mails the
ticket team's lead through the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from analytics.models import CSATResponse, NPSInvite, NPSResponse, SurveyInvite
from tickets.errors import DomainError
from tickets.models import User
from tickets.services.mail import mail_queue, ticket_mail

KIND_BAD_RATING = "csat.bad_rating"
COMMENT_MAX = 2000


def _change_window() -> timedelta:
    return timedelta(hours=settings.HELPDESK_CSAT_CHANGE_HOURS)


def _check_comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        raise DomainError(
            f"Please keep the comment under {COMMENT_MAX} characters.", field="comment"
        )
    return comment


def _check_rating_change(answered_at: datetime, now: datetime) -> None:
    if now > answered_at + _change_window():
        raise DomainError(
            "Your rating was recorded earlier and can no longer be changed.",
            field="rating",
            code="final",
        )


@transaction.atomic
def csat_answer(
    *,
    invite: SurveyInvite,
    customer: User,
    rating: int,
    comment: str | None = None,
    effort: int | None = None,
    source: str = CSATResponse.Source.EMAIL,
    now: datetime | None = None,
) -> CSATResponse:
    """Record or update the answer of a round. `comment` / `effort` None
    keep what was given before (the one-click rating carries neither)."""
    now = now or timezone.now()
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise DomainError("Choose a rating from 1 to 5.", field="rating")
    if effort is not None and not 1 <= effort <= 7:
        raise DomainError("Choose how easy it was from 1 to 7.", field="effort")
    comment = _check_comment(comment)
    # The invite row serialises two answers of the same round (two clicks).
    invite = SurveyInvite.objects.select_for_update().select_related("ticket").get(pk=invite.pk)
    if invite.state == SurveyInvite.State.CANCELLED:
        raise DomainError("This request was reopened, so there is nothing to rate yet.")
    if invite.state == SurveyInvite.State.PENDING:
        # Answered on the portal before the e-mail left: do not send it.
        invite.state = SurveyInvite.State.SKIPPED
        invite.save(update_fields=["state"])
    response = CSATResponse.objects.filter(ticket_id=invite.ticket_id, round=invite.round).first()
    if response is None:
        response = CSATResponse.objects.create(
            ticket_id=invite.ticket_id,
            round=invite.round,
            customer=customer,
            rating=rating,
            comment=comment or "",
            effort=effort,
            source=source,
            agent_id=invite.agent_id,
            team_id=invite.team_id,
            answered_at=now,
            updated_at=now,
        )
        if response.is_bad:
            _notify_team_lead(response)
        return response
    was_bad = response.is_bad
    changed: list[str] = []
    if rating != response.rating:
        _check_rating_change(response.answered_at, now)
        response.rating = rating
        changed.append("rating")
    if comment is not None and comment != response.comment:
        response.comment = comment
        changed.append("comment")
    if effort is not None and effort != response.effort:
        response.effort = effort
        changed.append("effort")
    if changed:
        response.updated_at = now
        response.save(update_fields=[*changed, "updated_at"])
        if response.is_bad and not was_bad:
            _notify_team_lead(response)
    return response


def _notify_team_lead(response: CSATResponse) -> None:
    """The lead of the ticket's team (at the time it was solved) hears of a
    bad rating at once; a team without a lead relies on the follow-up list."""
    team = response.team
    lead = team.lead if team is not None else None
    if lead is None:
        return
    ticket = response.ticket
    comment = f"\nTheir comment:\n{response.comment}\n" if response.comment else ""
    follow_up = f"{settings.HELPDESK_SITE_URL.rstrip('/')}{reverse('surveys:follow_up')}"
    mail_queue(
        [
            ticket_mail(
                ticket,
                kind=KIND_BAD_RATING,
                to=lead,
                audience="team_lead",
                subject=f"[{ticket.key}] Rated {response.rating}/5: {ticket.subject}",
                body=(
                    f"Hello {lead.get_short_name()},\n\n"
                    f"{response.customer.full_name} rated {ticket.key} (team {team}) "
                    f"{response.rating} out of 5.\n{comment}\n"
                    f"The ticket: {ticket.get_full_url()}\n"
                    f"Ratings that need a follow-up: {follow_up}\n"
                ),
                auto="auto-generated",
            )
        ]
    )


@transaction.atomic
def csat_mark_followed_up(*, response_id: int, actor: User) -> bool:
    """A manager dealt with a bad rating. True when this call marked it,
    False when somebody already had (the conditional UPDATE decides)."""
    if not actor.has_perm("tickets.view_dashboards"):
        raise DomainError("Only managers follow up ratings.", code="permission_denied")
    if not CSATResponse.objects.filter(pk=response_id).exists():
        raise DomainError("There is no such rating.", code="not_found")
    return bool(
        CSATResponse.objects.filter(pk=response_id, followed_up_at__isnull=True).update(
            followed_up_at=timezone.now(), followed_up_by=actor
        )
    )


@transaction.atomic
def nps_answer(
    *,
    invite: NPSInvite,
    score: int,
    comment: str | None = None,
    now: datetime | None = None,
) -> NPSResponse:
    """Record or update a customer's NPS answer for the invite's period (the
    same rules as CSAT: idempotent, changeable within the window)."""
    now = now or timezone.now()
    if not isinstance(score, int) or not 0 <= score <= 10:
        raise DomainError("Choose a score from 0 to 10.", field="score")
    comment = _check_comment(comment)
    invite = NPSInvite.objects.select_for_update().get(pk=invite.pk)
    response = NPSResponse.objects.filter(invite_id=invite.pk).first()
    if response is None:
        return NPSResponse.objects.create(
            invite=invite,
            customer_id=invite.customer_id,
            period_start=invite.period_start,
            score=score,
            comment=comment or "",
            answered_at=now,
            updated_at=now,
        )
    changed: list[str] = []
    if score != response.score:
        _check_rating_change(response.answered_at, now)
        response.score = score
        changed.append("score")
    if comment is not None and comment != response.comment:
        response.comment = comment
        changed.append("comment")
    if changed:
        response.updated_at = now
        response.save(update_fields=[*changed, "updated_at"])
    return response
