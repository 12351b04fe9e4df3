"""The aggregator's filters on a one-row synthetic candidate: a row every filter passes, then one change at
a time and the filter that rejects it (the first one it fails, named in the audit)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from bestbets_dagster.bestbets.aggregator import FILTER_NAMES, NEGATIVE_FILTERS, DecisionSnapshot, apply_filters
from bestbets_dagster.bestbets.config import BestBetsConfig

# The model-health gate on and a confidence floor for the family: both off in the default config.
CONFIG = dataclasses.replace(BestBetsConfig(), model_health_gate=True, confidence_floors=(("v9_mae", 0.5),))
PASSING = {
    "player_lookup": "jalenbrunson",
    "source_model_family": "v9_mae",
    "model_health_status": "healthy",
    "recommendation": "OVER",
    "edge": 2.0,
    "expected_value": 0.01,
    "games_vs_opponent": 1,
    "available_quality_score": 95.0,
    "line_value": 25.5,
    "line_delta": 0.0,
    "negative_plus_minus_streak": 0,
    "signal_count": 3,
    "confidence": 0.95,
    "combo_classification": None,
}


def _filtered(changes: dict, blacklist=frozenset(), config=CONFIG) -> tuple[pd.DataFrame, pd.DataFrame]:
    row = pd.DataFrame([{**PASSING, **changes}])
    return apply_filters(row, DecisionSnapshot(config, {}, frozenset(blacklist)))


def test_the_passing_row_passes_every_filter():
    passed, audit = _filtered({})
    assert len(passed) == 1 and audit.empty


@pytest.mark.parametrize(
    "changes, rejected_by",
    [
        ({"model_health_status": "blocked"}, "model_health_gate"),
        ({"expected_value": None}, "edge_floor"),  # no price: not on the card
        ({"recommendation": "UNDER", "edge": -(CONFIG.under_edge_cap + 0.5)}, "under_edge_cap"),
        ({"games_vs_opponent": CONFIG.familiar_games}, "avoid_familiar"),
        ({"available_quality_score": CONFIG.min_feature_quality - 1}, "feature_quality"),
        ({"recommendation": "UNDER", "edge": -1.0, "line_value": CONFIG.bench_under_line - 0.5}, "bench_under"),
        ({"recommendation": "UNDER", "edge": -1.0, "line_delta": CONFIG.line_jump}, "line_jumped_under"),
        ({"recommendation": "UNDER", "edge": -1.0, "line_delta": -CONFIG.line_drop}, "line_dropped_under"),
        (
            {"recommendation": "UNDER", "edge": -1.0, "negative_plus_minus_streak": CONFIG.negative_plus_minus_games},
            "negative_plus_minus_under",
        ),
        ({"signal_count": CONFIG.min_signal_count - 1}, "signal_count"),
        ({"confidence": 0.10}, "confidence_floor"),
        ({"combo_classification": "ANTI_PATTERN"}, "anti_pattern"),
    ],
)
def test_each_filter_rejects_what_it_says(changes, rejected_by):
    passed, audit = _filtered(changes)
    assert passed.empty and audit["filter_name"].tolist() == [rejected_by]


def test_the_blacklist_rejects_the_player_named_in_the_days_snapshot():
    passed, audit = _filtered({}, blacklist={"jalenbrunson"})
    assert audit["filter_name"].tolist() == ["player_blacklist"]


def test_a_row_failing_several_filters_is_counted_at_the_first_in_the_originals_order():
    passed, audit = _filtered({"model_health_status": "blocked", "combo_classification": "ANTI_PATTERN"})
    assert audit["filter_name"].tolist() == ["model_health_gate"]


def test_with_the_gate_off_a_blocked_familys_bet_passes_and_without_a_floor_any_confidence():
    passed, _ = _filtered({"model_health_status": "blocked", "confidence": 0.10}, config=BestBetsConfig())
    assert len(passed) == 1


def test_the_negative_filters_are_the_originals_eleven():
    assert len(NEGATIVE_FILTERS) == 11
    assert set(FILTER_NAMES) - set(NEGATIVE_FILTERS) == {"signal_count", "model_health_gate"}


def test_an_under_of_an_exempt_family_is_not_capped():
    exempt = dataclasses.replace(CONFIG, under_edge_cap_exempt_families=("v9_mae",))
    passed, _ = _filtered({"recommendation": "UNDER", "edge": -(CONFIG.under_edge_cap + 0.5)}, config=exempt)
    assert len(passed) == 1
