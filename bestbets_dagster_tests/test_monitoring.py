"""Model performance state machine, signal health and alerts on real graded player-games."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from bestbets_dagster.grading.grading import grade
from bestbets_dagster.monitoring.model_performance import alerts, model_performance
from bestbets_dagster.monitoring.signal_health import signal_health

# Tests that share the session's warehouse fixtures run on one xdist worker.
pytestmark = pytest.mark.xdist_group("warehouse")

REGISTRY = pd.DataFrame({"model_id": ["m1"], "training_end_date": [pd.Timestamp("2025-10-25")]})


@pytest.fixture(scope="module")
def outcomes(built):
    """Real lined player-games of 2025-11-03..11-23 with what happened against the selected line."""
    lines = built.read("player_game_lines", "2025-11-03", "2025-11-23")
    logs = built.read("player_game_logs", "2025-11-03", "2025-11-23")
    lines = lines[lines["person_id"].notna()].assign(person_id=lambda d: d["person_id"].astype("int64"))
    played = logs[["game_date", "person_id", "points", "is_dnp"]]
    o = lines.merge(played, on=["game_date", "person_id"], how="left")
    o["line"] = o["selected_line"].astype(float)
    o["points"] = o["points"].astype(float)
    o["kind"] = np.select(
        [
            o["is_dnp"].isna() | o["is_dnp"].astype("boolean").fillna(True).astype(bool),
            o["points"] == o["line"],
            o["points"] > o["line"],
        ],
        ["void", "push", "over"],
        "under",
    )
    return o, logs


def _bets(outcomes, day: str, wins: int, losses: int, pushes: int = 0, voids: int = 0) -> pd.DataFrame:
    """OVER bets at edge +4 on real player-games of `day`: `wins` that went over, `losses` that
    stayed under, pushes and players who did not play. The books posted no integer line in the
    window, so a push is a real game whose line is set to the points scored."""
    o, _ = outcomes
    of_day = o[o["game_date"] == pd.Timestamp(day)]
    pushed = of_day[of_day["kind"] == "under"].tail(pushes).assign(line=lambda d: d["points"])
    chosen = pd.concat(
        [
            of_day[of_day["kind"] == "over"].head(wins),
            of_day[of_day["kind"] == "under"].head(losses),
            pushed,
            of_day[of_day["kind"] == "void"].head(voids),
        ]
    )
    assert len(chosen) == wins + losses + pushes + voids, f"{day} has too few real rows of a kind"
    return pd.DataFrame(
        {
            "game_date": chosen["game_date"],
            "model_family": "v9_mae",
            "model_id": "m1",
            "model_status": "shadow",
            "person_id": chosen["person_id"],
            "player_lookup": chosen["player_lookup"],
            "team_abbr": chosen["team_abbr"],
            "opponent_abbr": chosen["opponent_abbr"],
            "game_id": chosen["game_id"],
            "predicted_points": chosen["line"] + 4,
            "line_value": chosen["line"],
            "line_book": chosen["selected_book"],
            "line_over_price": chosen["selected_over_price"],
            "line_under_price": chosen["selected_under_price"],
            "consensus_line": chosen["line"],
            "edge": 4.0,
            "recommendation": "OVER",
            "confidence": 0.84,
            "edge_threshold": 3.0,
        }
    )


def _graded(outcomes, plan: dict) -> pd.DataFrame:
    _, logs = outcomes
    predictions = pd.concat([_bets(outcomes, day, *counts) for day, counts in plan.items()], ignore_index=True)
    return grade(predictions, logs, pd.Timestamp("2025-12-01T00:00:00Z"))


def _states(performance: pd.DataFrame) -> dict:
    return performance.set_index(performance["game_date"].dt.strftime("%Y-%m-%d"))[["state", "action"]].to_dict("index")


def test_a_week_below_52_4_blocks_and_pushes_and_voids_are_not_losses(outcomes):
    plan = {"2025-11-03": (2, 3, 1, 1), "2025-11-05": (2, 3, 1, 0), "2025-11-07": (2, 2, 0, 1)}
    graded = _graded(outcomes, plan)
    assert graded["is_push"].sum() == 2 and graded["is_voided"].sum() == 2
    performance = model_performance(
        graded, REGISTRY, pd.date_range("2025-11-03", "2025-11-07").date, pd.Timestamp.now(tz="UTC")
    )
    last = performance.iloc[-1]
    assert last["rolling_n_7d"] == 14 and last["rolling_hr_7d"] == pytest.approx(100 * 6 / 14)  # 42.9%, 4 non-bets out
    assert last["state"] == "BLOCKED"
    # Counted as losses (the original's bug) the same week would read 6/18 = 33.3%.
    assert last["daily_picks"] == 4 and last["daily_wins"] == 2 and last["daily_losses"] == 2
    first = performance.iloc[0]
    assert (
        first["state"] == "BLOCKED"
        and first["action"] == "DEGRADED"
        and "INSUFFICIENT_DATA -> BLOCKED" in first["action_reason"]
    )
    assert performance["consecutive_days_below_alert"].tolist() == [1, 2, 3]
    assert performance.iloc[1]["action"] == "NO_CHANGE"
    assert last["days_since_training"] == (pd.Timestamp("2025-11-07") - pd.Timestamp("2025-10-25")).days
    # ROI at the real prices of the bets of the day.
    day = graded[(graded["game_date"] == pd.Timestamp("2025-11-07")) & graded["prediction_correct"].notna()]
    won = day[day["prediction_correct"].astype(bool)]["line_over_price"].astype(float)
    units = sum(p / 100 if p > 0 else 100 / -p for p in won) - 2
    assert last["daily_units"] == pytest.approx(units) and last["daily_roi"] == pytest.approx(100 * units / 4)


def test_a_recovery_gives_recovered(outcomes):
    plan = {
        "2025-11-03": (2, 4),
        "2025-11-05": (2, 3),
        "2025-11-12": (5, 1),
        "2025-11-13": (4, 1),
        "2025-11-14": (4, 0),
    }
    graded = _graded(outcomes, plan)
    performance = model_performance(
        graded, REGISTRY, pd.date_range("2025-11-03", "2025-11-14").date, pd.Timestamp.now(tz="UTC")
    )
    states = _states(performance)
    assert states["2025-11-03"] == {"state": "BLOCKED", "action": "DEGRADED"}
    assert (
        states["2025-11-12"]["state"] == "HEALTHY" and states["2025-11-12"]["action"] == "RECOVERED"
    )  # 5-1 alone in 7 days
    assert states["2025-11-14"] == {"state": "HEALTHY", "action": "NO_CHANGE"}
    assert set(states) == {
        "2025-11-03",
        "2025-11-05",
        "2025-11-12",
        "2025-11-13",
        "2025-11-14",
    }  # game days of the model only
    # A date computed alone equals the same date computed within the range.
    alone = model_performance(graded, REGISTRY, [dt.date(2025, 11, 13)], pd.Timestamp.now(tz="UTC"))
    within = performance[performance["game_date"] == pd.Timestamp("2025-11-13")]
    pd.testing.assert_frame_equal(
        alone.drop(columns="computed_at").reset_index(drop=True),
        within.drop(columns="computed_at").reset_index(drop=True),
    )


def test_a_signal_12_points_below_its_season_rate_is_cold(outcomes):
    """bench_under on real graded bets: 17-6 over the season's first weeks, then 6-5 in the last 7 days."""
    plan = {
        "2025-11-03": (4, 1),
        "2025-11-04": (3, 2),
        "2025-11-05": (4, 1),
        "2025-11-07": (3, 1),
        "2025-11-08": (3, 1),
        "2025-11-17": (3, 2),
        "2025-11-19": (3, 3),
    }
    graded = _graded(outcomes, plan)
    tags = graded.assign(signal_tags=[["model_health", "bench_under"]] * len(graded))
    health = signal_health(tags, [dt.date(2025, 11, 19)], ("model_health", "bench_under", "high_edge")).set_index(
        "signal_tag"
    )
    bench = health.loc["bench_under"]
    assert bench["picks_7d"] == 11 and bench["hr_7d"] == pytest.approx(100 * 6 / 11)
    assert bench["picks_season"] == 34 and bench["hr_season"] == pytest.approx(100 * 23 / 34)
    assert -14 < bench["divergence_7d_vs_season"] < -12 and bench["regime"] == "COLD"
    # COLD since 11-17 (3-2 against 17-6 before): three calendar days in the regime.
    assert bench["status"] == "WATCH" and bench["multiplier"] == 0.5 and bench["days_in_current_regime"] == 3
    assert health.loc["high_edge", "regime"] == "NORMAL" and health.loc["high_edge", "picks_season"] == 0
    # The same rates on a model-dependent signal: DEGRADING and a multiplier of 0.
    dependent = signal_health(
        tags.assign(signal_tags=[["high_edge"]] * len(tags)), [dt.date(2025, 11, 19)], ("high_edge",)
    ).iloc[0]
    assert (dependent["regime"], dependent["status"], dependent["multiplier"]) == ("COLD", "DEGRADING", 0.0)


