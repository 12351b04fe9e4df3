"""Every sensor and schedule of the daily cycle, one decision per test, on an ephemeral instance whose
materializations are written by hand (their order is what the sensors compare) and a clock set by
BESTBETS_TODAY. The slow daily-cycle test runs them all together on the real data."""

from __future__ import annotations

import datetime as dt

import pytest
from dagster import (
    AssetMaterialization,
    DagsterInstance,
    MultiPartitionKey,
    RunRequest,
    SensorResult,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
)

from bestbets_dagster.defs import daily
from bestbets_dagster.partitions import MODEL_FAMILY_PARTITIONS_NAME
from bestbets_dagster.resources import NbaDataSource
from bestbets_dagster_tests.conftest import DATA_DIR

TODAY = "2025-11-18"
WEEK = "2025-11-17"  # the training week of TODAY (its Monday)
FAMILIES = ["v9_mae", "v12_noveg_mae"]


@pytest.fixture()
def instance(monkeypatch):
    monkeypatch.setenv("BESTBETS_TODAY", f"{TODAY}T17:00:00+00:00")  # 12:00 US Eastern
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(MODEL_FAMILY_PARTITIONS_NAME, FAMILIES)
        yield instance


def materialize(instance, asset: str, partition: str | None = None, **dimensions) -> None:
    """Record a materialization (newer than every one before it)."""
    if dimensions:
        partition = str(MultiPartitionKey(dimensions))
    instance.report_runless_asset_event(AssetMaterialization(asset, partition=partition))


def evaluate(sensor, instance, **resources):
    with build_sensor_context(instance=instance, resources=resources or None) as context:
        return sensor(context)


def requests(result) -> list[RunRequest]:
    if isinstance(result, RunRequest):
        return [result]
    return list(result.run_requests or []) if isinstance(result, SensorResult) else []


# predictions_sensor


def test_predictions_wait_for_todays_features(instance):
    result = evaluate(daily.predictions_sensor, instance)
    assert isinstance(result, SkipReason) and result.skip_message == f"no player_features of {TODAY} yet"


def test_a_family_without_its_model_of_the_week_is_not_predicted(instance):
    materialize(instance, "player_features", TODAY)
    materialize(instance, "family_models", training_week=WEEK, model_family="v9_mae")
    [request] = requests(evaluate(daily.predictions_sensor, instance))
    assert request.partition_key == f"{TODAY}|v9_mae"  # v12_noveg_mae waits for its model


def test_predictions_newer_than_features_and_model_are_not_asked_again(instance):
    materialize(instance, "player_features", TODAY)
    for family in FAMILIES:
        materialize(instance, "family_models", training_week=WEEK, model_family=family)
        materialize(instance, "predictions", game_date=TODAY, model_family=family)
    result = evaluate(daily.predictions_sensor, instance)
    assert isinstance(result, SkipReason) and result.skip_message == f"every family has predicted {TODAY}"
    materialize(instance, "player_features", TODAY)  # the features rebuilt: every family again
    assert sorted(r.partition_key for r in requests(evaluate(daily.predictions_sensor, instance))) == [
        f"{TODAY}|v12_noveg_mae",
        f"{TODAY}|v9_mae",
    ]


# best_bets_sensor


def test_the_picks_wait_for_every_familys_predictions(instance):
    materialize(instance, "player_features", TODAY)
    materialize(instance, "predictions", game_date=TODAY, model_family="v9_mae")
    result = evaluate(daily.best_bets_sensor, instance)
    assert result.skip_message == f"waiting for every family's predictions of {TODAY}"


def test_the_picks_wait_for_the_mornings_grading(instance):
    yesterday = "2025-11-17"
    materialize(instance, "player_game_logs", yesterday)
    materialize(instance, "predictions", game_date=yesterday, model_family="v9_mae")
    materialize(instance, "player_features", TODAY)
    for family in FAMILIES:
        materialize(instance, "predictions", game_date=TODAY, model_family=family)
    assert evaluate(daily.best_bets_sensor, instance).skip_message == "waiting for the morning's grading and monitoring"
    materialize(instance, "prediction_accuracy", yesterday)
    materialize(instance, "monitoring_alerts", yesterday)
    [request] = requests(evaluate(daily.best_bets_sensor, instance))
    assert request.partition_key == TODAY and request.run_key.startswith(f"best-bets:{TODAY}:")


def test_picks_newer_than_the_predictions_are_not_made_again(instance):
    materialize(instance, "player_features", TODAY)
    for family in FAMILIES:
        materialize(instance, "predictions", game_date=TODAY, model_family=family)
    materialize(instance, "signal_best_bets_picks", TODAY)
    result = evaluate(daily.best_bets_sensor, instance)
    assert result.skip_message == f"the picks of {TODAY} are newer than its predictions"


