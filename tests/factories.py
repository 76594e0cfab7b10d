"""Factories for tests. People and tickets are made through the services, so
tests exercise the same paths (groups, history, validation) as the product."""

import factory

from tickets import services
from tickets.models import Category, Organization, Role, Skill, SupportTier, Team

DEFAULT_PASSWORD = "test-password-123"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    domain = factory.Sequence(lambda n: f"org{n}.example")
    support_tier = SupportTier.STANDARD


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Skill {n}")
    slug = factory.Sequence(lambda n: f"skill-{n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    required_tier = 1
    skill = factory.SubFactory(SkillFactory)
    default_team = factory.SubFactory(TeamFactory)


_counter = iter(range(1, 10**9))


def make_user(role: str = Role.CUSTOMER, *, email: str | None = None, **fields):
    n = next(_counter)
    if role == Role.AGENT:
        fields.setdefault("tier", 1)
        fields.setdefault("capacity", 10)
    if role == Role.CUSTOMER and "organization" not in fields:
        fields["organization"] = OrganizationFactory()
    return services.user_create(
        email=email or f"{role}{n}@example.test",
        password=DEFAULT_PASSWORD,
        full_name=fields.pop("full_name", f"{role.title()} {n}"),
        role=role,
        **fields,
    )


def make_ticket(
    *, requester, subject="Cannot log in", description="It says my password is wrong.", **fields
):
    return services.ticket_create(
        requester=requester, subject=subject, description=description, **fields
    )
