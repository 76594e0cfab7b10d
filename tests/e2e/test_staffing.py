"""Journey 5 ("Manager's Monday") in a real browser, the staffing part: from
the dashboard the manager follows the main navigation to the staffing page,
reads the two weeks' forecast heatmap (a table of numbers, so the table is its
own text alternative), the agents needed beside the agents on the roster and
the backtest error; asks what a 20 % rise in volume would need and reads more
agents off the page; exports the CSV. The demo agent plans for their own team
only (analytics.staffing.selectors.staffing_scope), a customer gets a 404.
No CSP violation, and a screenshot is saved for a person to look at."""

from __future__ import annotations

import csv
import importlib
import io
import re
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.utils import timezone

from analytics.staffing.views import CSV_HEADER
from demo.catalog import AGENT_LOGIN, DEMO_CUSTOMER, MANAGER
from demo.people import DEMO_PASSWORD
from demo.runner import seed_demo
from tests.e2e.conftest import log_in, watch_csp
from tickets.models import ASSIGNABLE_ROLES, AgentShift, Team, User

pytestmark = pytest.mark.browser

STAFFING = "/analytics/staffing/"
CSV_PATH = STAFFING + "staffing.csv"
HEADING = "Staffing: the next two weeks"
HOURS = [f"{h:02d}" for h in range(24)]
# The hour the roster is checked at: inside the demo's weekday shifts (07-21)
# and the weekend ones (10-18), and one outside every shift.
STAFFED_HOUR = 11
NIGHT_HOUR = 3


@pytest.fixture
def demo(live_server, settings):
    settings.HELPDESK_KB_EMBEDDING_MODEL = ""  # seeding stays fast
    # A transactional test starts from empty tables, migration data included.
    importlib.import_module("escalation.migrations.0002_default_policies").create_defaults(
        apps, None
    )
    # Enough history (90 days) for a backtested forecast whose busy hours need
    # more than one agent, so a 20 % rise shows in the agents needed; 600
    # tickets leave nearly every hour at one agent. Seeding takes about 9 s.
    seed_demo(tickets=1500, seed=1, progress=False)


def _heatmap(page, slug: str) -> list[tuple[str, list[str]]]:
    """(day label, 24 cell texts) per row of one heatmap table."""
    rows = page.locator(f"#heatmap-{slug} table tbody tr")
    result = []
    for index in range(rows.count()):
        row = rows.nth(index)
        result.append((row.locator("th").inner_text(), row.locator("td").all_inner_texts()))
    return result


def _numbers(rows: list[tuple[str, list[str]]]) -> list[list[float | None]]:
    """The cells as numbers; the dash of an hour a DST change skips is None."""
    return [[None if cell == "–" else float(cell) for cell in cells] for _day, cells in rows]


def _roster(day_label: str, hour: int, *, team: Team | None = None) -> int:
    """Agents the roster puts on the whole `hour` of the weekday named by the
    row label ("Wed 2 Dec"), counted from the shifts themselves (the demo's
    shifts start and end on the hour, in the site's time zone)."""
    weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].index(day_label[:3])
    shifts = AgentShift.objects.filter(
        agent__is_active=True,
        agent__role__in=ASSIGNABLE_ROLES,
        weekday=weekday,
        starts__lte=time(hour),
        ends__gte=time(hour + 1),
    )
    if team is not None:
        shifts = shifts.filter(agent__teams=team)
    return shifts.distinct().count()


def _horizon_labels() -> set[str]:
    """The label of the plan's first day ("tomorrow" in the site's zone), as
    it may read either side of a midnight during the test."""
    zone = ZoneInfo(django_settings.TIME_ZONE)
    today = timezone.now().astimezone(zone).date()
    return {(today + timedelta(days=days)).strftime("%a %-d %b") for days in (1, 2)}


def _label_after(label: str, days: int) -> str:
    """The label `days` after a "Wed 2 Dec" label: of this year and the next
    (the plan crosses New Year in December), the one whose weekday matches."""
    year = timezone.now().year
    for candidate in (year, year + 1):
        try:
            day = datetime.strptime(f"{label} {candidate}", "%a %d %b %Y")  # noqa: DTZ007
        except ValueError:
            continue
        if day.strftime("%a %-d %b") != label:
            continue  # the weekday says it is the other year
        return (day + timedelta(days=days)).strftime("%a %-d %b")
    raise AssertionError(f"not a day label: {label!r}")


def _facts(page) -> dict[str, str]:
    """The summary's <dl>: term -> description."""
    terms = page.locator(".staffing-facts dt").all_inner_texts()
    values = page.locator(".staffing-facts dd").all_inner_texts()
    assert len(terms) == len(values)
    return dict(zip(terms, values, strict=True))


def _wapes(text: str) -> tuple[float, float]:
    found = re.fullmatch(
        r"this model (\d+(?:\.\d)?) %; seasonal naive baseline (\d+(?:\.\d)?) %", text.strip()
    )
    assert found, text
    return float(found.group(1)), float(found.group(2))


