"""What earlier days say about today: graded candidates, the player blacklist, direction health.

A candidate (a pick_signal_tags row) is graded with its source family's prediction_accuracy row of
the same player-game: the model that made the candidate, never a champion's row.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from bestbets_dagster.bestbets.config import BestBetsConfig
from bestbets_dagster.monitoring.signal_health import window_counts
from bestbets_dagster.timeutil import season_start

GRADE_COLUMNS = ["prediction_correct", "actual_points", "is_push", "is_voided"]


def graded_candidates(tags: pd.DataFrame, accuracy: pd.DataFrame) -> pd.DataFrame:
    """pick_signal_tags rows with their source model's grading (rows not graded yet are dropped)."""
    if tags.empty or accuracy.empty:
        return tags.iloc[0:0].assign(**{c: pd.Series(dtype=object) for c in GRADE_COLUMNS})
    key = ["game_date", "person_id"]
    a = accuracy.rename(columns={"model_family": "source_model_family", "model_id": "graded_model_id"})
    a = a[[*key, "source_model_family", "graded_model_id", *GRADE_COLUMNS]]
    t = tags.assign(game_date=pd.to_datetime(tags["game_date"]).astype("datetime64[ns]"))
    a = a.assign(game_date=pd.to_datetime(a["game_date"]).astype("datetime64[ns]"))
    g = t.merge(a, on=[*key, "source_model_family"], how="inner")
    return g[g["graded_model_id"] == g["source_model_id"]].drop(columns="graded_model_id").reset_index(drop=True)


def _decided(graded: pd.DataFrame, min_edge: float) -> pd.DataFrame:
    """The graded candidates the blacklist and direction health count (decided, |edge| >= min_edge),
    with `correct` 0/1 (monitoring.signal_health.window_counts reads it)."""
    d = graded[graded["prediction_correct"].notna()]
    d = d[pd.to_numeric(d["edge"]).abs() >= min_edge]
    return d.assign(
        game_date=pd.to_datetime(d["game_date"]).astype("datetime64[ns]"),
        correct=d["prediction_correct"].astype(bool).astype(float),
    )


def _windows(days: list[dt.date], first_day) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """The windows [first_day(D), D) of `days` as window_counts' (since, through]."""
    day = pd.Timedelta(days=1)
    return pd.DatetimeIndex([pd.Timestamp(first_day(d)) for d in days]) - day, pd.DatetimeIndex(days) - day


def blacklists_by_day(graded: pd.DataFrame, days: list[dt.date], config: BestBetsConfig) -> dict[dt.date, tuple]:
    """{day: player_blacklist(graded, day, config)} of many days from one pass over the rows."""
    d = _decided(graded, config.blacklist_edge)
    none = (pd.DataFrame(columns=["player_lookup", "n", "hit_rate"]), 0)
    if d.empty or not days:
        return {day: none for day in days}
    decided, correct, players = window_counts(d, "player_lookup", *_windows(days, season_start))
    out = {}
    for day, n, right in zip(days, decided, correct, strict=True):
        if not n.any():
            out[day] = none
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            hit_rate = right / n * 100
        evaluated = n >= config.blacklist_min_picks
        listed = evaluated & (hit_rate < config.blacklist_max_hit_rate)
        rows = pd.DataFrame(
            {"player_lookup": players[listed], "n": n[listed].astype("int64"), "hit_rate": hit_rate[listed]}
        )
        out[day] = (rows.sort_values(["hit_rate", "player_lookup"]).reset_index(drop=True), int(evaluated.sum()))
    return out


def directions_by_day(graded: pd.DataFrame, days: list[dt.date], config: BestBetsConfig) -> dict[dt.date, dict]:
    """{day: direction_health(graded, day, config)} of many days from one pass over the rows."""
    d = _decided(graded, config.blacklist_edge)
    sides = ["OVER", "UNDER"]
    d = d[d["recommendation"].isin(sides)]
    if d.empty or not days:
        decided = correct = np.zeros((len(days), len(sides)))
    else:
        back = pd.Timedelta(days=config.direction_health_days)
        decided, correct, _ = window_counts(d, "recommendation", *_windows(days, lambda day: day - back), sides)
    out = {}
    for day, n, right in zip(days, decided, correct, strict=True):
        health = {}
        for direction, decided_n, correct_n in zip(("over", "under"), n, right, strict=True):
            health[f"{direction}_hr_14d"] = round(float(correct_n / decided_n * 100), 1) if decided_n else None
            health[f"{direction}_n"] = int(decided_n)
        out[day] = health
    return out


def player_blacklist(graded: pd.DataFrame, day: dt.date, config: BestBetsConfig) -> tuple[pd.DataFrame, int]:
    """(blacklisted players with n and hit rate, players evaluated): the season before `day`,
    candidates at |edge| >= 3, decided only; N >= 8 and hit rate strictly below 40%."""
    return blacklists_by_day(graded, [day], config)[day]


def direction_health(graded: pd.DataFrame, day: dt.date, config: BestBetsConfig) -> dict:
    """Hit rate and N by direction of candidates at |edge| >= 3 over the days before `day`."""
    return directions_by_day(graded, [day], config)[day]
