"""The day's best-bets decision from warehouse rows: candidates and their signals (pick_signal_tags),
then picks, audit, decision snapshot and export. Plain functions; the Dagster layer reads and writes.

Time rules: the tags of D read box scores, lines and grading before D only (and D's own pre-game
lines and predictions); the picks of D read signal health, model health, the blacklist and the
record as of D - 1. A range is processed date by date in order, so a backfill equals the daily runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pandas as pd

from bestbets_dagster import tables
from bestbets_dagster.bestbets.aggregator import (
    DecisionSnapshot,
    filter_summary,
    select_picks,
)
from bestbets_dagster.bestbets.candidates import build_candidates
from bestbets_dagster.bestbets.config import ALGORITHM_VERSION, BestBetsConfig
from bestbets_dagster.bestbets.history import graded_candidates
from bestbets_dagster.bestbets.market import graded_with_market
from bestbets_dagster.bestbets.probability import calibrations_by_day
from bestbets_dagster.bestbets.sourcing import SOURCING_LOOKBACK_DAYS, sourcing_weights
from bestbets_dagster.bestbets.tags import tag_candidates
from bestbets_dagster.models.families import Family
from bestbets_dagster.monitoring.model_performance import model_performance
from bestbets_dagster.monitoring.signal_health import family_health
from bestbets_dagster.signals.context import signal_context
from bestbets_dagster.signals.registry import MODEL_DEPENDENT_TAGS, REGISTERED_TAGS

NO_REGISTRY = pd.DataFrame(columns=["model_id", "training_end_date"])  # the states need no training dates

# How far back the tags and picks of a date read: a year of games against the opponent, the season
# for the other context, the blacklist and the record.
HISTORY_LOOKBACK_DAYS = 400


def build_pick_signal_tags(
    dates: list[dt.date],
    predictions: pd.DataFrame,
    accuracy: pd.DataFrame,
    player_logs: pd.DataFrame,
    team_logs: pd.DataFrame,
    lines: pd.DataFrame,
    families: list[Family],
    config: BestBetsConfig,
    evaluated_at: pd.Timestamp,
    offers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """pick_signal_tags rows of the dates. predictions: every family's rows of the dates; accuracy:
    graded predictions before the dates (model health, miss streaks, the win-probability
    calibration of each date from the rows before it); player/team logs and lines:
    HISTORY_LOOKBACK_DAYS before the first date through the last (rows of D itself are not read for D);
    offers: the books' current lines (ingest.lines.current_offers) of the dates, to shop each bet and
    price it by the market, and of the CALIBRATION_DAYS before them, for the market's probability of
    the graded predictions the calibrations are fitted on.

    Each date's Phase B weights are its model_performance_daily figures of the day before, computed
    here from `accuracy` by the function that builds that table (monitoring.model_performance): the states and
    rolling hit rates read graded predictions only. Reading the stored table instead would put
    model_performance_daily upstream of the tags and so of signal_health_daily, and a UI backfill of
    the monitoring would then leave signal_health_daily waiting for tags it does not target."""
    if predictions.empty:
        return pd.DataFrame()
    health = family_health(accuracy, dates)
    first, last = min(dates), max(dates)
    states_through = pd.date_range(first - dt.timedelta(days=SOURCING_LOOKBACK_DAYS), last - dt.timedelta(days=1)).date
    performance = model_performance(accuracy, NO_REGISTRY, states_through, evaluated_at) if len(accuracy) else None
    days = sorted(set(dates))
    predictions = predictions[pd.to_datetime(predictions["game_date"]).isin(pd.to_datetime(days))]
    if predictions.empty:
        return pd.DataFrame()
    if offers is None:
        offers = pd.DataFrame(columns=["game_date", "person_id", "bookmaker", "line", "over_price", "under_price"])
    accuracy = graded_with_market(accuracy, offers, config.nominal_price_books, days)
    offers = offers[pd.to_datetime(offers["game_date"]).isin(pd.to_datetime(days))]
    families_of = predictions.groupby(pd.to_datetime(predictions["game_date"]).dt.date)["model_family"].unique()
    sourcing = {
        day: sourcing_weights(
            model_states_as_of(day, performance, SOURCING_LOOKBACK_DAYS) if performance is not None else {},
            predicted_families,
            config,
        )
        for day, predicted_families in families_of.items()
    }
    candidates = build_candidates(
        predictions,
        health,
        feature_sets={f.model_family: f.feature_set for f in families},
        quantile_families={f.model_family for f in families if f.quantile_alpha is not None},
        config=config,
        offers=offers,
        calibrations=calibrations_by_day(accuracy, days),
        sourcing=sourcing,
    )
    if candidates.empty:
        return pd.DataFrame()
    targets = candidates[["game_date", "person_id", "opponent_abbr", "line_value"]].assign(
        model_family=candidates["source_model_family"]
    )
    context = signal_context(targets, player_logs, team_logs, lines, accuracy)
    return tag_candidates(candidates, context, lines, evaluated_at)


@dataclasses.dataclass
class DayDecision:
    picks: pd.DataFrame
    audit: pd.DataFrame
    snapshot: dict  # JSON-able: config, signal_health, model_health, blacklist, direction_health, filter_summary


def _signal_health_snapshot(health_rows: pd.DataFrame) -> dict:
    cols = [
        "hr_7d",
        "hr_season",
        "picks_7d",
        "picks_season",
        "regime",
        "status",
        "multiplier",
        "is_model_dependent",
        "days_in_current_regime",
    ]
    out = {}
    for row in health_rows.itertuples(index=False):
        values = {c: getattr(row, c) for c in cols}
        out[row.signal_tag] = {
            k: (
                None
                if isinstance(v, float) and pd.isna(v)
                else round(float(v), 2)
                if isinstance(v, float)
                else v.item()
                if hasattr(v, "item")
                else v
            )
            for k, v in values.items()
        }
    return out


def _model_health_snapshot(family_rows: pd.DataFrame, families: list[str]) -> dict:
    """{family: {status, hit_rate_7d, graded_count}} for every family graded in the 7 days before
    and every family that made a candidate of the day (unknown when it has no record)."""
    out = {
        row.model_family: {
            "status": row.status,
            "hit_rate_7d": None if pd.isna(row.hr_7d) else round(float(row.hr_7d), 1),
            "graded_count": int(row.n_7d),
        }
        for row in family_rows.itertuples(index=False)
    }
    for family in families:
        out.setdefault(family, {"status": "unknown", "hit_rate_7d": None, "graded_count": 0})
    return dict(sorted(out.items()))


DEFAULT_HEALTH = {
    "hr_7d": float("nan"),
    "hr_season": float("nan"),
    "picks_7d": 0,
    "picks_season": 0,
    "regime": "NORMAL",
    "status": "HEALTHY",
    "multiplier": 1.0,
    "days_in_current_regime": 0,
}


def health_as_of(day: dt.date, stored: pd.DataFrame, lookback_days: int) -> pd.DataFrame:
    """The signal_health_daily rows the picks of `day` read: registered signals, the newest stored
    date before `day` within `lookback_days`. With none (the first days of the data, or monitoring
    not run) every signal is NORMAL with multiplier 1, and `as_of` is None."""
    rows = stored[stored["signal_tag"].isin(REGISTERED_TAGS)] if len(stored) else stored
    if len(rows):
        dates = pd.to_datetime(rows["game_date"])
        rows = rows[(dates < pd.Timestamp(day)) & (dates >= pd.Timestamp(day) - pd.Timedelta(days=lookback_days))]
    if len(rows):
        newest = pd.to_datetime(rows["game_date"]).max()
        return rows[pd.to_datetime(rows["game_date"]) == newest].reset_index(drop=True)
    return pd.DataFrame(
        {
            "signal_tag": list(REGISTERED_TAGS),
            "game_date": None,
            **DEFAULT_HEALTH,
            "is_model_dependent": [t in MODEL_DEPENDENT_TAGS for t in REGISTERED_TAGS],
        }
    )


def model_states_as_of(day: dt.date, stored: pd.DataFrame, lookback_days: int) -> dict:
    """{family: state of its model on the newest model_performance_daily date before `day`}."""
    if stored.empty:
        return {}
    dates = pd.to_datetime(stored["game_date"])
    rows = stored[(dates < pd.Timestamp(day)) & (dates >= pd.Timestamp(day) - pd.Timedelta(days=lookback_days))]
    if rows.empty:
        return {}
    rows = rows.assign(as_of=pd.to_datetime(rows["game_date"])).sort_values(["model_family", "as_of", "model_id"])
    out = {}
    for row in rows.drop_duplicates("model_family", keep="last").itertuples(index=False):
        out[row.model_family] = {
            "model_id": row.model_id,
            "as_of": f"{row.as_of:%Y-%m-%d}",
            "state": row.state,
            "rolling_hr_7d": None if pd.isna(row.rolling_hr_7d) else round(float(row.rolling_hr_7d), 1),
            "rolling_n_7d": int(row.rolling_n_7d),
            "rolling_hr_14d": None if pd.isna(row.rolling_hr_14d) else round(float(row.rolling_hr_14d), 1),
            "rolling_n_14d": int(row.rolling_n_14d),
        }
    return dict(sorted(out.items()))


def decide(
    day: dt.date,
    tags_of_day: pd.DataFrame,
    blacklist: tuple[pd.DataFrame, int],
    directions: dict,
    family_rows: pd.DataFrame,
    config: BestBetsConfig,
    health: pd.DataFrame,
    model_states: dict,
    lines: dict | None = None,
) -> DayDecision:
    """Picks of `day` from its tags and what was known before it.

    blacklist and directions: history.player_blacklist() and history.direction_health() of the day
    (from the graded candidates of earlier dates); family_rows: the day's monitoring.signal_health.family_health
    rows (model health tiers from the graded predictions of the days before); health: the stored
    signal health the picks read (`health_as_of`); model_states: the stored model performance
    (`model_states_as_of`); lines: {"decision_time", "lines_as_of"} of the day (`lines_read`)."""
    listed, evaluated = blacklist
    snapshot = DecisionSnapshot(
        config=config,
        signal_multipliers=dict(zip(health["signal_tag"], health["multiplier"].astype(float))),
        blacklist=frozenset(listed["player_lookup"]),
    )
    picks, audit = select_picks(tags_of_day, snapshot, directions)
    created_at = pd.Timestamp.now(tz="UTC")
    picks = tables.project("signal_best_bets_picks", picks.assign(config_version=config.version, created_at=created_at))
    audit = tables.project("best_bets_filter_audit", audit.assign(config_version=config.version, created_at=created_at))
    health_of_families = _model_health_snapshot(family_rows, list(tags_of_day.get("source_model_family", [])))
    summary = filter_summary(len(tags_of_day), len(picks), audit)
    return DayDecision(
        picks=picks,
        audit=audit,
        snapshot={
            "game_date": f"{day:%Y-%m-%d}",
            "algorithm_version": ALGORITHM_VERSION,
            "config_version": config.version,
            "config": config.as_dict(),
            "registered_signals": list(REGISTERED_TAGS),
            "signal_health": _signal_health_snapshot(health),
            "model_health": health_of_families,
            "model_states": model_states,
            "sourcing": {
                "rule": config.sourcing,
                "families": sourcing_weights(model_states, list(tags_of_day.get("source_model_family", [])), config),
            },
            "signal_health_as_of": None
            if health["game_date"].isna().all()
            else f"{pd.to_datetime(health['game_date']).max():%Y-%m-%d}",
            "blacklist": {
                "evaluated": evaluated,
                "players": [
                    {"player_lookup": r.player_lookup, "n": int(r.n), "hit_rate": round(float(r.hit_rate), 1)}
                    for r in listed.itertuples(index=False)
                ],
            },
            "direction_health": directions,
            "filter_summary": summary,
            "lines": lines or {"decision_time": None, "lines_as_of": None},
        },
    )


def lines_read(player_game_lines: pd.DataFrame) -> dict[dt.date, dict]:
    """Per date, the lines its decision read: the decision time (None: the latest snapshot before each
    tip-off, a replay of history) and the newest snapshot among its selected lines."""
    if player_game_lines.empty:
        return {}
    days = pd.to_datetime(player_game_lines["game_date"]).dt.date
    out = {}
    for day, rows in player_game_lines.groupby(days):
        decided = rows["decision_time"].dropna()
        out[day] = {
            "decision_time": pd.Timestamp(decided.iloc[0]).isoformat() if len(decided) else None,
            "lines_as_of": pd.Timestamp(rows["line_snapshot_time"].max()).isoformat(),
        }
    return out


def decision_row(decision: DayDecision, created_at: pd.Timestamp) -> dict:
    s = decision.snapshot
    return {
        "game_date": pd.Timestamp(s["game_date"]),
        "algorithm_version": s["algorithm_version"],
        "config_version": s["config_version"],
        "config_json": json.dumps(s["config"], sort_keys=True),
        "signal_health_json": json.dumps(s["signal_health"], sort_keys=True),
        "model_health_json": json.dumps(s["model_health"], sort_keys=True),
        "model_states_json": json.dumps(s["model_states"], sort_keys=True),
        "sourcing_json": json.dumps(s["sourcing"], sort_keys=True),
        "signal_health_as_of": pd.Timestamp(s["signal_health_as_of"]) if s["signal_health_as_of"] else None,
        "blacklist_json": json.dumps(s["blacklist"], sort_keys=True),
        "direction_health_json": json.dumps(s["direction_health"], sort_keys=True),
        "filter_summary_json": json.dumps(s["filter_summary"], sort_keys=True),
        "n_candidates": s["filter_summary"]["total_candidates"],
        "n_picks": len(decision.picks),
        "decision_time": _timestamp(s["lines"]["decision_time"]),
        "lines_as_of": _timestamp(s["lines"]["lines_as_of"]),
        "created_at": created_at,
    }


def _timestamp(text: str | None) -> pd.Timestamp | None:
    return pd.Timestamp(text) if text else None


def replay_picks(tags_of_day: pd.DataFrame, decision: dict) -> pd.DataFrame:
    """The picks of a stored day, recomputed from its pick_signal_tags rows and decision snapshot."""
    config = BestBetsConfig.from_dict(json.loads(decision["config_json"]))
    health = json.loads(decision["signal_health_json"])
    blacklist = json.loads(decision["blacklist_json"])
    snapshot = DecisionSnapshot(
        config=config,
        signal_multipliers={t: h["multiplier"] for t, h in health.items()},
        blacklist=frozenset(p["player_lookup"] for p in blacklist["players"]),
    )
    picks, _ = select_picks(tags_of_day, snapshot, json.loads(decision["direction_health_json"]))
    return picks


__all__ = [
    "HISTORY_LOOKBACK_DAYS",
    "DayDecision",
    "build_pick_signal_tags",
    "decide",
    "decision_row",
    "graded_candidates",
    "replay_picks",
]
