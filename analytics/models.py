"""Customer surveys: CSAT (with the Customer Effort Score) after each solve of
a ticket, and NPS per customer on a cadence.

A solve of a ticket opens a survey round (analytics.surveys.hooks): a
SurveyInvite row, PENDING until the delay has passed; the beat sweep
(analytics.surveys.sending) claims due rows once and writes the e-mail to the
outbox. A reopened and re-solved ticket gets a new round. The answers live in
CSATResponse (one per ticket and round) and NPSResponse (one per customer and
period)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tickets.models import Team, Ticket

# Ratings at or below this are "bad": shown on the ticket, the team lead is
# told, and they wait in the managers' follow-up list.
BAD_RATING_MAX = 2


class SurveyInvite(models.Model):
    """The CSAT survey owed for one solve (round) of a ticket."""

    class State(models.TextChoices):
        # Waiting for the delay after the solve (due_at).
        PENDING = "pending", "Pending"
        # The e-mail is in the outbox.
        SENT = "sent", "Sent"
        # Reopened before the delay ran out: nothing is sent for this round.
        CANCELLED = "cancelled", "Cancelled"
        # Not for a survey (a staff requester, no address, merged ticket) or
        # answered on the portal before the e-mail was due.
        SKIPPED = "skipped", "Skipped"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="survey_invites")
    # How many times the ticket had been solved when this round opened (1 for
    # the first solve): the ticket's history counts them.
    round = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # The ticket's requester when it was solved: who is asked (and, for the
    # NPS sweep, who had a ticket solved in a period without a join).
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="survey_invites"
    )
    # The agent and team who solved it, kept for per-agent figures.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    solved_at = models.DateTimeField()
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One survey per solve: the hook opens a round once, and a second
            # sweep cannot send a round twice (it claims PENDING rows).
            models.UniqueConstraint(fields=["ticket", "round"], name="survey_invite_ticket_round"),
        ]
        indexes = [
            # The sweep: pending rounds whose delay has passed (sending.claim_due_invites).
            models.Index(fields=["due_at"], name="survey_invite_due", condition=Q(state="pending")),
            # The NPS sweep: customers whose tickets were solved in a period
            # (sending.nps_candidates reads the customer from the index).
            models.Index(fields=["created_at", "customer"], name="survey_invite_created"),
        ]

    def __str__(self) -> str:
        return f"CSAT {self.ticket.key} round {self.round} ({self.state})"


class CSATResponse(models.Model):
    """A customer's answer for one round of a ticket: 1-5 rating, optional
    comment, optional Customer Effort Score (1-7, "how easy was it")."""

    class Source(models.TextChoices):
        EMAIL = "email", "E-mail link"
        PORTAL = "portal", "Portal"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="csat_responses")
    round = models.PositiveSmallIntegerField()
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="csat_responses"
    )
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(blank=True, default="")
    effort = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.EMAIL)
    # Copied from the round's invite: who solved it, for per-agent figures.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    followed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-answered_at", "-id"]
        verbose_name = "CSAT response"
        constraints = [
            models.UniqueConstraint(fields=["ticket", "round"], name="csat_response_ticket_round"),
            models.CheckConstraint(
                name="csat_rating_1_to_5", condition=Q(rating__gte=1, rating__lte=5)
            ),
            models.CheckConstraint(
                name="csat_effort_1_to_7",
                condition=Q(effort__isnull=True) | Q(effort__gte=1, effort__lte=7),
            ),
        ]
        indexes = [
            # The managers' "needs follow-up" list (selectors.follow_up_list):
            # bad ratings nobody followed up yet, newest first.
            models.Index(
                fields=["-answered_at", "-id"],
                name="csat_needs_follow_up",
                condition=Q(rating__lte=BAD_RATING_MAX, followed_up_at__isnull=True),
            ),
            # Date-range reads (CSAT by period), overall and per agent / team.
            models.Index(fields=["answered_at"], name="csat_answered"),
            # The facts' catch-up: the tickets whose answers changed lately.
            models.Index(fields=["updated_at"], name="csat_updated"),
            models.Index(fields=["agent", "answered_at"], name="csat_agent_answered"),
            models.Index(fields=["team", "answered_at"], name="csat_team_answered"),
        ]

    def __str__(self) -> str:
        return f"CSAT {self.rating} on {self.ticket.key} round {self.round}"

    @property
    def is_bad(self) -> bool:
        return self.rating <= BAD_RATING_MAX


class NPSInvite(models.Model):
    """The NPS question sent to a customer for one period of the cadence
    (HELPDESK_NPS_CADENCE_DAYS): at most one per customer and period."""

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nps_invites"
    )
    period_start = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = "NPS invite"
        constraints = [
            # Never asked twice in a period; period first, so the NPS sweep's
            # "already asked this period" lookup uses it too.
            models.UniqueConstraint(
                fields=["period_start", "customer"], name="nps_invite_period_customer"
            ),
        ]

    def __str__(self) -> str:
        return f"NPS invite to {self.customer_id} for {self.period_start}"


class NPSResponse(models.Model):
    """How likely the customer is to recommend us (0-10), once per period."""

    invite = models.OneToOneField(NPSInvite, on_delete=models.CASCADE, related_name="response")
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nps_responses"
    )
    period_start = models.DateField()
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])
    comment = models.TextField(blank=True, default="")
    answered_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-answered_at", "-id"]
        verbose_name = "NPS response"
        constraints = [
            models.UniqueConstraint(
                fields=["period_start", "customer"], name="nps_response_period_customer"
            ),
            models.CheckConstraint(name="nps_score_0_to_10", condition=Q(score__lte=10)),
        ]
        indexes = [
            # NPS by period (date-range reads).
            models.Index(fields=["answered_at"], name="nps_answered"),
        ]

    def __str__(self) -> str:
        return f"NPS {self.score} from {self.customer_id} for {self.period_start}"


class SentReport(models.Model):
    """A report e-mail written to the outbox for one manager and one period:
    the claim that makes the weekly report and the monthly CSAT review go out
    exactly once per manager and period (analytics.reports.sending), however
    often the beat job runs and however many workers run it at once."""

    class Kind(models.TextChoices):
        WEEKLY = "weekly", "Weekly report"
        CSAT_MONTHLY = "csat_monthly", "Monthly CSAT review"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The first local day of the period reported on (a Monday, or the 1st of
    # a month), in HELPDESK_REPORT_TIME_ZONE.
    period_start = models.DateField()
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # The outbox row that carries it (its state says whether it left).
    email = models.ForeignKey(
        "tickets.OutboundEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-period_start", "kind", "recipient_id"]
        constraints = [
            # The claim: a second run (or a second worker) inserting the same
            # row fails, and writes no mail. Kind and period first, so "who
            # already has this period's report" reads the index too.
            models.UniqueConstraint(
                fields=["kind", "period_start", "recipient"], name="sent_report_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.period_start} to {self.recipient_id}"


class TicketFact(models.Model):
    """One ticket as the metrics see it (analytics.rollups.facts computes it
    with the metric code itself: analytics.metrics.timeline and .sla), so
    figures read from here equal the written definitions. Refreshed when the
    ticket changes and when an undecided SLA target's due time passes
    (`sla_refresh_at`); the nightly rebuild recomputes every row.

    Durations are seconds; a business duration is None when the ticket has
    no SLA calendar. Dimensions are the ticket's current values, as the
    metric filters read them (analytics.metrics.filters)."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="fact"
    )
    created_at = models.DateTimeField()
    # The final solve (Ticket.solved_at); None while not solved.
    solved_at = models.DateTimeField(null=True, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True)
    category_id = models.BigIntegerField(null=True, blank=True)
    customer_tier = models.CharField(max_length=20)
    channel = models.CharField(max_length=20)
    priority = models.CharField(max_length=10)
    agent_id = models.BigIntegerField(null=True, blank=True)
    tier = models.PositiveSmallIntegerField()
    first_response_business_s = models.FloatField(null=True, blank=True)
    first_response_calendar_s = models.FloatField(null=True, blank=True)
    resolution_business_s = models.FloatField(null=True, blank=True)
    resolution_calendar_s = models.FloatField(null=True, blank=True)
    # Answered next-response rounds: [[business seconds or None, calendar seconds], ...].
    next_responses = models.JSONField(default=list, blank=True)
    # SLA targets decided when the row was computed, met and breached.
    first_response_met = models.PositiveSmallIntegerField(default=0)
    first_response_breached = models.PositiveSmallIntegerField(default=0)
    next_response_met = models.PositiveIntegerField(default=0)
    next_response_breached = models.PositiveIntegerField(default=0)
    resolution_met = models.PositiveSmallIntegerField(default=0)
    resolution_breached = models.PositiveSmallIntegerField(default=0)
    # The earliest due time of a target still running (None: none is): the
    # row must be judged again then.
    sla_refresh_at = models.DateTimeField(null=True, blank=True)
    ever_solved = models.BooleanField(default=False)
    # Every change of status to solved, in epoch seconds (the trend counts
    # each solve on its day; analytics.rollups.cells).
    solve_times = models.JSONField(default=list, blank=True)
    # The CSAT answers of the ticket's rounds, in round order:
    # [answered_at epoch seconds, rating, effort or None, agent id or None].
    csat_answers = models.JSONField(default=list, blank=True)
    reopened = models.BooleanField(default=False)
    public_staff_replies = models.PositiveIntegerField(default=0)
    left_tier1 = models.BooleanField(default=False)
    # Escalation records counted as escalations (not SLA warnings), by kind
    # (one column per escalation.models.Escalation.Kind) and by the tier
    # moved to: integers, so that a year of them sums in one aggregate.
    escalations_sla = models.PositiveSmallIntegerField(default=0)
    escalations_manual = models.PositiveSmallIntegerField(default=0)
    escalations_incident = models.PositiveSmallIntegerField(default=0)
    escalations_customer = models.PositiveSmallIntegerField(default=0)
    escalations_to_tier1 = models.PositiveSmallIntegerField(default=0)
    escalations_to_tier2 = models.PositiveSmallIntegerField(default=0)
    escalations_to_tier3 = models.PositiveSmallIntegerField(default=0)
    escalations_no_tier = models.PositiveSmallIntegerField(default=0)
    shown_articles = models.BooleanField(default=False)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="fact_created"),
            models.Index(fields=["solved_at"], name="fact_solved"),
            models.Index(
                fields=["sla_refresh_at"],
                name="fact_sla_refresh",
                condition=Q(sla_refresh_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Fact of ticket {self.ticket_id}"


def escalation_kind_field(kind: str) -> str:
    """The TicketFact column counting escalations of this kind."""
    return f"escalations_{kind}"


def escalation_tier_field(to_tier: int | None) -> str:
    """The TicketFact column counting escalations to this tier (None: none)."""
    return "escalations_no_tier" if to_tier is None else f"escalations_to_tier{to_tier}"


class FactRollup(models.Model):
    """The summed rollup cells (analytics.rollups.cells) of the ticket facts
    of one series (every ticket, or those of one team, category, customer
    tier, channel, priority or agent) over one aligned block of 2**level
    local days: days [block << level, (block + 1) << level) as date
    ordinals. Any range of days is the sum of at most two blocks per level
    (analytics.rollups.blocks), so a year costs a dozen rows per series,
    and a changed fact updates one block per level.

    `cells` is the non-zero cells sorted by code, compressed
    (analytics.rollups.blocks.pack); `created`, `solves` and the csat_* counts repeat
    some of them for the daily trend and CSAT by month, which read only
    those."""

    dim = models.CharField(max_length=20)
    value = models.CharField(max_length=40, blank=True)
    level = models.PositiveSmallIntegerField()
    block = models.IntegerField()
    created = models.IntegerField(default=0)
    solves = models.IntegerField(default=0)
    csat_answers = models.IntegerField(default=0)
    csat_satisfied = models.IntegerField(default=0)
    csat_rating_sum = models.IntegerField(default=0)
    cells = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dim", "value", "level", "block"], name="fact_rollup_series_block"
            ),
        ]

    def __str__(self) -> str:
        return f"Rollup {self.dim}={self.value} level {self.level} block {self.block}"


class RollupRun(models.Model):
    """When a rollup job last finished, and what it found: the catch-up of
    the ticket facts reads the tickets changed since `ran_at`; the nightly
    rebuild records how many facts it found different from what the
    catch-up had kept (0 when the facts were current)."""

    name = models.CharField(max_length=50, primary_key=True)
    ran_at = models.DateTimeField()
    tickets = models.PositiveIntegerField(default=0)
    differing = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at {self.ran_at:%Y-%m-%d %H:%M}"
