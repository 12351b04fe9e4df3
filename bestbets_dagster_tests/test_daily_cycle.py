"""The daily cycle played day by day on the real data with a controlled clock: the data directory
gains the night's box scores and the day's lines each morning, and the schedule and sensors are
evaluated and their run requests executed as the daemon would. Every table then equals what the
replay writes for those days."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zoneinfo
from pathlib import Path

import pandas as pd
import pytest
from dagster import (
    AddDynamicPartitionsRequest,
    DagsterInstance,
    build_schedule_context,
    build_sensor_context,
    partition_loading_context,
)

from bestbets_dagster.defs import daily
from bestbets_dagster.defs.resources import local_resources
from bestbets_dagster.models.families import load_families, new_family, save_families
from bestbets_dagster.resources import DuckDBWarehouse
from bestbets_dagster_tests.conftest import DATA_DIR

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("daily_cycle")]

# Tuesday to Thursday of the training week of Monday 2025-11-17; Friday morning grades Thursday.
DAYS = [dt.date(2025, 11, 18), dt.date(2025, 11, 19), dt.date(2025, 11, 20)]
# The original's edge rule in both the cycle and the replay: on these days the expected-value rule
# bets on nothing, and equal empty tables would prove nothing.
SELECTION = "edge"
PICKING_JOBS = {"slate_best_bets_job", "signal_tags_job", "best_bets_job"}
PICKING_CONFIG = {"resources": {"best_bets": {"config": {"selection": SELECTION}}}}
EASTERN = zoneinfo.ZoneInfo("America/New_York")
# Columns that say when a row was computed, not what it holds.
WHEN = {"created_at", "computed_at", "graded_at", "predicted_at", "evaluated_at", "ingested_at"}
TABLES = [
    "player_game_logs",
    "team_game_logs",
    "prop_lines",
    "player_game_lines",
    "player_features",
    "training_windows",
    "predictions",
    "prediction_accuracy",
    "pick_signal_tags",
    "signal_best_bets_picks",
    "best_bets_filter_audit",
    "best_bets_decisions",
    "best_bets_accuracy",
    "signal_health_daily",
    "model_performance_daily",
    "monitoring_alerts",
]


def _file_date(path: Path) -> dt.date | None:
    found = re.search(r"(\d{4})-?(\d{2})-?(\d{2})", path.name)
    return dt.date(*map(int, found.groups())) if found else None


def lay_data(target: Path, morning_of: dt.date) -> None:
    """The data directory as it stands on the morning of a date: box scores through the day before,
    odds snapshots through the day itself."""
    for folder in ("box_scores", "team_game_logs"):
        (target / folder).mkdir(parents=True, exist_ok=True)
        for path in sorted((DATA_DIR / folder).glob("*.csv.gz")):
            rows = pd.read_csv(path, dtype=str)
            rows[rows["game_date"] < str(morning_of)].to_csv(target / folder / path.name, index=False)
    for folder in ("odds_api_snapshots", "odds_api_v4"):
        (target / folder).mkdir(parents=True, exist_ok=True)
        for path in sorted((DATA_DIR / folder).iterdir()):
            if _file_date(path) <= morning_of and not (target / folder / path.name).exists():
                shutil.copy(path, target / folder / path.name)


class Daemon:
    """What the Dagster daemon does with the project's schedule and sensors, on a given clock."""

    def __init__(self, defs, instance, monkeypatch):
        self.defs, self.instance, self.monkeypatch = defs, instance, monkeypatch
        self.resources = local_resources()
        self.launched: set[tuple[str, str]] = set()
        self.runs: list[str] = []

    def _execute(self, job_name: str, request) -> None:
        job = self.defs.resolve_job_def(job_name)
        run_config = PICKING_CONFIG if job_name in PICKING_JOBS else None
        result = job.execute_in_process(
            instance=self.instance,
            partition_key=request.partition_key,
            tags=request.tags,
            run_config=run_config,
            raise_on_error=True,
        )
        assert result.success
        self.runs.append(f"{job_name} {request.partition_key or request.tags}")

    def _launch(self, owner: str, default_job: str | None, requests) -> int:
        launched = 0
        for request in requests:
            if (owner, request.run_key) in self.launched:
                continue  # the daemon launches a run key once per sensor
            self.launched.add((owner, request.run_key))
            self._execute(request.job_name or default_job, request)
            launched += 1
        return launched

    def tick_sensors(self, today: dt.date) -> None:
        """Every sensor, again and again, until none asks for anything new (each run finishes first)."""
        self.monkeypatch.setattr(daily, "today_eastern", lambda: today)
        sensors = [
            self.defs.resolve_sensor_def(name)
            for name in (
                "model_family_partitions_sensor",
                "box_scores_sensor",
                "morning_sensor",
                "weekly_training_sensor",
                "predictions_sensor",
                "best_bets_sensor",
            )
        ]
        for _ in range(12):
            launched = 0
            for sensor in sensors:
                context = build_sensor_context(
                    instance=self.instance, resources=self.resources, definitions=self.defs, sensor_name=sensor.name
                )
                # The daemon resolves dynamic partition keys against the instance.
                with partition_loading_context(dynamic_partitions_store=self.instance):
                    data = sensor.evaluate_tick(context)
                for request in data.dynamic_partitions_requests or []:
                    if isinstance(request, AddDynamicPartitionsRequest):
                        self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
                    else:
                        for key in request.partition_keys:
                            self.instance.delete_dynamic_partition(request.partitions_def_name, key)
                launched += self._launch(
                    sensor.name, sensor.job_name if len(sensor.targets) == 1 else None, data.run_requests or []
                )
            if not launched:
                return
        raise AssertionError(f"the sensors did not settle: {self.runs[-10:]}")

    def slate(self, today: dt.date) -> None:
        schedule = self.defs.resolve_schedule_def("slate_schedule")
        when = dt.datetime.combine(today, dt.time(12, 30), tzinfo=EASTERN)
        context = build_schedule_context(
            instance=self.instance, scheduled_execution_time=when, repository_def=self.defs.get_repository_def()
        )
        data = schedule.evaluate_tick(context)
        self._launch(schedule.name, schedule.job_name, data.run_requests or [])


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.drop(columns=[c for c in frame.columns if c in WHEN])
    # JSON documents of the decisions carry no time; a stable row order for the comparison.
    frame = frame.astype(str).sort_values(list(frame.columns)).reset_index(drop=True)
    return frame


