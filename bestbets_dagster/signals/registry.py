"""The signals: each a definition (tag, direction, trigger, strength, model-dependence), evaluated
vectorized over every candidate of a date.

A candidate frame has the pick's `recommendation` (OVER / UNDER), `edge` (predicted - line),
`confidence` (0-1; the original compared its 0-100 values with these 0-1 thresholds), `is_home`,
`model_health_status`, `multi_book_line_std`, `n_books`, and the columns of `signals.context`.
A missing input (NaN) never fires a signal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

OVER_ONLY, UNDER_ONLY, BOTH = "OVER_ONLY", "UNDER_ONLY", "BOTH"
HIGH_EDGE = 5.0
MODEL_HEALTH_STRENGTH = {"blocked": 0.3, "watch": 0.7, "healthy": 1.0, "unknown": 1.0}

Frame = pd.DataFrame
Mask = Callable[[Frame], pd.Series]


@dataclasses.dataclass(frozen=True)
class Signal:
    tag: str
    direction: str
    trigger: Mask
    strength: Callable[[Frame], pd.Series]
    description: str
    model_dependent: bool = False
    registered: bool = True


def _num(df: Frame, col: str) -> pd.Series:
    return pd.to_numeric(df[col], errors="coerce").astype("float64")


def _abs_edge(df: Frame) -> pd.Series:
    return _num(df, "edge").abs()


def _confident(df: Frame) -> pd.Series:
    conf = _num(df, "confidence")
    return (conf >= 0.70) & ~conf.between(0.88, 0.90)


def _surge(df: Frame) -> pd.Series:
    return _num(df, "minutes_last_3") - _num(df, "minutes_season")


def _const(value: float):
    return lambda df: pd.Series(value, index=df.index)


def _under_from(tag: str, column: str, floor: float, per_unit: float, description: str) -> Signal:
    """An UNDER signal that fires from a floor of one column, its strength 0.70 at the floor and
    per_unit more for each unit above it."""
    return Signal(
        tag,
        UNDER_ONLY,
        lambda df: _num(df, column) >= floor,
        lambda df: 0.70 + per_unit * (_num(df, column) - floor),
        description,
    )


def _eso_strength(df: Frame) -> pd.Series:
    conf = _num(df, "confidence")
    base = pd.Series(np.select([conf >= 0.90, conf >= 0.80], [0.95, 0.90], 0.75), index=df.index)
    return base + 0.05 * (_abs_edge(df) >= 8)


def _three_pt_z(df: Frame) -> pd.Series:
    return (_num(df, "three_pct_season") - _num(df, "three_pct_last_3")) / _num(df, "three_pct_std")


def _blowout_deficit(df: Frame) -> pd.Series:
    return _num(df, "minutes_season") - _num(df, "prev_minutes")


SIGNALS: tuple[Signal, ...] = (
    Signal(
        "model_health",
        BOTH,
        lambda df: pd.Series(True, index=df.index),
        lambda df: df["model_health_status"].map(MODEL_HEALTH_STRENGTH).fillna(1.0).astype("float64"),
        "always qualifies; strength from the source family's 7-day edge-3+ hit rate tier",
    ),
    Signal(
        "high_edge",
        BOTH,
        lambda df: _abs_edge(df) >= HIGH_EDGE,
        lambda df: _abs_edge(df) / 10,
        "|edge| >= 5",
        model_dependent=True,
    ),
    Signal(
        "edge_spread_optimal",
        BOTH,
        lambda df: (_abs_edge(df) >= HIGH_EDGE) & _confident(df),
        _eso_strength,
        "|edge| >= 5 and confidence >= 0.70 outside [0.88, 0.90]",
        model_dependent=True,
    ),
    Signal(
        "combo_he_ms",
        OVER_ONLY,
        lambda df: (_abs_edge(df) >= HIGH_EDGE) & (_surge(df) >= 3),
        _const(0.85),
        "|edge| >= 5 and minutes last 3 - season >= 3",
        model_dependent=True,
    ),
    Signal(
        "combo_3way",
        OVER_ONLY,
        lambda df: (_abs_edge(df) >= HIGH_EDGE) & (_surge(df) >= 3) & _confident(df),
        _const(0.95),
        "combo_he_ms and confidence >= 0.70 outside [0.88, 0.90]",
        model_dependent=True,
    ),
    Signal(
        "minutes_surge",
        OVER_ONLY,
        lambda df: _surge(df) >= 3,
        lambda df: (_surge(df) - 3) / 5,
        "minutes last 3 - season average >= 3",
    ),
    Signal(
        "3pt_bounce",
        OVER_ONLY,
        lambda df: (_num(df, "three_pa_per_game") >= 4) & (_num(df, "three_pct_std") > 0) & (_three_pt_z(df) > 1),
        lambda df: _three_pt_z(df) / 3,
        "3PA/g >= 4 and 3PT% last 3 below the season's by more than one std",
    ),
    Signal(
        "cold_snap",
        OVER_ONLY,
        lambda df: df["is_home"].astype("boolean").fillna(False).astype(bool) & (_num(df, "not_over_streak") >= 3),
        lambda df: _num(df, "not_over_streak") / 5,
        "at home after 3+ straight games not over the line",
    ),
    Signal(
        "blowout_recovery",
        OVER_ONLY,
        lambda df: (_blowout_deficit(df) >= 6) & (df["position"].fillna("") != "C") & (_num(df, "rest_days") >= 2),
        lambda df: _blowout_deficit(df) / 16,
        "previous game's minutes 6+ below the season average; not a C; rest >= 2",
    ),
    Signal(
        "rest_advantage_2d",
        BOTH,
        lambda df: (
            (_num(df, "rest_days") >= 2)
            & (df["recommendation"] == "OVER")
            & ((_num(df, "opponent_rest_days") <= 1) | (_num(df, "opponent_rest_days").isna() & (_abs_edge(df) >= 4)))
        ),
        _const(0.6),
        "player rested 2+ days, opponent on a back-to-back (or unknown and |edge| >= 4), OVER",
    ),
    Signal(
        "b2b_fatigue_under",
        UNDER_ONLY,
        lambda df: (_num(df, "rest_days") == 1) & (_num(df, "minutes_season") >= 35),
        lambda df: 0.5 + (_num(df, "minutes_season") - 35) / 10,
        "back-to-back and 35+ season minutes",
    ),
    Signal(
        "bench_under",
        UNDER_ONLY,
        lambda df: df["starter_flag"].astype("boolean").eq(False).fillna(False).astype(bool),
        _const(0.85),
        "came off the bench in the last game",
    ),
    _under_from("high_usage_under", "usage_season", 30, 0.02, "season usage >= 30"),
    _under_from("volatile_under", "points_std_last_5", 10, 0.03, "points std over the last 5 >= 10"),
    _under_from("high_ft_under", "fta_per_game", 7, 0.05, "season FTA per game >= 7"),
    _under_from(
        "self_creator_under",
        "unassisted_fgm_per_game",
        5,
        0.075,
        "season unassisted FGM per game >= 5 (needs a box score with unassisted field goals)",
    ),
    Signal(
        "prop_line_drop_over",
        OVER_ONLY,
        lambda df: _num(df, "line_delta") <= -2.0,
        lambda df: 0.85 + 0.05 * (-_num(df, "line_delta") - 2),
        "line 2+ points below the previous one (14 days)",
    ),
    Signal(
        "book_disagreement",
        BOTH,
        lambda df: (_num(df, "multi_book_line_std") >= 1.5) & (_num(df, "n_books") >= 5),
        lambda df: (0.85 + 0.10 * (_num(df, "multi_book_line_std") - 1.5)).clip(upper=0.95),
        "books' line std >= 1.5 across 5+ books",
    ),
    # Prototypes: evaluated and kept for backtests, never used for picks.
    Signal(
        "cold_continuation_2",
        BOTH,
        lambda df: (_num(df, "model_miss_streak") >= 2) & (df["recommendation"] == df["last_miss_recommendation"]),
        _const(0.5),
        "2+ straight misses of the family's model; same direction as the last miss",
        registered=False,
    ),
    Signal(
        "fg_cold_continuation",
        UNDER_ONLY,
        lambda df: _num(df, "fg_pct_last_3") < _num(df, "fg_pct_season") - _num(df, "fg_pct_std"),
        _const(0.5),
        "FG% last 3 below the season's by more than one std",
        registered=False,
    ),
)
SIGNALS_BY_TAG = {s.tag: s for s in SIGNALS}
REGISTERED_TAGS: tuple[str, ...] = tuple(s.tag for s in SIGNALS if s.registered)
PROTOTYPE_TAGS: tuple[str, ...] = tuple(s.tag for s in SIGNALS if not s.registered)
MODEL_DEPENDENT_TAGS: frozenset[str] = frozenset(s.tag for s in SIGNALS if s.model_dependent)
assert len(REGISTERED_TAGS) == 18 and len(SIGNALS_BY_TAG) == len(SIGNALS)


def direction_allows(direction: str, recommendation: pd.Series) -> pd.Series:
    if direction == OVER_ONLY:
        return recommendation == "OVER"
    if direction == UNDER_ONLY:
        return recommendation == "UNDER"
    return recommendation.isin(["OVER", "UNDER"])


def evaluate_signals(candidates: Frame, signals: tuple[Signal, ...] = SIGNALS) -> pd.DataFrame:
    """One boolean column per signal tag (fired or not) and one `strength:{tag}` column (0-1, NaN when
    it did not fire)."""
    out = {}
    for signal in signals:
        fired = signal.trigger(candidates).fillna(False).astype(bool) & direction_allows(
            signal.direction, candidates["recommendation"]
        )
        out[signal.tag] = fired
        out[f"strength:{signal.tag}"] = signal.strength(candidates).clip(0.0, 1.0).where(fired)
    return pd.DataFrame(out, index=candidates.index)


def fired_tags(fired: pd.DataFrame, tags: tuple[str, ...]) -> pd.Series:
    """The fired tags of each row, in registry order."""
    matrix = fired[list(tags)].to_numpy(dtype=bool)
    names = np.array(tags, dtype=object)
    return pd.Series([list(names[row]) for row in matrix], index=fired.index, dtype=object)
