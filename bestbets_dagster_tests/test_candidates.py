"""A candidate built from two families' predictions of one player-game priced at three books, every figure
worked by hand: with no family calibrated, P is the market's (the other books' no-vig median at the line),
each side is shopped to the book where its EV is highest, and the family whose edge leans to that side
supplies the bet."""

from __future__ import annotations

import pandas as pd
import pytest

from bestbets_dagster.bestbets.candidates import build_candidates
from bestbets_dagster.bestbets.config import BestBetsConfig

DAY = pd.Timestamp("2025-11-18")
# No-vig P(over) of each book at 24.5: A 0.5, B 0.467532 (+105/-125), C 0.521739 (-120/+100).
OFFERS = pd.DataFrame(
    {
        "game_date": [DAY] * 3,
        "person_id": [1] * 3,
        "bookmaker": ["book_a", "book_b", "book_c"],
        "line": [24.5] * 3,
        "over_price": [-110.0, 105.0, -120.0],
        "under_price": [-110.0, -125.0, 100.0],
    }
)


def _prediction(family: str, predicted: float) -> dict:
    return {
        "game_date": DAY,
        "person_id": 1,
        "player_lookup": "someplayer",
        "model_family": family,
        "model_id": f"{family}_w20251117",
        "model_status": "promoted",
        "predicted_points": predicted,
        "edge": predicted - 24.5,
        "recommendation": "OVER" if predicted > 24.5 else "UNDER",
        "line_book": "book_a",
        "line_value": 24.5,
        "line_over_price": -110.0,
        "line_under_price": -110.0,
        "confidence": 0.9,
    }


@pytest.fixture(scope="module")
def candidates() -> pd.DataFrame:
    predictions = pd.DataFrame([_prediction("v9_mae", 27.0), _prediction("v12_noveg_mae", 22.0)])
    health = pd.DataFrame({"game_date": [DAY], "model_family": ["v9_mae"], "hr_7d": [55.0], "status": ["healthy"]})
    feature_sets = {"v9_mae": "v9", "v12_noveg_mae": "v12_noveg"}
    return build_candidates(predictions, health, feature_sets, set(), BestBetsConfig(), offers=OFFERS)


def test_one_candidate_per_player_game_on_the_side_the_market_favours(candidates):
    # At book A's line the other books' median P(over) is (0.467532 + 0.521739) / 2 = 0.4946 < 1/2: UNDER,
    # whatever each family's edge (no family has earned a weight beyond the market).
    [row] = candidates.to_dict("records")
    assert row["recommendation"] == "UNDER"
    assert row["p_over"] == pytest.approx(0.494636, abs=1e-6)


def test_the_bet_is_shopped_to_the_book_where_it_is_worth_most(candidates):
    # UNDER at C (+100): P(under) = 1 - median(A 0.5, B 0.467532) = 0.516234, EV 0.516234 - 0.483766 = +0.0325;
    # at A (-110) EV -0.0352, at B (-125) -0.1196.
    [row] = candidates.to_dict("records")
    assert (row["bet_book"], row["bet_line"], row["bet_price"]) == ("book_c", 24.5, 100.0)
    assert row["p_win"] == pytest.approx(0.516234, abs=1e-6)
    assert row["expected_value"] == pytest.approx(0.032468, abs=1e-6)
    assert row["break_even"] == pytest.approx(0.5)


def test_equal_values_go_to_the_family_leaning_to_the_side_and_both_count_as_eligible(candidates):
    [row] = candidates.to_dict("records")
    assert row["source_model_family"] == "v12_noveg_mae"  # its edge -2.5 leans UNDER; v9_mae's +2.5 does not
    assert row["n_models_eligible"] == 2 and not row["direction_conflict"]  # both clear EV 0.03 at C, both UNDER
    assert row["model_health_status"] == "unknown"  # v12_noveg_mae has no health row of the date
