"""Per-family signal profiles: which signals count for which families and directions, and how much.

A profile is a list of rules (signal, families, direction, weight) in the best-bets config. signal is a
registered tag or * (every real signal; model_health, which always qualifies, only by name); families
is a family id, "quantile" (a Quantile-loss family: its id ends in _qNN), "point" (any other) or *;
direction is OVER, UNDER or *. For a candidate's fired signal the last matching rule gives its weight
(1 when none matches): 0 blocks it for that family and direction (it neither counts toward the signal
floor nor scores), any other weight scales its health multiplier in the composite score. So "UNDER
signals only for quantile families" is [*, *, UNDER, 0] then [*, quantile, UNDER, 1].

The stored pick_signal_tags keep every fired signal (signal health judges the signal, not a profile);
profiles act in the aggregator, whose config is in each day's decision snapshot.
"""

from __future__ import annotations

import re

import pandas as pd

QUANTILE_FAMILY = re.compile(r"_q\d+$")  # models.families.loss_suffix names every Quantile family so


def family_matches(selector: str, family: str) -> bool:
    if selector == "*":
        return True
    if selector in ("quantile", "point"):
        return bool(QUANTILE_FAMILY.search(family)) == (selector == "quantile")
    return selector == family


def signal_weight(rules, signal: str, family: str, direction: str) -> float:
    weight = 1.0
    for tag, families, rule_direction, rule_weight in rules:
        named = tag == signal or (tag == "*" and signal != "model_health")
        if named and family_matches(families, family) and rule_direction in ("*", direction):
            weight = float(rule_weight)
    return weight


def apply_signal_profiles(candidates: pd.DataFrame, rules) -> pd.DataFrame:
    """The candidates with their signals as the profile counts them: `signal_tags` (the fired tags
    whose weight is above 0), `signal_count`, `signal_weights` ({tag: weight} of those) and
    `profile_blocked_tags`. Without rules the tags are unchanged and every weight is 1."""
    out = candidates.copy()
    if not rules:  # the default: every fired signal counts at weight 1, no per-row work on the picks' path
        return out.assign(
            signal_weights=pd.Series([{} for _ in range(len(out))], index=out.index, dtype=object),
            profile_blocked_tags=pd.Series([[] for _ in range(len(out))], index=out.index, dtype=object),
        )
    counted, weights, blocked = [], [], []
    for tags, family, direction in zip(
        out["signal_tags"], out["source_model_family"], out["recommendation"], strict=True
    ):
        of_row = {tag: signal_weight(rules, tag, family, direction) for tag in tags}
        counted.append([t for t in tags if of_row[t] > 0])
        weights.append({t: w for t, w in of_row.items() if w > 0})
        blocked.append([t for t in tags if of_row[t] == 0])
    out["signal_tags"] = pd.Series(counted, index=out.index, dtype=object)
    out["signal_count"] = out["signal_tags"].map(len).astype("int64")
    out["signal_weights"] = pd.Series(weights, index=out.index, dtype=object)
    out["profile_blocked_tags"] = pd.Series(blocked, index=out.index, dtype=object)
    return out


def describe_profile(rules, signal: str) -> str:
    """The rules that name a signal (or every signal), in order: the config view's column."""
    parts = [
        f"{families}/{direction}: {'blocked' if float(weight) == 0 else f'x{float(weight):g}'}"
        for tag, families, direction, weight in rules
        if tag == signal or (tag == "*" and signal != "model_health")
    ]
    return "; ".join(parts) if parts else "every family and direction"
