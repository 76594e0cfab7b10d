"""Staff-only parts of the agent workspace: the ticket page's side panels and
the actions behind them (properties in place, link, merge, presence), bulk
actions on a queue, and saved views. Every ticket goes through the access
helper; every write through tickets.services."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tickets import canned, presence, selectors, services
from tickets.errors import DomainError
from tickets.forms import PropertiesForm, SavedViewForm, TicketKeyForm
from tickets.models import OPEN_STATUSES, SavedView, Status, Ticket

staff_required = permission_required("tickets.work_tickets", raise_exception=True)


def _staff_ticket(request: HttpRequest, key: str) -> Ticket:
    """The ticket for a staff-only action: 404 when the user cannot see it (so
    nobody learns it exists), then 403 when they can see it but not work it."""
    ticket = selectors.ticket_get_for_user(request.user, key)
    if not request.user.has_perm("tickets.work_tickets"):
        raise PermissionDenied("Only helpdesk staff can do this.")
    return ticket


def _properties_form(ticket: Ticket, version: str, data=None) -> PropertiesForm:
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


def _key_form(data, *, auto_id: str, label: str) -> TicketKeyForm:
    form = TicketKeyForm(data, auto_id=auto_id)
    form.fields["key"].label = label
    return form


def _link_form(data=None) -> TicketKeyForm:
    return _key_form(data, auto_id="link_%s", label="Parent ticket")


def _merge_form(data=None) -> TicketKeyForm:
    return _key_form(data, auto_id="merge_%s", label="Merge this ticket into")


def workspace_context(request: HttpRequest, ticket: Ticket, *, version: str, **forms) -> dict:
    """What the ticket page shows staff beyond the conversation."""
    user = request.user
    visible = selectors.tickets_visible_to(user)
    related = visible.select_related("assignee").only(
        "id", "subject", "status", "priority", "created_at", "assignee__full_name"
    )
    requester_tickets = list(
        related.filter(requester_id=ticket.requester_id).exclude(pk=ticket.pk).order_by("-id")[:8]
    )
    return {
        "events": ticket.events.select_related("actor").order_by("-created_at", "-id")[:100],
        "properties_form": forms.get("properties_form") or _properties_form(ticket, version),
        "requester_open": [t for t in requester_tickets if t.status in OPEN_STATUSES],
        "requester_recent": [t for t in requester_tickets if t.status not in OPEN_STATUSES][:5],
        "parent": visible.filter(pk=ticket.parent_id).first() if ticket.parent_id else None,
        "merged_into": (
            visible.filter(pk=ticket.merged_into_id).first() if ticket.merged_into_id else None
        ),
        "children": list(related.filter(parent_id=ticket.pk).order_by("-id")[:50]),
        "canned_responses": [
            (c, canned.render_canned(c.body, ticket=ticket, agent=user))
            for c in canned.canned_responses_for(user)
        ],
        "placeholders": canned.PLACEHOLDERS,
        "link_form": forms.get("link_form") or _link_form(),
        "merge_form": forms.get("merge_form") or _merge_form(),
        "stale": forms.get("stale", False),
    }


def _rerender(request, ticket, **forms) -> HttpResponse:
    from tickets.views import _detail_context

    return render(
        request, "tickets/detail.html", _detail_context(request, ticket, **forms), status=400
    )


@login_required
@require_POST
def ticket_properties(request: HttpRequest, key: str) -> HttpResponse:
    ticket = _staff_ticket(request, key)
    form = _properties_form(ticket, services.ticket_version(ticket), request.POST)
    htmx = request.headers.get("HX-Request") == "true"
    if form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.ticket_set_properties(
                ticket=ticket,
                actor=request.user,
                expected_version=data["version"],
                status=data["status"],
                priority=data["priority"],
                category=data["category"],
                team=data["team"],
                assignee=data["assignee"],
                tags=data["tags"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if not htmx:
                messages.success(request, "Ticket updated.")
                return redirect(ticket)
            ticket = selectors.ticket_get_for_user(request.user, key)
            form = _properties_form(ticket, services.ticket_version(ticket))
            return render(
                request,
                "tickets/_properties_fields.html",
                {"ticket": ticket, "properties_form": form, "saved": True},
            )
    if htmx:
        return render(
            request,
            "tickets/_properties_fields.html",
            {"ticket": ticket, "properties_form": form},
            status=400,
        )
    return _rerender(request, ticket, properties_form=form)


def _other_ticket(request: HttpRequest, form: TicketKeyForm) -> Ticket | None:
    """The ticket a key form names, if this user may see it."""
    try:
        return selectors.ticket_get_for_user(request.user, form.cleaned_data["key"])
    except Http404:
        form.add_error("key", f"No ticket {form.cleaned_data['key']} that you can see.")
        return None


def _with_other_ticket(
    request: HttpRequest,
    ticket: Ticket,
    form: TicketKeyForm,
    *,
    form_name: str,
    act: Callable[[Ticket], tuple[str, Ticket]],
) -> HttpResponse:
    """The flow shared by link and merge: validate the key form, find the
    ticket it names through the access helper, then `act(other)` calls the
    service and returns the success message and the ticket to go to. A domain
    refusal becomes an error on the key field and the page is shown again
    (400) with the form under `form_name`."""
    other = _other_ticket(request, form) if form.is_valid() else None
    if other is not None:
        try:
            message, destination = act(other)
        except DomainError as exc:
            form.add_error("key", exc.message)
        else:
            messages.success(request, message)
            return redirect(destination)
    return _rerender(request, ticket, **{form_name: form})


@login_required
@require_POST
def ticket_link(request: HttpRequest, key: str) -> HttpResponse:
    ticket = _staff_ticket(request, key)
    if request.POST.get("unlink"):
        services.ticket_link(child=ticket, parent=None, actor=request.user)
        messages.success(request, "Link removed.")
        return redirect(ticket)

    def link(parent: Ticket) -> tuple[str, Ticket]:
        services.ticket_link(child=ticket, parent=parent, actor=request.user)
        return f"Linked to parent {parent.key}.", ticket

    form = _link_form(request.POST)
    return _with_other_ticket(request, ticket, form, form_name="link_form", act=link)


@login_required
@require_POST
def ticket_merge(request: HttpRequest, key: str) -> HttpResponse:
    source = _staff_ticket(request, key)

    def merge(target: Ticket) -> tuple[str, Ticket]:
        services.ticket_merge(source=source, target=target, actor=request.user)
        return f"{source.key} was merged into {target.key}.", target

    form = _merge_form(request.POST)
    return _with_other_ticket(request, source, form, form_name="merge_form", act=merge)


@login_required
@require_POST
def ticket_presence(request: HttpRequest, key: str) -> HttpResponse:
    """Polled by the ticket page: report this agent, show the others."""
    ticket = _staff_ticket(request, key)
    if request.POST.get("state") == "left":
        presence.presence_leave(ticket_id=ticket.pk, user=request.user)
        return HttpResponse(status=204)
    others = presence.presence_report(
        ticket_id=ticket.pk, user=request.user, state=request.POST.get("state", "viewing")
    )
    changed = request.POST.get("version") not in (None, "", services.ticket_version(ticket))
    return render(
        request, "tickets/_presence.html", {"others": others, "changed": changed, "ticket": ticket}
    )


# --- bulk actions ---------------------------------------------------------------

BULK_ACTIONS = ("assign", "status", "priority", "tag", "merge")


@login_required
@staff_required
@require_POST
def bulk_action(request: HttpRequest) -> HttpResponse:
    """Apply one action to the selected tickets. Each ticket is its own
    transaction: one refusal does not undo the others, and is reported."""
    back = request.POST.get("next") or reverse("tickets:list")
    if not back.startswith("/"):
        back = reverse("tickets:list")
    action = request.POST.get("action", "")
    ids = [int(i) for i in request.POST.getlist("ticket") if i.isdigit()][:200]
    if action not in BULK_ACTIONS:
        messages.error(request, "Choose an action.")
        return redirect(back)
    if not ids:
        messages.error(request, "Select at least one ticket.")
        return redirect(back)
    tickets = list(selectors.tickets_visible_to(request.user).filter(pk__in=ids).order_by("id"))
    value = request.POST.get(action, "")
    done, refused = [], []
    try:
        apply = _bulk_operation(request, action, value, tickets)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    for ticket in tickets:
        try:
            apply(ticket)
            done.append(ticket.key)
        except DomainError as exc:
            refused.append(f"{ticket.key}: {exc.message}")
    if done:
        messages.success(request, f"{action.title()}: {len(done)} ticket(s) updated.")
    for line in refused:
        messages.error(request, line)
    return redirect(back)


def _bulk_operation(request, action: str, value: str, tickets: list[Ticket]):
    from tickets.models import Priority, User

    actor = request.user
    if action == "assign":
        if value == "me":
            assignee = actor
        elif value == "none":
            assignee = None
        else:
            assignee = User.objects.filter(pk=int(value) if value.isdigit() else 0).first()
            if assignee is None:
                raise DomainError("Choose an agent to assign to.")
        return lambda t: services.ticket_assign(ticket=t, assignee=assignee, actor=actor)
    if action == "status":
        if value not in Status.values:
            raise DomainError("Choose a status.")
        return lambda t: services.ticket_change_status(ticket=t, status=value, actor=actor)
    if action == "priority":
        if value not in Priority.values:
            raise DomainError("Choose a priority.")
        return lambda t: services.ticket_update(ticket=t, actor=actor, priority=value)
    if action == "tag":
        if not value.strip():
            raise DomainError("Type the tag to add.")
        return lambda t: services.ticket_add_tag(ticket=t, tag=value, actor=actor)
    # merge: everything into the oldest selected ticket
    if len(tickets) < 2:
        raise DomainError("Select at least two tickets to merge.")
    target = tickets[0]
    return lambda t: (
        None if t.pk == target.pk else services.ticket_merge(source=t, target=target, actor=actor)
    )


# --- saved views ----------------------------------------------------------------


@login_required
@staff_required
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the view a name.")
        return redirect(reverse("tickets:list") + "?" + request.POST.get("query", ""))
    query = form.cleaned_data["query"].lstrip("?")
    view, created = SavedView.objects.update_or_create(
        owner=request.user, name=form.cleaned_data["name"].strip(), defaults={"query": query}
    )
    messages.success(request, f"View \u201c{view.name}\u201d {'saved' if created else 'updated'}.")
    return redirect(reverse("tickets:list") + "?" + query)


@login_required
@staff_required
@require_POST
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    deleted, _ = SavedView.objects.filter(owner=request.user, pk=pk).delete()
    if not deleted:
        raise Http404("No such view")
    messages.success(request, "View deleted.")
    return redirect("tickets:list")
