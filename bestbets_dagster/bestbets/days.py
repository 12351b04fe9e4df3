"""The picks of a range of game dates, decided day by day as the daily cycle would have: each day reads
only what was known before it (the candidates' history, the stored signal health and model states of
the look-back, the earlier picks' results), and its picks are graded before the next day is decided.

What each day reads of the history is computed for the range's days in one pass, or sliced from frames
sorted by date, instead of filtering the whole history every day (a season's range was quadratic in its
days): the blacklist and direction health (cumulative counts of the decided candidates), the families'
health tiers, the stored signal health and model states, and the picks' results."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from bestbets_dagster.bestbets.config import BestBetsConfig
from bestbets_dagster.bestbets.export import build_export, tipoffs_by_day
from bestbets_dagster.bestbets.history import blacklists_by_day, directions_by_day
from bestbets_dagster.bestbets.pipeline import (
    decide,
    decision_row,
    graded_candidates,
    health_as_of,
    lines_read,
    model_states_as_of,
)
from bestbets_dagster.bestbets.results import grade_picks
from bestbets_dagster.monitoring.signal_health import family_health

DAY = dt.timedelta(days=1)
# The picks of D read the newest stored signal health and model state before D within this many days
# (D - 1 on a game day after a game day; further back across a break in the schedule).
HEALTH_LOOKBACK_DAYS = 14


@dataclasses.dataclass(frozen=True)
class History:
    """What the range's decisions read: the candidates and graded predictions of the look-back, the picks
    before the range, the range's predictions and lines, and the stored signal health and model states."""

    tags: pd.DataFrame
    accuracy: pd.DataFrame
    earlier_picks: pd.DataFrame
    predictions: pd.DataFrame
    signal_health: pd.DataFrame
    model_states: pd.DataFrame
    day_lines: pd.DataFrame


@dataclasses.dataclass(frozen=True)
class RangeDecisions:
    picks: pd.DataFrame
    audit: pd.DataFrame
    decisions: pd.DataFrame
    exported: dict[str, dict]  # {date: the day's export document}


def rows_between(by_date: pd.DataFrame, first: dt.date | None, end: dt.date) -> pd.DataFrame:
    """The rows of [first, end) of a frame sorted by game_date (from the first row when first is None)."""
    dates = by_date["game_date"]
    lo = 0 if first is None else dates.searchsorted(pd.Timestamp(first), side="left")
    return by_date.iloc[lo : dates.searchsorted(pd.Timestamp(end), side="left")]


def by_day(df: pd.DataFrame) -> dict[dt.date, pd.DataFrame]:
    """The rows of each game date, split once (a per-day loop filtering the whole frame each day cost
    a season backfill's picks step more than the picking)."""
    if df.empty:
        return {}
    return {day.date(): rows for day, rows in df.groupby(pd.to_datetime(df["game_date"]), sort=True)}


def decide_days(days: list[dt.date], history: History, config: BestBetsConfig) -> RangeDecisions:
    """Every day's picks, filter audit, decision row and export document, in date order."""
    tags, predictions = history.tags, history.predictions
    accuracy, stored_health, stored_states = (
        frame.sort_values("game_date", kind="mergesort", ignore_index=True)
        for frame in (history.accuracy, history.signal_health, history.model_states)
    )
    graded = graded_candidates(tags, history.accuracy)
    read_lines, tipoffs_of = lines_read(history.day_lines), tipoffs_by_day(history.day_lines)
    lookback = dt.timedelta(days=HEALTH_LOOKBACK_DAYS)
    tags_of, predictions_of = by_day(tags), by_day(predictions)
    family_rows = family_health(accuracy, days)
    family_rows_of = by_day(family_rows)
    blacklists, directions = blacklists_by_day(graded, days, config), directions_by_day(graded, days, config)
    results = [grade_picks(history.earlier_picks, accuracy, pd.Timestamp.now(tz="UTC"))]
    picks, audits, decisions, exported = [], [], [], {}
    for day in days:
        decision = decide(
            day,
            tags_of.get(day, tags.iloc[0:0]),
            blacklists[day],
            directions[day],
            family_rows_of.get(day, family_rows.iloc[0:0]),
            config,
            health_as_of(day, rows_between(stored_health, day - lookback, day), HEALTH_LOOKBACK_DAYS),
            model_states_as_of(day, rows_between(stored_states, day - lookback, day), HEALTH_LOOKBACK_DAYS),
            read_lines.get(day),
        )
        created_at = pd.Timestamp.now(tz="UTC")
        results_before = pd.concat([r for r in results if len(r)] or results[:1], ignore_index=True)
        exported[f"{day}"] = build_export(
            day,
            decision.picks,
            decision.snapshot,
            results_before,
            predictions_of.get(day, predictions.iloc[0:0]),
            created_at,
            tipoffs_of.get(day, {}),
        )
        picks.append(decision.picks)
        audits.append(decision.audit)
        decisions.append(decision_row(decision, created_at))
        # The day's picks graded by its own graded predictions (stored ones: the range's last day has none).
        results.append(grade_picks(decision.picks, rows_between(accuracy, day, day + DAY), created_at))
    return RangeDecisions(
        pd.concat(picks, ignore_index=True), pd.concat(audits, ignore_index=True), pd.DataFrame(decisions), exported
    )
