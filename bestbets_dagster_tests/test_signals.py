"""Signals, their context and the combo matcher on real player-games of the shared window."""

import numpy as np
import pandas as pd
import pytest

from bestbets_dagster.signals.combos import ANTI_PATTERN, SYNERGISTIC, match_combo
from bestbets_dagster.signals.context import signal_context
from bestbets_dagster.signals.registry import (
    MODEL_DEPENDENT_TAGS,
    PROTOTYPE_TAGS,
    REGISTERED_TAGS,
    SIGNALS_BY_TAG,
    evaluate_signals,
)
from bestbets_dagster_tests.conftest import ACCURACY_COLUMNS

# Tests that share the session's warehouse fixtures run on one xdist worker.
pytestmark = pytest.mark.xdist_group("warehouse")


def _played_before(logs: pd.DataFrame, person_id: int, day) -> pd.DataFrame:
    """The player's games of the season before `day` in which he played, oldest first (the oracle)."""
    p = logs[(logs["person_id"] == person_id) & (logs["minutes"].fillna(0) > 0)]
    p = p[(pd.to_datetime(p["game_date"]) < day) & (pd.to_datetime(p["game_date"]) >= "2025-08-01")]
    return p.sort_values("game_date")


def test_context_windows_end_at_the_latest_game_before_the_date(signal_rows):
    """The original's "last 3" skipped the most recent game; here it is the three latest games."""
    frame, logs, _ = signal_rows
    sample = frame[frame["games_played_season"] >= 6].sample(40, random_state=7)
    for row in sample.itertuples(index=False):
        games = _played_before(logs, row.person_id, row.game_date)
        assert row.games_played_season == len(games)
        assert row.minutes_last_3 == pytest.approx(games["minutes"].tail(3).mean())
        assert row.minutes_season == pytest.approx(games["minutes"].mean())
        assert row.prev_minutes == pytest.approx(games["minutes"].iloc[-1])
        assert bool(row.starter_flag) == bool(games["starter"].iloc[-1])
        assert row.rest_days == (row.game_date - pd.Timestamp(games["game_date"].iloc[-1])).days
        assert row.points_std_last_5 == pytest.approx(games["points"].tail(5).std())
        three_att = games["three_pointers_attempted"].tail(3).sum()
        if three_att:
            assert row.three_pct_last_3 == pytest.approx(games["three_pointers_made"].tail(3).sum() / three_att)
        negative = (games["plus_minus_points"] < 0).tolist()[::-1]
        assert row.negative_plus_minus_streak == (negative.index(False) if False in negative else len(negative))


def test_line_delta_is_against_the_previous_line_within_14_days(signal_rows):
    frame, _, lines = signal_rows
    with_delta = frame[frame["line_delta"].notna()].sample(25, random_state=3)
    history = lines[lines["person_id"].notna()].assign(game_date=lambda d: pd.to_datetime(d["game_date"]))
    for row in with_delta.itertuples(index=False):
        earlier = history[(history["person_id"] == row.person_id) & (history["game_date"] < row.game_date)]
        previous = earlier.sort_values("game_date").iloc[-1]
        assert (row.game_date - previous["game_date"]).days <= 14
        assert row.line_delta == pytest.approx(row.line_value - float(previous["selected_line"]))
    assert frame["line_delta"].isna().any()  # first lined game of a player: no delta


def _candidate(row: pd.Series, recommendation: str, edge: float, confidence: float = 0.84) -> pd.DataFrame:
    c = row.to_frame().T.infer_objects()
    c["recommendation"], c["edge"], c["confidence"] = recommendation, edge, confidence
    c["last_miss_recommendation"] = c["last_miss_recommendation"].astype(object)
    return c.reset_index(drop=True)


def _first(frame: pd.DataFrame, mask: pd.Series) -> pd.Series:
    hits = frame[mask.fillna(False).astype(bool)]
    assert len(hits), "no real row satisfies the case"
    return hits.iloc[0]


def _surge(f):
    return f["minutes_last_3"] - f["minutes_season"]