def test_managers_monday_staffing(page, demo, browser, live_server, screenshot_dir):
    violations = watch_csp(page)
    manager = User.objects.get(email=MANAGER.email)
    log_in(page, manager, DEMO_PASSWORD, landing_heading="All open tickets")
    main_nav = page.get_by_role("navigation", name="Main")

    # From the dashboard to staffing through the main navigation.
    main_nav.get_by_role("link", name="Dashboard").click()
    page.get_by_role("heading", name="Support dashboard").wait_for()
    main_nav.get_by_role("link", name="Staffing").click()
    page.wait_for_url(f"**{STAFFING}")
    page.get_by_role("heading", name=HEADING).wait_for()
    assert "active" in (main_nav.get_by_role("link", name="Staffing").get_attribute("class") or "")
    # The manager plans for every team.
    assert page.get_by_label("Team").locator("option").all_inner_texts() == [
        "All teams",
        *Team.objects.order_by("name").values_list("name", flat=True),
    ]

    # The forecast heatmap of the next 7 days: a table with a caption, the
    # hours as column headers and a day per row, every cell a number coloured
    # by the stylesheet (classes, as the CSP allows no inline style).
    forecast = page.locator("#heatmap-forecast table")
    assert forecast.locator("caption").inner_text().startswith("Forecast tickets per hour")
    assert forecast.locator("thead th").all_inner_texts() == ["Day", *HOURS]
    week1 = _heatmap(page, "forecast")
    assert len(week1) == 7
    assert week1[0][0] in _horizon_labels()
    for index, (day, _cells) in enumerate(week1):
        assert day == _label_after(week1[0][0], index)
    forecast_before = _numbers(week1)
    assert all(len(row) == 24 for row in forecast_before)
    assert sum(v for row in forecast_before for v in row if v) > 0
    steps = forecast.locator("td[class*='heat-blue-']").evaluate_all(
        "cells => cells.map(c => Number(c.className.match(/heat-blue-(\\d)/)[1]))"
    )
    assert max(steps) == 8 and min(steps) < 8  # the week's busiest hour is the darkest
    light, dark = (
        forecast.locator(f"td.heat-blue-{step}").first.evaluate(
            "cell => getComputedStyle(cell).backgroundColor"
        )
        for step in (min(steps), 8)
    )
    assert dark == "rgb(8, 48, 107)" and light != dark

    # The agents needed per hour beside the agents the roster puts on shift.
    assert page.locator("#heatmap-needed caption").inner_text().startswith("Agents needed")
    assert page.locator("#heatmap-on-shift caption").inner_text().startswith("Agents on shift")
    needed_before = _numbers(_heatmap(page, "needed"))
    on_shift_rows = _heatmap(page, "on-shift")
    assert [day for day, _ in on_shift_rows] == [day for day, _ in week1]
    on_shift = _numbers(on_shift_rows)
    for (day, _cells), row in zip(on_shift_rows, on_shift, strict=True):
        assert row[STAFFED_HOUR] == _roster(day, STAFFED_HOUR), day
        assert row[NIGHT_HOUR] == 0, day
    # Agents are planned while the SLA calendar is open: a closed hour (night,
    # weekend; hatched) needs nobody, its tickets wait for the opening. An
    # open hour with tickets forecast needs an agent; only one whose forecast
    # prints as 0.0 may need none.
    closed = page.locator("#heatmap-needed tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.querySelectorAll('td')]"
        ".map(c => c.classList.contains('heat-closed')))"
    )
    assert any(any(row) for row in closed) and not all(all(row) for row in closed)
    for tickets, agents, shut in zip(forecast_before, needed_before, closed, strict=True):
        for expected, need, is_closed in zip(tickets, agents, shut, strict=True):
            if expected is not None and need is not None:
                if is_closed:
                    assert need == 0
                else:
                    assert need >= 1 if expected > 0 else need <= 1
    gap = _numbers(_heatmap(page, "gap"))
    assert gap[0][STAFFED_HOUR] == pytest.approx(
        needed_before[0][STAFFED_HOUR] - on_shift[0][STAFFED_HOUR], abs=0.05
    )

    # The backtest error the page reports: the chosen model's WAPE, never
    # worse than the seasonal naive baseline it was picked against.
    facts = _facts(page)
    backtest = next(term for term in facts if term.startswith("Backtest error (WAPE"))
    assert re.fullmatch(r"Backtest error \(WAPE, [1-4] rolling two-week folds\)", backtest)
    model_wape, baseline_wape = _wapes(facts[backtest])
    assert 0 < model_wape <= baseline_wape
    assert facts["Model"] != "no history"
    assert "What if" not in facts

    # The second week follows the first.
    page.get_by_role("navigation", name="Week").get_by_role("link", name="The 7 days after").click()
    page.wait_for_url("**week=2**")
    page.get_by_role("heading", name=HEADING).wait_for()
    week2 = _heatmap(page, "forecast")
    assert [day for day, _ in week2] == [_label_after(week1[0][0], 7 + i) for i in range(7)]
    page.get_by_role("navigation", name="Week").get_by_role("link", name="Next 7 days").click()
    page.wait_for_url("**week=1**")
    page.get_by_role("heading", name=HEADING).wait_for()

    # What if volume rises 20 %: the forecast is scaled and more agents are
    # needed in the busy hours, never fewer in any hour.
    page.get_by_label("What if volume changes by (%)").fill("20")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**what_if=20**")
    page.get_by_role("heading", name=HEADING).wait_for()
    assert page.get_by_label("What if volume changes by (%)").input_value() == "20"
    assert (
        page.locator("#heatmap-forecast caption")
        .inner_text()
        .startswith("Forecast tickets per hour with volume +20 %")
    )
    assert _facts(page)["What if"] == "volume 20.0 % against the forecast"
    after_rows = _heatmap(page, "forecast")
    assert [day for day, _ in after_rows] == [day for day, _ in week1]
    forecast_after = _numbers(after_rows)
    for before_row, after_row in zip(forecast_before, forecast_after, strict=True):
        for before, after in zip(before_row, after_row, strict=True):
            if before is not None and after is not None:
                # Both printed to one decimal, so 1.2 × the printed forecast
                # is off by up to 0.06 + 0.05.
                assert after == pytest.approx(1.2 * before, abs=0.12)
    needed_after = _numbers(_heatmap(page, "needed"))
    for before_row, after_row in zip(needed_before, needed_after, strict=True):
        for before, after in zip(before_row, after_row, strict=True):
            if before is not None and after is not None:
                assert after >= before
    total_before = sum(v for row in needed_before for v in row if v is not None)
    total_after = sum(v for row in needed_after for v in row if v is not None)
    assert total_after > total_before, (total_before, total_after)
    # The roster does not change with the volume.
    assert _numbers(_heatmap(page, "on-shift")) == on_shift
    page.screenshot(path=screenshot_dir / "staffing.png", full_page=True)

    # The CSV of what is on screen: both weeks, the "what if" applied.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == "staffing.csv"
    content = Path(download.path()).read_text()
    assert content.splitlines()[0] == ",".join(CSV_HEADER)
    rows = list(csv.DictReader(io.StringIO(content)))
    days = sorted({datetime.fromisoformat(row["hour_start_local"]).date() for row in rows})
    assert len(days) == 14
    assert days[0].strftime("%a %-d %b") == week1[0][0]
    assert len(rows) >= 14 * 24 - 1  # an hour fewer on the day clocks go forward
    checked = 0
    for row in rows:
        local = datetime.fromisoformat(row["hour_start_local"])
        assert float(row["planned_tickets"]) == pytest.approx(
            1.2 * float(row["forecast_tickets"]), abs=0.011
        )
        day_index = (local.date() - days[0]).days
        if day_index < 7:
            # The page's agents needed, hour by hour.
            assert int(row["agents_needed"]) == needed_after[day_index][local.hour], local
            checked += 1
    assert checked >= 7 * 24 - 1
    assert violations == []

    # The demo agent plans for their own team only: its roster, and no other
    # team's figures (asking for one is bad input, a 400).
    agent_context = browser.new_context(base_url=live_server.url)
    agent_page = agent_context.new_page()
    agent_violations = watch_csp(agent_page)
    agent = User.objects.get(email=AGENT_LOGIN.email)
    own_team = agent.teams.get()
    log_in(agent_page, agent, DEMO_PASSWORD)
    agent_page.get_by_role("navigation", name="Main").get_by_role("link", name="Staffing").click()
    agent_page.get_by_role("heading", name=HEADING).wait_for()
    assert agent_page.get_by_label("Team").locator("option").all_inner_texts() == [
        "All my teams",
        own_team.name,
    ]
    agent_rows = _heatmap(agent_page, "on-shift")
    for (day, _cells), row in zip(agent_rows, _numbers(agent_rows), strict=True):
        assert row[STAFFED_HOUR] == _roster(day, STAFFED_HOUR, team=own_team), day
    assert _numbers(agent_rows) != on_shift  # fewer than every team's roster
    agent_page.screenshot(path=screenshot_dir / "staffing-agent.png", full_page=True)
    other_team = Team.objects.exclude(pk=own_team.pk).order_by("name").first()
    response = agent_page.goto(f"{STAFFING}?team={other_team.slug}")
    assert response is not None and response.status == 400
    agent_page.get_by_role("alert").first.wait_for()
    response = agent_page.goto(f"{CSV_PATH}?team={other_team.slug}")
    assert response is not None and response.status == 400
    assert agent_violations == []
    agent_context.close()

    # A customer: no such page, no link to it.
    customer_context = browser.new_context(base_url=live_server.url)
    customer_page = customer_context.new_page()
    customer = User.objects.get(email=DEMO_CUSTOMER.email)
    log_in(customer_page, customer, DEMO_PASSWORD, landing_heading="My tickets")
    nav = customer_page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Staffing").count() == 0
    for path in (STAFFING, CSV_PATH):
        response = customer_page.goto(path)
        assert response is not None and response.status == 404, path
    customer_context.close()
