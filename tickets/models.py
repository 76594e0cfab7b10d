"""The core helpdesk domain: organisations, people, teams, tickets, messages, history."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, Group, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.inputs import parse_id


class SupportTier(models.TextChoices):
    """The customer account's contract level; it selects the SLA policy."""

    BASIC = "basic", "Basic"
    STANDARD = "standard", "Standard"
    VIP = "vip", "VIP"


class AgentTier(models.IntegerChoices):
    TIER_1 = 1, "Tier 1 (first line)"
    TIER_2 = 2, "Tier 2 (technical)"
    TIER_3 = 3, "Tier 3 (engineering)"


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    # E-mail domain of the organisation's people ("example.com").
    domain = models.CharField(max_length=253, blank=True, db_index=True)
    # Anyone can write from an address at a domain, and membership lets them
    # read and write the organisation's tickets (sees_organization_tickets);
    # so joining by domain is each organisation's explicit choice.
    adds_senders_by_domain = models.BooleanField(
        "add unknown senders by their domain",
        default=False,
        help_text="A new e-mail sender whose address is at this domain becomes a customer "
        "of this organisation. Off: they are a customer without an organisation until "
        "someone adds them.",
    )
    support_tier = models.CharField(
        max_length=16, choices=SupportTier.choices, default=SupportTier.STANDARD
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        indexes = [
            # The ticket list's customer-tier filter (tickets.queues.customer_tier_q):
            # the organisations of one tier, then their tickets by ticket_org.
            models.Index(fields=["support_tier"], name="organization_support_tier"),
        ]

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    """Something an agent knows how to handle (login, billing, API...)."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    AGENT = "agent", "Agent"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Administrator"


# Who can be given a ticket: agents, and managers who take tickets themselves.
# Admins run the system and are not offered as assignees.
ASSIGNABLE_ROLES = (Role.AGENT, Role.MANAGER)
# The helpdesk's own people, as opposed to customers.
STAFF_ROLES = (Role.AGENT, Role.MANAGER, Role.ADMIN)


def role_group_name(role: str) -> str:
    """The group that holds a role's permissions (tickets/roles.py)."""
    return f"role:{role}"


def role_flags(role: str) -> dict[str, bool]:
    """Django's own flags that follow from a role: admins are superusers,
    admins and managers may open the Django admin."""
    return {"is_superuser": role == Role.ADMIN, "is_staff": role in (Role.ADMIN, Role.MANAGER)}


class UserQuerySet(models.QuerySet):
    def assignable(self) -> UserQuerySet:
        """People a ticket may be assigned to (the one definition: the
        assignee pickers, the API, ticket_assign and routing start here)."""
        return self.filter(is_active=True, role__in=ASSIGNABLE_ROLES)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    """People are created by tickets.services.user_create; these two entry
    points exist for Django's createsuperuser and the admin, and give the
    person their role's group and flags the same way."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("full_name", email.split("@")[0])
        role = fields.setdefault("role", Role.CUSTOMER)
        fields.update(role_flags(role))
        user = self.model(email=self.normalize_email(email).strip().lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        group, _ = Group.objects.get_or_create(name=role_group_name(role))
        user.groups.add(group)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields["role"] = Role.ADMIN
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Everybody who logs in. Logs in by e-mail; what they may do comes from the
    permissions of their role's group (tickets/roles.py), not from is_staff."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CUSTOMER)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    # Customers: may this person see every ticket of their organisation?
    sees_organization_tickets = models.BooleanField(default=False)
    # Agents (and managers who take tickets).
    tier = models.PositiveSmallIntegerField(choices=AgentTier.choices, null=True, blank=True)
    skills = models.ManyToManyField(Skill, blank=True, related_name="agents")
    teams = models.ManyToManyField(Team, blank=True, related_name="members")
    capacity = models.PositiveSmallIntegerField(
        default=0, help_text="How many open tickets this agent can hold at once (0 for non-agents)."
    )
    is_available = models.BooleanField(default=True, help_text="On shift and taking new tickets.")
    # When routing last gave this agent a ticket: the round-robin among agents
    # with the same spare capacity (tickets.routing).
    last_routed_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May log in to the Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    # Declared for the type checker only: tickets.selectors.user_team_ids sets
    # it on a loaded user as a per-object cache (hasattr tells whether it is).
    _team_ids_cache: list[int]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.CheckConstraint(
                name="customer_has_no_agent_tier",
                condition=~Q(role="customer") | Q(tier__isnull=True),
                violation_error_message="Customers have no support tier.",
            ),
            models.CheckConstraint(
                name="only_agents_have_capacity",
                condition=Q(role__in=["agent", "manager"]) | Q(capacity=0),
                violation_error_message="Only agents and managers have a ticket capacity.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER

    @property
    def is_agent_like(self) -> bool:
        """Staff of the helpdesk (agent, manager, admin) as opposed to customers."""
        return self.role in STAFF_ROLES

    @property
    def is_assignable(self) -> bool:
        """May be given tickets (UserQuerySet.assignable is the same rule in SQL)."""
        return self.is_active and self.role in ASSIGNABLE_ROLES

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()
        if self.role != Role.CUSTOMER and self.sees_organization_tickets:
            raise ValidationError({"sees_organization_tickets": "Only customers use this flag."})
        if self.role == Role.AGENT and self.tier is None:
            raise ValidationError({"tier": "Agents need a support tier."})


class Category(models.Model):
    """What a ticket is about; says which tier and skill handle it."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    required_tier = models.PositiveSmallIntegerField(
        choices=AgentTier.choices, default=AgentTier.TIER_1
    )
    skill = models.ForeignKey(Skill, null=True, blank=True, on_delete=models.SET_NULL)
    default_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    """A free label agents put on tickets ("refund", "outage-2026-03")."""

    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending (waiting on customer)"
    ON_HOLD = "on_hold", "On hold"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


