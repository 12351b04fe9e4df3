"""Evaluation against real lines, the original's six governance gates, walk-forward and strengths.

Hit rates: edge = prediction - line; a bet counts when |edge| >= the threshold (1 for "all", 3, 5);
it wins when the actual points fall on the side of the edge; pushes (actual == line) are excluded
from the denominator.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bestbets_dagster.betting import BREAKEVEN_HIT_RATE, LINE_TIERS, SEASON_AVERAGE_TIERS, tier_of

V9_BASELINE_MAE = 5.14
MIN_GRADED = 20  # fewer graded lines than this and a rate gate is "not evaluated"
MIN_TIER_ROWS = 5


def hit_rate(df: pd.DataFrame, threshold: float) -> tuple[int, float | None]:
    """(graded bets, hit rate in percent) for |prediction - line| >= threshold, pushes excluded."""
    edge = df["prediction"] - df["line"]
    bets = df[(edge.abs() >= threshold) & (df["actual"] != df["line"])]
    if bets.empty:
        return 0, None
    won = (bets["actual"] > bets["line"]) == ((bets["prediction"] - bets["line"]) > 0)
    return len(bets), round(100.0 * won.mean(), 2)


def metrics(df: pd.DataFrame) -> dict:
    """df: prediction, actual, and line (NaN where the player had none)."""
    lined = df[df["line"].notna()]
    n_all, hr_all = hit_rate(lined, 1.0)
    n3, hr3 = hit_rate(lined, 3.0)
    n5, hr5 = hit_rate(lined, 5.0)
    return {
        "n_rows": int(len(df)),
        "n_lined": int(len(lined)),
        "mae": round(float((df["prediction"] - df["actual"]).abs().mean()), 4) if len(df) else None,
        "mae_lined": round(float((lined["prediction"] - lined["actual"]).abs().mean()), 4) if len(lined) else None,
        "line_mae": round(float((lined["line"] - lined["actual"]).abs().mean()), 4) if len(lined) else None,
        "bias_vs_line": round(float((lined["prediction"] - lined["line"]).mean()), 4) if len(lined) else None,
        "n_edge1": n_all,
        "hit_rate": hr_all,
        "n_edge3": n3,
        "hit_rate_edge3": hr3,
        "n_edge5": n5,
        "hit_rate_edge5": hr5,
    }


def _gate(name, value, threshold, passed, reason=None) -> dict:
    if reason is not None:
        return {"gate": name, "status": "not_evaluated", "value": value, "threshold": threshold, "reason": reason}
    return {"gate": name, "status": "passed" if passed else "failed", "value": value, "threshold": threshold}


def evaluate_gates(df: pd.DataFrame, min_eval_rows: int = 100) -> tuple[list[dict], bool]:
    """The original's evaluation pre-check and six gates on the evaluation rows; all must pass.
    df: prediction, actual, line, season_avg."""
    lined = df[df["line"].notna()]
    m = metrics(df)
    few_lines = f"only {len(lined)} graded lines (< {MIN_GRADED})" if len(lined) < MIN_GRADED else None
    gates = [
        _gate("eval_rows", len(df), f">= {min_eval_rows}", len(df) >= min_eval_rows),
        _gate("mae", m["mae_lined"], f"< {V9_BASELINE_MAE}", (m["mae_lined"] or math.inf) < V9_BASELINE_MAE, few_lines),
        _gate(
            "hit_rate_edge3",
            m["hit_rate_edge3"],
            ">= 60.0",
            (m["hit_rate_edge3"] or 0) >= 60.0,
            f"only {m['n_edge3']} graded edge-3+ bets (< {MIN_GRADED})" if m["n_edge3"] < MIN_GRADED else None,
        ),
        _gate("n_edge3", m["n_edge3"], ">= 50", m["n_edge3"] >= 50),
        _gate("vegas_bias", m["bias_vs_line"], "|x| <= 1.5", abs(m["bias_vs_line"] or 0) <= 1.5, few_lines),
    ]
    tier_bias = {}
    season_tier = tier_of(df["season_avg"], SEASON_AVERAGE_TIERS)
    for _, name in SEASON_AVERAGE_TIERS:
        rows = df[season_tier == name]
        if len(rows) >= MIN_TIER_ROWS:
            tier_bias[name] = round(float((rows["prediction"] - rows["actual"]).mean()), 3)
    gates.append(
        _gate(
            "tier_bias",
            tier_bias,
            "every tier |mean(pred - actual)| <= 5",
            all(abs(v) <= 5 for v in tier_bias.values()),
            None if tier_bias else f"no scoring tier with {MIN_TIER_ROWS}+ rows",
        )
    )
    direction = {}
    edge = lined["prediction"] - lined["line"]
    for side, mask in (("over", edge >= 3), ("under", edge <= -3)):
        n, hr = hit_rate(lined[mask], 3.0)
        direction[side] = {"n": n, "hit_rate": hr}
    balanced = all(d["n"] == 0 or d["hit_rate"] >= BREAKEVEN_HIT_RATE for d in direction.values())
    gates.append(_gate("directional_balance", direction, f"OVER and UNDER edge-3+ >= {BREAKEVEN_HIT_RATE}", balanced))
    return gates, all(g["status"] == "passed" for g in gates)


def walkforward(df: pd.DataFrame) -> list[dict]:
    """Per calendar week (Monday-Sunday) of the evaluation rows: N, MAE, hit rates, mean(pred - line)."""
    if df.empty:
        return []
    week = pd.to_datetime(df["game_date"]).dt.to_period("W-SUN")
    out = []
    for period, rows in df.groupby(week):
        m = metrics(rows)
        out.append(
            {
                "week_start": str(period.start_time.date()),
                "n": m["n_rows"],
                "mae": m["mae"],
                "hit_rate": m["hit_rate"],
                "hit_rate_edge3": m["hit_rate_edge3"],
                "n_edge3": m["n_edge3"],
                "hit_rate_edge5": m["hit_rate_edge5"],
                "n_edge5": m["n_edge5"],
                "mean_pred_minus_line": m["bias_vs_line"],
            }
        )
    return out


def strengths(df: pd.DataFrame) -> dict:
    """Best segments (direction x line tier at edge 3+, HR >= 58%, N >= 5, top 5) and a direction tag."""
    lined = df[df["line"].notna()].copy()
    lined["edge"] = lined["prediction"] - lined["line"]
    lined["direction"] = np.where(lined["edge"] > 0, "OVER", "UNDER")
    line_tier = tier_of(lined["line"])
    segments = []
    for direction in ("OVER", "UNDER"):
        for _, tier in LINE_TIERS:
            rows = lined[(lined["direction"] == direction) & (line_tier == tier)]
            n, hr = hit_rate(rows, 3.0)
            if n >= 5 and hr is not None and hr >= 58.0:
                segments.append({"segment": f"{direction}_{tier}", "n": n, "hit_rate": hr})
    segments.sort(key=lambda s: (-s["hit_rate"], -s["n"], s["segment"]))
    over = hit_rate(lined[lined["edge"] > 0], 3.0)[1]
    under = hit_rate(lined[lined["edge"] < 0], 3.0)[1]
    tag = "balanced"
    if over is not None and under is not None and abs(over - under) > 5:
        tag = "OVER" if over > under else "UNDER"
    return {"best_segments": segments[:5], "direction": tag}
