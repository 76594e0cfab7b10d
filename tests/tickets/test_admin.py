"""The Django admin at any size: change pages of every model run the same
number of queries with a handful of rows or hundreds (foreign keys to big
tables are raw ids, inlines load their people in one query); managers reach
the SLA settings they are responsible for."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from escalation.models import EscalationRule, SLAPolicy
from tests.factories import make_ticket, make_user
from tickets import services
from tickets.models import Message, Role, Ticket, TicketEvent, User


@pytest.fixture
def superuser(db):
    return make_user(Role.ADMIN, email="root@helpdesk.test", full_name="Root Admin")


def _change_pages():
    """(model admin name, change URL) for one object of every registered model."""
    pages = []
    for model in admin.site._registry:
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}_change"
        pages.append((model.__name__, reverse(name, args=[obj.pk])))
    return pages


def _count(client, url, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def test_every_change_page_runs_the_same_queries_at_any_size(
    client, superuser, customer, agent, access_team, login_category, django_assert_max_num_queries
):
    ticket = make_ticket(requester=customer, team=access_team, category=login_category)
    services.ticket_reply(ticket=ticket, author=agent, body="First answer")
    client.force_login(superuser)
    for _, url in _change_pages():  # warm the caches (session, permissions, lists)
        client.get(url)
    small = {name: _count(client, url, None) for name, url in _change_pages()}
    assert "Ticket" in small and "User" in small and "Message" in small
    # Grow the big tables: people, tickets, and the viewed ticket's conversation.
    people = [
        User(email=f"bulk{i}@example.test", full_name=f"Bulk {i}", role=Role.CUSTOMER)
        for i in range(300)
    ]
    User.objects.bulk_create(people)
    now = timezone.now()
    Ticket.objects.bulk_create(
        Ticket(subject=f"t{i}", description="d", requester=customer, created_at=now, updated_at=now)
        for i in range(300)
    )
    Message.objects.bulk_create(
        Message(ticket=ticket, author=agent, body=f"m{i}", created_at=now + timedelta(seconds=i))
        for i in range(150)
    )
    TicketEvent.objects.bulk_create(
        TicketEvent(ticket=ticket, actor=agent, action="ticket.replied", created_at=now)
        for _ in range(150)
    )
    large = {name: _count(client, url, None) for name, url in _change_pages()}
    grew = {name: (small[name], large[name]) for name in small if large[name] != small[name]}
    assert grew == {}


def test_the_ticket_page_does_not_list_every_ticket(client, superuser, customer):
    ticket = make_ticket(requester=customer)
    make_ticket(requester=customer, subject="Another one")
    client.force_login(superuser)
    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    assert "Another one" not in page  # no drop-down of tickets (parent, merged into)
    assert 'name="merged_into"' in page and 'name="parent"' in page


def test_managers_edit_sla_policies_calendars_and_rules(client, manager):
    """The start banner says managers manage SLAs: the admin lets them."""
    client.force_login(manager)
    policy = SLAPolicy.objects.order_by("pk").first()
    rule = EscalationRule.objects.order_by("pk").first()
    for url in (
        reverse("admin:escalation_slapolicy_change", args=[policy.pk]),
        reverse("admin:escalation_businesscalendar_changelist"),
        reverse("admin:escalation_escalationrule_change", args=[rule.pk]),
    ):
        assert client.get(url).status_code == 200, url
    form = (
        client.get(reverse("admin:escalation_slapolicy_change", args=[policy.pk]))
        .context["adminform"]
        .form
    )
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["first_response_minutes"] = 123
    data["calendar"] = policy.calendar_id
    response = client.post(reverse("admin:escalation_slapolicy_change", args=[policy.pk]), data)
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.first_response_minutes == 123


def test_shown_articles_are_listed_read_only(client, superuser, customer):
    from tickets.models import ShownArticle

    ticket = make_ticket(requester=customer, subject="Locked out")
    shown = ShownArticle.objects.create(
        ticket=ticket,
        article_ref="kb-7",
        article_title="Reset your password",
        position=1,
        shown_at=timezone.now(),
    )
    client.force_login(superuser)
    listing = client.get(reverse("admin:tickets_shownarticle_changelist"))
    assert listing.status_code == 200 and b"Reset your password" in listing.content
    change = client.get(reverse("admin:tickets_shownarticle_change", args=[shown.pk]))
    assert change.status_code == 200
    response = client.post(
        reverse("admin:tickets_shownarticle_change", args=[shown.pk]),
        {"ticket": ticket.pk, "article_ref": "kb-8", "article_title": "x", "position": 2},
    )
    assert response.status_code == 403
    shown.refresh_from_db()
    assert shown.article_ref == "kb-7"
