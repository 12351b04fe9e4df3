"""Candidates, filters, scoring and pick grading on real player-games of the shared window."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from bestbets_dagster.bestbets.aggregator import (
    FILTERS,
    NEGATIVE_FILTERS,
    DecisionSnapshot,
    apply_filters,
    select_picks,
)
from bestbets_dagster.bestbets.candidates import build_candidates
from bestbets_dagster.bestbets.config import BestBetsConfig
from bestbets_dagster.bestbets.results import grade_picks, summarize
from bestbets_dagster.betting import payout

# Tests that share the session's warehouse fixtures run on one xdist worker.
pytestmark = pytest.mark.xdist_group("warehouse")

CONFIG = BestBetsConfig()
EDGE_RULE = dataclasses.replace(CONFIG, selection="edge")  # the original's: largest |edge|, floor 5
FILTERS_BY_NAME = {f.name: f for f in FILTERS}


def _rows(signal_rows, n: int, min_games: int = 5, **values) -> pd.DataFrame:
    """n real player-games as candidates: the real context, plus the pick's fields."""
    frame, _, _ = signal_rows
    rows = frame[frame["games_played_season"] >= min_games].head(n).copy().reset_index(drop=True)
    defaults = {
        "recommendation": "OVER",
        "edge": 5.5,
        "confidence": 0.9,
        "source_model_family": "v9_mae",
        "signal_count": 3,
        "combo_classification": None,
        "model_health_status": "healthy",
        "model_agreement_count": 1,
        "expected_value": 0.05,
        "p_win": 0.55,
        "bet_line": 20.5,
        "bet_book": "draftkings",
        "bet_price": -110,
    }
    for key, value in {**defaults, **values}.items():
        rows[key] = value
    return rows


def _snapshot(config=CONFIG, multipliers=None, blacklist=()):
    return DecisionSnapshot(config=config, signal_multipliers=multipliers or {}, blacklist=frozenset(blacklist))


def test_the_eleven_negative_filters_and_the_gate_are_in_the_original_s_order():
    assert NEGATIVE_FILTERS == (
        "player_blacklist",
        "edge_floor",
        "under_edge_cap",
        "avoid_familiar",
        "feature_quality",
        "bench_under",
        "line_jumped_under",
        "line_dropped_under",
        "negative_plus_minus_under",
        "confidence_floor",
        "anti_pattern",
    )
    assert [f.name for f in FILTERS][0] == "model_health_gate" and [f.name for f in FILTERS][10] == "signal_count"


def test_a_filters_description_says_the_running_configs_thresholds():
    import dataclasses

    described = {f.name: f.describe for f in FILTERS}
    assert described["under_edge_cap"](CONFIG) == f"UNDER with |edge| >= {CONFIG.under_edge_cap:g}"
    changed = dataclasses.replace(CONFIG, under_edge_cap=6.5, bench_under_line=10.0, min_signal_count=3)
    assert described["under_edge_cap"](changed) == "UNDER with |edge| >= 6.5"
    assert described["bench_under"](changed) == "UNDER on a line below 10"
    assert described["signal_count"](changed).startswith("fewer than 3 qualifying signals")
    assert all("{" not in f.describe(CONFIG) for f in FILTERS)