# Statuses in which the ticket still needs work from the helpdesk or customer.
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
# Plain strings for index conditions (migrations serialise them as literals).
OPEN_STATUS_VALUES = [s.value for s in OPEN_STATUSES]

# The lifecycle: which status may follow which. "solved -> open" is the reopen.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.SOLVED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


class Priority(models.TextChoices):
    URGENT = "urgent", "Urgent"
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"
    LOW = "low", "Low"


class Channel(models.TextChoices):
    PORTAL = "portal", "Customer portal"
    EMAIL = "email", "E-mail"
    API = "api", "API"
    AGENT = "agent", "Agent workspace"


class Ticket(models.Model):
    subject = models.CharField(max_length=250)
    description = models.TextField()
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_tickets"
    )
    # Copied from the requester at intake so the organisation's tickets are
    # one indexed lookup, and history stays right if the person moves.
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.PORTAL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    tier = models.PositiveSmallIntegerField(choices=AgentTier.choices, default=AgentTier.TIER_1)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    # A parent incident (children are the related reports), or for a merged
    # ticket the ticket it was merged into.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    # Set by intake's classifier: how sure it was of the category, the
    # customer's tone (-1 negative .. 1 positive), and whether a person must
    # triage the ticket because the classifier was not sure enough.
    category_confidence = models.FloatField(null=True, blank=True)
    sentiment = models.FloatField(null=True, blank=True)
    # db_default: bulk loads (seed_demo COPY) that leave the column out get False.
    needs_triage = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # Every service that changes the ticket bumps it; forms carry it back as
    # the version they were rendered from (optimistic concurrency).
    updated_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    # The nearest SLA due time of a running target, kept by the escalation app
    # (escalation.clock): what "Breaching soon" sorts by.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("work_tickets", "Can work tickets as an agent"),
            ("view_all_tickets", "Can see the tickets of every team"),
            ("view_dashboards", "Can see manager dashboards"),
        ]
        indexes = [
            # Staff landing page / queues: a team's tickets in a status, newest first.
            models.Index(fields=["team", "status", "-id"], name="ticket_team_status"),
            # "My tickets": an agent's tickets in a status.
            models.Index(fields=["assignee", "status", "-id"], name="ticket_assignee_status"),
            # Customer portal: my tickets, my organisation's tickets.
            models.Index(fields=["requester", "-id"], name="ticket_requester"),
            models.Index(fields=["organization", "-id"], name="ticket_org"),
            # All-tickets view for agents who see every team, by status.
            models.Index(fields=["status", "-id"], name="ticket_status"),
            # Queues sorted by last update (tickets.queues.SORTS "updated").
            models.Index(fields=["status", "-updated_at", "-id"], name="ticket_status_updated"),
            models.Index(
                fields=["team", "status", "-updated_at", "-id"], name="ticket_team_status_updated"
            ),
            models.Index(
                fields=["assignee", "status", "-updated_at", "-id"], name="ticket_assignee_updated"
            ),
            # Filters of the queue page.
            models.Index(fields=["category", "-id"], name="ticket_category"),
            # Impact escalation: a category's tickets in a time range (the
            # window and the baseline before it, escalation.detection).
            models.Index(fields=["category", "created_at"], name="ticket_category_created"),
            models.Index(fields=["priority", "status", "-id"], name="ticket_priority"),
            models.Index(fields=["channel", "-id"], name="ticket_channel"),
            models.Index(fields=["tier", "status", "-id"], name="ticket_tier"),
            models.Index(fields=["updated_at"], name="ticket_updated"),
            models.Index(
                fields=["parent"], name="ticket_parent", condition=Q(parent__isnull=False)
            ),
            # Every queue holds open tickets only (a few % of all tickets): these
            # partial indexes let ascending sorts, deep pages and updated-sorted
            # cursors walk the open set instead of the whole closed history.
            models.Index(
                fields=["-id"],
                name="ticket_open_id",
                condition=Q(status__in=OPEN_STATUS_VALUES),
            ),
            models.Index(
                fields=["-updated_at", "-id"],
                name="ticket_open_updated",
                condition=Q(status__in=OPEN_STATUS_VALUES),
            ),
            # The triage queue: open tickets the classifier left for a person.
            models.Index(
                fields=["-id"],
                name="ticket_triage",
                condition=Q(needs_triage=True, status__in=OPEN_STATUS_VALUES),
            ),
            # Analytics scans by creation time.
            models.Index(fields=["created_at"], name="ticket_created"),
            # "Breaching soon" and the "SLA due soonest" sort: open tickets by
            # due time; ascending puts the ones without a due time last, as the
            # sort does (PostgreSQL's NULLS LAST default).
            models.Index(
                fields=["sla_due_at", "id"],
                name="ticket_open_due",
                condition=Q(status__in=OPEN_STATUS_VALUES),
            ),
            # A team's open tickets by id and by last update: the agent's team
            # queue with many open tickets (the status IN list of the older
            # team indexes cannot be walked in order).
            models.Index(
                fields=["team", "-id"],
                name="ticket_team_open_id",
                condition=Q(status__in=OPEN_STATUS_VALUES),
            ),
            models.Index(
                fields=["team", "-updated_at", "-id"],
                name="ticket_team_open_updated",
                condition=Q(status__in=OPEN_STATUS_VALUES),
            ),
            # Created-date filters on the queues (all of which hold open tickets).
            models.Index(
                fields=["created_at"],
                name="ticket_open_created",
                condition=Q(status__in=OPEN_STATUS_VALUES),
            ),
            # The ticket list's solved_from/solved_to filter (the dashboard's
            # drill-down from a count of solved tickets): final solve time.
            models.Index(
                fields=["solved_at"],
                name="ticket_solved",
                condition=Q(solved_at__isnull=False),
            ),
            # The "SLA due soonest" sort of the any-status queue (every ticket;
            # the open queues walk the partial ticket_open_due): ascending puts
            # the tickets without a due time last, by id, as the sort does.
            models.Index(fields=["sla_due_at", "id"], name="ticket_due"),
        ]
        constraints = [
            models.CheckConstraint(
                name="solved_ticket_has_solved_at",
                condition=~Q(status__in=["solved", "closed"]) | Q(solved_at__isnull=False),
            ),
            models.CheckConstraint(
                name="closed_ticket_has_closed_at",
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
            ),
            models.CheckConstraint(
                name="ticket_not_own_parent", condition=~Q(parent=models.F("id"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.subject}"

    @property
    def key(self) -> str:
        return format_ticket_key(self.pk)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("tickets:detail", kwargs={"key": self.key})

    def get_full_url(self) -> str:
        """The ticket page's address for e-mails (HELPDESK_SITE_URL + path)."""
        return f"{settings.HELPDESK_SITE_URL.rstrip('/')}{self.get_absolute_url()}"


def format_ticket_key(pk: int | None) -> str:
    """HD-1042: the human key is the primary key behind a configurable prefix."""
    return f"{settings.HELPDESK_TICKET_KEY_PREFIX}-{pk}"


def parse_ticket_key(key: str) -> int | None:
    """The primary key in a human key ("HD-1042", "hd-1042" or "1042"), or None
    for anything else ("HD-²", a NUL, a number past the bigint range)."""
    prefix = settings.HELPDESK_TICKET_KEY_PREFIX.upper() + "-"
    text = key.strip().upper()
    if text.startswith(prefix):
        text = text[len(prefix) :]
    if text != text.strip():
        return None  # "HD- 1" is not a key
    return parse_id(text)


class CannedResponse(models.Model):
    """A reusable reply. Team responses are shared with the team; personal ones
    (owner set) only with their owner. Placeholders: see tickets.canned."""

    title = models.CharField(max_length=120)
    body = models.TextField()
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_responses"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_responses",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                name="canned_is_team_or_personal",
                condition=Q(team__isnull=True, owner__isnull=False)
                | Q(team__isnull=False, owner__isnull=True),
                violation_error_message="A canned response belongs to a team or to one person.",
            )
        ]

    def __str__(self) -> str:
        return self.title


class SavedView(models.Model):
    """An agent's named queue + filters, kept as the list page's query string."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


# How a message the helpdesk wrote itself is signed.
SYSTEM_AUTHOR = "Helpdesk (automatic)"


class Message(models.Model):
    """One entry in a ticket's conversation: a public reply or an internal note."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    # Empty for what the helpdesk writes itself (an SLA hand-over note).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
    )
    is_internal = models.BooleanField(
        default=False, help_text="Internal notes are visible to the helpdesk staff only."
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.PORTAL)
    body = models.TextField()
    # RFC 5322 Message-ID for e-mail threading (set for mail in and out).
    email_message_id = models.CharField(max_length=255, blank=True, default="")
    # When a public staff message was e-mailed to the requester (set by the
    # outbox when its mail is sent).
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The ticket page's conversation, in order.
            models.Index(fields=["ticket", "created_at"], name="message_ticket_created"),
            # Staffing's handling time (analytics.staffing.selectors): each
            # staff author's messages in a time range, in order, without
            # scanning every message.
            models.Index(fields=["author", "created_at"], name="message_author_created"),
            # Threading an inbound reply by its In-Reply-To header.
            models.Index(
                fields=["email_message_id"],
                name="message_email_id",
                condition=~Q(email_message_id=""),
            ),
        ]

    def __str__(self) -> str:
        kind = "note" if self.is_internal else "reply"
        return f"{kind} on {format_ticket_key(self.ticket_id)} by {self.author_id}"

    @property
    def author_name(self) -> str:
        return self.author.full_name if self.author is not None else SYSTEM_AUTHOR


