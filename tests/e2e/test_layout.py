"""What agents, managers and customers see, at the laptop widths people use
(1440×900 and 1366×768): no page wider than the window, long unbroken
subjects kept inside their column, the history in words, the bulk bar showing
only the chosen action's control, and the collision warning within seconds.
Screenshots go to test-artifacts/ for a person to look at."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.e2e.conftest import log_in
from tests.factories import OrganizationFactory, TeamFactory, make_ticket, make_user
from tickets import presence, services
from tickets.models import Role, SupportTier, Ticket

pytestmark = pytest.mark.browser

VIEWPORTS = [(1440, 900), (1366, 768)]
# The longest subject a ticket can have (Ticket.subject), with no place to break.
UNBROKEN = "Unbroken" + "x" * 242


def overflow(page) -> int:
    """How many pixels the page is wider than the window (0: it fits)."""
    return page.evaluate(
        "() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"
    )


def overlapping_cells(page) -> list[str]:
    """Table cells whose content spills over their own box (onto a neighbour)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll("table.tickets td")).filter(td => {
            const box = td.getBoundingClientRect();
            return Array.from(td.querySelectorAll("a, span")).some(el => {
                const r = el.getBoundingClientRect();
                return r.right > box.right + 1 || el.scrollWidth > el.clientWidth + 1
                    && getComputedStyle(el).overflow === "visible";
            });
        }).map(td => td.textContent.trim().slice(0, 40))"""
    )


def million_ticket_keys():
    """Keys as wide as a helpdesk with a million tickets has them (HD-1000001)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), 1000000)")


@pytest.fixture
def busy_team(agent, customer, access_team, login_category):
    """A team queue as the demo has it: long names, several teams, SLA clocks."""
    million_ticket_keys()
    long_org = OrganizationFactory(
        name="Internationale Handelsgesellschaft Nordrhein-Westfalen mbH",
        domain="ihg.example",
        support_tier=SupportTier.VIP,
    )
    requester = make_user(
        Role.CUSTOMER,
        email="maximiliane@ihg.example",
        full_name="Maximiliane Alexandra von Hohenzollern-Sigmaringen",
        organization=long_org,
    )
    other_team = TeamFactory(name="Infrastructure and Platform Reliability", slug="infra")
    colleague = make_user(
        Role.AGENT,
        email="bartholomew@helpdesk.test",
        full_name="Bartholomew Fitzgerald-Montgomery",
        teams=[access_team, other_team],
    )
    now = timezone.now()
    tickets = []
    for i in range(12):
        ticket = make_ticket(
            requester=requester if i % 2 else customer,
            subject=UNBROKEN if i == 4 else f"Cannot reach the reporting dashboard ({i})",
            team=access_team if i % 3 else other_team,
            category=login_category,
        )
        services.ticket_assign(ticket=ticket, assignee=colleague if i % 2 else agent, actor=agent)
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=now + timedelta(minutes=40 * i - 60))
        tickets.append(ticket)
    return tickets


@pytest.mark.parametrize("queue", ["team", "all"])
def test_queues_fit_the_window(page, agent, manager, password, busy_team, screenshot_dir, queue):
    people = [(agent, "My open tickets")]
    if queue == "all":  # the manager belongs to no team
        people.append((manager, "All open tickets"))
    for user, landing in people:
        page.context.clear_cookies()
        log_in(page, user, password, landing_heading=landing)
        for width, height in VIEWPORTS:
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"/tickets/?queue={queue}")
            page.locator("table.tickets").wait_for()
            page.screenshot(
                path=screenshot_dir / f"queue-{queue}-{user.role}-{width}x{height}.png",
                full_page=True,
            )
            assert overflow(page) == 0, f"{queue} queue of the {user.role} at {width} px"
            assert overlapping_cells(page) == [], f"{queue} at {width} px"
            # The long subject is still there to read, in its own cell.
            assert page.locator("td.subject", has_text="Unbroken").count() == 1


def test_customer_list_fits_the_window_with_a_long_subject(
    page, customer, password, screenshot_dir
):
    million_ticket_keys()
    make_ticket(requester=customer, subject=UNBROKEN)
    make_ticket(requester=customer, subject="Invoice copy for March")
    log_in(page, customer, password, landing_heading="My tickets")
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/tickets/")
        page.locator("table.tickets").wait_for()
        page.screenshot(path=screenshot_dir / f"customer-list-{width}x{height}.png", full_page=True)
        assert overflow(page) == 0, f"customer list at {width} px"
        assert overlapping_cells(page) == [], f"customer list at {width} px"


