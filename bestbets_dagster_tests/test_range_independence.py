"""A partition's rows are the same whether it is computed alone, inside a range, or inside a range
that starts elsewhere, for every table: 2025-11-19 (and its training week) recomputed three ways on a
copy of the replay's home equals what the replay stored."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from dagster import DagsterInstance, MultiPartitionKey

from bestbets_dagster.defs.partition_range import range_tags
from bestbets_dagster.resources import DuckDBWarehouse

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("replay")]

DAY = "2025-11-19"  # a day with picks, graded picks and alerts in the replay
WEEK = "2025-11-17"
RANGES = {"alone": (DAY, DAY), "inside a range": ("2025-11-17", "2025-11-21"),
          "in a range that starts elsewhere": ("2025-11-10", "2025-11-20")}
WEEK_RANGES = {"alone": (WEEK, WEEK), "inside a range": ("2025-11-10", "2025-11-24"),
               "in a range that starts elsewhere": ("2025-11-03", "2025-11-17")}
DAILY_TABLES = ["player_game_logs", "team_game_logs", "prop_lines", "player_game_lines", "player_features",
                "predictions", "prediction_accuracy", "pick_signal_tags", "signal_health_daily",
                "model_performance_daily", "monitoring_alerts", "signal_best_bets_picks", "best_bets_filter_audit",
                "best_bets_decisions", "best_bets_accuracy"]
WHEN = {"created_at", "computed_at", "graded_at", "predicted_at", "evaluated_at", "ingested_at"}
FAMILY = "v9_mae"  # one family's models are retrained (the others keep the replay's)


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.drop(columns=[c for c in frame.columns if c in WHEN])
    return frame.astype(str).sort_values(list(frame.columns)).reset_index(drop=True)


def _rows(warehouse) -> dict[str, pd.DataFrame]:
    rows = {table: _comparable(warehouse.read(table, DAY, DAY)) for table in DAILY_TABLES}
    rows["training_windows"] = _comparable(warehouse.read("training_windows", WEEK, WEEK))
    registry = warehouse.read("model_registry", WEEK, WEEK, family=FAMILY)
    rows["model_registry"] = _comparable(registry.drop(columns=["artifact_uri"]))
    return rows


def _recompute(defs, instance, start: str, end: str, week_start: str, week_end: str) -> None:
    def run(job: str, tags: dict) -> None:
        defs.resolve_job_def(job).execute_in_process(instance=instance, tags=tags, raise_on_error=True)

    run("build_job", range_tags(start, end))
    run("training_windows_job", range_tags(week_start, week_end))
    run("retrain_job", range_tags(MultiPartitionKey({"training_week": week_start, "model_family": FAMILY}),
                                  MultiPartitionKey({"training_week": week_end, "model_family": FAMILY})))
    for family in instance.get_dynamic_partitions("model_family"):
        run("predictions_job", range_tags(MultiPartitionKey({"game_date": start, "model_family": family}),
                                          MultiPartitionKey({"game_date": end, "model_family": family})))
    for job in ("grading_job", "signal_tags_job", "monitoring_job", "best_bets_job", "best_bets_grading_job"):
        run(job, range_tags(start, end))


def test_every_table_is_the_same_alone_or_in_any_range(replay, tmp_path, monkeypatch):
    stored_home, _ = replay
    expected = _rows(DuckDBWarehouse(path=str(stored_home / "warehouse.duckdb")))
    assert all(len(frame) for frame in expected.values()), {name: len(frame) for name, frame in expected.items()}
    for way, (start, end) in RANGES.items():
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
            _recompute(build_definitions(), instance, start, end, *WEEK_RANGES[way])
        found = _rows(warehouse)
        for table, frame in expected.items():
            pd.testing.assert_frame_equal(found[table], frame, obj=f"{table} of {DAY} computed {way}")