def attachment_path(instance: Attachment, filename: str) -> str:
    now = timezone.now()
    return f"attachments/{now:%Y/%m}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=500)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class TicketEvent(models.Model):
    """Append-only history of every change to a ticket: the audit trail and the
    raw material of analytics. Written by tickets.services only."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty for changes made by the system.",
    )
    # Dotted action name: ticket.created, ticket.status_changed, ticket.assigned...
    action = models.CharField(max_length=64)
    field = models.CharField(max_length=64, blank=True, default="")
    old_value = models.CharField(max_length=255, blank=True, default="")
    new_value = models.CharField(max_length=255, blank=True, default="")
    note = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The ticket page's history panel.
            models.Index(fields=["ticket", "created_at"], name="event_ticket_created"),
            # Analytics: all events of one kind in a time range.
            models.Index(fields=["action", "created_at"], name="event_action_created"),
            # Analytics: the solves per day, week or month of the dashboard's
            # trend (analytics.metrics.created_vs_solved), an index-only scan.
            models.Index(
                fields=["created_at"],
                name="event_solves",
                condition=Q(
                    action__in=["ticket.status_changed", "ticket.reopened"],
                    field="status",
                    new_value="solved",
                ),
            ),
            # The ticket list's SLA-breached, escalated and reopened filters
            # (tickets.queues.OUTCOME_ACTIONS): the tickets with such an event,
            # by action and SLA target, from a small partial index.
            models.Index(
                fields=["action", "field", "ticket"],
                name="event_outcome",
                condition=Q(
                    action__in=[
                        "ticket.reopened",
                        "sla.breach",
                        "ticket.tier_changed",
                        "ticket.customer_escalation",
                    ]
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} on {format_ticket_key(self.ticket_id)}"

    def save(self, *args, **kwargs) -> None:
        # History is append-only: an existing row is never rewritten.
        if self.pk is not None and not self._state.adding:
            raise ValidationError("Ticket history is append-only; events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Ticket history is append-only; events cannot be deleted.")


class KeywordRule(models.Model):
    """A manager's rule: a phrase in a new ticket sets its category (and
    optionally its priority). Applies when no trained model is sure enough."""

    phrase = models.CharField(max_length=100)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="keyword_rules")
    priority = models.CharField(max_length=16, choices=Priority.choices, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["phrase"]

    def __str__(self) -> str:
        return f"\u201c{self.phrase}\u201d \u2192 {self.category}"


class ClassifierModel(models.Model):
    """One trained version of the ticket classifier, with its measured quality.
    The artifact is stored through Django's storage API."""

    version = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=200, help_text="resolved tickets, or the CSV trained on")
    samples = models.PositiveIntegerField(default=0)
    accuracy = models.FloatField(null=True, blank=True)
    macro_f1 = models.FloatField(null=True, blank=True)
    eval_samples = models.PositiveIntegerField(
        default=0, help_text="examples the figures were measured on (held out from training)"
    )
    # The version that was active when this one was trained, measured on the
    # same held-out examples: the comparison that decided the activation.
    baseline_version = models.PositiveIntegerField(null=True, blank=True)
    baseline_accuracy = models.FloatField(null=True, blank=True)
    baseline_macro_f1 = models.FloatField(null=True, blank=True)
    labels = models.JSONField(default=list)
    artifact = models.FileField(upload_to="classifier/", max_length=300)
    is_active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_classifier"
            )
        ]

    def __str__(self) -> str:
        return f"classifier v{self.version}"