# filter: (rows it rejects: mask over the real frame, pick fields), (rows it passes: ...)
FILTER_CASES = {
    "player_blacklist": ({}, {}),
    # Under selection "ev" every priced bet is on the card (a lean below min_expected_value): only a bet
    # without a price is not.
    "edge_floor": ({"expected_value": float("nan")}, {"expected_value": -0.05}),
    "under_edge_cap": ({"edge": -7.0, "recommendation": "UNDER"}, {"edge": 7.5, "recommendation": "OVER"}),
    "bench_under": ({"recommendation": "UNDER", "edge": -5.5}, {"recommendation": "OVER"}),
    "line_jumped_under": ({"recommendation": "UNDER", "edge": -5.5}, {"recommendation": "OVER"}),
    "line_dropped_under": ({"recommendation": "UNDER", "edge": -5.5}, {"recommendation": "OVER"}),
    "negative_plus_minus_under": ({"recommendation": "UNDER", "edge": -5.5}, {"recommendation": "UNDER", "edge": -5.5}),
    "signal_count": ({"signal_count": 1}, {"signal_count": 2}),
    "confidence_floor": (
        {"source_model_family": "v12_mae", "confidence": 0.89},
        {"source_model_family": "v9_mae", "confidence": 0.5},
    ),
    "anti_pattern": ({"combo_classification": "ANTI_PATTERN"}, {"combo_classification": "SYNERGISTIC"}),
    "model_health_gate": ({"model_health_status": "blocked"}, {"model_health_status": "watch"}),
    "avoid_familiar": ({}, {}),
    "feature_quality": ({}, {}),
}
REAL_MASKS = {
    "bench_under": (lambda f: f["line_value"] < 12, lambda f: f["line_value"] < 12),
    "line_jumped_under": (lambda f: f["line_delta"] >= 2, lambda f: f["line_delta"] >= 2),
    "line_dropped_under": (lambda f: f["line_delta"] <= -2, lambda f: f["line_delta"] <= -2),
    "negative_plus_minus_under": (
        lambda f: f["negative_plus_minus_streak"] >= 3,
        lambda f: f["negative_plus_minus_streak"] == 2,
    ),
    "avoid_familiar": (lambda f: f["games_vs_opponent"] >= 6, lambda f: f["games_vs_opponent"] == 5),
    "feature_quality": (lambda f: f["available_quality_score"] < 85, lambda f: f["available_quality_score"] >= 85),
}


@pytest.mark.parametrize("name", sorted(FILTER_CASES))
def test_filter_rejects_a_real_row_and_passes_another(signal_rows, name):
    frame, _, _ = signal_rows
    reject_fields, pass_fields = FILTER_CASES[name]
    reject_mask, pass_mask = REAL_MASKS.get(name, (lambda f: f["games_played_season"] >= 5,) * 2)
    base = _rows(signal_rows, 10_000, min_games=0)
    rejected_row = base[reject_mask(base).fillna(False).astype(bool)].head(1).assign(**reject_fields)
    others = base[base["player_lookup"] != rejected_row["player_lookup"].iloc[0]]
    passed_row = others[pass_mask(others).fillna(False).astype(bool)].head(1).assign(**pass_fields)
    assert len(rejected_row) == 1 and len(passed_row) == 1, "no real row for the case"
    config = dataclasses.replace(CONFIG, model_health_gate=True)
    snapshot = _snapshot(config, blacklist=set(rejected_row["player_lookup"]))
    rule = FILTERS_BY_NAME[name]
    assert rule.rejects(rejected_row, snapshot).fillna(False).astype(bool).iloc[0]
    assert not rule.rejects(passed_row, snapshot).fillna(False).astype(bool).iloc[0]


def test_the_floor_follows_the_selection_rule(signal_rows):
    rows = _rows(signal_rows, 3, recommendation="UNDER")
    rows["edge"], rows["expected_value"] = [-4.9, -5.0, -8.0], [0.10, 0.10, float("nan")]
    floor = FILTERS_BY_NAME["edge_floor"]
    assert floor.rejects(rows, _snapshot(EDGE_RULE)).tolist() == [True, False, False]
    # Under EV selection the edge does not matter; a bet without a probability never passes.
    assert floor.rejects(rows, _snapshot()).tolist() == [False, False, True]


