"""Grading predictions against the box scores.

prediction_correct is NULL for a PASS, for an exact push (actual == line) and for a player who did
not play, who is voided and never counted as a loss; otherwise it is (actual > line) == OVER.
Only games whose box score has arrived are graded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bestbets_dagster.betting import recommend
from bestbets_dagster.tables import keyed_by_player_game


def _void_reason(dnp_reason: pd.Series) -> pd.Series:
    text = dnp_reason.fillna("").str.lower()
    return pd.Series(
        np.select(
            [text.str.contains("injury"), text.str.contains("coach")], ["dnp_injury", "dnp_coach_decision"], "dnp_other"
        ),
        index=dnp_reason.index,
    )


def _correct(recommendation: pd.Series, actual: pd.Series, line: pd.Series, void: pd.Series) -> pd.Series:
    decided = (recommendation != "PASS") & ~void & actual.notna() & (actual != line)
    went_over = actual > line
    correct = went_over == (recommendation == "OVER")
    return correct.astype("boolean").where(decided, pd.NA)


def grade(predictions: pd.DataFrame, player_logs: pd.DataFrame, graded_at: pd.Timestamp) -> pd.DataFrame:
    """Grade every prediction whose game has a box score; predictions of other games are left out."""
    if predictions.empty:
        return pd.DataFrame()
    logs, p = keyed_by_player_game(player_logs), keyed_by_player_game(predictions)
    # The game's id comes from its box score (a prediction is made before the id is known here).
    boxed = logs[["game_date", "team_abbr", "game_id"]].drop_duplicates(["game_date", "team_abbr"])
    p = p.drop(columns="game_id", errors="ignore").merge(
        boxed.assign(_boxed=True), on=["game_date", "team_abbr"], how="left"
    )
    p = p[p["_boxed"].astype("boolean").fillna(False).astype(bool)].drop(columns="_boxed")
    box = logs[["game_date", "person_id", "points", "minutes", "is_dnp", "dnp_reason"]]
    g = p.merge(box, on=["game_date", "person_id"], how="left")
    in_box = g["is_dnp"].notna()
    void = ~in_box | g["is_dnp"].astype("boolean").fillna(True).astype(bool)
    actual = g["points"].astype("float64").where(~void)
    line = g["line_value"].astype("float64")
    predicted = g["predicted_points"].astype("float64")
    threshold = g["edge_threshold"] if "edge_threshold" in g.columns else 3.0
    consensus = g["consensus_line"].astype("float64")
    consensus_rec = recommend(predicted - consensus, threshold)
    error = predicted - actual
    out = pd.DataFrame(
        {
            "game_date": g["game_date"],
            "model_family": g["model_family"],
            "model_id": g["model_id"],
            "model_status": g["model_status"],
            "person_id": g["person_id"],
            "player_lookup": g["player_lookup"],
            "team_abbr": g["team_abbr"],
            "opponent_abbr": g["opponent_abbr"],
            "game_id": g["game_id"],
            "predicted_points": predicted,
            "line_value": line,
            "line_book": g["line_book"],
            "line_over_price": g["line_over_price"],
            "line_under_price": g["line_under_price"],
            "consensus_line": consensus,
            "edge": g["edge"],
            "recommendation": g["recommendation"],
            "confidence": g["confidence"],
            "actual_points": actual.astype("Int64"),
            "minutes_played": g["minutes"].where(~void),
            "is_voided": void,
            "void_reason": pd.Series(
                np.where(~in_box, "dnp_not_in_box_score", _void_reason(g["dnp_reason"])), index=g.index
            ).where(void),
            "is_push": (~void) & (actual == line),
            "absolute_error": error.abs(),
            "signed_error": error,
            "prediction_correct": _correct(g["recommendation"], actual, line, void),
            "within_3_points": (error.abs() <= 3).astype("boolean").where(~void, pd.NA),
            "within_5_points": (error.abs() <= 5).astype("boolean").where(~void, pd.NA),
            "consensus_recommendation": consensus_rec,
            "consensus_correct": _correct(consensus_rec, actual, consensus, void),
            "graded_at": graded_at,
        }
    )
    return out.sort_values(["game_date", "model_family", "person_id"]).reset_index(drop=True)
