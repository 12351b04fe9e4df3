"""The aggregator's ranking and card on synthetic candidates of one date: by EV at the price under the
"ev" selection, by |edge| x signal health under "edge", the daily cap into the audit, value and lean
tiers, and the angles a pick is explained by."""

from __future__ import annotations

import dataclasses

import pandas as pd

from bestbets_dagster.bestbets.aggregator import DecisionSnapshot, select_picks
from bestbets_dagster.bestbets.config import BestBetsConfig

BASE = {
    "game_date": pd.Timestamp("2025-11-18"),
    "source_model_family": "v9_mae",
    "model_health_status": "healthy",
    "recommendation": "OVER",
    "games_vs_opponent": 1,
    "available_quality_score": 95.0,
    "line_delta": 0.0,
    "negative_plus_minus_streak": 0,
    "confidence": 0.95,
    "combo_classification": None,
    "model_agreement_count": 1,
    "p_win": 0.55,
    "break_even": 0.524,
    "bet_book": "draftkings",
    "bet_price": -110.0,
    "market_p_over": 0.53,
}


def _candidate(
    player: str, edge: float, expected_value: float, line: float, signals=("model_health", "rest_advantage_2d")
):
    return {
        **BASE,
        "player_lookup": player,
        "edge": edge,
        "expected_value": expected_value,
        "line_value": line,
        "bet_line": line,
        "signal_tags": list(signals),
        "signal_count": len(signals),  # pick_signal_tags counts them (model_health included)
    }


CANDIDATES = pd.DataFrame(
    [
        _candidate("a", edge=1.0, expected_value=0.050, line=26.5),  # value, star line
        _candidate("b", edge=6.0, expected_value=0.010, line=19.5),  # lean, the largest edge
        _candidate("c", edge=4.0, expected_value=-0.020, line=12.5, signals=("model_health", "home_dog")),  # lean
    ]
)


def _picks(**settings):
    config = dataclasses.replace(BestBetsConfig(), **settings)
    return select_picks(CANDIDATES, DecisionSnapshot(config, {}, frozenset()))


def test_the_ev_selection_ranks_by_expected_value_and_tiers_by_the_price():
    picks, audit = _picks(max_picks_per_day=5, min_expected_value=0.03)
    assert picks["player_lookup"].tolist() == ["a", "b", "c"]
    assert picks["rank"].tolist() == [1, 2, 3]
    assert picks["tier"].tolist() == ["value", "lean", "lean"]
    assert picks["composite_score"].tolist() == [0.05, 0.01, -0.02]
    assert audit.empty


def test_the_daily_cap_sends_the_rest_to_the_audit():
    picks, audit = _picks(max_picks_per_day=2)
    assert picks["player_lookup"].tolist() == ["a", "b"]
    assert audit[["player_lookup", "filter_name"]].values.tolist() == [["c", "max_picks_per_day"]]


def test_the_edge_selection_ranks_by_edge_times_signal_health():
    config = dataclasses.replace(BestBetsConfig(), selection="edge", min_edge=0.5, max_picks_per_day=5)
    cold = {"rest_advantage_2d": 0.5}  # a's and b's signal is COLD: b's 6-point edge counts 3, c's 4 counts 4
    picks, _ = select_picks(CANDIDATES, DecisionSnapshot(config, cold, frozenset()))
    assert picks[["player_lookup", "composite_score"]].values.tolist() == [["c", 4.0], ["b", 3.0], ["a", 0.5]]


def test_a_pick_is_explained_by_its_price_its_line_tier_and_its_signals():
    picks, _ = _picks(max_picks_per_day=5, min_expected_value=0.03)
    star = picks.set_index("player_lookup").loc["a", "pick_angles"]
    assert star[0] == "value: P(win) 55.0% at 26.5 (draftkings, -110; break-even 52.4%, market 53.0%): EV +0.050 u"
    assert "OVER on a star line (26.5)" in star and "Signal: rest_advantage_2d" in star
    big_edge = picks.set_index("player_lookup").loc["b", "pick_angles"]
    assert "High conviction: 6.0-point edge" in big_edge and "OVER on a starter line (19.5)" in big_edge
    assert "OVER on a role line (12.5)" in picks.set_index("player_lookup").loc["c", "pick_angles"]