def test_filters_audit_the_first_failure_only(signal_rows):
    rows = _rows(signal_rows, 3, edge=-7.5, recommendation="UNDER")
    rows.loc[0, "signal_count"] = 1  # fails the UNDER cap first, then the signal count
    rows.loc[1, ["edge", "recommendation"]] = [6.0, "OVER"]
    rows.loc[2, ["edge", "recommendation", "combo_classification"]] = [6.0, "OVER", "ANTI_PATTERN"]
    rows["available_quality_score"] = 95.0
    rows["line_delta"] = float("nan")
    rows["games_vs_opponent"] = 1
    passed, audit = apply_filters(rows, _snapshot())
    assert audit.set_index("player_lookup")["filter_name"].to_dict() == {
        rows.loc[0, "player_lookup"]: "under_edge_cap",
        rows.loc[2, "player_lookup"]: "anti_pattern",
    }
    assert passed["player_lookup"].tolist() == [rows.loc[1, "player_lookup"]]


def test_the_gate_is_a_setting_off_by_default_as_at_the_spec_s_revision(signal_rows):
    rows = _rows(signal_rows, 1, model_health_status="blocked")
    assert not FILTERS_BY_NAME["model_health_gate"].rejects(rows, _snapshot()).iloc[0]
    gated = _snapshot(dataclasses.replace(CONFIG, model_health_gate=True))
    assert FILTERS_BY_NAME["model_health_gate"].rejects(rows, gated).iloc[0]


def test_health_multipliers_of_the_day_before_change_the_score_and_rank(signal_rows):
    rows = _rows(signal_rows, 3, edge=6.0)
    rows["available_quality_score"], rows["line_delta"], rows["games_vs_opponent"] = 95.0, float("nan"), 0
    rows["signal_tags"] = [
        ["model_health", "high_edge", "minutes_surge"],
        ["model_health", "high_edge", "prop_line_drop_over"],
        ["model_health", "high_edge", "bench_under"],
    ]
    rows.loc[2, "edge"] = 5.5
    multipliers = {"high_edge": 0.0, "minutes_surge": 0.5, "prop_line_drop_over": 1.2, "bench_under": 1.2}
    picks, _ = select_picks(rows, _snapshot(EDGE_RULE, multipliers=multipliers))
    scores = picks.set_index("player_lookup")["composite_score"]
    lookups = rows["player_lookup"].tolist()
    assert scores[lookups[0]] == pytest.approx(6.0 * (0.0 + 0.5) / 2)  # COLD model-dependent high_edge counts 0
    assert scores[lookups[1]] == pytest.approx(6.0 * (0.0 + 1.2) / 2)
    assert scores[lookups[2]] == pytest.approx(5.5 * 0.6)
    assert picks["player_lookup"].tolist() == [lookups[1], lookups[2], lookups[0]] and picks["rank"].tolist() == [
        1,
        2,
        3,
    ]
    # Natural sizing unless capped; the cap's rejections are audited.
    capped, audit = select_picks(rows, _snapshot(dataclasses.replace(EDGE_RULE, max_picks_per_day=2), multipliers))
    assert len(capped) == 2 and audit["filter_name"].tolist() == ["max_picks_per_day"]


def _predictions(signal_rows, edges: dict) -> pd.DataFrame:
    frame, _, _ = signal_rows
    row = frame[frame["games_played_season"] >= 5].iloc[0]
    out = []
    for family, edge in edges.items():
        out.append(
            {
                "game_date": row.game_date,
                "person_id": row.person_id,
                "player_lookup": row.player_lookup,
                "model_family": family,
                "model_id": f"catboost_{family}_x",
                "model_status": "shadow",
                "edge": edge,
                "recommendation": "OVER" if edge >= 3 else "UNDER" if edge <= -3 else "PASS",
                "predicted_points": row.line_value + edge,
                "line_value": row.line_value,
                "line_book": "draftkings",
                "line_over_price": -110,
                "line_under_price": -110,
            }
        )
    return pd.DataFrame(out)


FEATURE_SETS = {"v9_mae": "v9", "v9_q43": "v9", "v12_noveg_mae": "v12_noveg", "v12_noveg_q43": "v12_noveg"}
QUANTILE = {"v9_q43", "v12_noveg_q43"}
NO_HEALTH = pd.DataFrame(columns=["game_date", "model_family", "hr_7d", "n_7d", "status"])


