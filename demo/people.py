"""Create the demo cast in the database (organisations, skills, teams,
categories, agents, customers and the fixed logins) and describe it for the
ticket generator.

People go through tickets.services.user_create so their role groups and
permissions are exactly those of real users. Running it again reuses what
exists, so seed_demo can add tickets to an already seeded database.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from django.utils.text import slugify

from demo import catalog
from demo.catalog import AgentSpec
from tickets.models import Category, Organization, Role, Skill, Team, User
from tickets.services import user_create

# DEMO ONLY: the password of the fixed demo logins, printed by seed_demo. Never
# use seed_demo on a database that real people use.
DEMO_PASSWORD = "demo-password"  # noqa: S105


@dataclass(frozen=True)
class AgentInfo:
    id: int
    email: str
    first_name: str
    tier: int
    speed: float
    quality: float
    skills: frozenset[str]
    is_lead: bool


@dataclass(frozen=True)
class TeamInfo:
    id: int
    lead: AgentInfo
    # Everybody in the team who works tickets, the lead included.
    agents: tuple[AgentInfo, ...]


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    slug: str
    name: str
    required_tier: int
    team: TeamInfo
    volume: float
    urgent: float
    high: float


@dataclass(frozen=True)
class CustomerInfo:
    id: int
    first_name: str
    organization_id: int
    domain: str
    support_tier: str
    # Share of the ticket volume.
    volume: float


@dataclass(frozen=True)
class Cast:
    categories: tuple[CategoryInfo, ...]
    customers: tuple[CustomerInfo, ...]


def build_cast() -> Cast:
    """Create (or find) everybody and everything the demo tickets refer to."""
    skills = {
        spec.slug: Skill.objects.update_or_create(slug=spec.slug, defaults={"name": spec.name})[0]
        for spec in catalog.CATEGORIES
    }
    teams = {
        spec.slug: Team.objects.update_or_create(slug=spec.slug, defaults={"name": spec.name})[0]
        for spec in catalog.TEAMS
    }
    orgs = {
        spec.name: Organization.objects.update_or_create(
            name=spec.name,
            # The demo's accounts opt in to adding new senders of their
            # domain (journey 3: a colleague e-mails billing@ for the first time).
            defaults={
                "domain": spec.domain,
                "support_tier": spec.support_tier,
                "adds_senders_by_domain": True,
            },
        )[0]
        for spec in catalog.ORGANIZATIONS
    }
    team_infos = _create_agents(skills, teams)
    categories = tuple(
        CategoryInfo(
            id=Category.objects.update_or_create(
                slug=spec.slug,
                defaults={
                    "name": spec.name,
                    "required_tier": spec.required_tier,
                    "skill": skills[spec.slug],
                    "default_team": teams[spec.team],
                },
            )[0].pk,
            slug=spec.slug,
            name=spec.name,
            required_tier=spec.required_tier,
            team=team_infos[spec.team],
            volume=spec.volume,
            urgent=spec.urgent,
            high=spec.high,
        )
        for spec in catalog.CATEGORIES
    )
    for spec in (catalog.MANAGER, catalog.ADMIN, catalog.DEMO_CUSTOMER, catalog.OTHER_CUSTOMER):
        _person(
            spec.email,
            password=DEMO_PASSWORD,
            full_name=spec.full_name,
            role=spec.role,
            organization=orgs.get(spec.organization),
            sees_organization_tickets=spec.sees_organization_tickets,
        )
    return Cast(categories=categories, customers=_create_customers(orgs))


def _person(email: str, **fields) -> User:
    """The user with this e-mail, created through the service if missing."""
    return User.objects.filter(email=email).first() or user_create(email=email, **fields)


def _create_agents(skills: dict[str, Skill], teams: dict[str, Team]) -> dict[str, TeamInfo]:
    team_skills: dict[str, list[str]] = {}
    for spec in catalog.CATEGORIES:
        team_skills.setdefault(spec.team, []).append(spec.slug)
    members: dict[str, list[AgentInfo]] = {slug: [] for slug in teams}
    for spec in catalog.AGENTS:
        skill_slugs = [*team_skills[spec.team], *spec.extra_skills]
        user = _person(
            spec.email,
            password=DEMO_PASSWORD if spec.demo_login else None,
            full_name=spec.full_name,
            role=Role.AGENT,
            tier=spec.tier,
            capacity=catalog.CAPACITY_BY_TIER[spec.tier],
            skills=[skills[slug] for slug in skill_slugs],
            teams=[teams[spec.team]],
        )
        members[spec.team].append(_agent_info(user, spec, frozenset(skill_slugs)))
    infos = {}
    for slug, team in teams.items():
        lead = next(agent for agent in members[slug] if agent.is_lead)
        if team.lead_id != lead.id:
            team.lead_id = lead.id
            team.save(update_fields=["lead"])
        infos[slug] = TeamInfo(id=team.pk, lead=lead, agents=tuple(members[slug]))
    return infos


def _agent_info(user: User, spec: AgentSpec, skills: frozenset[str]) -> AgentInfo:
    return AgentInfo(
        id=user.pk,
        email=user.email,
        first_name=spec.full_name.split(" ")[0],
        tier=spec.tier,
        speed=spec.speed,
        quality=spec.quality,
        skills=skills,
        is_lead=spec.is_lead,
    )


def _create_customers(orgs: dict[str, Organization]) -> tuple[CustomerInfo, ...]:
    """A few customers per organisation; the first of each may see all of its
    organisation's tickets. Names come from a fixed generator, so every run
    (whatever --seed) finds the same people."""
    rng = random.Random("demo-customers")
    customers = []
    for spec in catalog.ORGANIZATIONS:
        org = orgs[spec.name]
        people = []
        taken: set[str] = set()
        for position in range(spec.customers):
            first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
            user = _person(
                _customer_email(first, last, spec.domain, taken),
                full_name=f"{first} {last}",
                role=Role.CUSTOMER,
                organization=org,
                sees_organization_tickets=position == 0,
            )
            people.append((user.pk, first))
        people.extend(
            (User.objects.get(email=login.email).pk, login.full_name.split(" ")[0])
            for login in (catalog.DEMO_CUSTOMER, catalog.OTHER_CUSTOMER)
            if login.organization == spec.name
        )
        customers.extend(
            CustomerInfo(
                id=user_id,
                first_name=first,
                organization_id=org.pk,
                domain=spec.domain,
                support_tier=spec.support_tier,
                volume=spec.volume / len(people),
            )
            for user_id, first in people
        )
    return tuple(customers)


def _customer_email(first: str, last: str, domain: str, taken: set[str]) -> str:
    """first.last@domain in ASCII ("Müller" becomes "muller"), numbered when
    the organisation already has somebody of that name."""
    ascii_name = unicodedata.normalize("NFKD", f"{first} {last}").encode("ascii", "ignore")
    base = slugify(ascii_name.decode()).replace("-", ".")
    local, number = base, 2
    while local in taken:
        local, number = f"{base}{number}", number + 1
    taken.add(local)
    return f"{local}@{domain}"