def _z(f):
    return (f["three_pct_season"] - f["three_pct_last_3"]) / f["three_pct_std"]


# tag: (fires: mask, direction, edge), (does not fire: mask, direction, edge)
CASES = {
    "high_edge": (
        (lambda f: f["games_played_season"] > 0, "UNDER", -5.0),
        (lambda f: f["games_played_season"] > 0, "UNDER", -4.9),
    ),
    "combo_he_ms": ((lambda f: _surge(f) >= 3, "OVER", 5.2), (lambda f: _surge(f) < 1, "OVER", 5.2)),
    "minutes_surge": ((lambda f: _surge(f) >= 3, "OVER", 3.0), (lambda f: _surge(f) >= 3, "UNDER", -3.0)),
    "3pt_bounce": (
        (lambda f: (f["three_pa_per_game"] >= 4) & (_z(f) > 1), "OVER", 3.0),
        (lambda f: (f["three_pa_per_game"] >= 4) & (_z(f) < 0), "OVER", 3.0),
    ),
    "cold_snap": (
        (lambda f: f["is_home"].astype(bool) & (f["not_over_streak"] >= 3), "OVER", 3.0),
        (lambda f: ~f["is_home"].astype(bool) & (f["not_over_streak"] >= 3), "OVER", 3.0),
    ),
    "blowout_recovery": (
        (
            lambda f: (
                (f["minutes_season"] - f["prev_minutes"] >= 6)
                & (f["rest_days"] >= 2)
                & (f["position"].fillna("") != "C")
            ),
            "OVER",
            3.0,
        ),
        (lambda f: (f["minutes_season"] - f["prev_minutes"] >= 6) & (f["rest_days"] == 1), "OVER", 3.0),
    ),
    "rest_advantage_2d": (
        (lambda f: (f["rest_days"] >= 2) & (f["opponent_rest_days"] == 1), "OVER", 3.0),
        (lambda f: (f["rest_days"] >= 2) & (f["opponent_rest_days"] >= 2), "OVER", 3.0),
    ),
    "b2b_fatigue_under": (
        (lambda f: (f["rest_days"] == 1) & (f["minutes_season"] >= 35), "UNDER", -3.0),
        (lambda f: (f["rest_days"] == 2) & (f["minutes_season"] >= 35), "UNDER", -3.0),
    ),
    "bench_under": (
        (lambda f: f["starter_flag"].eq(False), "UNDER", -3.0),
        (lambda f: f["starter_flag"].eq(True), "UNDER", -3.0),
    ),
    "high_usage_under": (
        (lambda f: f["usage_season"] >= 30, "UNDER", -3.0),
        (lambda f: f["usage_season"] < 25, "UNDER", -3.0),
    ),
    "volatile_under": (
        (lambda f: f["points_std_last_5"] >= 10, "UNDER", -3.0),
        (lambda f: f["points_std_last_5"] < 5, "UNDER", -3.0),
    ),
    "high_ft_under": (
        (lambda f: f["fta_per_game"] >= 7, "UNDER", -3.0),
        (lambda f: f["fta_per_game"] >= 7, "OVER", 3.0),
    ),
    "prop_line_drop_over": (
        (lambda f: f["line_delta"] <= -2, "OVER", 3.0),
        (lambda f: f["line_delta"] > -1, "OVER", 3.0),
    ),
    "fg_cold_continuation": (
        (lambda f: f["fg_pct_last_3"] < f["fg_pct_season"] - f["fg_pct_std"], "UNDER", -3.0),
        (lambda f: f["fg_pct_last_3"] > f["fg_pct_season"], "UNDER", -3.0),
    ),
}


@pytest.mark.parametrize("tag", sorted(CASES))
def test_signal_fires_on_a_real_row_and_not_on_another(signal_rows, tag):
    frame, _, _ = signal_rows
    (fire_mask, fire_dir, fire_edge), (quiet_mask, quiet_dir, quiet_edge) = CASES[tag]
    fires = evaluate_signals(_candidate(_first(frame, fire_mask(frame)), fire_dir, fire_edge))
    quiet = evaluate_signals(_candidate(_first(frame, quiet_mask(frame)), quiet_dir, quiet_edge))
    assert fires.at[0, tag] and 0 <= fires.at[0, f"strength:{tag}"] <= 1
    assert not quiet.at[0, tag] and np.isnan(quiet.at[0, f"strength:{tag}"])