def test_one_candidate_per_player_game_with_the_largest_edge_and_cross_model_facts(signal_rows):
    predictions = _predictions(
        signal_rows, {"v9_mae": -5.2, "v9_q43": -6.1, "v12_noveg_mae": 5.0, "v12_noveg_q43": -2.0}
    )
    c = build_candidates(predictions, NO_HEALTH, FEATURE_SETS, QUANTILE, EDGE_RULE)
    assert len(c) == 1
    row = c.iloc[0]
    assert (row.source_model_family, row.edge, row.recommendation) == ("v9_q43", -6.1, "UNDER")
    assert row.n_models_eligible == 3 and row.champion_edge == -5.2 and row.direction_conflict
    assert row.model_agreement_count == 2 and row.feature_set_diversity == 1
    assert row.agreeing_model_ids == ["catboost_v9_mae_x", "catboost_v9_q43_x"]
    # Two models agree (no count bonus); v12_noveg_q43 passed, so the quantile models do not all bet UNDER.
    assert row.consensus_bonus == 0.0 and not row.quantile_consensus_under


def test_ties_go_to_the_family_id_and_the_gate_prefers_an_open_family(signal_rows):
    predictions = _predictions(signal_rows, {"v9_q43": -6.0, "v12_noveg_q43": -6.0, "v9_mae": -5.5})
    c = build_candidates(predictions, NO_HEALTH, FEATURE_SETS, QUANTILE, EDGE_RULE)
    assert c.iloc[0].source_model_family == "v12_noveg_q43"
    assert c.iloc[0].consensus_bonus == pytest.approx(0.05 + 0.10)  # 3 agree UNDER, both quantile families too
    day = predictions["game_date"].iloc[0]
    health = pd.DataFrame(
        {
            "game_date": [day, day],
            "model_family": ["v12_noveg_q43", "v9_q43"],
            "hr_7d": [45.0, 47.0],
            "n_7d": [60, 60],
            "status": ["blocked", "blocked"],
        }
    )
    gated = dataclasses.replace(EDGE_RULE, model_health_gate=True)
    assert build_candidates(predictions, health, FEATURE_SETS, QUANTILE, gated).iloc[0].source_model_family == "v9_mae"
    ungated = build_candidates(predictions, health, FEATURE_SETS, QUANTILE, EDGE_RULE).iloc[0]
    assert ungated.source_model_family == "v12_noveg_q43" and ungated.model_health_status == "blocked"


