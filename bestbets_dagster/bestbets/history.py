"""What earlier days say about today: graded candidates, the player blacklist, direction health.

A candidate (a pick_signal_tags row) is graded with its source family's prediction_accuracy row of
the same player-game: the model that made the candidate, never a champion's row.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from bestbets_dagster.bestbets.config import BestBetsConfig
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
    d = graded[graded["prediction_correct"].notna()]
    return d[pd.to_numeric(d["edge"]).abs() >= min_edge]


class _Counts:
    """Decided candidates counted per game date and group (a player, a direction), cumulated over
    the dates: the counts of any [since, day) window are two lookups, for every day of a range at
    once (a range's days counted their windows row by row: quadratic in the days)."""

    def __init__(self, decided: pd.DataFrame, group: str):
        decided = decided[decided[group].notna()]  # as a group-by: a row without its group counts nowhere
        codes, self.groups = pd.factorize(decided[group], sort=False)
        when = decided["game_date"].to_numpy(dtype="datetime64[ns]")
        self.dates, date_codes = np.unique(when, return_inverse=True)
        correct = decided["prediction_correct"].astype(bool).to_numpy()
        n = np.zeros((len(self.dates) + 1, len(self.groups)), dtype="int64")  # row 0: before any date
        right = np.zeros_like(n)
        np.add.at(n, (date_codes + 1, codes), 1)
        np.add.at(right, (date_codes + 1, codes), correct.astype("int64"))
        self.n, self.right = n.cumsum(axis=0), right.cumsum(axis=0)

    def between(self, since: pd.Timestamp, day: dt.date) -> tuple[np.ndarray, np.ndarray]:
        """(decided, correct) per group over [since, day)."""
        hi = np.searchsorted(self.dates, np.datetime64(pd.Timestamp(day), "ns"), side="left")
        lo = np.searchsorted(self.dates, np.datetime64(since, "ns"), side="left")
        return self.n[hi] - self.n[lo], self.right[hi] - self.right[lo]


def blacklists_by_day(graded: pd.DataFrame, days: list[dt.date], config: BestBetsConfig) -> dict[dt.date, tuple]:
    """{day: player_blacklist(graded, day, config)} of many days from one pass over the rows."""
    d = _decided(graded, config.blacklist_edge)
    none = (pd.DataFrame(columns=["player_lookup", "n", "hit_rate"]), 0)
    if d.empty:
        return {day: none for day in days}
    counts = _Counts(d, "player_lookup")
    out = {}
    for day in days:
        n, right = counts.between(pd.Timestamp(season_start(day)), day)
        if not n.any():
            out[day] = none
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            hit_rate = right / n * 100
        evaluated = n >= config.blacklist_min_picks
        listed = evaluated & (hit_rate < config.blacklist_max_hit_rate)
        rows = pd.DataFrame({"player_lookup": counts.groups[listed], "n": n[listed], "hit_rate": hit_rate[listed]})
        out[day] = (rows.sort_values(["hit_rate", "player_lookup"]).reset_index(drop=True), int(evaluated.sum()))
    return out


def directions_by_day(graded: pd.DataFrame, days: list[dt.date], config: BestBetsConfig) -> dict[dt.date, dict]:
    """{day: direction_health(graded, day, config)} of many days from one pass over the rows."""
    d = _decided(graded, config.blacklist_edge)
    d = d[d["recommendation"].isin(["OVER", "UNDER"])]
    counts = _Counts(d, "recommendation") if len(d) else None
    out = {}
    for day in days:
        since = pd.Timestamp(day) - pd.Timedelta(days=config.direction_health_days)
        of_side = dict(zip(counts.groups, zip(*counts.between(since, day)))) if counts is not None else {}
        health = {}
        for direction in ("over", "under"):
            decided, correct = of_side.get(direction.upper(), (0, 0))
            health[f"{direction}_hr_14d"] = round(float(correct / decided * 100), 1) if decided else None
            health[f"{direction}_n"] = int(decided)
        out[day] = health
    return out


def player_blacklist(graded: pd.DataFrame, day: dt.date, config: BestBetsConfig) -> tuple[pd.DataFrame, int]:
    """(blacklisted players with n and hit rate, players evaluated): the season before `day`,
    candidates at |edge| >= 3, decided only; N >= 8 and hit rate strictly below 40%."""
    return blacklists_by_day(graded, [day], config)[day]


def direction_health(graded: pd.DataFrame, day: dt.date, config: BestBetsConfig) -> dict:
    """Hit rate and N by direction of candidates at |edge| >= 3 over the days before `day`."""
    return directions_by_day(graded, [day], config)[day]