def test_confidence_signals_use_the_0_to_1_scale(signal_rows):
    """edge_spread_optimal and combo_3way: confidence >= 0.70 outside [0.88, 0.90] (the original
    compared 0-100 values with these, so they fired on every edge-5+ pick)."""
    frame, _, _ = signal_rows
    row = _first(frame, _surge(frame) >= 3)
    assert evaluate_signals(_candidate(row, "OVER", 6.0, 0.92)).loc[0, ["edge_spread_optimal", "combo_3way"]].all()
    assert not evaluate_signals(_candidate(row, "OVER", 6.0, 0.89)).loc[0, ["edge_spread_optimal", "combo_3way"]].any()
    assert not evaluate_signals(_candidate(row, "OVER", 6.0, 92.0 / 100 - 0.3)).at[0, "edge_spread_optimal"]
    assert evaluate_signals(_candidate(row, "OVER", 8.0, 0.95)).at[0, "strength:edge_spread_optimal"] == 1.0


def test_book_disagreement_needs_a_spread_across_five_books(signal_rows):
    """The original coded the 5-book condition but never supplied the count. In the shared window no
    player-game has a 1.5-point std across 5+ books (3 have it across 3-4 books), so the rule is
    shown on such a real row with the count it would need."""
    frame, _, _ = signal_rows
    row = _first(frame, (frame["multi_book_line_std"] >= 1.5) & (frame["n_books"] < 5))
    assert not evaluate_signals(_candidate(row, "UNDER", -3.0)).at[0, "book_disagreement"]
    five_books = _candidate(row, "UNDER", -3.0).assign(n_books=5)
    fired = evaluate_signals(five_books)
    assert fired.at[0, "book_disagreement"]
    assert fired.at[0, "strength:book_disagreement"] == pytest.approx(
        min(0.95, 0.85 + 0.10 * (row.multi_book_line_std - 1.5))
    )
    assert not ((frame["multi_book_line_std"] >= 1.5) & (frame["n_books"] >= 5)).any()


def test_model_health_always_qualifies_with_its_tier_strength(signal_rows):
    frame, _, _ = signal_rows
    row = frame.iloc[0].copy()
    for status, strength in (("blocked", 0.3), ("watch", 0.7), ("healthy", 1.0), ("unknown", 1.0)):
        row["model_health_status"] = status
        fired = evaluate_signals(_candidate(row, "UNDER", -3.0))
        assert fired.at[0, "model_health"] and fired.at[0, "strength:model_health"] == strength


def test_self_creator_needs_a_box_score_with_unassisted_field_goals(built, signal_rows):
    """The shared box scores have no unassisted field goals: the signal stays silent on them, and
    fires on the same real games once a source supplies the column."""
    frame, logs, lines = signal_rows
    row = _first(frame, frame["games_played_season"] >= 5)
    assert not evaluate_signals(_candidate(row, "UNDER", -3.0)).at[0, "self_creator_under"]
    teams = built.read("team_game_logs", "2025-10-01", "2025-12-06")
    with_unassisted = logs.assign(unassisted_field_goals_made=(logs["field_goals_made"] * 0.6).round())
    target = row.to_frame().T[["game_date", "person_id", "opponent_abbr", "line_value", "model_family"]]
    context = signal_context(
        target.reset_index(drop=True), with_unassisted, teams, lines, pd.DataFrame(columns=ACCURACY_COLUMNS)
    )
    games = _played_before(logs, row.person_id, row.game_date)
    expected = (games["field_goals_made"] * 0.6).round().mean()
    assert context.at[0, "unassisted_fgm_per_game"] == pytest.approx(expected)
    candidate = _candidate(row, "UNDER", -3.0)
    candidate["unassisted_fgm_per_game"] = context.at[0, "unassisted_fgm_per_game"]
    assert evaluate_signals(candidate).at[0, "self_creator_under"] == (expected >= 5)
    candidate["unassisted_fgm_per_game"] = 5.4
    assert evaluate_signals(candidate).at[0, "self_creator_under"]


