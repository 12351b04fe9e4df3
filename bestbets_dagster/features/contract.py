"""The feature contract: the one ordered list of feature names that training and serving both read.

V12 has 54 features (indices 0-53 of the original's store); V9 is its first 33; V12-noveg is V12
without the 4 vegas features (indices 25-28). A model records its feature set, and its vector is
always built by `feature_columns(feature_set)`, so a model and its vector cannot disagree in
length or order (the original served 34 values to a 33-feature model).
"""

from __future__ import annotations

V12_FEATURES: tuple[str, ...] = (
    "points_avg_last_5",  # 0
    "points_avg_last_10",
    "points_avg_season",
    "points_std_last_10",
    "games_in_last_7_days",
    "fatigue_score",  # 5
    "shot_zone_mismatch_score",
    "pace_score",
    "usage_spike_score",
    "rest_advantage",
    "injury_risk",  # 10
    "recent_trend",
    "minutes_change",
    "opponent_def_rating",
    "opponent_pace",
    "home_away",  # 15
    "back_to_back",
    "playoff_game",
    "pct_paint",
    "pct_mid_range",
    "pct_three",  # 20
    "pct_free_throw",
    "team_pace",
    "team_off_rating",
    "team_win_pct",
    "vegas_points_line",  # 25
    "vegas_opening_line",
    "vegas_line_move",
    "has_vegas_line",
    "avg_points_vs_opponent",
    "games_vs_opponent",  # 30
    "minutes_avg_last_10",
    "ppm_avg_last_10",
    "dnp_rate",
    "pts_slope_10g",
    "pts_vs_season_zscore",  # 35
    "breakout_flag",
    "star_teammates_out",
    "game_total_line",
    "days_rest",
    "minutes_load_last_7d",  # 40
    "spread_magnitude",
    "implied_team_total",
    "points_avg_last_3",
    "scoring_trend_slope",
    "deviation_from_avg_last3",  # 45
    "consecutive_games_below_avg",
    "teammate_usage_available",
    "usage_rate_last_5",
    "games_since_structural_change",
    "multi_book_line_std",  # 50
    "prop_over_streak",
    "prop_under_streak",
    "line_vs_season_avg",
)
assert len(V12_FEATURES) == 54 and len(set(V12_FEATURES)) == 54

VEGAS_FEATURES: tuple[str, ...] = V12_FEATURES[25:29]
V9_FEATURES: tuple[str, ...] = V12_FEATURES[:33]
V12_NOVEG_FEATURES: tuple[str, ...] = tuple(f for f in V12_FEATURES if f not in VEGAS_FEATURES)

FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "v9": V9_FEATURES,
    "v12": V12_FEATURES,
    "v12_noveg": V12_NOVEG_FEATURES,
}

# Indices the original treats as optional in its quality score (not "required").
OPTIONAL_INDICES: frozenset[int] = frozenset({25, 26, 27, 37, 38, *range(39, 54)})
REQUIRED_FEATURES: tuple[str, ...] = tuple(f for i, f in enumerate(V12_FEATURES) if i not in OPTIONAL_INDICES)

# What box scores, schedules and points lines cannot give: shot zones, the pre-game injury report,
# and game totals and spreads. Always NaN here; they lower the quality score, and the training
# filter forgives exactly these (see is_training_ready).
DATA_GAP_FEATURES: frozenset[str] = frozenset(
    {
        "shot_zone_mismatch_score",
        "injury_risk",
        "pct_paint",
        "pct_mid_range",
        "game_total_line",
        "spread_magnitude",
        "implied_team_total",
    }
)
# Features that need a pre-game injury report; NaN unless the DNP-injury proxy is turned on.
INJURY_REPORT_FEATURES: frozenset[str] = frozenset({"star_teammates_out", "teammate_usage_available"})
MATCHUP_FEATURES: tuple[str, ...] = ("shot_zone_mismatch_score", "pace_score", "opponent_def_rating", "opponent_pace")

# The original's source weights for the quality score, by where each feature comes from here.
SOURCE_WEIGHTS = {"phase4": 100.0, "phase3": 87.0, "calculated": 100.0, "vegas": 100.0, "default": 40.0}
_PHASE3 = {
    "games_in_last_7_days",
    "rest_advantage",
    "home_away",
    "back_to_back",
    "playoff_game",
    "days_rest",
    "minutes_load_last_7d",
    "prop_over_streak",
    "prop_under_streak",
}
_CALCULATED = {
    "fatigue_score",
    "pace_score",
    "usage_spike_score",
    "recent_trend",
    "minutes_change",
    "pts_vs_season_zscore",
    "breakout_flag",
    "line_vs_season_avg",
    "star_teammates_out",
    "teammate_usage_available",
}
_VEGAS = {*VEGAS_FEATURES, "multi_book_line_std"}
FEATURE_SOURCE: dict[str, str] = {
    f: "vegas" if f in _VEGAS else "phase3" if f in _PHASE3 else "calculated" if f in _CALCULATED else "phase4"
    for f in V12_FEATURES
}

QUALITY_TIERS = (("gold", 95.0), ("silver", 85.0), ("bronze", 70.0), ("poor", 50.0), ("critical", float("-inf")))


def feature_columns(feature_set: str) -> list[str]:
    try:
        return list(FEATURE_SETS[feature_set])
    except KeyError:
        raise KeyError(f"unknown feature set {feature_set!r}; known: {sorted(FEATURE_SETS)}") from None