def test_alerts_name_state_changes_cold_signals_challengers_and_stale_families():
    day = pd.Timestamp("2025-11-19")
    performance = pd.DataFrame(
        [
            {
                "game_date": day,
                "model_id": "m_v9",
                "model_family": "v9_mae",
                "rolling_hr_7d": 50.0,
                "rolling_n_7d": 80,
                "state": "BLOCKED",
                "action": "DEGRADED",
                "action_reason": "WATCH -> BLOCKED: 7-day HR 50.0% on 80 bets",
            },
            {
                "game_date": day,
                "model_id": "m_q43",
                "model_family": "v9_q43",
                "rolling_hr_7d": 56.0,
                "rolling_n_7d": 40,
                "state": "WATCH",
                "action": "NO_CHANGE",
                "action_reason": None,
            },
            {
                "game_date": day,
                "model_id": "m_q45",
                "model_family": "v9_q45",
                "rolling_hr_7d": 60.0,
                "rolling_n_7d": 20,
                "state": "HEALTHY",
                "action": "NO_CHANGE",
                "action_reason": None,
            },
        ]
    )
    signals = pd.DataFrame(
        [
            {
                "game_date": day,
                "signal_tag": "bench_under",
                "regime": "COLD",
                "days_in_current_regime": 1,
                "hr_7d": 40.0,
                "hr_season": 67.6,
                "picks_7d": 10,
            },
            {
                "game_date": day,
                "signal_tag": "high_ft_under",
                "regime": "COLD",
                "days_in_current_regime": 3,
                "hr_7d": 40.0,
                "hr_season": 60.0,
                "picks_7d": 10,
            },
        ]
    )
    stale = pd.DataFrame({"game_date": [day, day], "model_family": ["v9_mae", "v9_q43"], "age_days": [16, 3]})
    found = alerts(performance, signals, stale, "v9_mae", pd.Timestamp.now(tz="UTC")).set_index(
        ["alert_type", "subject"]
    )
    assert found.loc[("model_state", "m_v9"), "severity"] == "ERROR"
    assert found.loc[("signal_cold", "bench_under"), "severity"] == "WARN"
    assert ("signal_cold", "high_ft_under") not in found.index  # COLD for 3 days: alerted when it turned
    assert ("challenger", "m_q43") in found.index  # 56.0 >= 50.0 + 5 on 40 bets
    assert ("challenger", "m_q45") not in found.index  # N = 20 < 30
    assert (
        found.loc[("stale_family", "v9_mae"), "severity"] == "ERROR" and ("stale_family", "v9_q43") not in found.index
    )


