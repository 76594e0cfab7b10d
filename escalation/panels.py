"""The SLA panel of the staff ticket page (settings.HELPDESK_TICKET_PANELS):
policy, each target's due time with a live countdown, met / breached /
paused, the escalations so far, and the manual "escalate to Tier N" form."""

from __future__ import annotations

from django.db.models import Exists
from django.template.loader import render_to_string

from escalation.forms import ManualEscalationForm
from escalation.models import Escalation, Incident, Target, TicketSLA
from tickets.models import OPEN_STATUSES


def sla_state(sla: TicketSLA | None) -> list[dict]:
    if sla is None:
        return []
    rows = []
    for target, label in Target.choices:
        due = getattr(sla, f"{target}_due")
        breached = getattr(sla, f"{target}_breached_at")
        met = getattr(sla, f"{target}_met_at", None)
        if target == Target.NEXT_RESPONSE and due is None and not breached:
            continue  # no round running: nothing to show
        if met:
            state = "met"
        elif sla.paused_since and not breached:
            state = "paused"
        elif breached:
            state = "breached"
        elif due:
            state = "running"
        else:
            state = "stopped"
        rows.append({"label": label, "due": due, "met": met, "breached": breached, "state": state})
    return rows


def sla_panel(request, ticket, form: ManualEscalationForm | None = None) -> str:
    sla = TicketSLA.objects.select_related("policy").filter(ticket_id=ticket.pk).first()
    # Opening a major incident records an INCIDENT escalation of its parent
    # ticket (escalation.services.incidents): only a ticket with one can be
    # an incident's parent, so most pages need no incident query.
    opened_incident = Escalation.objects.filter(ticket_id=ticket.pk, kind=Escalation.Kind.INCIDENT)
    escalations = list(
        ticket.escalations.select_related("actor").annotate(
            opened_incident=Exists(opened_incident)
        )[:5]
    )
    incident = (
        Incident.objects.filter(parent_id=ticket.pk).first()
        if escalations and escalations[0].opened_incident
        else None
    )
    open_children = (
        ticket.children.filter(status__in=OPEN_STATUSES).count() if incident is not None else 0
    )
    return render_to_string(
        "escalation/_sla_panel.html",
        {
            "ticket": ticket,
            "sla": sla,
            "targets": sla_state(sla),
            "escalations": escalations,
            "escalate_form": form or ManualEscalationForm(ticket=ticket),
            "incident": incident,
            "open_children": open_children,
        },
        request=request,
    )