def test_ticket_page_fits_and_its_history_reads_in_words(
    page, agent, password, busy_team, login_category, screenshot_dir
):
    ticket = busy_team[4]  # the long subject, in Alice's team
    services.ticket_update(
        ticket=ticket, actor=None, priority="high", note="Raised to high: very negative tone"
    )
    services.ticket_change_status(ticket=ticket, status="open", actor=agent)
    services.ticket_reply(ticket=ticket, author=agent, body="Looking into it now.", channel="agent")
    log_in(page, agent, password)
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(ticket.get_absolute_url())
        history = page.locator("ol.history")
        history.wait_for()
        page.screenshot(path=screenshot_dir / f"ticket-{width}x{height}.png", full_page=True)
        assert overflow(page) == 0, f"ticket page at {width} px"
        text = history.inner_text()
        assert "Priority changed from Normal to High \u2014 Raised to high: very negative tone" in (
            text
        )
        assert "Status changed from New to Open" in text
        assert "Assigned to Alice Agent" in text
        assert "ticket." not in text and "@helpdesk.test" not in text
        # The raw action is one hover away.
        assert history.locator("li[title^='ticket.status_changed']").count() == 1
        # The agent's reply is from the workspace, not the customer portal.
        reply = page.locator("article.msg-agent", has_text="Looking into it now.")
        assert "via Agent workspace" in reply.inner_text()


def test_bulk_bar_shows_only_the_chosen_actions_control(
    page, agent, password, busy_team, screenshot_dir
):
    log_in(page, agent, password)
    page.goto("/tickets/?queue=team")
    bar = page.locator(".bulkbar")
    controls = {
        "assign": bar.get_by_label("Bulk: assign to"),
        "status": bar.get_by_label("Bulk: status"),
        "priority": bar.get_by_label("Bulk: priority"),
        "tag": bar.get_by_label("Bulk: tag"),
    }

    def visible() -> set[str]:
        return {name for name, control in controls.items() if control.is_visible()}

    assert visible() == set()  # nothing chosen yet: no controls
    for action in ("assign", "status", "priority", "tag"):
        page.get_by_label("With selected").select_option(action)
        assert visible() == {action}
    page.get_by_label("With selected").select_option("merge")
    assert visible() == set()
    page.get_by_label("With selected").select_option("priority")
    bar.screenshot(path=screenshot_dir / "bulk-bar-priority.png")

    # and it still works: set the priority of two selected tickets
    first, second = busy_team[1], busy_team[2]
    page.get_by_label(f"Select {first.key}").check()
    page.get_by_label(f"Select {second.key}").check()
    controls["priority"].select_option("urgent")
    bar.get_by_role("button", name="Apply").click()
    page.get_by_text("Priority: 2 ticket(s) updated.").wait_for()
    assert set(
        Ticket.objects.filter(pk__in=[first.pk, second.pk]).values_list("priority", flat=True)
    ) == {"urgent"}


def test_typing_a_reply_is_reported_at_once(
    browser, live_server, agent, customer, access_team, password
):
    """The presence poll runs every 5 s; starting to type reports "replying"
    at once, so the other agent sees it on their next poll, not two polls (or
    a reload) later."""
    ben = make_user(
        Role.AGENT, email="ben@helpdesk.test", full_name="Ben Second", teams=[access_team]
    )
    ticket = make_ticket(requester=customer, subject="Printer offline", team=access_team)
    contexts, pages = [], []
    try:
        for user in (agent, ben):
            context = browser.new_context(base_url=live_server.url)
            context.set_default_timeout(15_000)
            contexts.append(context)
            pg = context.new_page()
            log_in(pg, user, password)
            pages.append(pg)
        alice_page, ben_page = pages
        alice_page.goto(ticket.get_absolute_url())
        alice_page.locator("#presence").wait_for(state="attached")
        with ben_page.expect_response(lambda r: "/presence/" in r.url):
            ben_page.goto(ticket.get_absolute_url())  # Ben's first report: "viewing"
        ben_page.get_by_label("Message").press_sequentially("Restarting the spooler")
        # Reported within a second or two of typing, well before the next poll.
        deadline = timezone.now() + timedelta(seconds=2)
        while timezone.now() < deadline:
            states = {
                e["name"]: e["state"]
                for e in presence.presence_report(ticket_id=ticket.pk, user=agent, state="viewing")
            }
            if states.get("Ben Second") == "replying":
                break
            ben_page.wait_for_timeout(100)
        assert states.get("Ben Second") == "replying"
        # Alice sees it without reloading, within one poll.
        alice_page.get_by_text("Ben Second is replying to this ticket now").wait_for(timeout=7_000)
    finally:
        for context in contexts:
            context.close()
