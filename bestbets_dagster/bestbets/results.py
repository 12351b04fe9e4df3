"""Grading the picks and what they earned at their book's real American odds.

A pick is graded with its source model's prediction_accuracy row (same family, model, player-game
and line). A win pays the price of the side taken (+150 pays 1.5 units, -120 pays 0.833); a loss
costs 1 unit; a push returns the stake (0 units, still staked); a void (did not play) is no bet.
ROI = units / units staked (wins + losses + pushes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RESULT_COLUMNS = [
    "game_date", "person_id", "player_lookup", "player_name", "rank", "source_model_id", "source_model_family",
    "recommendation", "edge", "line_value", "line_book", "price", "actual_points", "is_voided", "is_push",
    "prediction_correct", "result", "units", "graded_at",
]


def payout(price: pd.Series) -> pd.Series:
    """Units won per unit staked at an American price."""
    p = price.astype("float64")
    return pd.Series(np.where(p > 0, p / 100.0, 100.0 / p.abs()), index=price.index).where(p.notna() & (p != 0))


def grade_picks(picks: pd.DataFrame, accuracy: pd.DataFrame, graded_at: pd.Timestamp) -> pd.DataFrame:
    """One row per pick whose source prediction has been graded."""
    if picks.empty or accuracy.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    key = ["game_date", "person_id"]
    a = accuracy.assign(game_date=pd.to_datetime(accuracy["game_date"]).astype("datetime64[ns]"),
                        person_id=accuracy["person_id"].astype("int64"))
    a = a[[*key, "model_family", "model_id", "line_value", "actual_points", "is_voided", "is_push", "prediction_correct"]]
    a = a.rename(columns={"model_family": "source_model_family", "model_id": "graded_model_id", "line_value": "graded_line"})
    p = picks.assign(game_date=pd.to_datetime(picks["game_date"]).astype("datetime64[ns]"),
                     person_id=picks["person_id"].astype("int64"))
    g = p.merge(a, on=[*key, "source_model_family"], how="inner")
    stale = g[(g["graded_model_id"] != g["source_model_id"]) | (g["graded_line"].astype(float) != g["line_value"].astype(float))]
    if len(stale):
        row = stale.iloc[0]
        raise ValueError(
            f"pick {row['game_date']:%Y-%m-%d} {row['player_lookup']} was made from {row['source_model_id']} at line "
            f"{row['line_value']}, but the graded prediction is {row['graded_model_id']} at {row['graded_line']}: "
            "the predictions were rebuilt after the picks; re-materialize signal_best_bets_picks for that date"
        )
    over = g["recommendation"] == "OVER"
    g["price"] = np.where(over, g["line_over_price"], g["line_under_price"])
    g["price"] = pd.to_numeric(g["price"]).astype("Int64")
    correct = g["prediction_correct"].astype("boolean")
    g["result"] = np.select(
        [g["is_voided"].astype(bool), g["is_push"].astype(bool), correct.fillna(False).astype(bool), correct.eq(False).fillna(False)],
        ["VOID", "PUSH", "WIN", "LOSS"], "UNGRADED")
    win_units = payout(g["price"].astype("float64"))
    g["units"] = np.select([g["result"] == "WIN", g["result"] == "LOSS"], [win_units, -1.0], 0.0)
    g["units"] = g["units"].where(~((g["result"] == "WIN") & win_units.isna()))
    g["graded_at"] = graded_at
    return g[RESULT_COLUMNS].sort_values(["game_date", "rank"]).reset_index(drop=True)


def summarize(results: pd.DataFrame) -> dict:
    """n_picks, wins, losses, pushes, voids, hit_rate (wins / decided), units and roi (units / staked)."""
    r = results["result"] if len(results) else pd.Series(dtype=object)
    wins, losses, pushes, voids = (int((r == k).sum()) for k in ("WIN", "LOSS", "PUSH", "VOID"))
    units = float(results["units"].sum()) if len(results) else 0.0
    staked = wins + losses + pushes
    return {
        "n_picks": len(results), "wins": wins, "losses": losses, "pushes": pushes, "voids": voids,
        "hit_rate": round(wins / (wins + losses), 4) if wins + losses else None,
        "units": round(units, 3), "roi": round(units / staked, 4) if staked else None,
    }


def summarize_by(results: pd.DataFrame, column: str) -> dict:
    return {str(k): summarize(g) for k, g in results.groupby(column)} if len(results) else {}
