"""The combo registry and its matcher.

A pick matches the combo with the most signals that are all among its tags (model_health aside)
and whose direction filter admits the pick's direction. Ties go to the larger sample, then to the
combo id, so the result never depends on the order of rows. The two ANTI_PATTERN entries describe
picks whose *only* signals are those ("standalone"): they match the exact tag set, not any superset.
The original matched them as subsets and with its confidence-scale bug they blocked every edge-5+ pick.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

SYNERGISTIC, ANTI_PATTERN = "SYNERGISTIC", "ANTI_PATTERN"
IGNORED_FOR_MATCHING = frozenset({"model_health"})


@dataclasses.dataclass(frozen=True)
class Combo:
    signals: tuple[str, ...]
    classification: str
    status: str
    direction_filter: str
    hit_rate: float
    sample_size: int
    score_weight: float
    roi: float | None = None
    exact_only: bool = False

    @property
    def combo_id(self) -> str:
        return "+".join(sorted(self.signals))

    @property
    def cardinality(self) -> int:
        return len(self.signals)


COMBOS: tuple[Combo, ...] = (
    Combo(("edge_spread_optimal", "high_edge", "minutes_surge"), SYNERGISTIC, "PRODUCTION", "OVER_ONLY", 95.5, 22, 2.5),
    Combo(("high_edge", "minutes_surge"), SYNERGISTIC, "PRODUCTION", "OVER_ONLY", 79.4, 34, 2.0, roi=58.8),
    Combo(("cold_snap",), SYNERGISTIC, "CONDITIONAL", "OVER_ONLY", 93.3, 15, 1.5),
    Combo(("3pt_bounce",), SYNERGISTIC, "CONDITIONAL", "OVER_ONLY", 74.9, 28, 1.0),
    Combo(("blowout_recovery",), SYNERGISTIC, "WATCH", "OVER_ONLY", 56.9, 112, 0.5),
    Combo(("bench_under",), SYNERGISTIC, "PRODUCTION", "UNDER_ONLY", 76.9, 156, 1.5, roi=46.7),
    Combo(("high_ft_under",), SYNERGISTIC, "CONDITIONAL", "UNDER_ONLY", 64.1, 74, 0.5, roi=22.3),
    Combo(("b2b_fatigue_under",), SYNERGISTIC, "CONDITIONAL", "UNDER_ONLY", 85.7, 14, 1.0, roi=63.6),
    Combo(("volatile_under",), SYNERGISTIC, "PRODUCTION", "UNDER_ONLY", 73.1, 26, 1.0, roi=37.3),
    Combo(("high_usage_under",), SYNERGISTIC, "PRODUCTION", "UNDER_ONLY", 68.1, 47, 0.5, roi=26.4),
    Combo(("prop_line_drop_over",), SYNERGISTIC, "PRODUCTION", "OVER_ONLY", 71.6, 109, 1.0, roi=35.0),
    Combo(("edge_spread_optimal", "high_edge"), ANTI_PATTERN, "BLOCKED", "BOTH", 31.3, 16, -2.0, exact_only=True),
    Combo(("high_edge",), ANTI_PATTERN, "BLOCKED", "BOTH", 43.8, 16, -1.0, exact_only=True),
)


def _admits(direction_filter: str, recommendation: str) -> bool:
    return direction_filter == "BOTH" or direction_filter == f"{recommendation}_ONLY"


def match_combo(tags, recommendation: str, combos: tuple[Combo, ...] = COMBOS) -> Combo | None:
    present = frozenset(tags) - IGNORED_FOR_MATCHING
    eligible = [
        c
        for c in combos
        if _admits(c.direction_filter, recommendation)
        and (frozenset(c.signals) == present if c.exact_only else frozenset(c.signals) <= present)
    ]
    if not eligible:
        return None
    return min(eligible, key=lambda c: (-c.cardinality, -c.sample_size, c.combo_id))


def match_combos(tags: pd.Series, recommendations: pd.Series, combos: tuple[Combo, ...] = COMBOS) -> pd.DataFrame:
    """matched_combo_id, combo_classification, combo_hit_rate per row (None when nothing matches)."""
    rows = []
    for row_tags, rec in zip(tags, recommendations):
        combo = match_combo(row_tags, rec, combos)
        rows.append((combo.combo_id, combo.classification, combo.hit_rate) if combo else (None, None, None))
    return pd.DataFrame(rows, index=tags.index, columns=["matched_combo_id", "combo_classification", "combo_hit_rate"])
