"""A partition's rows are the same whether it is computed alone, inside a range, or inside a range
that starts elsewhere, for every table: a day of the replay with picks, graded picks and alerts (and
its training week) recomputed three ways on a copy of the replay's home equals what the replay stored."""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest
from dagster import DagsterInstance, MultiPartitionKey

from bestbets_dagster.defs.partition_range import range_tags
from bestbets_dagster.resources import DuckDBWarehouse

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("replay")]

DAILY_TABLES = [
    "player_game_logs",
    "team_game_logs",
    "prop_lines",
    "player_game_lines",
    "player_features",
    "predictions",
    "prediction_accuracy",
    "pick_signal_tags",
    "signal_health_daily",
    "model_performance_daily",
    "monitoring_alerts",
    "signal_best_bets_picks",
    "best_bets_filter_audit",
    "best_bets_decisions",
    "best_bets_accuracy",
]
WHEN = {"created_at", "computed_at", "graded_at", "predicted_at", "evaluated_at", "ingested_at"}
FAMILY = "v9_mae"  # one family's models are retrained (the others keep the replay's)


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.drop(columns=[c for c in frame.columns if c in WHEN])
    return frame.astype(str).sort_values(list(frame.columns)).reset_index(drop=True)


def _day_with_everything(warehouse) -> dt.date:
    """The first day of the replay with picks, graded picks and alerts (the expected-value rule bets
    on few days, so the day is looked up rather than fixed)."""
    days = [
        set(pd.to_datetime(warehouse.read(table, columns=["game_date"])["game_date"]).dt.date)
        for table in ("signal_best_bets_picks", "best_bets_accuracy", "monitoring_alerts")
    ]
    common = sorted(set.intersection(*days))
    assert common, "the replay has no day with picks, graded picks and alerts"
    return common[0]


def _ranges(day: dt.date) -> tuple[dict, dict]:
    """Per way: the game-date range and the training-week range that contain `day` and its week."""
    week = day - dt.timedelta(days=day.weekday())
    d, w = dt.timedelta(days=1), dt.timedelta(weeks=1)
    ranges = {
        "alone": (day, day),
        "inside a range": (day - 2 * d, day + 2 * d),
        "in a range that starts elsewhere": (day - 9 * d, day + d),
    }
    weeks = {
        "alone": (week, week),
        "inside a range": (week - w, week + w),
        "in a range that starts elsewhere": (week - 2 * w, week),
    }
    return ({k: (str(a), str(b)) for k, (a, b) in ranges.items()}, {k: (str(a), str(b)) for k, (a, b) in weeks.items()})


def _rows(warehouse, day: str, week: str) -> dict[str, pd.DataFrame]:
    rows = {table: _comparable(warehouse.read(table, day, day)) for table in DAILY_TABLES}
    rows["training_windows"] = _comparable(warehouse.read("training_windows", week, week))
    registry = warehouse.read("model_registry", week, week, family=FAMILY)
    rows["model_registry"] = _comparable(registry.drop(columns=["artifact_uri"]))
    return rows


def _recompute(defs, instance, start: str, end: str, week_start: str, week_end: str) -> None:
    def run(job: str, tags: dict) -> None:
        defs.resolve_job_def(job).execute_in_process(instance=instance, tags=tags, raise_on_error=True)

    run("build_job", range_tags(start, end))
    run("training_windows_job", range_tags(week_start, week_end))
    run(
        "retrain_job",
        range_tags(
            MultiPartitionKey({"training_week": week_start, "model_family": FAMILY}),
            MultiPartitionKey({"training_week": week_end, "model_family": FAMILY}),
        ),
    )
    for family in instance.get_dynamic_partitions("model_family"):
        run(
            "predictions_job",
            range_tags(
                MultiPartitionKey({"game_date": start, "model_family": family}),
                MultiPartitionKey({"game_date": end, "model_family": family}),
            ),
        )
    for job in ("grading_job", "signal_tags_job", "monitoring_job", "best_bets_job", "best_bets_grading_job"):
        run(job, range_tags(start, end))


def test_every_table_is_the_same_alone_or_in_any_range(replay, tmp_path, monkeypatch):
    stored_home, _ = replay
    stored = DuckDBWarehouse(path=str(stored_home / "warehouse.duckdb"))
    day = _day_with_everything(stored)
    ranges, week_ranges = _ranges(day)
    DAY, WEEK = str(day), week_ranges["alone"][0]
    expected = _rows(stored, DAY, WEEK)
    assert all(len(frame) for frame in expected.values()), {name: len(frame) for name, frame in expected.items()}
    for way, (start, end) in ranges.items():
        home = tmp_path / way.replace(" ", "_")
        home.mkdir()
        shutil.copy(stored_home / "warehouse.duckdb", home / "warehouse.duckdb")
        shutil.copytree(stored_home / "artifacts", home / "artifacts")
        monkeypatch.setenv("BESTBETS_HOME", str(home))
        monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
        from bestbets_dagster.definitions import build_definitions
        from bestbets_dagster.models.families import enabled_family_ids

        warehouse = DuckDBWarehouse(path=str(home / "warehouse.duckdb"))
        with DagsterInstance.ephemeral() as instance:
            instance.add_dynamic_partitions("model_family", enabled_family_ids(warehouse))
            _recompute(build_definitions(), instance, start, end, *week_ranges[way])
        found = _rows(warehouse, DAY, WEEK)
        for table, frame in expected.items():
            pd.testing.assert_frame_equal(found[table], frame, obj=f"{table} of {DAY} computed {way}")
