import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import make_ticket, make_user
from tickets import services
from tickets.errors import DomainError
from tickets.intake import intake_ticket
from tickets.models import (
    Attachment,
    Message,
    OutboundEmail,
    Role,
    Status,
    Ticket,
    TicketEvent,
)


def actions(ticket):
    return list(ticket.events.order_by("id").values_list("action", flat=True))


# --- people -----------------------------------------------------------------


def test_user_create_puts_user_in_role_group_with_permissions(db):
    agent = make_user(Role.AGENT)
    assert agent.groups.filter(name="role:agent").exists()
    assert agent.has_perm("tickets.work_tickets")
    assert not agent.has_perm("tickets.view_all_tickets")
    customer = make_user(Role.CUSTOMER)
    assert not customer.has_perm("tickets.work_tickets")
    manager = make_user(Role.MANAGER)
    assert manager.has_perm("tickets.view_all_tickets")
    assert manager.has_perm("tickets.view_dashboards")


def test_user_create_normalises_email_and_refuses_duplicates(db):
    user = make_user(Role.CUSTOMER, email="Mixed.Case@Example.TEST")
    assert user.email == "mixed.case@example.test"
    with pytest.raises(DomainError) as exc:
        make_user(Role.CUSTOMER, email="mixed.case@example.test")
    assert exc.value.field == "email"


def test_agent_needs_a_tier(db):
    with pytest.raises(DomainError) as exc:
        services.user_create(email="x@example.test", role=Role.AGENT, tier=None)
    assert exc.value.field == "tier"


def test_user_set_role_moves_permissions(db):
    user = make_user(Role.CUSTOMER)
    services.user_set_role(user=user, role=Role.ADMIN)
    user.refresh_from_db()
    assert user.is_superuser and user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == ["role:admin"]
    services.user_set_role(user=user, role=Role.CUSTOMER)
    user.refresh_from_db()
    assert not user.is_superuser and not user.is_staff
    assert not user.has_perm("tickets.work_tickets")


# --- ticket_create ------------------------------------------------------------