# config_view_sensor


def test_the_config_view_follows_the_days_picks(instance):
    assert evaluate(daily.config_view_sensor, instance).skip_message == f"no picks of {TODAY} yet"
    materialize(instance, "signal_best_bets_picks", TODAY)
    [request] = requests(evaluate(daily.config_view_sensor, instance))
    assert request.run_key.startswith(f"config-view:{TODAY}:")
    materialize(instance, "best_bets_config")
    assert evaluate(daily.config_view_sensor, instance).skip_message == (
        f"the config view is newer than the picks of {TODAY}"
    )


# morning_sensor


def test_the_morning_grades_from_the_first_date_with_new_box_scores_through_yesterday(instance):
    assert evaluate(daily.morning_sensor, instance).skip_message == (
        "every predicted date with box scores is graded and monitored"
    )
    for day in ("2025-11-14", "2025-11-16"):
        materialize(instance, "predictions", game_date=day, model_family="v9_mae")
        materialize(instance, "player_game_logs", day)
    [request] = requests(evaluate(daily.morning_sensor, instance))
    assert request.tags["dagster/asset_partition_range_start"] == "2025-11-14"
    assert request.tags["dagster/asset_partition_range_end"] == "2025-11-17"  # yesterday


def test_a_date_graded_but_not_monitored_is_graded_again(instance):
    day = "2025-11-16"
    materialize(instance, "predictions", game_date=day, model_family="v9_mae")
    materialize(instance, "player_game_logs", day)
    materialize(instance, "prediction_accuracy", day)
    [request] = requests(evaluate(daily.morning_sensor, instance))
    assert request.tags["dagster/asset_partition_range_start"] == day
    materialize(instance, "monitoring_alerts", day)
    assert isinstance(evaluate(daily.morning_sensor, instance), SkipReason)


# the schedules


