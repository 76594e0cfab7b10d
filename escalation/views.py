"""Manual escalation from the ticket page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from escalation.actions import escalate_manually
from escalation.forms import ManualEscalationForm
from tickets import selectors
from tickets.models import Ticket
from tickets.views import _detail_context


@login_required
@require_POST
def escalate(request: HttpRequest, key: str) -> HttpResponse:
    ticket = selectors.ticket_get_for_user(request.user, key)  # 404 for others
    if not request.user.has_perm("tickets.work_tickets"):
        raise PermissionDenied("Only helpdesk staff can escalate tickets.")
    form = ManualEscalationForm(request.POST, ticket=ticket)
    if ticket.is_open and form.is_valid():
        with transaction.atomic():
            locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
            if locked.tier < form.cleaned_data["to_tier"]:
                escalate_manually(
                    locked,
                    actor=request.user,
                    to_tier=form.cleaned_data["to_tier"],
                    reason=form.cleaned_data["reason"].strip(),
                )
                messages.success(request, f"Escalated to Tier {form.cleaned_data['to_tier']}.")
                return redirect(ticket)
        form.add_error("to_tier", "Someone moved this ticket to that tier already.")
    elif not ticket.is_open:
        form.add_error(None, "Solved and closed tickets cannot be escalated.")
    from escalation.panels import sla_panel

    context = _detail_context(request, ticket)
    context["extra_panels"] = [sla_panel(request, ticket, form=form)]
    return render(request, "tickets/detail.html", context, status=400)


@login_required
@require_POST
def reply_all(request: HttpRequest, key: str) -> HttpResponse:
    """One public reply to every open report linked to a major incident."""
    from escalation.incidents import reply_to_all
    from escalation.models import Incident
    from tickets.errors import DomainError

    ticket = selectors.ticket_get_for_user(request.user, key)
    if not request.user.has_perm("tickets.work_tickets"):
        raise PermissionDenied("Only helpdesk staff can answer an incident.")
    if not Incident.objects.filter(parent_id=ticket.pk).exists():
        messages.error(request, "This ticket is not a major incident.")
        return redirect(ticket)
    body = (request.POST.get("body") or "").strip()
    if not body:
        messages.error(request, "Write the reply first: it was empty, nothing was sent.")
        return redirect(ticket)
    try:
        with transaction.atomic():
            sent = reply_to_all(ticket, author=request.user, body=body)
    except DomainError as exc:
        messages.error(request, f"Nothing was sent: {exc.message}")
        return redirect(ticket)
    messages.success(request, f"Replied to {sent} linked ticket{'s' if sent != 1 else ''}.")
    return redirect(ticket)
