"""The forecast on synthetic histories with a known weekly pattern and trend."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analytics.staffing import forecast

MONDAY = datetime(2026, 8, 31, tzinfo=UTC)


def weekly_rates(start, hours, *, growth_per_week=0.0, zone=UTC):
    """Office hours (Mon-Fri 08-18) busy, the rest quiet; optional growth."""
    how = forecast.hours_of_week(start, hours, zone)
    base = np.where((how % 24 >= 8) & (how % 24 < 18) & (how < 120), 8.0, 0.5)
    return base * (1 + growth_per_week * np.arange(hours) / forecast.HOURS_PER_WEEK)


def test_hours_of_week_follow_the_local_clock():
    how = forecast.hours_of_week(
        datetime(2026, 3, 28, 23, tzinfo=UTC), 4, ZoneInfo("Europe/Berlin")
    )
    # Sat 23:00 UTC = Sun 00:00 CET; at 01:00 UTC Berlin moves to CEST (03:00).
    assert list(how) == [6 * 24 + 0, 6 * 24 + 1, 6 * 24 + 3, 6 * 24 + 4]


def test_weekly_pattern_with_trend_is_forecast_closely():
    weeks = 12
    hours = weeks * 168
    rates = weekly_rates(MONDAY, hours + 336, growth_per_week=0.03)
    counts = np.random.default_rng(7).poisson(rates[:hours])
    result = forecast.forecast_hours(history_start=MONDAY, counts=counts, hours=336, zone=UTC)
    assert result.quality == forecast.QUALITY_GOOD
    assert result.backtest is not None and result.backtest.folds == 4
    # Against the true rates the error is small, and the trend is carried on:
    # the chosen model beats the seasonal-naive baseline in the backtest.
    assert forecast.wape(rates[hours:], result.values) < 0.12
    assert result.model != forecast.BASELINE
    tested = result.backtest.wape
    assert tested[result.model] < tested[forecast.BASELINE]
    assert len(result.backtest.wape_by_day[result.model]) == 14
    # The second week's office hours are forecast higher than the first's (growth).
    assert result.values[168 + 9 + 24] > result.values[9 + 24]
    assert (result.values >= 0).all()


def test_forecast_is_never_negative_even_with_a_falling_trend():
    hours = 8 * 168
    rates = weekly_rates(MONDAY, hours + 336, growth_per_week=-0.1).clip(min=0.05)
    counts = np.random.default_rng(3).poisson(rates[:hours])
    result = forecast.forecast_hours(history_start=MONDAY, counts=counts, hours=336, zone=UTC)
    assert (result.values >= 0).all()


def test_wape_ignores_hours_without_tickets_instead_of_dividing_by_zero():
    actual = np.array([0, 0, 4, 6])
    assert forecast.wape(actual, np.array([1, 0, 5, 5])) == pytest.approx(3 / 10)
    assert forecast.wape(np.zeros(3), np.ones(3)) is None


def test_empty_history_forecasts_no_tickets():
    result = forecast.forecast_hours(history_start=MONDAY, counts=np.zeros(500), hours=48, zone=UTC)
    assert result.quality == forecast.QUALITY_EMPTY
    assert result.values.tolist() == [0.0] * 48
    assert "No tickets" in result.notes[0]
    nothing = forecast.forecast_hours(history_start=MONDAY, counts=np.zeros(0), hours=24, zone=UTC)
    assert nothing.quality == forecast.QUALITY_EMPTY


def test_under_a_week_repeats_the_average_day_and_says_so():
    counts = np.tile(np.r_[np.zeros(8), np.full(10, 4.0), np.zeros(6)], 3)  # three days
    result = forecast.forecast_hours(history_start=MONDAY, counts=counts, hours=48, zone=UTC)
    assert result.quality == forecast.QUALITY_VERY_SHORT
    assert "3.0 days" in result.notes[0]
    assert result.values[9] == pytest.approx(4.0)
    assert result.values[3] == 0


def test_under_four_weeks_repeats_last_week_without_a_backtest():
    hours = 2 * 168
    counts = np.random.default_rng(1).poisson(weekly_rates(MONDAY, hours))
    result = forecast.forecast_hours(history_start=MONDAY, counts=counts, hours=168, zone=UTC)
    assert result.quality == forecast.QUALITY_SHORT
    assert result.model == "seasonal_naive"
    assert result.backtest is None
    assert "2.0 weeks" in result.notes[0]
    assert result.values.tolist() == counts[168:].astype(float).tolist()


def test_seasonal_naive_repeats_the_same_hour_last_week():
    how = forecast.hours_of_week(MONDAY, 168 * 2 + 5, UTC)
    counts = np.arange(168 * 2, dtype=float)
    future = forecast.seasonal_naive(counts, how[: 168 * 2], how[168 * 2 :])
    assert future.tolist() == counts[168 : 168 + 5].tolist()
