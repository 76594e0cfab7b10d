"""Tickets per hour for the next two weeks, from the hourly arrival history.

Ticket volume repeats by the hour of the week (Monday mornings are busy,
Sunday nights quiet) and drifts slowly (a growing customer base). Three
candidate models, all forecasting counts that cannot be negative:

- `seasonal_naive`: each hour is the same hour of last week. The baseline
  every forecast has to beat.
- `seasonal_mean`: the mean of the same hour of the week over the last
  four weeks: less noisy than one week, no trend.
- `poisson_trend`: a Poisson regression (scikit-learn's PoissonRegressor, a
  log-linear model) on one-hot hour-of-week plus a linear time term; the trend
  is a steady weekly growth rate, fitted on the whole history.

Which one forecasts is chosen by a rolling-origin backtest on the history
itself: cut the history at an origin, fit on what lies before, forecast the
next two weeks, compare with what happened; move the origin back a week and
repeat. The error is WAPE (sum of absolute errors / sum of actual tickets):
unlike MAPE it does not blow up on the many hours with no tickets.

A history shorter than the backtest needs is said so (`quality`), and the
forecast falls back to what the data can support: a week or more repeats last
week (seasonal naive); less than a week repeats the average day; no tickets
forecast none.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import PoissonRegressor
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

HOURS_PER_WEEK = 168
HORIZON_HOURS = 2 * HOURS_PER_WEEK
# The backtest's first training set is at least this long (two weeks: the
# Poisson model needs each hour of the week seen twice to tell it from noise).
MIN_TRAIN_HOURS = 2 * HOURS_PER_WEEK
MAX_BACKTEST_FOLDS = 4
SEASONAL_MEAN_WEEKS = 4

# Quality of the history behind a forecast.
QUALITY_GOOD = "backtested"
QUALITY_SHORT = "short"  # one to four weeks: no backtest possible, seasonal naive
QUALITY_VERY_SHORT = "very_short"  # under a week: the average day
QUALITY_EMPTY = "empty"  # no tickets at all

BASELINE = "seasonal_naive"

# Finding the loaded BLAS libraries costs milliseconds: once per process.
_threadpools = ThreadpoolController()


def hours_of_week(start: datetime, count: int, zone: tzinfo) -> np.ndarray:
    """Hour of the week (Monday 00:00 local = 0 … Sunday 23:00 = 167) of
    `count` consecutive hours from `start` (UTC), in `zone`: the weekly rhythm
    follows the customers' local clock, also across a DST change."""
    result = np.empty(count, dtype=np.int64)
    for i in range(count):
        local = (start + timedelta(hours=i)).astimezone(zone)
        result[i] = local.weekday() * 24 + local.hour
    return result


# --- the models -------------------------------------------------------------------
# Each takes the training counts and their hours of the week, and the hours of
# the week to forecast (continuing straight after the training hours).

Model = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def seasonal_naive(counts: np.ndarray, how: np.ndarray, future_how: np.ndarray) -> np.ndarray:
    last_seen = np.full(HOURS_PER_WEEK, np.nan)
    recent = slice(max(0, len(counts) - HOURS_PER_WEEK - 1), len(counts))
    last_seen[how[recent]] = counts[recent]  # later hours overwrite earlier ones
    return _fill_unseen(last_seen, counts)[future_how]


def seasonal_mean(counts: np.ndarray, how: np.ndarray, future_how: np.ndarray) -> np.ndarray:
    recent = slice(max(0, len(counts) - SEASONAL_MEAN_WEEKS * HOURS_PER_WEEK), len(counts))
    sums = np.bincount(how[recent], weights=counts[recent], minlength=HOURS_PER_WEEK)
    seen = np.bincount(how[recent], minlength=HOURS_PER_WEEK)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(seen > 0, sums / np.maximum(seen, 1), np.nan)
    return _fill_unseen(means, counts)[future_how]


def poisson_trend(counts: np.ndarray, how: np.ndarray, future_how: np.ndarray) -> np.ndarray:
    n = len(counts)
    weeks = np.arange(n + len(future_how), dtype=float) / HOURS_PER_WEEK
    # Centred on the training span, so the intercept is the mean level and the
    # small L2 penalty does not pull the trend towards the series' start.
    weeks -= weeks[:n].mean()
    all_how = np.concatenate([how, future_how])
    features = np.zeros((len(all_how), HOURS_PER_WEEK + 1))
    features[np.arange(len(all_how)), all_how] = 1.0
    features[:, HOURS_PER_WEEK] = weeks
    model = PoissonRegressor(alpha=1e-4, solver="newton-cholesky", max_iter=100)
    # One BLAS thread: on a small matrix (about 2,000 × 169) the threads'
    # start-up and contention with the web workers cost 10-50× the fit itself
    # (0.3 s instead of 10-20 ms per fit, measured on the 2-core box).
    with _threadpools.limit(limits=1, user_api="blas"), warnings.catch_warnings():
        # An hour of the week that never had a ticket drives its weight towards
        # minus infinity; the L2 penalty stops it near a forecast of ~0.05, and
        # a solver that has not quite converged there is still right.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features[:n], counts)
    return np.asarray(model.predict(features[n:]), dtype=float)