def test_phase_b_sources_the_eligible_bet_of_the_model_with_the_better_record(signal_rows):
    import json

    from bestbets_dagster.bestbets.sourcing import sourcing_weights

    predictions = _predictions(signal_rows, {"v9_q43": -6.5, "v9_mae": -5.5, "v12_noveg_mae": -4.8})
    states = {
        "v9_q43": {"state": "BLOCKED", "rolling_hr_14d": 41.0, "rolling_n_14d": 80},
        "v9_mae": {"state": "HEALTHY", "rolling_hr_14d": 60.0, "rolling_n_14d": 50},
        "v12_noveg_mae": {"state": "HEALTHY", "rolling_hr_14d": 70.0, "rolling_n_14d": 400},
    }
    weights = sourcing_weights(states, predictions["model_family"], EDGE_RULE)
    of_day = {pd.Timestamp(predictions["game_date"].iloc[0]).date(): weights}
    # 1.0 x (60 x 50 + 52.4 x 50) / 100 / 52.4: the hit rate shrunk with 50 breakeven bets.
    assert weights["v9_mae"]["weight"] == pytest.approx((60.0 * 50 + 52.4 * 50) / 100 / 52.4, abs=1e-4)
    assert weights["v9_q43"]["weight"] == 0.0
    # The original rule: the largest |edge| (a BLOCKED model's).
    best = build_candidates(predictions, NO_HEALTH, FEATURE_SETS, QUANTILE, EDGE_RULE, sourcing=of_day).iloc[0]
    assert best.source_model_family == "v9_q43"
    # Phase B: BLOCKED contributes nothing; v12_noveg_mae's better record does not make its -4.8 eligible
    # (under the edge floor of 5), so v9_mae's -5.5 is the candidate.
    phase_b = dataclasses.replace(EDGE_RULE, sourcing="performance")
    c = build_candidates(predictions, NO_HEALTH, FEATURE_SETS, QUANTILE, phase_b, sourcing=of_day).iloc[0]
    assert (c.source_model_family, c.edge, c.sourcing_weight) == ("v9_mae", -5.5, weights["v9_mae"]["weight"])
    provenance = json.loads(c.sourcing_json)
    assert provenance["v9_q43"] == {
        "recommendation": "UNDER",
        "edge": -6.5,
        # no calibration and no other book: the market is its own book's no-vig 1/2, at -110 worth -0.0455
        "expected_value": -0.0455,
        "weight": 0.0,
        "state": "BLOCKED",
    }
    assert sorted(provenance) == ["v12_noveg_mae", "v9_mae", "v9_q43"]
    # With the floor at 4, the weighted |edge| decides: 4.8 x 1.30 (v12_noveg_mae) beats 5.5 x 1.07 (v9_mae).
    lower = dataclasses.replace(phase_b, min_edge=4.0)
    c = build_candidates(predictions, NO_HEALTH, FEATURE_SETS, QUANTILE, lower, sourcing=of_day).iloc[0]
    assert 4.8 * weights["v12_noveg_mae"]["weight"] > 5.5 * weights["v9_mae"]["weight"]
    assert c.source_model_family == "v12_noveg_mae"


def test_signal_profiles_block_or_weight_a_signal_per_family_and_direction(signal_rows):
    from bestbets_dagster.bestbets.profiles import signal_weight

    rows = _rows(signal_rows, 3, edge=6.0)
    rows["available_quality_score"], rows["line_delta"], rows["games_vs_opponent"] = 95.0, float("nan"), 0
    rows["recommendation"] = ["UNDER", "UNDER", "OVER"]
    rows["edge"] = [-6.0, -6.0, 6.0]
    rows["line_value"] = 20.5
    rows["source_model_family"] = ["v9_mae", "v9_q43", "v9_mae"]
    rows["signal_tags"] = [
        ["model_health", "volatile_under"],
        ["model_health", "volatile_under"],
        ["model_health", "high_edge"],
    ]
    rows["signal_count"] = 2
    # UNDER signals only for quantile families, and high_edge at half weight.
    rules = (("*", "*", "UNDER", 0.0), ("*", "quantile", "UNDER", 1.0), ("high_edge", "*", "*", 0.5))
    assert signal_weight(rules, "volatile_under", "v9_mae", "UNDER") == 0.0
    assert signal_weight(rules, "volatile_under", "v12_noveg_q45", "UNDER") == 1.0
    assert signal_weight(rules, "model_health", "v9_mae", "UNDER") == 1.0  # * never names model_health
    config = dataclasses.replace(EDGE_RULE, signal_profiles=rules)
    picks, audit = select_picks(rows, _snapshot(config, multipliers={"high_edge": 1.2}))
    lookups = rows["player_lookup"].tolist()
    # The point family's UNDER loses its only real signal and fails the signal floor.
    assert audit.set_index("player_lookup")["filter_name"].to_dict() == {lookups[0]: "signal_count"}
    scores = picks.set_index("player_lookup")["composite_score"]
    assert scores[lookups[2]] == pytest.approx(6.0 * 1.2 * 0.5)
    assert scores[lookups[1]] == pytest.approx(6.0)
    # Without a profile both UNDERs pass.
    assert len(select_picks(rows, _snapshot(EDGE_RULE))[0]) == 3
    with pytest.raises(ValueError, match="unknown signals"):
        BestBetsConfig(signal_profiles=(("no_such_signal", "*", "*", 0.0),))
    with pytest.raises(ValueError, match="direction must be one of"):
        BestBetsConfig(signal_profiles=(("*", "*", "SIDEWAYS", 0.0),))


