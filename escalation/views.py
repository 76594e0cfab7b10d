"""Manual escalation and the incident reply-all, from the ticket page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from escalation import services
from escalation.forms import ManualEscalationForm
from escalation.panels import sla_panel
from tickets import selectors
from tickets.ticket_page import render_ticket_page, staff_ticket


@login_required
@require_POST
def escalate(request: HttpRequest, key: str) -> HttpResponse:
    ticket = staff_ticket(request, key)  # 404 for others, 403 for customers
    form = ManualEscalationForm(request.POST, ticket=ticket)
    if form.is_valid():
        form.run(
            services.escalation_manual,
            ticket=ticket,
            actor=request.user,
            to_tier=form.cleaned_data["to_tier"],
            reason=form.cleaned_data["reason"],
        )
        if not form.errors:
            messages.success(request, f"Escalated to Tier {form.cleaned_data['to_tier']}.")
            return redirect(ticket)
    return render_ticket_page(
        request,
        ticket,
        status=400,
        panel_override=(sla_panel, sla_panel(request, ticket, form=form)),
    )


@login_required
@require_POST
def reply_all(request: HttpRequest, key: str) -> HttpResponse:
    """One public reply to every open report linked to a major incident."""
    user = selectors.logged_in_user(request)
    ticket = staff_ticket(request, key)
    # A refusal (not an incident, an empty reply) is shown by
    # tickets.middleware.DomainErrorMiddleware; nothing was sent then.
    sent = services.incident_reply_all(
        parent=ticket, author=user, body=request.POST.get("body", "")
    )
    messages.success(request, f"Replied to {sent} linked ticket{'s' if sent != 1 else ''}.")
    return redirect(ticket)
