"""Grading the picks and what they earned at their book's real American odds.

A pick's actual points come from its source model's prediction_accuracy row (same family, model,
player-game and selected line). It is graded twice: at the bet's shopped line and price (`result`,
`units`: what was bet) and at the selected book's line and price (`selected_result`,
`selected_units`: what line shopping is measured against). A win pays the price of the side taken
(+150 pays 1.5 units, -120 pays 0.833; at a pick'em app, the price of the entry's per-leg break-even);
a loss costs 1 unit; a push returns the stake (0 units, still staked); a void (did not play) is no
bet. ROI = units / units staked (wins + losses + pushes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bestbets_dagster.betting import break_even, settle, wilson_interval

RESULT_COLUMNS = [
    "game_date",
    "person_id",
    "player_lookup",
    "player_name",
    "rank",
    "tier",
    "source_model_id",
    "source_model_family",
    "recommendation",
    "edge",
    "line_value",
    "line_book",
    "bet_book",
    "bet_line",
    "price",
    "price_is_nominal",
    "judged_price",
    "break_even",
    "p_win",
    "expected_value",
    "actual_points",
    "is_voided",
    "is_push",
    "prediction_correct",
    "result",
    "units",
    "selected_result",
    "selected_units",
    "graded_at",
]


def grade_picks(picks: pd.DataFrame, accuracy: pd.DataFrame, graded_at: pd.Timestamp) -> pd.DataFrame:
    """One row per pick whose source prediction has been graded."""
    if picks.empty or accuracy.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    key = ["game_date", "person_id"]
    a = accuracy.assign(
        game_date=pd.to_datetime(accuracy["game_date"]).astype("datetime64[ns]"),
        person_id=accuracy["person_id"].astype("int64"),
    )
    a = a[[*key, "model_family", "model_id", "line_value", "actual_points", "is_voided"]]
    a = a.rename(
        columns={"model_family": "source_model_family", "model_id": "graded_model_id", "line_value": "graded_line"}
    )
    p = picks.assign(
        game_date=pd.to_datetime(picks["game_date"]).astype("datetime64[ns]"),
        person_id=picks["person_id"].astype("int64"),
    )
    g = p.merge(a, on=[*key, "source_model_family"], how="inner")
    stale = g[
        (g["graded_model_id"] != g["source_model_id"])
        | (g["graded_line"].astype(float) != g["line_value"].astype(float))
    ]
    if len(stale):
        row = stale.iloc[0]
        raise ValueError(
            f"pick {row['game_date']:%Y-%m-%d} {row['player_lookup']} was made from {row['source_model_id']} at line "
            f"{row['line_value']}, but the graded prediction is {row['graded_model_id']} at {row['graded_line']}: "
            "the predictions were rebuilt after the picks; re-materialize signal_best_bets_picks for that date"
        )
    over = g["recommendation"] == "OVER"
    actual = g["actual_points"].astype("float64")
    void = g["is_voided"].astype(bool)
    g["price"] = pd.to_numeric(g["bet_price"]).astype("Int64")
    g["price_is_nominal"] = g["bet_price_is_nominal"].astype(bool)
    g["break_even"] = break_even(g["judged_price"].astype("float64"))
    # A pick'em app's pick is settled at the price of the entry's per-leg break-even (judged_price).
    g["result"], g["units"] = settle(over, actual, g["bet_line"].astype("float64"), g["judged_price"], void)
    g["is_push"] = g["result"] == "PUSH"
    g["prediction_correct"] = (g["result"] == "WIN").astype("boolean").where(g["result"].isin(["WIN", "LOSS"]))
    selected_price = pd.Series(np.where(over, g["line_over_price"], g["line_under_price"]), index=g.index)
    g["selected_result"], g["selected_units"] = settle(
        over, actual, g["line_value"].astype("float64"), pd.to_numeric(selected_price).astype("Int64"), void
    )
    g["graded_at"] = graded_at
    return g[RESULT_COLUMNS].sort_values(["game_date", "rank"]).reset_index(drop=True)


def summarize(results: pd.DataFrame) -> dict:
    """n_picks, wins, losses, pushes, voids, hit_rate (wins / decided) with its 95% Wilson interval
    (hit_rate_low, hit_rate_high), units and roi (units / staked)."""
    r = results["result"] if len(results) else pd.Series(dtype=object)
    wins, losses, pushes, voids = (int((r == k).sum()) for k in ("WIN", "LOSS", "PUSH", "VOID"))
    units = float(results["units"].sum()) if len(results) else 0.0
    staked = wins + losses + pushes
    return {
        "n_picks": len(results),
        "wins": wins,
        "losses": losses,
        "pushes": pushes,
        "voids": voids,
        "hit_rate": round(wins / (wins + losses), 4) if wins + losses else None,
        **{
            k: None if v is None else round(v, 4)
            for k, v in zip(("hit_rate_low", "hit_rate_high"), wilson_interval(wins, wins + losses), strict=True)
        },
        "units": round(units, 3),
        "roi": round(units / staked, 4) if staked else None,
    }


def summarize_by(results: pd.DataFrame, column: str) -> dict:
    return {str(k): summarize(g) for k, g in results.groupby(column)} if len(results) else {}