def test_the_candidate_is_the_best_expected_value_at_the_best_offer_among_the_books(signal_rows):
    from bestbets_dagster.bestbets.probability import Calibration

    predictions = _predictions(signal_rows, {"v9_mae": -5.2, "v9_q43": -6.1, "v12_noveg_mae": 4.0})
    day, person, line = predictions[["game_date", "person_id", "line_value"]].iloc[0]
    offers = pd.DataFrame(
        {
            "game_date": day,
            "person_id": person,
            "bookmaker": ["fanduel", "betmgm", "prizepicks"],
            "line": [line + 1.0, line - 1.0, line + 1.5],
            "over_price": [-105, 120, -137],
            "under_price": [-115, -150, -137],
        }
    )
    day0 = pd.Timestamp(day).date()
    calibrations = {
        f: Calibration(f, 0.0, b, 0.0, 500, day0, day0)
        for f, b in (("v9_mae", 0.2), ("v9_q43", 0.2), ("v12_noveg_mae", 1.5))
    }
    c = build_candidates(predictions, NO_HEALTH, FEATURE_SETS, QUANTILE, CONFIG, offers, {day0: calibrations}).iloc[0]
    # v12_noveg_mae's OVER is the most probable bet; its best offer is betmgm's lower line at +120.
    assert (c.source_model_family, c.recommendation, c.bet_book, c.bet_line, c.bet_price) == (
        "v12_noveg_mae",
        "OVER",
        "betmgm",
        line - 1.0,
        120,
    )
    p = 1 / (1 + np.exp(-1.5 * 5.0 / np.sqrt(line - 1.0)))
    assert c.p_win == pytest.approx(p) and c.expected_value == pytest.approx(p * 1.2 - (1 - p))
    # The edge rule takes v9_q43's UNDER. A pick'em app is judged at the break-even of the entry played
    # (power_2: sqrt(1/3) = 57.7%, -136.6): at the app's line 1.5 higher the UNDER wins more often, but
    # not often enough for that price, so the bet stays at the selected book.
    of_day = {day0: calibrations}
    e = build_candidates(predictions, NO_HEALTH, FEATURE_SETS, QUANTILE, EDGE_RULE, offers, of_day).iloc[0]
    under_at = lambda at: 1 - 1 / (1 + np.exp(-0.2 * (e.predicted_points - at) / np.sqrt(at)))  # noqa: E731
    assert under_at(line + 1.5) * (100 / 136.6) - (1 - under_at(line + 1.5)) < e.expected_value
    assert (e.source_model_family, e.bet_book, e.bet_line, bool(e.bet_price_is_nominal)) == (
        "v9_q43",
        e.line_book,
        line,
        False,
    )
    assert CONFIG.pickem_price == pytest.approx(-136.6, abs=0.05)
    # Without a calibration: the market's probability (the other books' consensus at the bet's line).
    u = build_candidates(predictions, NO_HEALTH, FEATURE_SETS, QUANTILE, EDGE_RULE, offers, {}).iloc[0]
    assert u.calibration_n == 0 and u.p_win == pytest.approx(1 - u.market_p_over) and u.market_books >= 1