def test_table_checks_find_duplicate_keys_and_schema_breaks_in_stored_rows(tmp_path):
    """Writes are validated before they land, so these checks catch what reached the table another
    way (a manual insert, a migration): here a duplicated alert inserted by hand."""
    from bestbets_dagster.defs.checks import table_check_results
    from bestbets_dagster.resources import DuckDBWarehouse

    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    day = pd.Timestamp("2025-11-19")
    row = {
        "game_date": day,
        "alert_type": "signal_cold",
        "subject": "bench_under",
        "severity": "WARN",
        "message": "bench_under turned COLD",
        "created_at": pd.Timestamp("2025-11-20T12:00:00Z"),
    }
    warehouse.replace_partitions("monitoring_alerts", pd.DataFrame([row]), day.date(), day.date())
    clean = {
        r.check_name: r.passed
        for r in table_check_results(
            warehouse, "monitoring_alerts", day.date(), day.date(), expected_days=[day.date(), dt.date(2025, 11, 20)]
        )
    }
    assert clean == {"schema": True, "unique_keys": True, "rows_on_game_days": False}  # the 20th has no rows
    with warehouse._connect() as con:
        con.execute("INSERT INTO monitoring_alerts SELECT * FROM monitoring_alerts")
    results = {r.check_name: r for r in table_check_results(warehouse, "monitoring_alerts", day.date(), day.date())}
    assert not results["unique_keys"].passed and results["unique_keys"].metadata["duplicate_rows"].value == 2
    assert "bench_under" in results["unique_keys"].metadata["first"].value
    assert not results["schema"].passed


