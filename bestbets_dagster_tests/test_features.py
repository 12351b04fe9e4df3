"""The feature store on the real data: point in time, hand-checked values, the contract, quality."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml

from bestbets_dagster import tables
from bestbets_dagster.features.build import FeatureSettings, build_features, schedule_from_team_logs
from bestbets_dagster.features.contract import (
    DATA_GAP_FEATURES,
    V9_FEATURES,
    V12_FEATURES,
    V12_NOVEG_FEATURES,
    VEGAS_FEATURES,
    feature_columns,
)
from bestbets_dagster.ingest.box_scores import load_team_game_logs
from bestbets_dagster.ingest.lines import build_player_game_lines, build_prop_lines
from bestbets_dagster.ingest.odds import load_offers, main_lines

LEAK_DATE = pd.Timestamp("2025-12-05")


@pytest.fixture(scope="module")
def sources(data_dir, real_player_logs):
    team_logs = load_team_game_logs(data_dir)
    prop_lines, _ = build_prop_lines(main_lines(load_offers(data_dir)), real_player_logs)
    lines = build_player_game_lines(prop_lines, real_player_logs)
    return real_player_logs, team_logs, lines


def _features_for(day, player_logs, team_logs, lines, **kw):
    out = build_features([pd.Timestamp(day).date()], player_logs, team_logs, lines, **kw)
    return out.set_index("person_id").sort_index()


# ---------------------------------------------------------------------------------------- leakage


def test_deleting_or_changing_every_game_from_d_on_leaves_d_unchanged(sources):
    player_logs, team_logs, lines = sources
    schedule = schedule_from_team_logs(team_logs)  # who plays whom on D is known before D
    base = _features_for(LEAK_DATE, player_logs, team_logs, lines, schedule=schedule)
    assert len(base) == 368 and base["has_prop_line"].sum() == 175  # 12 games; 175 lined players

    deleted = _features_for(
        LEAK_DATE,
        player_logs[player_logs["game_date"] < LEAK_DATE],
        team_logs[team_logs["game_date"] < LEAK_DATE],
        lines[lines["game_date"] <= LEAK_DATE],  # D's own lines are published before tip-off
        schedule=schedule,
    )
    pd.testing.assert_frame_equal(deleted, base)

    rng = np.random.default_rng(7)
    changed_players = player_logs.copy()
    later = changed_players["game_date"] >= LEAK_DATE
    for col in ("points", "field_goals_attempted", "free_throws_made", "turnovers"):
        changed_players.loc[later, col] = rng.integers(0, 40, later.sum())
    changed_players.loc[later, "minutes"] = rng.uniform(1, 45, later.sum())
    changed_players.loc[later, "team_abbr"] = "BOS"  # even a "trade" on D must not move a row
    changed_teams = team_logs.copy()
    later_t = changed_teams["game_date"] >= LEAK_DATE
    changed_teams.loc[later_t, "pts"] = rng.integers(60, 160, later_t.sum())
    changed_lines = lines.copy()
    after = changed_lines["game_date"] > LEAK_DATE
    changed_lines.loc[after, "selected_line"] = 99.5
    changed = _features_for(LEAK_DATE, changed_players, changed_teams, changed_lines, schedule=schedule)
    pd.testing.assert_frame_equal(changed, base)


def test_with_the_injury_proxy_only_its_features_see_the_date(sources):
    player_logs, team_logs, lines = sources
    schedule = schedule_from_team_logs(team_logs)
    on = FeatureSettings(injury_proxy=True)
    base = _features_for(LEAK_DATE, player_logs, team_logs, lines, schedule=schedule, settings=on)
    assert base["star_teammates_out"].notna().all() and base["star_teammates_out"].max() >= 1
    truncated = _features_for(
        LEAK_DATE,
        player_logs[player_logs["game_date"] < LEAK_DATE],
        team_logs[team_logs["game_date"] < LEAK_DATE],
        lines,
        schedule=schedule,
        settings=on,
    )
    proxy_dependent = ["star_teammates_out", "teammate_usage_available", "usage_spike_score"]
    unaffected = [c for c in base.columns if c not in proxy_dependent]
    pd.testing.assert_frame_equal(truncated[unaffected], base[unaffected])
    assert not truncated["star_teammates_out"].equals(base["star_teammates_out"])


# ---------------------------------------------------------------------------- hand-checked values


def _raw(data_dir, season):
    return pd.read_csv(data_dir / "box_scores" / f"player_game_logs_{season}.csv.gz", dtype={"game_id": str})


def _minutes(text):
    m, s = text.split(":")
    return int(m) + int(s) / 60


def _independent(raw, name, day):
    """The expected values from the raw CSV rows, computed without the project's code."""
    rows = raw[(raw["player_name"] == name) & (raw["game_date"] < day)].copy()
    rows = rows[rows["minutes"].notna() & (rows["minutes"] != "0:00")]
    rows["mins"] = rows["minutes"].map(_minutes)
    rows = rows.sort_values("game_date")
    last_date = dt.date.fromisoformat(rows["game_date"].iloc[-1])
    target = dt.date.fromisoformat(day)
    week = rows[rows["game_date"] >= (target - dt.timedelta(days=7)).isoformat()]
    return {
        "points_avg_last_5": rows["points"].tail(5).mean(),
        "minutes_avg_last_10": rows["mins"].tail(10).mean(),
        "days_rest": (target - last_date).days,
        "back_to_back": float((target - last_date).days == 1),
        "games_in_last_7_days": float(len(week)),
    }