def test_a_range_of_dates_gets_the_candidates_of_each_date_built_alone(signal_rows):
    """One build over many dates (a backfill) prices and sources every date with that date's own
    calibrations and weights: the same candidates as the dates built one by one."""
    from bestbets_dagster.bestbets.probability import Calibration
    from bestbets_dagster.bestbets.sourcing import sourcing_weights

    first = _predictions(signal_rows, {"v9_mae": -5.2, "v9_q43": -6.1, "v12_noveg_mae": 4.0})
    second = first.assign(game_date=pd.Timestamp(first["game_date"].iloc[0]) + pd.Timedelta(days=1))
    day1, day2 = (pd.Timestamp(p["game_date"].iloc[0]).date() for p in (first, second))
    calibrations = {
        day: {f: Calibration(f, 0.0, b, 0.0, n, day, day) for f in ("v9_mae", "v9_q43", "v12_noveg_mae")}
        for day, b, n in ((day1, 0.2, 400), (day2, 1.5, 900))
    }
    states = {"v9_q43": {"state": "BLOCKED", "rolling_hr_14d": 41.0, "rolling_n_14d": 80}}
    sourcing = {day2: sourcing_weights(states, second["model_family"], CONFIG)}
    both = build_candidates(
        pd.concat([first, second]), NO_HEALTH, FEATURE_SETS, QUANTILE, CONFIG, None, calibrations, sourcing
    )
    alone = [
        build_candidates(first, NO_HEALTH, FEATURE_SETS, QUANTILE, CONFIG, None, {day1: calibrations[day1]}),
        build_candidates(second, NO_HEALTH, FEATURE_SETS, QUANTILE, CONFIG, None, {day2: calibrations[day2]}, sourcing),
    ]
    pd.testing.assert_frame_equal(both, pd.concat(alone, ignore_index=True))
    # The two dates really differ: day 2's steeper calibration and its sourcing record.
    assert both["calibration_n"].tolist() == [400, 900] and both["p_win"].iloc[0] != both["p_win"].iloc[1]
    assert '"state": "BLOCKED"' in both["sourcing_json"].iloc[1] and "BLOCKED" not in both["sourcing_json"].iloc[0]


def test_units_are_paid_at_the_american_price_of_the_side_taken():
    assert payout(pd.Series([150, -120, -110, 100])).round(4).tolist() == [1.5, 0.8333, 0.9091, 1.0]
    results = pd.DataFrame({"result": ["WIN", "WIN", "LOSS", "PUSH", "VOID"], "units": [1.5, 0.8333, -1.0, 0.0, 0.0]})
    assert summarize(results) == {
        "n_picks": 5,
        "wins": 2,
        "losses": 1,
        "pushes": 1,
        "voids": 1,
        "hit_rate": 0.6667,
        # Wilson's 95% interval of 2 of 3: (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)
        "hit_rate_low": 0.2077,
        "hit_rate_high": 0.9385,
        "units": 1.333,
        "roi": round(1.3333 / 4, 4),
    }