def test_checks_that_guard_downstream_assets_are_blocking():
    from bestbets_dagster.defs import all_assets

    blocking = {
        (key.asset_key.to_user_string(), key.name)
        for asset in all_assets
        for key, spec in ((s.key, s) for s in asset.check_specs)
        if spec.blocking
    }
    for table in (
        "player_game_logs",
        "team_game_logs",
        "prop_lines",
        "player_game_lines",
        "player_features",
        "predictions",
        "pick_signal_tags",
    ):
        assert {(table, "schema"), (table, "unique_keys")} <= blocking, table
    assert ("predictions", "edge_consistent") in blocking
    assert ("pick_signal_tags", "predictions_from_every_enabled_family") not in blocking  # WARN only
    assert ("family_models", "registry_schema") in blocking


def test_a_stale_model_whose_newer_weekly_models_failed_their_gates_is_a_warning_that_says_so():
    """Served 19 days past its cutoff with two newer weekly models rejected by the gates: the gates at
    work (WARN, naming them); the same age with no newer model trained is a retrain that never ran (ERROR)."""
    from bestbets_dagster.defs.monitoring import stale_models

    day = pd.Timestamp("2025-12-05")
    serving = pd.DataFrame(
        {
            "game_date": [day, day],
            "model_family": ["v9_mae", "v9_q43"],
            "training_cutoff": [pd.Timestamp("2025-11-16"), pd.Timestamp("2025-11-16")],
        }
    )
    registry = pd.DataFrame(
        {
            "model_id": ["a", "b", "c", "d", "e"],
            "model_family": ["v9_mae", "v9_mae", "v9_mae", "v9_mae", "v9_q43"],
            "training_cutoff": pd.to_datetime(["2025-11-16", "2025-11-23", "2025-11-30", "2025-12-07", "2025-11-16"]),
            "gates_passed": [True, False, False, False, True],
        }
    )
    stale = stale_models(serving, registry).set_index("model_family")
    # 12-07's model is after the date: not yet trained then.
    assert stale.loc["v9_mae", "newer_failed"] == 2 and stale.loc["v9_q43", "newer_failed"] == 0
    assert stale.loc["v9_mae", "newest_failed_cutoff"] == pd.Timestamp("2025-11-30")
    found = alerts(
        pd.DataFrame(columns=["game_date", "model_family"]), pd.DataFrame(), stale.reset_index(), "v9_mae", day
    )
    found = found.set_index("subject")
    assert found.loc["v9_mae", "severity"] == "WARN"
    assert found.loc["v9_mae", "message"] == (
        "served by a model 19 days past its training cutoff: the 2 newer weekly model(s) (newest cutoff "
        "2025-11-30) failed their gates"
    )
    assert found.loc["v9_q43", "severity"] == "ERROR"
    assert found.loc["v9_q43", "message"].endswith("and no newer model was trained")
