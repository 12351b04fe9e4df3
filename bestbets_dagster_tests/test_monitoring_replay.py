"""The monitoring backfill over the README's replay: one row per signal and per model per game day,
idempotent, and the alert sensor."""

import datetime as dt
import json

import pandas as pd
import pytest
from dagster import DagsterInstance, build_sensor_context, materialize

from bestbets_dagster.resources import AlertNotifier, BestBetsSettings, DuckDBWarehouse
from bestbets_dagster.signals.registry import PROTOTYPE_TAGS, REGISTERED_TAGS

START, END = "2025-10-21", "2025-12-06"
TABLES = ("signal_health_daily", "model_performance_daily", "monitoring_alerts")
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("replay")]  # one worker builds the replay


@pytest.fixture(scope="module")
def warehouse(replay):
    return DuckDBWarehouse(path=str(replay[0] / "warehouse.duckdb"))


def _stable(frame: pd.DataFrame) -> pd.DataFrame:
    return (
        frame.drop(columns=[c for c in ("computed_at",) if c in frame.columns])
        .sort_values(list(frame.columns[:3]))
        .reset_index(drop=True)
    )


def test_one_row_per_signal_and_per_model_per_game_day(replay, warehouse):
    report = json.loads((replay[0] / "reports" / f"replay_{START}_{END}.json").read_text())
    accuracy = warehouse.read("prediction_accuracy", START, END, columns=["game_date", "model_id"])
    game_days = sorted(accuracy["game_date"].unique())
    assert len(game_days) == 46
    health = warehouse.read("signal_health_daily", START, END)
    assert len(health) == report["rows"]["signal_health_daily"] == 46 * (len(REGISTERED_TAGS) + len(PROTOTYPE_TAGS))
    assert (
        health.groupby("game_date")["signal_tag"].nunique().eq(20).all()
        and sorted(health["game_date"].unique()) == game_days
    )
    performance = warehouse.read("model_performance_daily", START, END)
    day = lambda frame: pd.to_datetime(frame["game_date"]).dt.strftime("%Y-%m-%d")  # noqa: E731
    expected = accuracy.drop_duplicates().groupby(day(accuracy.drop_duplicates())).size().to_dict()
    assert performance.groupby(day(performance)).size().to_dict() == expected and len(performance) == sum(
        expected.values()
    )
    # Keyed by the model ids the predictions carry: every row matches graded predictions.
    assert set(performance["model_id"]) == set(accuracy["model_id"])
    assert set(performance["state"]) <= {"INSUFFICIENT_DATA", "BLOCKED", "DEGRADING", "WATCH", "HEALTHY"}
    assert report["monitoring"]["model_state_days"] == performance["state"].value_counts().to_dict()
    assert "monitoring: model state-days" in replay[1]


def test_a_second_backfill_changes_nothing(replay, warehouse):
    from bestbets_dagster.defs import monitoring_assets
    from bestbets_dagster.defs.partition_range import range_tags

    before = {name: warehouse.read(name, START, END) for name in TABLES}
    result = materialize(
        monitoring_assets,
        instance=DagsterInstance.ephemeral(),
        resources={"warehouse": warehouse, "best_bets": BestBetsSettings()},
        tags=range_tags(START, END),
    )
    assert result.success
    checks = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert checks[("signal_health_daily", "schema")] and checks[("model_performance_daily", "unique_keys")]
    assert checks[("model_performance_daily", "rows_on_game_days")]
    for name in TABLES:
        after = warehouse.read(name, START, END)
        pd.testing.assert_frame_equal(_stable(after), _stable(before[name]), check_dtype=False)
    # The alerts kept their created_at: the sensor will not send them again.
    alerts = warehouse.read("monitoring_alerts", START, END)
    assert before["monitoring_alerts"]["created_at"].tolist() == alerts["created_at"].tolist()
    # The partitions show the alerts themselves: a table row per alert, the newest first.
    shown = next(
        event.materialization.metadata["alerts"].value
        for event in result.get_asset_materialization_events()
        if event.asset_key.to_user_string() == "monitoring_alerts"
    )
    rows = shown.splitlines()[2:]
    assert len(rows) == min(len(alerts), 200) and len(alerts)
    newest = alerts[alerts["game_date"] == alerts["game_date"].max()]
    assert rows[0].split(" | ")[0] == f"| {pd.Timestamp(newest['game_date'].iloc[0]):%Y-%m-%d}"
    assert all(message in shown for message in newest["message"])


def test_alert_sensor_logs_recent_alerts_without_a_slack_token(warehouse, monkeypatch):
    from bestbets_dagster.defs import monitoring

    alerts = warehouse.read("monitoring_alerts", START, END)
    assert len(alerts) and set(alerts["alert_type"]) <= {"model_state", "signal_cold", "challenger", "stale_family"}
    monkeypatch.setattr(monitoring, "today_eastern", lambda: dt.date(2025, 12, 7))
    context = build_sensor_context(resources={"warehouse": warehouse, "notifier": AlertNotifier()})
    first = monitoring.alerts_to_slack(context)
    recent = alerts[pd.to_datetime(alerts["game_date"]).dt.date >= dt.date(2025, 12, 4)]
    # The tick reports what it did: an observation of monitoring_alerts, not a skip.
    (observation,) = first.asset_events
    assert observation.asset_key.to_user_string() == "monitoring_alerts" and len(recent)
    assert observation.description == (
        f"{len(recent)} alert(s) sent via the sensor log; {len(alerts) - len(recent)} older ones only stored"
    )
    assert observation.metadata["sent"].value == len(recent)
    assert context.cursor == pd.Timestamp(alerts["created_at"].max()).isoformat()
    again = monitoring.alerts_to_slack(
        build_sensor_context(cursor=context.cursor, resources={"warehouse": warehouse, "notifier": AlertNotifier()})
    )
    assert again.skip_message == "no new alerts"