def test_cold_continuation_follows_the_family_s_miss_streak(built, signal_rows):
    frame, logs, lines = signal_rows
    row = _first(frame, frame["games_played_season"] >= 5)
    teams = built.read("team_game_logs", "2025-10-01", "2025-12-06")
    day = row.game_date
    history = pd.DataFrame(
        {
            "game_date": [day - pd.Timedelta(days=d) for d in (6, 4, 2)],
            "model_family": "v9_mae",
            "person_id": row.person_id,
            "prediction_correct": [True, False, False],
            "recommendation": ["OVER", "OVER", "UNDER"],
        }
    )
    target = (
        row.to_frame()
        .T[["game_date", "person_id", "opponent_abbr", "line_value", "model_family"]]
        .reset_index(drop=True)
    )
    context = signal_context(target, logs, teams, lines, history)
    assert context.at[0, "model_miss_streak"] == 2 and context.at[0, "last_miss_recommendation"] == "UNDER"
    candidate = _candidate(row, "UNDER", -3.0)
    candidate[["model_miss_streak", "last_miss_recommendation"]] = [2, "UNDER"]
    assert evaluate_signals(candidate).at[0, "cold_continuation_2"]
    candidate["recommendation"], candidate["edge"] = "OVER", 3.0
    assert not evaluate_signals(candidate).at[0, "cold_continuation_2"]


def test_the_registry_has_the_original_s_18_signals_and_2_prototypes():
    assert len(REGISTERED_TAGS) == 18 and REGISTERED_TAGS[0] == "model_health"
    assert set(PROTOTYPE_TAGS) == {"cold_continuation_2", "fg_cold_continuation"}
    under = {
        "b2b_fatigue_under",
        "bench_under",
        "high_usage_under",
        "volatile_under",
        "high_ft_under",
        "self_creator_under",
    }
    assert {t for t in REGISTERED_TAGS if SIGNALS_BY_TAG[t].direction == "UNDER_ONLY"} == under
    assert MODEL_DEPENDENT_TAGS == {"high_edge", "edge_spread_optimal", "combo_he_ms", "combo_3way"}


def test_combo_matching_takes_the_largest_fully_present_combo():
    tags = ["model_health", "high_edge", "edge_spread_optimal", "minutes_surge"]
    combo = match_combo(tags, "OVER")
    assert combo.combo_id == "edge_spread_optimal+high_edge+minutes_surge" and combo.classification == SYNERGISTIC
    # The direction filter is applied: the OVER-only combos cannot match an UNDER pick.
    assert match_combo(tags, "UNDER") is None
    assert match_combo(["model_health", "high_edge", "bench_under"], "UNDER").combo_id == "bench_under"


def test_anti_patterns_match_only_the_standalone_tag_set():
    assert match_combo(["model_health", "high_edge"], "UNDER").classification == ANTI_PATTERN
    assert (
        match_combo(["model_health", "high_edge", "edge_spread_optimal"], "OVER").combo_id
        == "edge_spread_optimal+high_edge"
    )
    # With any other signal the standalone anti-pattern does not apply (the original's matcher let
    # it block every edge-5+ pick).
    assert match_combo(["model_health", "high_edge", "high_ft_under"], "UNDER").classification == SYNERGISTIC


def test_combo_ties_are_broken_by_sample_then_id_not_by_row_order():
    from bestbets_dagster.signals.combos import COMBOS

    tags = ["model_health", "bench_under", "volatile_under", "high_ft_under"]
    assert match_combo(tags, "UNDER").combo_id == "bench_under"  # N=156 beats 74 and 26
    assert match_combo(tags, "UNDER", tuple(reversed(COMBOS))).combo_id == "bench_under"
