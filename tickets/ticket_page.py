"""The ticket page: what it shows (the conversation for everyone; for staff
the properties, history, related tickets, canned responses, link and merge
forms, and the side panels other apps add), and the lookups its actions
share. Every view that renders the page — the tickets app's and other apps'
(escalation's forms re-render it with their errors) — builds it here."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Exists, OuterRef, Value, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.module_loading import import_string

from tickets import canned, selectors, services
from tickets.forms import PropertiesForm, ReplyForm, TicketKeyForm
from tickets.models import OPEN_STATUSES, Attachment, Message, Ticket, User


def staff_ticket(request: HttpRequest, key: str) -> Ticket:
    """The ticket for a staff-only action: 404 when the user cannot see it (so
    nobody learns it exists), then 403 when they can see it but not work it."""
    user = selectors.logged_in_user(request)
    ticket = selectors.ticket_get_for_user(user, key)
    if not user.has_perm("tickets.work_tickets"):
        raise PermissionDenied("Only helpdesk staff can do this.")
    return ticket


def properties_form(ticket: Ticket, version: str, data: Any = None) -> PropertiesForm:
    initial = {
        "version": version,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category_id,
        "team": ticket.team_id,
        "assignee": ticket.assignee_id,
        "tags": ", ".join(t.name for t in ticket.tags.all()),
    }
    return PropertiesForm(data, initial=initial)


def _key_form(data: Any, *, auto_id: str, label: str) -> TicketKeyForm:
    form = TicketKeyForm(data, auto_id=auto_id)
    form.fields["key"].label = label
    return form


def link_form(data: Any = None) -> TicketKeyForm:
    return _key_form(data, auto_id="link_%s", label="Parent ticket")


def merge_form(data: Any = None) -> TicketKeyForm:
    return _key_form(data, auto_id="merge_%s", label="Merge this ticket into")


@cache
def _panels(paths: tuple[str, ...]) -> tuple:
    return tuple(import_string(path) for path in paths)


def ticket_panels() -> tuple:
    """Side panels other apps add to the staff ticket page
    (settings.HELPDESK_TICKET_PANELS: `panel(request, ticket) -> html`), so the
    ticket page shows SLA state without tickets importing the escalation app."""
    return _panels(tuple(settings.HELPDESK_TICKET_PANELS))


def customer_ticket_panels() -> tuple:
    """Side panels other apps add to the customer's own ticket page in the
    portal (settings.HELPDESK_CUSTOMER_TICKET_PANELS, same signature): the
    satisfaction survey of a solved ticket."""
    return _panels(tuple(getattr(settings, "HELPDESK_CUSTOMER_TICKET_PANELS", ())))


def _workspace_context(request: HttpRequest, ticket: Ticket, *, version: str, **forms: Any) -> dict:
    """What the ticket page shows staff beyond the conversation."""
    user = selectors.logged_in_user(request)
    visible = selectors.tickets_visible_to(user)
    # What the page's lists of other tickets show (no assignee: joining the
    # users table cost more to plan than the rows cost to read).
    related = visible.only("id", "subject", "status", "priority", "created_at")
    # The requester's other tickets and the linked reports, in one statement
    # where the database can limit each half of a UNION (PostgreSQL); the
    # SQLite demo asks twice.
    requesters = (
        related.filter(requester_id=ticket.requester_id)
        .exclude(pk=ticket.pk)
        .annotate(group=Value("requester"))
        .order_by("-id")[:8]
    )
    children = related.filter(parent_id=ticket.pk).annotate(group=Value("child")).order_by("-id")
    if connection.features.supports_slicing_ordering_in_compound:
        rows = list(requesters.union(children[:50], all=True))
    else:
        rows = [*requesters, *children[:50]]
    requester_tickets = [t for t in rows if t.group == "requester"]
    return {
        "events": ticket.events.select_related("actor").order_by("-created_at", "-id")[:100],
        "properties_form": forms.get("properties_form") or properties_form(ticket, version),
        "requester_open": [t for t in requester_tickets if t.status in OPEN_STATUSES],
        "requester_recent": [t for t in requester_tickets if t.status not in OPEN_STATUSES][:5],
        "parent": visible.filter(pk=ticket.parent_id).first() if ticket.parent_id else None,
        "merged_into": (
            visible.filter(pk=ticket.merged_into_id).first() if ticket.merged_into_id else None
        ),
        "children": [t for t in rows if t.group == "child"],
        "canned_responses": [
            (c, canned.render_canned(c.body, ticket=ticket, agent=user))
            for c in canned.canned_responses_for(user)
        ],
        "placeholders": canned.PLACEHOLDERS,
        "link_form": forms.get("link_form") or link_form(),
        "merge_form": forms.get("merge_form") or merge_form(),
        "stale": forms.get("stale", False),
    }


def _conversation(user: User, ticket: Ticket) -> list[Message]:
    """The messages the user may see, with their attachments read only for the
    messages that have any (most have none: no query then)."""
    messages = list(
        selectors.messages_visible_to(user, ticket)
        .prefetch_related(None)
        .annotate(has_attachments=Exists(Attachment.objects.filter(message_id=OuterRef("pk"))))
    )
    prefetch_related_objects([m for m in messages if m.has_attachments], "attachments")
    for message in messages:
        if not message.has_attachments:
            # What prefetch_related leaves for a message without attachments.
            message._prefetched_objects_cache = {"attachments": Attachment.objects.none()}
    return messages


def ticket_page_context(
    request: HttpRequest,
    ticket: Ticket,
    *,
    panel_override: tuple[Callable[..., str], str] | None = None,
    **forms: Any,
) -> dict:
    """The page's context; `forms` are bound forms to show with their errors
    (reply_form, status_form, assign_form, properties_form, link_form,
    merge_form, stale). `panel_override` is (panel, html): an app re-rendering
    its own panel with errors; the other apps' panels render as usual."""
    user = selectors.logged_in_user(request)
    is_staff = user.has_perm("tickets.work_tickets")
    version = services.ticket_version(ticket)
    context = {
        "ticket": ticket,
        "conversation": _conversation(user, ticket),
        "is_staff": is_staff,
        "reply_form": forms.get("reply_form") or ReplyForm(initial={"version": version}),
        # Errors of the forms the page does not show itself (the status and
        # assign endpoints behind buttons and scripts), shown at the top.
        "action_errors": [
            error
            for name in ("status_form", "assign_form")
            if forms.get(name) is not None
            for errors in forms[name].errors.values()
            for error in errors
        ],
    }
    if is_staff:
        context.update(_workspace_context(request, ticket, version=version, **forms))
        own, html = panel_override or (None, "")
        context["extra_panels"] = [
            html if panel is own else panel(request, ticket) for panel in ticket_panels()
        ]
    else:
        context["extra_panels"] = [panel(request, ticket) for panel in customer_ticket_panels()]
    return context


def render_ticket_page(
    request: HttpRequest, ticket: Ticket, *, status: int = 200, **context: Any
) -> HttpResponse:
    return render(
        request,
        "tickets/detail.html",
        ticket_page_context(request, ticket, **context),
        status=status,
    )