def test_the_slate_is_decided_at_the_ticks_time():
    tick = dt.datetime(2025, 11, 18, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    with build_schedule_context(scheduled_execution_time=tick) as context:
        request = daily.slate_schedule(context)
    assert request.partition_key == "2025-11-18" and request.run_key == "slate:2025-11-18"
    assert dt.datetime.fromisoformat(request.tags["bestbets/decision_time"]) == tick


def test_mondays_report_card_is_last_weeks():
    tick = dt.datetime(2025, 11, 24, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    with build_schedule_context(scheduled_execution_time=tick) as context:
        request = daily.report_card_schedule(context)
    assert request.partition_key == "2025-11-17"


# closing_snapshot_sensor (the day's games read from the real snapshot of 2025-10-22: 12 games)


@pytest.mark.parametrize(
    "now, expected",
    [
        ("2025-10-22T23:00:00+00:00", ["2025-10-22T23:10Z"]),  # 19:00 ET: the 19:10 ET games
        ("2025-10-23T01:00:00+00:00", ["2025-10-23T01:10Z"]),  # 21:00 ET: the 21:10 ET games, not the 21:40
        ("2025-10-22T20:00:00+00:00", []),  # 16:00 ET: no game within 15 minutes
    ],
)
def test_the_closing_snapshot_takes_the_games_about_to_tip_off(instance, monkeypatch, now, expected):
    monkeypatch.setenv("BESTBETS_TODAY", now)
    result = evaluate(daily.closing_snapshot_sensor, instance, nba_data=NbaDataSource(data_dir=str(DATA_DIR)))
    assert [r.tags["bestbets/closing_tip_off"] for r in requests(result)] == expected
    for request in requests(result):
        config = request.run_config["ops"]["odds_api_snapshots"]["config"]
        assert config["kind"] == "closing" and config["event_ids"]


# box_scores_sensor, weekly_training_sensor: the data directory's files against the warehouse's newest date


class _StoredThrough:
    """A warehouse whose player_game_logs end on `last` (what the sensors ask of it)."""

    def __init__(self, last: str | None):
        self.last = last

    def query(self, sql: str, params=None):
        import pandas as pd

        assert "MAX(game_date)" in sql
        return pd.DataFrame({"last": [self.last]})


def _box_score_file(data, name: str, dates: list[str]) -> None:
    folder = data / "box_scores"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("game_date,person_id\n" + "".join(f"{d},1\n" for d in dates))


def test_box_scores_newer_than_the_warehouses_are_ingested_in_one_ranged_run(instance, tmp_path):
    data = NbaDataSource(data_dir=str(tmp_path))
    result = evaluate(daily.box_scores_sensor, instance, warehouse=_StoredThrough(None), nba_data=data)
    assert result.skip_message.startswith("no box-score file in ")
    _box_score_file(tmp_path, "player_game_logs_2025-11-16.csv", ["2025-11-16"])
    _box_score_file(tmp_path, "player_game_logs_2025-11-17.csv", ["2025-11-17"])
    [request] = requests(
        evaluate(daily.box_scores_sensor, instance, warehouse=_StoredThrough("2025-11-15"), nba_data=data)
    )
    assert (request.tags["dagster/asset_partition_range_start"], request.tags["dagster/asset_partition_range_end"]) == (
        "2025-11-16",
        "2025-11-17",
    )
    result = evaluate(daily.box_scores_sensor, instance, warehouse=_StoredThrough("2025-11-17"), nba_data=data)
    assert result.skip_message == "the warehouse has every box-score date of the data directory"


def test_a_box_score_file_that_changed_since_the_last_tick_is_ingested_again(instance, tmp_path):
    data = NbaDataSource(data_dir=str(tmp_path))
    _box_score_file(tmp_path, "player_game_logs_2025-11-16.csv", ["2025-11-16"])
    stored = _StoredThrough("2025-11-16")
    with build_sensor_context(instance=instance, resources={"warehouse": stored, "nba_data": data}) as context:
        assert isinstance(daily.box_scores_sensor(context), SkipReason)  # seen whole: the cursor holds it
        _box_score_file(tmp_path, "player_game_logs_2025-11-16.csv", ["2025-11-16", "2025-11-16"])  # completed
        request = daily.box_scores_sensor(context)
    assert request.tags["dagster/asset_partition_range_start"] == "2025-11-16"
    assert request.run_key.startswith("box-scores:2025-11-16:2025-11-16:")  # the new fingerprint in the key


def test_the_weekly_training_waits_for_the_box_score_ingest(instance, tmp_path, monkeypatch):
    monkeypatch.setattr(daily, "load_families", lambda warehouse: [])
    monkeypatch.setattr(daily, "staleness", lambda families, registry, today: _no_reminders())
    _box_score_file(tmp_path, "player_game_logs_2025-11-17.csv", ["2025-11-17"])
    data = NbaDataSource(data_dir=str(tmp_path))
    behind = _Registry("2025-11-16")
    assert evaluate(daily.weekly_training_sensor, instance, warehouse=behind, nba_data=data).skip_message == (
        "waiting for the box-score ingest to catch up"
    )
    materialize(instance, "player_game_logs", "2025-11-16")
    [request] = requests(
        evaluate(daily.weekly_training_sensor, instance, warehouse=_Registry("2025-11-17"), nba_data=data)
    )
    assert (request.job_name, request.partition_key) == ("training_windows_job", WEEK)
    materialize(instance, "training_windows", WEEK)
    trains = requests(
        evaluate(daily.weekly_training_sensor, instance, warehouse=_Registry("2025-11-17"), nba_data=data)
    )
    assert sorted(r.partition_key for r in trains) == [f"{f}|{WEEK}" for f in sorted(FAMILIES)]  # dimensions by name
    for family in FAMILIES:
        materialize(instance, "family_models", training_week=WEEK, model_family=family)
    [registry] = requests(
        evaluate(daily.weekly_training_sensor, instance, warehouse=_Registry("2025-11-17"), nba_data=data)
    )
    assert registry.job_name == "model_registry_job"
    materialize(instance, "model_registry")
    result = evaluate(daily.weekly_training_sensor, instance, warehouse=_Registry("2025-11-17"), nba_data=data)
    assert result.skip_message == f"every family has its model of {WEEK}"


class _Registry(_StoredThrough):
    def read(self, table: str, *args, **kwargs):
        import pandas as pd

        assert table == "model_registry"
        return pd.DataFrame()


def _no_reminders():
    import pandas as pd

    return pd.DataFrame({"urgency": [], "model_family": [], "reason": []})


# model_family_partitions_sensor: the dynamic partitions follow the enabled families


def test_the_family_partitions_follow_the_enabled_families(instance, monkeypatch):
    from bestbets_dagster.defs import models

    monkeypatch.setattr(models, "enabled_family_ids", lambda warehouse: ["v9_mae", "v9_q43"])
    result = evaluate(models.model_family_partitions_sensor, instance, warehouse=_StoredThrough(None))
    added, deleted = result.dynamic_partitions_requests
    assert (list(added.partition_keys), list(deleted.partition_keys)) == (["v9_q43"], ["v12_noveg_mae"])
    instance.delete_dynamic_partition(MODEL_FAMILY_PARTITIONS_NAME, "v12_noveg_mae")
    instance.add_dynamic_partitions(MODEL_FAMILY_PARTITIONS_NAME, ["v9_q43"])
    result = evaluate(models.model_family_partitions_sensor, instance, warehouse=_StoredThrough(None))
    assert result.skip_message == "model_family partitions already equal the 2 enabled families"