def test_a_pick_is_graded_with_its_source_model_s_row(real_player_logs):
    day = pd.Timestamp("2025-11-15")
    picks = pd.DataFrame(
        [
            {  # Luka scored 41 on 2025-11-15; his over 40.5 at +105 won
                "game_date": day,
                "person_id": 1629029,
                "player_lookup": "lukadoncic",
                "player_name": "Luka Doncic",
                "rank": 1,
                "source_model_id": "catboost_v9_q43_a",
                "source_model_family": "v9_q43",
                "recommendation": "OVER",
                "edge": 5.5,
                "line_value": 40.5,
                "line_book": "fanduel",
                "line_over_price": 105,
                "line_under_price": -125,
                "bet_book": "fanduel",
                "bet_line": 40.5,
                "bet_price": 105,
                "bet_price_is_nominal": False,
                "judged_price": 105.0,
                "tier": "value",
                "p_win": 0.56,
                "expected_value": 0.148,
            }
        ]
    )
    accuracy = pd.DataFrame(
        [
            {
                "game_date": day,
                "person_id": 1629029,
                "model_family": "v9_q43",
                "model_id": "catboost_v9_q43_a",
                "line_value": 40.5,
                "actual_points": 41,
                "is_voided": False,
                "is_push": False,
                "prediction_correct": True,
            },
            # The champion family's row of the same player-game says the opposite: it must not be used.
            {
                "game_date": day,
                "person_id": 1629029,
                "model_family": "v9_mae",
                "model_id": "catboost_v9_mae_a",
                "line_value": 40.5,
                "actual_points": 41,
                "is_voided": False,
                "is_push": False,
                "prediction_correct": False,
            },
        ]
    )
    graded = grade_picks(picks, accuracy, pd.Timestamp.now(tz="UTC"))
    assert graded[["result", "price", "units", "actual_points"]].iloc[0].tolist() == ["WIN", 105, 1.05, 41]
    # Shopped to 41.5 elsewhere, the same pick is graded there (a loss) and at the selected line (a win).
    shopped = grade_picks(
        picks.assign(bet_book="betmgm", bet_line=41.5, bet_price=-120, judged_price=-120.0),
        accuracy,
        pd.Timestamp.now(tz="UTC"),
    )
    assert shopped[["result", "units", "selected_result", "selected_units"]].iloc[0].tolist() == [
        "LOSS",
        -1.0,
        "WIN",
        1.05,
    ]
    stale = accuracy.assign(model_id="catboost_v9_q43_b")
    with pytest.raises(ValueError, match="lukadoncic was made from catboost_v9_q43_a"):
        grade_picks(picks, stale, pd.Timestamp.now(tz="UTC"))


def test_settings_resource_builds_the_same_config_and_takes_overrides():
    from bestbets_dagster.resources import BestBetsSettings

    assert BestBetsSettings().config() == CONFIG and BestBetsSettings().config().version == CONFIG.version
    custom = BestBetsSettings(
        max_picks_per_day=3, model_health_gate=True, confidence_floors={"v12_mae": 0.9, "v9_mae": 0.8}
    ).config()
    assert custom.max_picks_per_day == 3 and custom.model_health_gate and custom.confidence_floor("v9_mae") == 0.8
    assert custom.version != CONFIG.version


def test_the_blacklist_and_direction_health_of_each_day_count_only_the_decided_days_before_it():
    import datetime as dt

    from bestbets_dagster.bestbets.history import blacklists_by_day, directions_by_day

    days = pd.date_range("2025-11-01", "2025-11-08")
    rows = [("a", day, "UNDER", i < 3) for i, day in enumerate(days)]  # 3 of 8 right: 37.5%
    rows += [("b", day, "OVER", i < 4) for i, day in enumerate(days)]  # 4 of 8 right: 50%
    rows += [("a", pd.Timestamp("2025-07-15"), "UNDER", False)]  # last season: not counted
    rows += [("c", pd.Timestamp("2025-11-02"), "OVER", None)]  # not decided
    history = pd.DataFrame(rows, columns=["player_lookup", "game_date", "recommendation", "prediction_correct"])
    history["edge"] = -4.0
    config = BestBetsConfig()
    asked = [dt.date(2025, 11, 8), dt.date(2025, 11, 9), dt.date(2025, 11, 20)]
    blacklists, directions = blacklists_by_day(history, asked, config), directions_by_day(history, asked, config)
    assert blacklists[dt.date(2025, 11, 8)][0].empty and blacklists[dt.date(2025, 11, 8)][1] == 0  # 7 each before
    listed, evaluated = blacklists[dt.date(2025, 11, 9)]
    assert evaluated == 2 and listed.to_dict("records") == [{"player_lookup": "a", "n": 8, "hit_rate": 37.5}]
    assert directions[dt.date(2025, 11, 9)] == {"over_hr_14d": 50.0, "over_n": 8, "under_hr_14d": 37.5, "under_n": 8}
    # 14 days on, the window holds 2025-11-06..19: three days of each.
    assert directions[dt.date(2025, 11, 20)] == {"over_hr_14d": 0.0, "over_n": 3, "under_hr_14d": 0.0, "under_n": 3}