class Mailbox(models.Model):
    """An address customers write to (support@, billing@): where its mail lands."""

    address = models.EmailField(unique=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["address"]
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return self.address


class InboundEmail(models.Model):
    """Every message received, kept with what intake did with it, so nothing is
    lost and a failure is visible. The Message-ID makes a redelivery harmless."""

    class Outcome(models.TextChoices):
        CREATED = "created", "Opened a ticket"
        THREADED = "threaded", "Added to a ticket"
        IGNORED = "ignored", "Ignored (auto-reply, bounce or loop)"
        FAILED = "failed", "Failed"

    message_id = models.CharField(max_length=255, unique=True)
    received_at = models.DateTimeField(default=timezone.now)
    sender = models.CharField(max_length=254, blank=True, default="")
    subject = models.CharField(max_length=255, blank=True, default="")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason = models.CharField(max_length=255, blank=True, default="")
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_emails"
    )
    raw = models.FileField(upload_to="inbound/%Y/%m/", max_length=300)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["outcome", "-received_at"], name="inbound_outcome")]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.outcome})"


class Deflection(models.Model):
    """A customer said a suggested article answered their question while they
    were writing a request, so no ticket was needed. The article is referenced
    by the provider's own id (tickets does not import the knowledge base)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    query = models.CharField(max_length=500)
    article_ref = models.CharField(max_length=100)
    article_title = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="deflection_created")]

    def __str__(self) -> str:
        return f"{self.article_title} ({self.created_at:%Y-%m-%d})"


class ShownArticle(models.Model):
    """An article the portal suggested while the customer wrote the request
    that became this ticket: it did not deflect it. With Deflection it gives
    the self-service rate (deflections / (deflections + tickets shown
    suggestions)) and the articles that fail to deflect. Referenced by the
    provider's id, as Deflection does; written by intake with the ticket."""

    # The unique constraint below serves the ticket's lookups: no index of its own.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="shown_articles", db_index=False
    )
    article_ref = models.CharField(max_length=100)
    article_title = models.CharField(max_length=255)
    # 1 = the first suggestion (the best rank it was shown at).
    position = models.PositiveSmallIntegerField()
    # When the portal first showed it to the customer.
    shown_at = models.DateTimeField()

    class Meta:
        ordering = ["ticket", "position"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "article_ref"], name="shown_article_once")
        ]
        # Analytics counts what was shown in a period (beside deflection_created).
        indexes = [models.Index(fields=["shown_at"], name="shown_article_shown_at")]

    def __str__(self) -> str:
        return f"{self.article_title} shown on {self.ticket_id}"


