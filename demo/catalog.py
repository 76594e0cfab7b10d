"""The demo helpdesk's fixed cast: organisations, teams, skills, categories and
the agents who work them. Plain data, so the story stays readable in one place.

The names are invented; the e-mail domains use the reserved `.example` and
`.test` top-level domains so no demo message can reach a real mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass

# Every fixed demo login lives under this domain.
DEMO_DOMAIN = "demo.helpdesk.test"


@dataclass(frozen=True)
class OrgSpec:
    name: str
    domain: str
    support_tier: str
    # How many ordinary customers the organisation has (besides demo logins).
    customers: int
    # Relative share of the ticket volume: VIP accounts are bigger users.
    volume: float


ORGANIZATIONS: tuple[OrgSpec, ...] = (
    OrgSpec("Pinecrest Dental", "pinecrest-dental.example", "basic", 3, 0.6),
    OrgSpec("Harbor Bikes", "harborbikes.example", "basic", 3, 0.5),
    OrgSpec("Little Oak Bakery", "littleoak.example", "basic", 3, 0.4),
    OrgSpec("Quill & Ink Books", "quillink.example", "basic", 3, 0.5),
    OrgSpec("Brightwave Studios", "brightwave.example", "standard", 4, 1.0),
    OrgSpec("Northwind Logistics", "northwind-logistics.example", "standard", 4, 1.2),
    OrgSpec("Atlas Property Group", "atlasproperty.example", "standard", 4, 1.0),
    OrgSpec("Meridian Clinics", "meridianclinics.example", "standard", 4, 1.1),
    OrgSpec("Copperleaf Accounting", "copperleaf.example", "standard", 4, 0.9),
    OrgSpec("Globex Retail", "globex-retail.example", "vip", 6, 2.0),
    OrgSpec("Summit Health Network", "summithealth.example", "vip", 6, 1.8),
    OrgSpec("Orion Freight", "orionfreight.example", "vip", 6, 1.6),
)


@dataclass(frozen=True)
class TeamSpec:
    name: str
    slug: str


TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec("Frontline Support", "frontline"),
    TeamSpec("Billing & Data", "billing-data"),
    TeamSpec("Technical Support", "technical"),
)


@dataclass(frozen=True)
class CategorySpec:
    name: str
    slug: str
    required_tier: int
    team: str
    # Share of the ticket volume, after the issue mix in JOURNEYS.md (a quarter's
    # sample: data import 11, billing 10, UI bug 7, ...; account verification is
    # "a large driver of contacts").
    volume: float
    # Share of its tickets customers report as urgent / high.
    urgent: float
    high: float


# Each category has a skill of the same name and slug.
CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec("Login", "login", 1, "frontline", 6, 0.03, 0.20),
    CategorySpec("Account verification", "account-verification", 1, "frontline", 9, 0.01, 0.12),
    CategorySpec("UI bug", "ui-bug", 1, "frontline", 7, 0.01, 0.12),
    CategorySpec("Billing", "billing", 1, "billing-data", 10, 0.02, 0.18),
    CategorySpec("Data import", "data-import", 1, "billing-data", 11, 0.03, 0.20),
    CategorySpec("Report generation", "report-generation", 1, "billing-data", 5, 0.01, 0.12),
    CategorySpec("API", "api", 2, "technical", 5, 0.05, 0.25),
    CategorySpec("Performance", "performance", 2, "technical", 5, 0.12, 0.30),
    CategorySpec("Feature request", "feature-request", 2, "technical", 6, 0.0, 0.04),
)


@dataclass(frozen=True)
class PersonSpec:
    """A fixed demo login (the agent among them also has an AgentSpec)."""

    full_name: str
    email: str
    role: str
    # Customers only: the organisation (by name) and the organisation-wide view.
    organization: str = ""
    sees_organization_tickets: bool = False
    # What the login is for, printed next to it at the end of seed_demo.
    purpose: str = ""


# The fixed demo agent: Tier 1 in Frontline Support, with the login skill
# (JOURNEYS.md journey 1).
AGENT_LOGIN = PersonSpec(
    "Alex Rivera",
    "agent@" + DEMO_DOMAIN,
    "agent",
    purpose="Tier 1 agent, Frontline Support (login, account verification, UI bugs)",
)


@dataclass(frozen=True)
class AgentSpec:
    full_name: str
    email: str
    team: str
    tier: int
    # Skills beyond the categories of their own team.
    extra_skills: tuple[str, ...]
    # Multiplier on how long the agent takes (below 1 is faster).
    speed: float
    # 0..1: how satisfied the agent's customers are: fewer reopens and more
    # thank-you replies (the score a seeded CSAT rating would follow).
    quality: float
    is_lead: bool = False
    # The fixed demo agent keeps a demo password; the others cannot log in.
    demo_login: bool = False


def _agent_email(full_name: str) -> str:
    return full_name.lower().replace(" ", ".") + "@" + DEMO_DOMAIN


def _agent(
    full_name: str,
    team: str,
    tier: int,
    speed: float,
    quality: float,
    *extra_skills: str,
    is_lead: bool = False,
) -> AgentSpec:
    return AgentSpec(
        full_name=full_name,
        email=_agent_email(full_name),
        team=team,
        tier=tier,
        extra_skills=extra_skills,
        speed=speed,
        quality=quality,
        is_lead=is_lead,
    )


# Per team one agent resolves fastest (lowest speed) and another earns the best
# ratings (highest quality), so the manager's scatter plot has a story.
AGENTS: tuple[AgentSpec, ...] = (
    AgentSpec(
        full_name=AGENT_LOGIN.full_name,
        email=AGENT_LOGIN.email,
        team="frontline",
        tier=1,
        extra_skills=(),
        speed=1.0,
        quality=0.82,
        demo_login=True,
    ),
    _agent("Priya Raman", "frontline", 1, 0.45, 0.72),
    _agent("Tomas Herrera", "frontline", 1, 1.1, 0.94, "billing"),
    _agent("Grace Kim", "frontline", 1, 0.95, 0.81),
    _agent("Owen Clarke", "frontline", 1, 1.35, 0.7),
    _agent("Leila Haddad", "frontline", 2, 0.9, 0.88, "performance"),
    _agent("Dana Whitfield", "frontline", 2, 1.0, 0.9, is_lead=True),
    _agent("Sofia Marin", "billing-data", 1, 0.85, 0.91),
    _agent("Ben Okafor", "billing-data", 1, 1.25, 0.74),
    _agent("Hannah Weiss", "billing-data", 1, 0.9, 0.79, "login"),
    _agent("Ravi Patel", "billing-data", 2, 1.0, 0.86, "api"),
    _agent("Chloe Dubois", "billing-data", 2, 1.1, 0.98),
    _agent("Marcus Bell", "billing-data", 2, 1.0, 0.87, is_lead=True),
    _agent("Ethan Brooks", "technical", 2, 0.78, 0.78, "data-import"),
    _agent("Mei Lin", "technical", 2, 1.0, 0.95),
    _agent("Jonas Berg", "technical", 2, 1.3, 0.8),
    _agent("Aisha Bello", "technical", 3, 0.9, 0.88, "data-import"),
    _agent("Lucas Ferreira", "technical", 3, 1.1, 0.83),
    _agent("Nadia Petrova", "technical", 3, 1.0, 0.9, is_lead=True),
)

# Open tickets an agent holds at once, by tier: first line juggles more.
CAPACITY_BY_TIER = {1: 25, 2: 15, 3: 10}


MANAGER = PersonSpec(
    "Jordan Blake", "manager@" + DEMO_DOMAIN, "manager", purpose="dashboards, SLA policies"
)
ADMIN = PersonSpec("Casey Nguyen", "admin@" + DEMO_DOMAIN, "admin", purpose="Django admin")
# A plain member of a standard-tier account: sees only their own tickets.
DEMO_CUSTOMER = PersonSpec(
    "Robin Ellis",
    "customer@" + DEMO_DOMAIN,
    "customer",
    organization="Brightwave Studios",
    purpose="customer portal (Brightwave Studios, standard tier)",
)
# Another account's administrator, for showing that accounts are isolated.
OTHER_CUSTOMER = PersonSpec(
    "Kim Lachance",
    "other.customer@" + DEMO_DOMAIN,
    "customer",
    organization="Globex Retail",
    sees_organization_tickets=True,
    purpose="another account (Globex Retail, VIP, sees all its tickets)",
)

# Everybody who logs in with the demo password, in the order seed_demo lists them.
DEMO_LOGINS = (AGENT_LOGIN, MANAGER, ADMIN, DEMO_CUSTOMER, OTHER_CUSTOMER)

# Names for the generated customers.
FIRST_NAMES = (
    "Amelia Noah Olivia Liam Emma Mateo Ava Lucas Mia Ethan Isla Leo Zoe Arjun Chloe Daniel "
    "Freya Hugo Ines Jack Keiko Luca Maya Nico Oscar Paula Quinn Rosa Samir Tara Uma Victor "
    "Wen Yara Zane Aaliyah Bruno Carmen Dmitri Elena"
).split()
LAST_NAMES = (
    "Smith Garcia Chen Müller Okafor Rossi Nakamura Silva Novak Johansson Dubois Kowalski "
    "Haddad O'Brien Fischer Moreau Singh Andersen Costa Yilmaz Kaur Lindqvist Murphy Tanaka "
    "Ivanova Herrera Baker Nguyen Schmidt Walsh"
).split()
