"""Customer escalation at intake: complaints, and angry VIP customers."""

from escalation.models import Escalation
from tickets.models import OutboundEmail, Ticket


def test_a_complaint_is_escalated_to_the_team_lead_and_managers(
    open_ticket, customer, access_team, manager, agent
):
    access_team.lead = agent
    access_team.save()
    ticket = open_ticket(
        customer, subject="Formal complaint", description="This is unacceptable.", team=access_team
    )
    escalation = Escalation.objects.get(ticket=ticket, kind="customer")
    assert "complains" in escalation.reason
    audiences = set(
        OutboundEmail.objects.filter(ticket=ticket, kind="escalation.customer").values_list(
            "audience", flat=True
        )
    )
    assert audiences == {"team_lead", "manager"}
    assert (
        Ticket.objects.get(pk=ticket.pk).events.filter(action="ticket.customer_escalation").exists()
    )


def test_an_angry_vip_is_escalated_a_calm_one_is_not(client, open_ticket, other_customer, manager):
    calm = open_ticket(
        other_customer, subject="Question", description="Thanks, all good, a quick question."
    )
    assert not Escalation.objects.filter(ticket=calm).exists()
    angry = open_ticket(
        other_customer,
        subject="Terrible, broken again",
        description="This is awful and terrible, the worst service, we are furious and angry.",
    )
    escalation = Escalation.objects.get(ticket=angry, kind="customer")
    assert "VIP customer, negative sentiment" in escalation.reason
    # The ticket page's SLA panel says why.
    client.force_login(manager)
    page = client.get(angry.get_absolute_url()).content.decode()
    assert "Customer: VIP customer, negative sentiment" in page