class OutboundEmail(models.Model):
    """One e-mail the helpdesk owes somebody: the outbox, for every mail the
    product sends (acknowledgements, replies, merge notices, SLA and
    escalation notifications, proactive updates).

    A row is written in the same transaction as the change that caused it,
    so a rolled-back change sends nothing and a committed one cannot lose its
    mail. tickets.email.outbox sends it after the commit: a sender claims the
    row (QUEUED -> SENDING, committed), talks to the mail server outside any
    transaction, then marks it SENT, or QUEUED again with the error and a
    retry time, or FAILED after the last attempt; failures show in the admin
    and in the ticket's history. A beat sweep sends rows whose enqueue was
    lost or whose sender died (SENDING past its lease)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    # What the mail is, by the dotted name of what caused it: "ticket.acknowledgement",
    # "ticket.reply", "sla.warning", "sla.breach", "escalation.customer",
    # "incident.opened", "sla.proactive_update"... An open set: apps built on
    # tickets add their own.
    kind = models.CharField(max_length=40)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="outbound_emails"
    )
    # The conversation entry the mail carries, if any: its emailed_at is set
    # when the mail is sent.
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="outbound_emails"
    )
    # Who the recipient is to the ticket: customer, assignee, team_lead, manager.
    audience = models.CharField(max_length=20, blank=True, default="")
    recipient = models.EmailField()
    subject = models.CharField(max_length=250)
    body = models.TextField()
    # Message-ID, threading and auto-reply headers, fixed when the row is
    # written so a re-send is the same mail (mail clients drop the duplicate).
    headers = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    # QUEUED: when the sweep should send it if nobody has (a lost enqueue, or
    # the retry time after an error); SENDING: when the claim's lease runs
    # out (the sender died); empty once SENT or FAILED.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outbound e-mail"
        indexes = [
            # The outbox sweep: rows still owed, by when they are due
            # (tickets.email.outbox.claim_due).
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_due",
                condition=Q(state__in=["queued", "sending"]),
            ),
            # The admin's and the ticket page's failed mail.
            models.Index(fields=["-created_at"], name="outbox_failed", condition=Q(state="failed")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient}: {self.subject}"


def _default_shift_zone() -> str:
    return settings.TIME_ZONE


class AgentShift(models.Model):
    """One weekly working slot of an agent: every `weekday`, from `starts` to
    `ends` in `time_zone` (local wall-clock time, so a shift stays 09:00-17:00
    across a DST change). `ends` at or before `starts` runs past midnight into
    the next day (22:00-06:00); 00:00 is midnight at the end of the day.

    The staffing view counts who is scheduled per hour; whether someone is
    taking tickets right now is `User.is_available`. Holidays and one-off
    absences are not modelled: this is the planned roster, not attendance."""

    WEEKDAYS = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"),
                (4, "Friday"), (5, "Saturday"), (6, "Sunday")]  # fmt: skip

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shifts"
    )
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    starts = models.TimeField()
    ends = models.TimeField(help_text="At or before the start: the shift ends the next day.")
    time_zone = models.CharField(
        max_length=64, default=_default_shift_zone, help_text="IANA name, e.g. Europe/Berlin."
    )

    class Meta:
        ordering = ["agent", "weekday", "starts"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "weekday", "starts"], name="agentshift_unique_start"
            ),
        ]

    def clean(self) -> None:
        from zoneinfo import available_timezones

        if self.time_zone not in available_timezones():
            raise ValidationError({"time_zone": f"Unknown time zone {self.time_zone!r}."})
        if self.agent_id is not None and self.agent.role not in ASSIGNABLE_ROLES:
            raise ValidationError({"agent": "Only agents and managers work shifts."})

    def __str__(self) -> str:
        return f"{self.agent} {self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"