@pytest.mark.parametrize(
    "season, name, day, team, expected",
    [
        # a star: Shai Gilgeous-Alexander before OKC's game of 2025-11-23
        (
            "2025-26",
            "Shai Gilgeous-Alexander",
            "2025-11-23",
            "OKC",
            {"points_avg_last_5": (33 + 23 + 33 + 31 + 30) / 5, "days_rest": 2, "games_in_last_7_days": 3.0},
        ),
        # a bench player after two DND games: rest counts from the last game he played (12-18)
        (
            "2025-26",
            "Aaron Wiggins",
            "2025-12-23",
            "OKC",
            {"days_rest": 5, "back_to_back": 0.0, "games_in_last_7_days": 1.0},
        ),
        # a traded player: Luka Doncic's second LAL game; his last five span the trade and an injury
        (
            "2024-25",
            "Luka Dončić",
            "2025-02-12",
            "LAL",
            {"points_avg_last_5": (14 + 14 + 27 + 45 + 16) / 5, "days_rest": 2, "games_in_last_7_days": 1.0},
        ),
    ],
)
def test_hand_checked_values(sources, data_dir, season, name, day, team, expected):
    player_logs, team_logs, lines = sources
    independent = _independent(_raw(data_dir, season), name, day)
    for key, value in expected.items():  # the numbers written out above agree with the raw rows
        assert independent[key] == pytest.approx(value), key
    features = build_features([dt.date.fromisoformat(day)], player_logs, team_logs, lines)
    row = features[features["player_name"] == name]
    assert len(row) == 1 and row["team_abbr"].item() == team
    for key, value in independent.items():
        assert row[key].item() == pytest.approx(value), key


def test_the_traded_player_left_his_old_team(sources):
    player_logs, team_logs, lines = sources
    features = build_features([dt.date(2025, 2, 12)], player_logs, team_logs, lines)
    luka = features[features["player_name"] == "Luka Dončić"]
    assert luka["team_abbr"].tolist() == ["LAL"]
    assert luka["games_since_structural_change"].item() == 1.0  # one LAL game since the trade
    assert "Luka Dončić" not in set(features.loc[features["team_abbr"] == "DAL", "player_name"])


# ------------------------------------------------------------------------------------ the contract


def test_one_feature_list_for_every_set():
    assert len(V12_FEATURES) == 54 and len(V9_FEATURES) == 33 and len(V12_NOVEG_FEATURES) == 50
    assert list(V9_FEATURES) == list(V12_FEATURES[:33])
    assert VEGAS_FEATURES == ("vegas_points_line", "vegas_opening_line", "vegas_line_move", "has_vegas_line")
    assert list(V12_NOVEG_FEATURES) == list(V12_FEATURES[:25]) + list(V12_FEATURES[29:])
    assert feature_columns("v9") == list(V9_FEATURES)
    with pytest.raises(KeyError, match="unknown feature set 'v10'"):
        feature_columns("v10")


def test_the_table_stores_the_features_in_contract_order():
    definition = yaml.safe_load((tables.TABLE_DEFINITIONS_DIR / "player_features.yaml").read_text())
    names = [c["name"] for c in definition["columns"]]
    first = names.index("points_avg_last_5")
    assert names[first : first + 54] == list(V12_FEATURES)


# ----------------------------------------------------------------------------------- rows, quality


def test_every_resolved_lined_player_has_a_row(sources):
    player_logs, team_logs, lines = sources
    features = build_features([LEAK_DATE.date()], player_logs, team_logs, lines)
    lined = lines[(lines["game_date"] == LEAK_DATE) & lines["person_id"].notna()]
    assert set(lined["person_id"].astype(int)) <= set(features["person_id"])
    row = features[features["person_id"] == int(lined["person_id"].iloc[0])].iloc[0]
    assert row["vegas_points_line"] == lined["selected_line"].iloc[0]
    assert row["has_vegas_line"] == 1.0
    assert features["person_id"].is_unique
    tables.validate("player_features", features)


