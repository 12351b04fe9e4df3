"""The best-bets aggregator: negative filters (first failure rejects, each rejection audited), the
signal-count floor, scoring with the previous day's signal-health multipliers, ranking and sizing.

`select_picks` is a pure function of the date's pick_signal_tags rows and a decision snapshot
(config, signal multipliers, blacklist), so any stored day can be replayed exactly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

from bestbets_dagster.bestbets.candidates import on_the_card, tier
from bestbets_dagster.bestbets.config import BestBetsConfig
from bestbets_dagster.bestbets.profiles import apply_signal_profiles
from bestbets_dagster.betting import tier_of

Frame = pd.DataFrame


@dataclasses.dataclass(frozen=True)
class DecisionSnapshot:
    config: BestBetsConfig
    signal_multipliers: dict  # {tag: multiplier} as of the day before
    blacklist: frozenset  # player_lookups


@dataclasses.dataclass(frozen=True)
class Filter:
    name: str
    # What it rejects, with {setting} for the config's values: the text follows the running config.
    description: str
    rejects: Callable[[Frame, DecisionSnapshot], pd.Series]

    def describe(self, config: BestBetsConfig) -> str:
        values = {name: f"{value:g}" if isinstance(value, float) else value for name, value in vars(config).items()}
        return self.description.format(**values)


def _num(df: Frame, col: str) -> pd.Series:
    return pd.to_numeric(df[col], errors="coerce").astype("float64")


def _under(df: Frame) -> pd.Series:
    return df["recommendation"] == "UNDER"


def _abs_edge(df: Frame) -> pd.Series:
    return _num(df, "edge").abs()


def _under_cap(df: Frame, s: DecisionSnapshot) -> pd.Series:
    exempt = df["source_model_family"].isin(s.config.under_edge_cap_exempt_families)
    return _under(df) & (_abs_edge(df) >= s.config.under_edge_cap) & ~exempt


def _confidence_floor(df: Frame, s: DecisionSnapshot) -> pd.Series:
    floors = df["source_model_family"].map(s.config.confidence_floor).astype("float64")
    return _num(df, "confidence") < floors


# The original's negative filters, in its code order (the signal-count floor sits between them).
FILTERS: tuple[Filter, ...] = (
    Filter(
        "model_health_gate",
        "every family that bet on the player-game is blocked by model health",
        lambda df, s: (df["model_health_status"] == "blocked") & s.config.model_health_gate,
    ),
    Filter(
        "player_blacklist",
        "the player's season record at edge {blacklist_edge}+ is below {blacklist_max_hit_rate}% over "
        "{blacklist_min_picks}+ decided picks",
        lambda df, s: df["player_lookup"].isin(s.blacklist),
    ),
    Filter(
        "edge_floor",
        "not on the card: no price to judge it at (selection 'ev': every priced bet is on the card, in tier "
        "value or lean), or |edge| under {min_edge} (selection 'edge', the original's); under Phase B sourcing, "
        "a source model of weight 0 (BLOCKED)",
        lambda df, s: ~on_the_card(df, s.config),
    ),
    Filter("under_edge_cap", "UNDER with |edge| >= {under_edge_cap}", _under_cap),
    Filter(
        "avoid_familiar",
        "{familiar_games}+ games against this opponent in the last year",
        lambda df, s: _num(df, "games_vs_opponent") >= s.config.familiar_games,
    ),
    Filter(
        "feature_quality",
        "feature quality (over the features the data can give) below {min_feature_quality}",
        lambda df, s: _num(df, "available_quality_score") < s.config.min_feature_quality,
    ),
    Filter(
        "bench_under",
        "UNDER on a line below {bench_under_line}",
        lambda df, s: _under(df) & (_num(df, "line_value") > 0) & (_num(df, "line_value") < s.config.bench_under_line),
    ),
    Filter(
        "line_jumped_under",
        "UNDER after the line rose {line_jump}+ points",
        lambda df, s: _under(df) & (_num(df, "line_delta") >= s.config.line_jump),
    ),
    Filter(
        "line_dropped_under",
        "UNDER after the line fell {line_drop}+ points",
        lambda df, s: _under(df) & (_num(df, "line_delta") <= -s.config.line_drop),
    ),
    Filter(
        "negative_plus_minus_under",
        "UNDER after {negative_plus_minus_games}+ straight games with a negative plus/minus",
        lambda df, s: _under(df) & (_num(df, "negative_plus_minus_streak") >= s.config.negative_plus_minus_games),
    ),
    Filter(
        "signal_count",
        "fewer than {min_signal_count} qualifying signals (model_health included)",
        lambda df, s: _num(df, "signal_count") < s.config.min_signal_count,
    ),
    Filter("confidence_floor", "confidence below the source family's floor", _confidence_floor),
    Filter(
        "anti_pattern",
        "the matched combo is an ANTI_PATTERN",
        lambda df, s: df["combo_classification"] == "ANTI_PATTERN",
    ),
)
FILTER_NAMES: tuple[str, ...] = tuple(f.name for f in FILTERS)
NEGATIVE_FILTERS: tuple[str, ...] = tuple(n for n in FILTER_NAMES if n not in ("signal_count", "model_health_gate"))


def apply_filters(candidates: Frame, snapshot: DecisionSnapshot) -> tuple[Frame, Frame]:
    """(passed, audit): the audit has one row per rejected candidate naming the first filter it failed.
    Every filter judges a row by its own columns, so each is evaluated once on all the candidates and
    a row goes to the first filter it fails (no copy of the remaining rows after each filter)."""
    first_failed = np.full(len(candidates), len(FILTERS))
    for i, f in reversed(list(enumerate(FILTERS))):
        first_failed[f.rejects(candidates, snapshot).fillna(False).astype(bool).to_numpy()] = i
    # The rejected rows grouped by the filter that rejected them, in filter order (one selection).
    rejected = np.flatnonzero(first_failed < len(FILTERS))
    rejected = rejected[np.argsort(first_failed[rejected], kind="stable")]
    audit = candidates.iloc[rejected].reset_index(drop=True)
    audit["filter_name"] = np.array(FILTER_NAMES, dtype=object)[first_failed[rejected]]
    return candidates[first_failed == len(FILTERS)], audit


def health_factor(tags: list, multipliers: dict, profile_weights: dict | None = None) -> float:
    """Mean health multiplier of a pick's real signals, each scaled by its signal-profile weight
    (1.0 when no signal has health yet)."""
    real = [t for t in tags if t != "model_health"]
    if not real:
        return 1.0
    weights = profile_weights or {}
    return float(np.mean([multipliers.get(t, 1.0) * weights.get(t, 1.0) for t in real]))


def _angles(row, direction_health: dict) -> list[str]:
    angles = []
    if pd.notna(row.expected_value):
        market = getattr(row, "market_p_over", np.nan)
        side = market if row.recommendation == "OVER" else 1.0 - market
        read = f"; break-even {row.break_even:.1%}, market {side:.1%}" if pd.notna(side) else ""
        angles.append(
            f"{row.tier}: P(win) {row.p_win:.1%} at {row.bet_line:g} ({row.bet_book}, {row.bet_price:+.0f}{read}): "
            f"EV {row.expected_value:+.3f} u"
        )
    if abs(row.edge) >= 5:
        angles.append(f"High conviction: {abs(row.edge):.1f}-point edge")
    angles.append(f"{row.recommendation} on a {tier_of([row.line_value])[0]} line ({row.line_value:g})")
    if row.model_agreement_count >= 3:
        angles.append(f"{row.model_agreement_count} models agree")
    angles.extend(f"Signal: {t}" for t in row.signal_tags if t != "model_health")
    angles.extend(f"Warning: {w}" for w in row.warning_tags)
    hr = direction_health.get(f"{row.recommendation.lower()}_hr_14d")
    if hr is not None and hr < 50.0:
        angles.append(f"Warning: {row.recommendation} picks hit {hr:.1f}% over 14 days")
    return angles[:5]


def select_picks(tags: Frame, snapshot: DecisionSnapshot, direction_health: dict | None = None) -> tuple[Frame, Frame]:
    """(picks, audit) for the candidates of one or more dates (ranked per date). The config's signal
    profiles decide first which fired signals count for each candidate's family and direction."""
    tags = apply_signal_profiles(tags, snapshot.config.signal_profiles)
    passed, audit = apply_filters(tags, snapshot)
    picks = passed.copy()
    if picks.empty:
        empty = {
            "rank": "int64",
            "composite_score": "float64",
            "health_multiplier": "float64",
            "tier": object,
            "warning_tags": object,
            "pick_angles": object,
        }
        return picks.assign(**{c: pd.Series(dtype=t) for c, t in empty.items()}), audit
    picks["health_multiplier"] = [
        health_factor(t, snapshot.signal_multipliers, w)
        for t, w in zip(picks["signal_tags"], picks["signal_weights"], strict=True)
    ]
    if snapshot.config.selection == "ev":
        # The card is ranked by EV at the shopped price: a signal's health says how much to trust the
        # signal, not what the bet is worth at its price (the multiplier stays on the pick).
        picks["composite_score"] = _num(picks, "expected_value").round(4)
    else:
        picks["composite_score"] = (_abs_edge(picks) * picks["health_multiplier"]).round(4)
    picks["tier"] = tier(picks, snapshot.config)
    picks["warning_tags"] = [
        ["contradictory_signals"] if {"minutes_surge", "blowout_recovery"} <= set(t) else []
        for t in picks["signal_tags"]
    ]
    picks = picks.sort_values(
        ["game_date", "composite_score", "player_lookup"], ascending=[True, False, True], kind="mergesort"
    )
    picks["rank"] = picks.groupby("game_date").cumcount() + 1
    cap = snapshot.config.max_picks_per_day
    if cap is not None:
        over_cap = picks[picks["rank"] > cap]
        audit = pd.concat([audit, over_cap.assign(filter_name="max_picks_per_day")], ignore_index=True)
        picks = picks[picks["rank"] <= cap]
    picks["pick_angles"] = [_angles(r, direction_health or {}) for r in picks.itertuples(index=False)]
    return picks.reset_index(drop=True), audit


def filter_summary(total_candidates: int, n_picks: int, audit: Frame) -> dict:
    """Candidates, picks and the rejections per filter (the model-health gate's included)."""
    counts = audit["filter_name"].value_counts().to_dict() if len(audit) else {}
    names = (*FILTER_NAMES, *(["max_picks_per_day"] if "max_picks_per_day" in counts else []))
    return {
        "total_candidates": int(total_candidates),
        "passed_filters": int(n_picks),
        "rejected": {name: int(counts.get(name, 0)) for name in names},
    }
