"""What earlier days say about today: graded candidates, the player blacklist, direction health.

A candidate (a pick_signal_tags row) is graded with its source family's prediction_accuracy row of
the same player-game: the model that made the candidate, never a champion's row.
"""

from __future__ import annotations

import datetime as dt

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


def _decided_before(graded: pd.DataFrame, day: dt.date, since: pd.Timestamp, min_edge: float) -> pd.DataFrame:
    d = _decided(graded, min_edge)
    return d[(d["game_date"] < pd.Timestamp(day)) & (d["game_date"] >= since)]


def history_candidates(graded: pd.DataFrame, config: BestBetsConfig) -> pd.DataFrame:
    """The graded candidates the blacklist and direction health count (decided, |edge| at least
    config.blacklist_edge), sorted by game_date: a range's days take their history as a slice."""
    return _decided(graded, config.blacklist_edge).sort_values("game_date", kind="mergesort", ignore_index=True)


def player_blacklist(graded: pd.DataFrame, day: dt.date, config: BestBetsConfig) -> tuple[pd.DataFrame, int]:
    """(blacklisted players with n and hit rate, players evaluated): the season before `day`,
    candidates at |edge| >= 3, decided only; N >= 8 and hit rate strictly below 40%."""
    d = _decided_before(graded, day, pd.Timestamp(season_start(day)), config.blacklist_edge)
    if d.empty:
        return pd.DataFrame(columns=["player_lookup", "n", "hit_rate"]), 0
    per = (
        d.assign(correct=d["prediction_correct"].astype(bool))
        .groupby("player_lookup")["correct"]
        .agg(n="size", hit_rate="mean")
    )
    per = per.assign(hit_rate=per["hit_rate"] * 100).reset_index()
    evaluated = per[per["n"] >= config.blacklist_min_picks]
    listed = evaluated[evaluated["hit_rate"] < config.blacklist_max_hit_rate]
    return listed.sort_values(["hit_rate", "player_lookup"]).reset_index(drop=True), len(evaluated)


def direction_health(graded: pd.DataFrame, day: dt.date, config: BestBetsConfig) -> dict:
    """Hit rate and N by direction of candidates at |edge| >= 3 over the days before `day`."""
    since = pd.Timestamp(day) - pd.Timedelta(days=config.direction_health_days)
    d = _decided_before(graded, day, since, config.blacklist_edge)
    out = {}
    for direction in ("over", "under"):
        rows = d[d["recommendation"] == direction.upper()]["prediction_correct"].astype(bool)
        out[f"{direction}_hr_14d"] = round(float(rows.mean() * 100), 1) if len(rows) else None
        out[f"{direction}_n"] = len(rows)
    return out