def test_create_writes_ticket_first_message_and_history(
    customer, login_category, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        ticket = services.ticket_create(
            requester=customer,
            subject="  Locked out  ",
            description="I cannot log in since this morning.",
            category=login_category,
        )
    assert ticket.key == f"HD-{ticket.pk}"
    assert ticket.subject == "Locked out"
    assert ticket.status == Status.NEW
    assert ticket.organization == customer.organization
    assert ticket.category == login_category
    first = ticket.messages.get()
    assert first.author == customer and first.body == ticket.description
    assert actions(ticket) == ["ticket.created"]
    # Storing a ticket sends nothing (intake's acknowledge step does).
    assert len(callbacks) == 0


@pytest.mark.parametrize(
    ("subject", "description", "field"),
    [("", "text", "subject"), ("   ", "text", "subject"), ("Help", "", "description")],
)
def test_create_refuses_missing_text_and_writes_nothing(customer, subject, description, field):
    with pytest.raises(DomainError) as exc:
        services.ticket_create(requester=customer, subject=subject, description=description)
    assert exc.value.field == field
    assert Ticket.objects.count() == 0
    assert Message.objects.count() == 0


def test_create_with_bad_attachment_writes_nothing(customer, settings):
    settings.HELPDESK_ATTACHMENT_MAX_BYTES = 10
    big = SimpleUploadedFile("log.txt", b"x" * 11, content_type="text/plain")
    with pytest.raises(DomainError, match="too large"):
        services.ticket_create(requester=customer, subject="s", description="d", attachments=[big])
    exe = SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload")
    with pytest.raises(DomainError, match="not accepted"):
        services.ticket_create(requester=customer, subject="s", description="d", attachments=[exe])
    assert Ticket.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_create_stores_attachment_through_storage(customer):
    upload = SimpleUploadedFile("screen.png", b"\x89PNG\r\n\x1a\nfake", content_type="image/png")
    ticket = services.ticket_create(
        requester=customer, subject="s", description="d", attachments=[upload]
    )
    attachment = Attachment.objects.get(message__ticket=ticket)
    assert attachment.filename == "screen.png"
    assert attachment.size == 12
    assert attachment.content_type == "image/png"
    with attachment.file.open("rb") as fh:
        assert fh.read().startswith(b"\x89PNG")


def test_create_refuses_unknown_priority(customer):
    with pytest.raises(DomainError) as exc:
        services.ticket_create(requester=customer, subject="s", description="d", priority="meh")
    assert exc.value.field == "priority"


# --- reply ------------------------------------------------------------------


def test_first_public_staff_reply_sets_first_response_and_opens(customer, agent):
    ticket = make_ticket(requester=customer)
    services.ticket_reply(ticket=ticket, author=agent, body="Internal look", is_internal=True)
    ticket.refresh_from_db()
    assert ticket.first_response_at is None and ticket.status == Status.NEW
    services.ticket_reply(ticket=ticket, author=agent, body="Please try the reset link.")
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None
    assert ticket.status == Status.OPEN
    first = ticket.first_response_at
    services.ticket_reply(ticket=ticket, author=agent, body="Any news?")
    ticket.refresh_from_db()
    assert ticket.first_response_at == first
    assert actions(ticket) == [
        "ticket.created",
        "ticket.note_added",
        "ticket.replied",
        "ticket.first_response",
        "ticket.status_changed",
        "ticket.replied",
    ]


def test_reply_and_set_pending_in_one_step(customer, agent):
    ticket = make_ticket(requester=customer)
    services.ticket_reply(
        ticket=ticket, author=agent, body="Could you send a screenshot?", status=Status.PENDING
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING


def test_customer_reply_reopens_pending_and_solved(customer, agent):
    ticket = make_ticket(requester=customer)
    services.ticket_reply(ticket=ticket, author=agent, body="Screenshot?", status=Status.PENDING)
    services.ticket_reply(ticket=ticket, author=customer, body="Here it is")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    services.ticket_change_status(ticket=ticket, status=Status.SOLVED, actor=agent)
    services.ticket_reply(ticket=ticket, author=customer, body="Still broken")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.solved_at is None
    assert "ticket.reopened" in actions(ticket)


def test_customer_cannot_add_internal_note(customer):
    ticket = make_ticket(requester=customer)
    with pytest.raises(DomainError):
        services.ticket_reply(ticket=ticket, author=customer, body="x", is_internal=True)
    assert ticket.messages.count() == 1


def test_reply_to_closed_ticket_is_refused(customer, agent):
    ticket = make_ticket(requester=customer)
    services.ticket_change_status(ticket=ticket, status=Status.SOLVED, actor=agent)
    services.ticket_change_status(ticket=ticket, status=Status.CLOSED, actor=agent)
    with pytest.raises(DomainError, match="closed"):
        services.ticket_reply(ticket=ticket, author=customer, body="hello?")
    assert ticket.messages.count() == 1


def test_empty_reply_is_refused(customer, agent):
    ticket = make_ticket(requester=customer)
    with pytest.raises(DomainError) as exc:
        services.ticket_reply(ticket=ticket, author=agent, body="   ")
    assert exc.value.field == "body"


# --- status -------------------------------------------------------------------


def test_status_lifecycle_sets_timestamps_and_history(customer, agent):
    ticket = make_ticket(requester=customer)
    for status in (Status.OPEN, Status.ON_HOLD, Status.PENDING, Status.SOLVED):
        services.ticket_change_status(ticket=ticket, status=status, actor=agent)
    ticket.refresh_from_db()
    assert ticket.solved_at is not None
    services.ticket_change_status(ticket=ticket, status=Status.CLOSED, actor=agent)
    ticket.refresh_from_db()
    assert ticket.closed_at is not None
    changes = list(
        ticket.events.filter(field="status").order_by("id").values_list("old_value", "new_value")
    )
    assert changes == [
        ("new", "open"),
        ("open", "on_hold"),
        ("on_hold", "pending"),
        ("pending", "solved"),
        ("solved", "closed"),
    ]
    # closing a solved ticket is not a reopen
    assert not ticket.events.filter(action="ticket.reopened").exists()


@pytest.mark.parametrize(
    ("start", "target"), [("closed", "open"), ("open", "closed"), ("new", "closed")]
)
def test_illegal_transitions_are_refused(customer, agent, start, target):
    ticket = make_ticket(requester=customer)
    path = {"closed": [Status.SOLVED, Status.CLOSED], "open": [Status.OPEN], "new": []}[start]
    for status in path:
        services.ticket_change_status(ticket=ticket, status=status, actor=agent)
    with pytest.raises(DomainError) as exc:
        services.ticket_change_status(ticket=ticket, status=target, actor=agent)
    assert exc.value.field == "status"
    ticket.refresh_from_db()
    assert ticket.status == start


def test_customer_may_solve_and_reopen_but_not_hold(customer):
    ticket = make_ticket(requester=customer)
    with pytest.raises(DomainError):
        services.ticket_change_status(ticket=ticket, status=Status.ON_HOLD, actor=customer)
    services.ticket_change_status(ticket=ticket, status=Status.SOLVED, actor=customer)
    services.ticket_change_status(ticket=ticket, status=Status.OPEN, actor=customer)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


# --- assign / update ------------------------------------------------------------


def test_assign_records_old_and_new(customer, agent, other_agent):
    ticket = make_ticket(requester=customer)
    services.ticket_assign(ticket=ticket, assignee=agent, actor=agent)
    services.ticket_assign(ticket=ticket, assignee=other_agent, actor=agent)
    services.ticket_assign(ticket=ticket, assignee=None, actor=agent)
    rows = list(
        ticket.events.filter(field="assignee")
        .order_by("id")
        .values_list("action", "old_value", "new_value")
    )
    assert rows == [
        ("ticket.assigned", "", agent.email),
        ("ticket.assigned", agent.email, other_agent.email),
        ("ticket.unassigned", other_agent.email, ""),
    ]


def test_assigning_again_to_same_agent_records_nothing(customer, agent):
    ticket = make_ticket(requester=customer)
    services.ticket_assign(ticket=ticket, assignee=agent, actor=agent)
    services.ticket_assign(ticket=ticket, assignee=agent, actor=agent)
    assert ticket.events.filter(action="ticket.assigned").count() == 1


def test_customers_cannot_be_assignees_or_assign(customer, colleague, agent):
    ticket = make_ticket(requester=customer)
    with pytest.raises(DomainError):
        services.ticket_assign(ticket=ticket, assignee=colleague, actor=agent)
    with pytest.raises(DomainError):
        services.ticket_assign(ticket=ticket, assignee=agent, actor=customer)
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_update_records_each_changed_field(customer, agent, billing_category):
    ticket = make_ticket(requester=customer)
    services.ticket_update(
        ticket=ticket,
        actor=agent,
        priority="urgent",
        category=billing_category,
        subject=ticket.subject,
    )
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    assert ticket.category == billing_category
    changed = set(ticket.events.exclude(action="ticket.created").values_list("field", flat=True))
    # A person's category places the ticket with that category's team too.
    assert changed == {"priority", "category", "team"}
    assert ticket.team == billing_category.default_team


def test_update_refuses_customers_and_unknown_fields(customer, agent):
    ticket = make_ticket(requester=customer)
    with pytest.raises(DomainError):
        services.ticket_update(ticket=ticket, actor=customer, priority="urgent")
    with pytest.raises(DomainError):
        services.ticket_update(ticket=ticket, actor=agent, requester=agent)
    with pytest.raises(DomainError):
        services.ticket_update(ticket=ticket, actor=agent, priority="whenever")


# --- acknowledgement ------------------------------------------------------------


def test_acknowledgement_is_queued_at_intake_and_sent_once(customer, send_queued_mail):
    ticket = intake_ticket(
        requester=customer, subject="Locked out", description="Help", channel="portal"
    )
    row = OutboundEmail.objects.get(ticket=ticket)
    assert row.kind == "ticket.acknowledgement" and row.state == OutboundEmail.State.QUEUED
    assert len(send_queued_mail().sent) == 1
    assert send_queued_mail().sent == []
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [customer.email]
    assert ticket.key in mail.outbox[0].subject
    assert TicketEvent.objects.filter(ticket=ticket, action="ticket.acknowledged").count() == 1


def test_only_customers_get_an_acknowledgement(customer, agent, manager):
    """The helpdesk does not acknowledge its own people's tickets."""
    for requester in (customer, agent, manager):
        intake_ticket(requester=requester, subject="s", description="d", channel="agent")
    assert list(OutboundEmail.objects.values_list("recipient", flat=True)) == [customer.email]


def test_tickets_hand_over_moves_several_tickets_up_a_tier(customer, agent, access_team):
    senior = make_user(Role.AGENT, full_name="Sam Senior", tier=2, teams=[access_team])
    first = make_ticket(requester=customer, subject="one", team=access_team)
    second = make_ticket(requester=customer, subject="two", team=access_team)
    done = make_ticket(requester=customer, subject="three", team=access_team)
    services.ticket_assign(ticket=first, assignee=agent, actor=agent)
    services.ticket_assign(ticket=second, assignee=senior, actor=senior)
    services.ticket_change_status(ticket=done, status=Status.SOLVED, actor=agent)
    waiting = services.tickets_hand_over(
        [
            services.HandOver(first.pk, 2, "SLA breached", note="Summary one", author_id=agent.pk),
            services.HandOver(
                second.pk, 2, "SLA breached", note="Summary two", author_id=senior.pk
            ),
            services.HandOver(done.pk, 2, "SLA breached", note="ignored", author_id=agent.pk),
        ]
    )
    assert waiting == [first.pk]  # Alice (Tier 1) lost it; Sam (Tier 2) keeps his
    first, second, done = (Ticket.objects.get(pk=t.pk) for t in (first, second, done))
    assert (first.tier, first.assignee_id) == (2, None)
    assert (second.tier, second.assignee_id) == (2, senior.pk)
    assert done.tier == 1  # solved tickets are not handed over
    assert Message.objects.get(ticket=first, is_internal=True).body == "Summary one"
    assert not Message.objects.filter(ticket=done, is_internal=True).exists()
    actions = set(TicketEvent.objects.filter(ticket=first).values_list("action", flat=True))
    assert {"ticket.note_added", "ticket.tier_changed", "ticket.unassigned"} <= actions
