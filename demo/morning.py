"""The demo agent's morning: a few fresh tickets in their queue, opened through
the real services, so "My open tickets" has work on it the moment a person logs
in (journeys 1 and 6 in JOURNEYS.md)."""

import random

from demo.catalog import AGENT_LOGIN, DEMO_CUSTOMER
from tickets import services
from tickets.models import Category, Role, User

# (category slug, subject, description, priority)
MORNING: tuple[tuple[str, str, str, str], ...] = (
    (
        "login",
        "Can't log in after password reset",
        "I reset my password twice this morning and the log-in page still says my credentials "
        "are invalid. I have a client call at 11.",
        "high",
    ),
    (
        "account-verification",
        "Verification e-mail never arrived",
        "I signed up yesterday but the verification e-mail never came. Checked spam too.",
        "normal",
    ),
    (
        "ui-bug",
        "Save button greyed out on the settings page",
        "Since the last update the Save button on Settings → Profile stays greyed out after I "
        "change my phone number.",
        "normal",
    ),
    (
        "login",
        "Locked out: too many attempts",
        "My account says it is locked after too many attempts. Can you unlock it?",
        "urgent",
    ),
    (
        "account-verification",
        "How do I verify a second user?",
        "We added a colleague to our account; what does she need to verify her identity?",
        "low",
    ),
    (
        "ui-bug",
        "Dashboard chart labels overlap",
        "On a laptop screen the labels of the weekly chart overlap and are unreadable.",
        "low",
    ),
)


def create_morning_queue(*, seed: int) -> int:
    agent = User.objects.filter(email=AGENT_LOGIN.email).first()
    if agent is None:
        return 0
    rng = random.Random(seed)
    categories = {c.slug: c for c in Category.objects.filter(slug__in={m[0] for m in MORNING})}
    customers = list(
        User.objects.filter(role=Role.CUSTOMER, organization__isnull=False)
        .exclude(email=DEMO_CUSTOMER.email)
        .order_by("id")[:40]
    )
    demo_customer = User.objects.filter(email=DEMO_CUSTOMER.email).first()
    made = 0
    for index, (slug, subject, description, priority) in enumerate(MORNING):
        requester = demo_customer if index == 0 and demo_customer else rng.choice(customers)
        category = categories.get(slug)
        ticket = services.ticket_create(
            requester=requester,
            subject=subject,
            description=description,
            priority=priority,
            category=category,
        )
        services.ticket_assign(ticket=ticket, assignee=agent, actor=None)
        made += 1
    return made