def _read(warehouse, table: str, start, end) -> pd.DataFrame:
    return warehouse.read(table, start, end)


@pytest.fixture(scope="module")
def cycle(tmp_path_factory, monkeypatch_module):
    root = tmp_path_factory.mktemp("daily")
    data = root / "data"
    home = root / "loop"
    monkeypatch_module.setenv("BESTBETS_HOME", str(home))
    monkeypatch_module.setenv("DAGSTER_HOME", str(home / "dagster"))
    monkeypatch_module.setenv("BESTBETS_DATA_DIR", str(data))
    from bestbets_dagster.definitions import build_definitions

    defs = build_definitions()
    daemon = Daemon(defs, DagsterInstance.ephemeral(), monkeypatch_module)
    for today in DAYS:
        lay_data(data, today)
        daemon.tick_sensors(today)  # the morning: last night's box scores, grading, monitoring
        daemon.slate(today)  # 12:30: today's lines and features
        daemon.tick_sensors(today)  # predictions, then the picks
    friday = DAYS[-1] + dt.timedelta(days=1)
    lay_data(data, friday)
    # A family added on Friday morning: its partition, this week's model and Friday's predictions follow.
    warehouse = DuckDBWarehouse(path=str(home / "warehouse.duckdb"))
    save_families(warehouse, [*load_families(warehouse), new_family("v9", "Quantile:alpha=0.40")])
    daemon.tick_sensors(friday)
    daemon.slate(friday)
    daemon.tick_sensors(friday)

    # The replay of the same days on the same data, in another home.
    reference = root / "replay"
    monkeypatch_module.setenv("BESTBETS_HOME", str(reference))
    monkeypatch_module.setenv("DAGSTER_HOME", str(reference / "dagster"))
    from bestbets_dagster.replay import run_replay

    run_replay(DAYS[0], DAYS[-1], None, instance=DagsterInstance.ephemeral(), selection=SELECTION)
    return daemon, warehouse, DuckDBWarehouse(path=str(reference / "warehouse.duckdb"))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.mark.parametrize("table", TABLES)
def test_the_daily_cycle_writes_what_the_replay_writes(cycle, table):
    _, loop, replay = cycle
    start, end = (DAYS[0], DAYS[-1])
    if table in ("player_game_logs", "team_game_logs", "prop_lines", "player_game_lines", "player_features"):
        start = dt.date(2024, 10, 22)
    if table == "training_windows":
        start = end = dt.date(2025, 11, 17)
    ours = _read(loop, table, start, end)
    theirs = _read(replay, table, start, end)
    if "model_family" in ours.columns:
        ours = ours[ours["model_family"] != "v9_q40"]
    assert len(theirs) > 0, table
    pd.testing.assert_frame_equal(_comparable(ours), _comparable(theirs), obj=table)


def test_the_models_are_the_replays(cycle):
    _, loop, replay = cycle
    ours = loop.read("model_registry")
    theirs = replay.read("model_registry")
    ours = ours[ours["model_family"] != "v9_q40"]
    columns = ["model_id", "sha256_hash", "training_samples", "evaluation_mae", "status"]
    pd.testing.assert_frame_equal(_comparable(ours[columns]), _comparable(theirs[columns]))


def test_a_family_added_in_the_morning_predicts_that_day(cycle):
    daemon, loop, _ = cycle
    friday = DAYS[-1] + dt.timedelta(days=1)
    predictions = loop.read("predictions", DAYS[0], friday, family="v9_q40")
    assert set(pd.to_datetime(predictions["game_date"]).dt.date) == {friday}
    assert len(predictions) == len(loop.read("predictions", friday, friday, family="v9_mae")) > 0
    assert any(run.startswith("retrain_job") and "v9_q40" in run for run in daemon.runs), daemon.runs
    # and every day of the loop made its picks once its families had predicted
    decisions = loop.read("best_bets_decisions", DAYS[0], friday)
    assert sorted(pd.to_datetime(decisions["game_date"]).dt.date) == [*DAYS, friday]