def test_what_the_data_cannot_give_is_nan_and_lowers_quality(sources):
    player_logs, team_logs, lines = sources
    features = build_features([LEAK_DATE.date()], player_logs, team_logs, lines)
    assert features[sorted(DATA_GAP_FEATURES)].isna().all().all()
    # Shot zones and the injury report are required by the original: the score caps at 69 ("poor").
    assert features["feature_quality_score"].max() <= 69.0
    assert set(features["quality_tier"]) <= {"poor", "critical"}
    assert not features["is_quality_ready"].any()
    # A regular with a full history misses nothing else: training-ready.
    sga = features[features["player_name"] == "Shai Gilgeous-Alexander"].iloc[0]
    assert sga["is_training_ready"] and sga["required_default_count"] == 4


def test_the_season_s_first_night_has_cross_season_priors_not_nan(sources):
    """2025-10-21, the 2025-26 opener: no game of the season before it. Season values take the last
    10 games (of 2024-25), win pct starts at .500, and the row is training-ready like any other."""
    player_logs, team_logs, lines = sources
    features = _features_for("2025-10-21", player_logs, team_logs, lines)
    sga = features[features["player_name"] == "Shai Gilgeous-Alexander"].iloc[0]
    assert sga["points_avg_season"] == sga["points_avg_last_10"] and sga["team_win_pct"] == 0.5
    assert sga["minutes_change"] == 0.0 and sga["usage_spike_score"] == 0.0
    assert sga["pts_vs_season_zscore"] == pytest.approx(
        (sga["points_avg_last_5"] - sga["points_avg_last_10"]) / sga["points_std_last_10"]
    )
    assert sga["pace_score"] == sga["pace_score"] and sga["is_training_ready"]  # not NaN
    with_history = features[features["points_avg_last_10"].notna()]
    for column in ("points_avg_season", "team_win_pct", "prop_over_streak", "prop_under_streak", "pace_score"):
        assert with_history[column].notna().all(), column
    # A week in, win pct is the record shrunk toward .500 by five games.
    later = _features_for("2025-10-28", player_logs, team_logs, lines)
    games = team_logs[
        (team_logs["team_abbr"] == "OKC")
        & (pd.to_datetime(team_logs["game_date"]) < "2025-10-28")
        & (team_logs["season"] == "2025-26")
    ]
    opponents = games[["game_id", "opp"]].merge(
        team_logs[["game_id", "team_abbr", "pts"]], left_on=["game_id", "opp"], right_on=["game_id", "team_abbr"]
    )
    wins = int((games["pts"].to_numpy() > opponents.set_index("game_id").loc[games["game_id"], "pts"].to_numpy()).sum())
    okc = later[later["team_abbr"] == "OKC"].iloc[0]
    assert okc["team_win_pct"] == pytest.approx((wins + 2.5) / (len(games) + 5))


def test_game_lines_fill_the_game_features_as_the_decision_saw_them(sources):
    """The shared data has no game markets; a day's totals and spreads (here one game's, written out)
    fill game_total_line, spread_magnitude and implied_team_total of both teams' players, from the
    snapshots at or before the decision: a total moved after it changes nothing."""
    from bestbets_dagster.ingest.lines import team_game_lines

    player_logs, team_logs, lines = sources
    day = LEAK_DATE.date()
    home = lines[(lines["game_date"] == LEAK_DATE) & (lines["is_home"] == True)].iloc[0]  # noqa: E712
    before, after = pd.Timestamp("2025-12-05T15:00Z"), pd.Timestamp("2025-12-05T23:00Z")
    game_lines = pd.DataFrame(
        {
            "game_date": [LEAK_DATE] * 3,
            "event_id": [home["event_id"]] * 3,
            "commence_time": [home["commence_time"]] * 3,
            "home_team_abbr": [home["team_abbr"]] * 3,
            "away_team_abbr": [home["opponent_abbr"]] * 3,
            "bookmaker": ["draftkings", "fanduel", "draftkings"],
            "total_line": [224.5, 225.5, 240.0],
            "home_spread": [-4.5, -5.5, -12.0],
            "snapshot_time": [before, before, after],
        }
    )
    context = team_game_lines(game_lines, {day: pd.Timestamp("2025-12-05T17:30Z")})
    assert sorted(context["team_abbr"]) == sorted([home["team_abbr"], home["opponent_abbr"]])
    features = build_features([day], player_logs, team_logs, lines, game_context=context)
    by_team = features.groupby("team_abbr")[["game_total_line", "spread_magnitude", "implied_team_total"]].first()
    assert by_team.loc[home["team_abbr"]].tolist() == [225.0, 5.0, 115.0]  # favoured by 5: (225 + 5) / 2
    assert by_team.loc[home["opponent_abbr"]].tolist() == [225.0, 5.0, 110.0]
    others = features[~features["team_abbr"].isin([home["team_abbr"], home["opponent_abbr"]])]
    assert len(others) and others[["game_total_line", "spread_magnitude", "implied_team_total"]].isna().all().all()
    # Without a decision time (a replay of history) the last pre-tip-off snapshot counts: the moved total.
    latest = team_game_lines(game_lines)
    assert latest.set_index("team_abbr").loc[home["team_abbr"], "game_total_line"] == 232.75  # median of 225.5, 240