def _fill_unseen(per_hour_of_week: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Hours of the week the window never saw (a DST gap) get the overall mean."""
    fallback = float(counts.mean()) if len(counts) else 0.0
    return np.where(np.isnan(per_hour_of_week), fallback, per_hour_of_week)


MODELS: dict[str, Model] = {
    "seasonal_naive": seasonal_naive,
    "seasonal_mean": seasonal_mean,
    "poisson_trend": poisson_trend,
}
MODEL_LABELS = {
    "seasonal_naive": "seasonal naive (same hour last week)",
    "seasonal_mean": "4-week mean of the same hour of the week",
    "poisson_trend": "Poisson regression: hour of week + linear trend",
    "daily_profile": "average day (history shorter than a week)",
    "none": "no history",
}


def wape(actual: np.ndarray, predicted: np.ndarray) -> float | None:
    """Weighted absolute percentage error, as a share: sum|error| / sum(actual).
    None when there was nothing to forecast (no tickets in the span)."""
    total = float(np.sum(actual))
    if total <= 0:
        return None
    return float(np.sum(np.abs(actual - predicted)) / total)


# --- backtest ---------------------------------------------------------------------


@dataclass(frozen=True)
class Backtest:
    folds: int
    # model name -> WAPE over all folds and both weeks
    wape: dict[str, float | None]
    # model name -> WAPE per horizon day (day 1 = the first 24 h after the origin)
    wape_by_day: dict[str, list[float | None]]
    chosen: str


def backtest(
    counts: np.ndarray, how: np.ndarray, *, folds: int = MAX_BACKTEST_FOLDS
) -> Backtest | None:
    """Rolling-origin backtest of every model; None when the history is too
    short for one fold (MIN_TRAIN_HOURS of training plus two weeks to check)."""
    origins = [
        len(counts) - HORIZON_HOURS - fold * HOURS_PER_WEEK
        for fold in range(folds)
        if len(counts) - HORIZON_HOURS - fold * HOURS_PER_WEEK >= MIN_TRAIN_HOURS
    ]
    if not origins:
        return None
    actual = np.concatenate([counts[o : o + HORIZON_HOURS] for o in origins])
    wapes: dict[str, float | None] = {}
    by_day: dict[str, list[float | None]] = {}
    for name, model in MODELS.items():
        predicted = np.concatenate(
            [
                np.maximum(model(counts[:o], how[:o], how[o : o + HORIZON_HOURS]), 0.0)
                for o in origins
            ]
        )
        wapes[name] = wape(actual, predicted)
        days_actual = actual.reshape(len(origins), HORIZON_HOURS // 24, 24)
        days_predicted = predicted.reshape(len(origins), HORIZON_HOURS // 24, 24)
        by_day[name] = [
            wape(days_actual[:, day, :], days_predicted[:, day, :])
            for day in range(HORIZON_HOURS // 24)
        ]
    scored = {name: value for name, value in wapes.items() if value is not None}
    # The baseline wins ties and history with no tickets in the checked spans.
    chosen = min(scored, key=lambda name: (scored[name], name != BASELINE), default=BASELINE)
    return Backtest(folds=len(origins), wape=wapes, wape_by_day=by_day, chosen=chosen)


# --- forecast ---------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    start: datetime  # UTC, the first forecast hour (the hour the history ends)
    values: np.ndarray  # tickets per hour, >= 0
    model: str
    quality: str
    history_hours: int
    history_tickets: int
    backtest: Backtest | None = None
    notes: list[str] = field(default_factory=list)


def forecast_hours(
    *, history_start: datetime, counts: np.ndarray, hours: int, zone: tzinfo
) -> Forecast:
    """Forecast `hours` hours straight after the history (`counts` per hour
    from `history_start`, UTC, hour-aligned)."""
    counts = np.asarray(counts, dtype=float)
    start = history_start + timedelta(hours=len(counts))
    how = hours_of_week(history_start, len(counts), zone)
    future_how = hours_of_week(start, hours, zone)
    total = int(counts.sum())
    history = len(counts)
    if total == 0:
        return Forecast(
            values=np.zeros(hours),
            model="none",
            quality=QUALITY_EMPTY,
            notes=["No tickets in the history: nothing to forecast from, so no arrivals."],
            start=start,
            history_hours=history,
            history_tickets=total,
        )
    if len(counts) < HOURS_PER_WEEK:
        days = len(counts) / 24
        return Forecast(
            values=_daily_profile(counts, history_start, start, hours, zone),
            model="daily_profile",
            quality=QUALITY_VERY_SHORT,
            notes=[
                f"Only {days:.1f} days of history: the forecast repeats the average day "
                "(no weekly pattern, no trend) and is not backtested."
            ],
            start=start,
            history_hours=history,
            history_tickets=total,
        )
    tested = backtest(counts, how)
    if tested is None:
        return Forecast(
            values=np.maximum(seasonal_naive(counts, how, future_how), 0.0),
            model="seasonal_naive",
            quality=QUALITY_SHORT,
            notes=[
                f"Only {len(counts) / HOURS_PER_WEEK:.1f} weeks of history: the forecast "
                "repeats last week. A backtest needs four weeks (two to train, two to check)."
            ],
            start=start,
            history_hours=history,
            history_tickets=total,
        )
    values = np.maximum(MODELS[tested.chosen](counts, how, future_how), 0.0)
    return Forecast(
        values=values,
        model=tested.chosen,
        quality=QUALITY_GOOD,
        backtest=tested,
        start=start,
        history_hours=history,
        history_tickets=total,
    )


def _daily_profile(
    counts: np.ndarray, history_start: datetime, start: datetime, hours: int, zone: tzinfo
) -> np.ndarray:
    """Mean tickets per local hour of the day over the history."""
    hod = np.array(
        [(history_start + timedelta(hours=i)).astimezone(zone).hour for i in range(len(counts))]
    )
    sums = np.bincount(hod, weights=counts, minlength=24)
    seen = np.bincount(hod, minlength=24)
    profile = np.where(seen > 0, sums / np.maximum(seen, 1), counts.mean())
    future = [(start + timedelta(hours=i)).astimezone(zone).hour for i in range(hours)]
    return profile[np.array(future, dtype=np.int64)]
