"""The daily cycle played day by day on the real data with a controlled clock (BESTBETS_TODAY), every
file of the days played fetched by the downloaders from local servers that answer like The Odds API and
NBA.com (fake_sources.py, serving the shared data): the morning's box-score download of the night
before, the snapshots at 10:00, 12:00, 15:00 and 18:00, the slate at 12:30, one closing snapshot per
tip-off. On the first day a line moves between the 10:00 and 12:00 snapshots (the decision sees it) and
every line of the day rises half a point at 14:00 (after the decision: it moves the close, so every pick
of the day has a closing line value of half a point). The schedules and sensors are evaluated and their
run requests executed as the daemon would. Every table then equals what `bestbets replay --decision-time
12:30` writes from the same files."""

from __future__ import annotations

import datetime as dt
import gzip
import os
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
from pytest_httpserver import HTTPServer

from bestbets_dagster.acquisition.odds_api import listed_events
from bestbets_dagster.bestbets.clv import closing_line_value
from bestbets_dagster.defs.resources import local_resources
from bestbets_dagster.ingest.lines import closing_lines, decision_times_of
from bestbets_dagster.models.families import load_families, new_family, save_families
from bestbets_dagster.resources import DuckDBWarehouse
from bestbets_dagster.timeutil import utc_instant
from bestbets_dagster_tests.conftest import DATA_DIR
from bestbets_dagster_tests.fake_sources import FakeNbaStats, FakeOddsApi

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("daily_cycle")]

EASTERN = zoneinfo.ZoneInfo("America/New_York")
KEY = "daily-cycle-key"
# Tuesday to Thursday of the training week of Monday 2025-11-17; Friday morning grades Thursday.
DAYS = [dt.date(2025, 11, 18), dt.date(2025, 11, 19), dt.date(2025, 11, 20)]
FRIDAY = DAYS[-1] + dt.timedelta(days=1)
SNAPSHOTS = [dt.time(10, 0), dt.time(12, 0), dt.time(15, 0), dt.time(18, 0)]
SLATE = dt.time(12, 30)
# The first day's move: Franz Wagner's DraftKings line a point up at 11:00 (24.5 -> 25.5, seen by the
# 12:00 snapshot, before the decision). Every day: every line half a point up at 14:00 (after it).
MOVED_EVENT, MOVED_PLAYER = "12aebc1081f4713b9ad2705d5364df58", "Franz Wagner"
# The original's edge rule in both the cycle and the replay: on these days the expected-value rule
# bets on nothing, and equal empty tables would prove nothing.
SELECTION = "edge"
PICKING_JOBS = {"slate_best_bets_job", "signal_tags_job", "best_bets_job"}
PICKING_CONFIG = {"resources": {"best_bets": {"config": {"selection": SELECTION}}}}
# Columns that say when a row was computed, not what it holds.
WHEN = {"created_at", "computed_at", "graded_at", "predicted_at", "evaluated_at", "ingested_at"}
HISTORY_TABLES = [
    "player_game_logs",
    "team_game_logs",
    "prop_lines",
    "player_game_lines",
    "game_lines",
    "player_features",
]
TABLES = [
    *HISTORY_TABLES,
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


def lay_history(target: Path, first_day: dt.date) -> None:
    """The data directory before the first day played: box scores and odds snapshots of the days before
    it (the downloaders fetch everything from then on)."""
    for folder in ("box_scores", "team_game_logs"):
        (target / folder).mkdir(parents=True, exist_ok=True)
        for path in sorted((DATA_DIR / folder).glob("*.csv.gz")):
            rows = pd.read_csv(path, dtype=str)
            rows[rows["game_date"] < str(first_day)].to_csv(target / folder / path.name, index=False)
    for folder in ("odds_api_snapshots", "odds_api_v4"):
        (target / folder).mkdir(parents=True, exist_ok=True)
        for path in sorted((DATA_DIR / folder).iterdir()):
            if _file_date(path) < first_day:
                shutil.copy(path, target / folder / path.name)


def at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=EASTERN)


class Daemon:
    """What the Dagster daemon does with the project's schedules and sensors, on a given clock."""

    def __init__(self, defs, instance, monkeypatch, data: Path, half_written: dt.date):
        self.defs, self.instance, self.monkeypatch = defs, instance, monkeypatch
        self.resources = local_resources()
        self.launched: set[tuple[str, str]] = set()
        self.runs: list[str] = []
        self.cursors: dict[str, str | None] = {}
        # The box scores of `half_written` are caught mid-write by the tick after their download (cut at a
        # row boundary half-way, a valid file), and completed before the next tick.
        self.data, self.half_written = data, half_written
        self.completion: tuple[Path, bytes] | None = None
        self.stored_half: list[int] = []

    def clock(self, moment: dt.datetime) -> None:
        self.monkeypatch.setenv("BESTBETS_TODAY", moment.isoformat())

    def _execute(self, job_name: str, request) -> None:
        job = self.defs.resolve_job_def(job_name)
        run_config = {**(PICKING_CONFIG if job_name in PICKING_JOBS else {}), **(request.run_config or {})}
        result = job.execute_in_process(
            instance=self.instance,
            partition_key=request.partition_key,
            tags=request.tags,
            run_config=run_config or None,
            raise_on_error=True,
        )
        assert result.success
        self.runs.append(f"{job_name} {request.partition_key or request.tags}")
        if job_name == "box_score_download_job" and request.partition_key == str(self.half_written):
            self._cut_half_way()
        elif job_name == "box_scores_job" and self.completion is not None:
            day = self.half_written
            self.stored_half.append(len(self.resources["warehouse"].read("player_game_logs", day, day)))
            path, whole = self.completion
            path.write_bytes(whole)
            os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
            self.completion = None

    def _cut_half_way(self) -> None:
        path = self.data / "box_scores" / f"player_game_logs_{self.half_written}.csv.gz"
        whole = path.read_bytes()
        header, *rows = gzip.decompress(whole).splitlines(keepends=True)
        path.write_bytes(gzip.compress(b"".join([header, *rows[: len(rows) // 2]])))
        self.completion = (path, whole)

    def _launch(self, owner: str, default_job: str | None, requests) -> int:
        launched = 0
        for request in requests:
            if (owner, request.run_key) in self.launched:
                continue  # the daemon launches a run key once per sensor
            self.launched.add((owner, request.run_key))
            self._execute(request.job_name or default_job, request)
            launched += 1
        return launched

    def tick_sensors(self, names=None) -> None:
        """Every sensor (or those named), again and again, until none asks for anything new."""
        names = names or [
            "model_family_partitions_sensor",
            "box_score_download_sensor",
            "box_scores_sensor",
            "morning_sensor",
            "weekly_training_sensor",
            "predictions_sensor",
            "best_bets_sensor",
            "config_view_sensor",
            "closing_snapshot_sensor",
        ]
        sensors = [self.defs.resolve_sensor_def(name) for name in names]
        for _ in range(12):
            launched = 0
            for sensor in sensors:
                context = build_sensor_context(
                    instance=self.instance,
                    resources=self.resources,
                    definitions=self.defs,
                    sensor_name=sensor.name,
                    cursor=self.cursors.get(sensor.name),
                )
                # The daemon resolves dynamic partition keys against the instance.
                with partition_loading_context(dynamic_partitions_store=self.instance):
                    data = sensor.evaluate_tick(context)
                if data.cursor is not None:  # the daemon keeps each sensor's cursor between ticks
                    self.cursors[sensor.name] = data.cursor
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

    def schedule(self, name: str, moment: dt.datetime) -> None:
        schedule = self.defs.resolve_schedule_def(name)
        self.clock(moment)
        context = build_schedule_context(
            instance=self.instance, scheduled_execution_time=moment, repository_def=self.defs.get_repository_def()
        )
        data = schedule.evaluate_tick(context)
        self._launch(schedule.name, schedule.job_name, data.run_requests or [])

    def play(self, day: dt.date, data: Path) -> None:
        """A game day: the morning's downloads and grading, the snapshots, the slate and the picks, then
        a closing snapshot ten minutes before each tip-off."""
        self.clock(at(day, dt.time(9, 0)))
        self.tick_sensors()  # last night's box scores downloaded and ingested, grading, monitoring
        for time in SNAPSHOTS[:2]:
            self.schedule("odds_snapshot_schedule", at(day, time))
        self.schedule("slate_schedule", at(day, SLATE))
        self.tick_sensors()  # predictions, then the picks
        for time in SNAPSHOTS[2:]:
            self.schedule("odds_snapshot_schedule", at(day, time))
        tips = sorted({e["commence_time"] for e in listed_events(data, day)})
        for tip in tips:
            moment = utc_instant(tip) - dt.timedelta(minutes=10)
            self.clock(moment)
            self.tick_sensors(["closing_snapshot_sensor"])


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.drop(columns=[c for c in frame.columns if c in WHEN])
    # JSON documents of the decisions carry no time; a stable row order for the comparison.
    frame = frame.astype(str).sort_values(list(frame.columns)).reset_index(drop=True)
    return frame


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def cycle(tmp_path_factory, monkeypatch_module):
    root = tmp_path_factory.mktemp("daily")
    data, home = root / "data", root / "loop"
    server = HTTPServer()
    server.start()
    odds, nba = FakeOddsApi(server, DATA_DIR, KEY), FakeNbaStats(server, DATA_DIR)
    first = DAYS[0]
    odds.move(at(first, dt.time(11, 0)), MOVED_EVENT, "draftkings", MOVED_PLAYER, 25.5)
    for day in [*DAYS, FRIDAY]:
        odds.shift(at(day, dt.time(14, 0)), 0.5, [e["id"] for e in odds._day_events(day)])
    lay_history(data, first)
    for name, value in {
        "BESTBETS_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "BESTBETS_DATA_DIR": str(data),
        "BESTBETS_ODDS_API_URL": odds.url,
        "BESTBETS_NBA_STATS_URL": nba.url,
        "ODDS_API_KEY": KEY,
    }.items():
        monkeypatch_module.setenv(name, value)
    from bestbets_dagster.definitions import build_definitions

    defs = build_definitions()
    daemon = Daemon(defs, DagsterInstance.ephemeral(), monkeypatch_module, data, half_written=DAYS[1])
    for day in DAYS:
        daemon.play(day, data)
    # A family added on Friday morning: its partition, this week's model and Friday's predictions follow.
    warehouse = DuckDBWarehouse(path=str(home / "warehouse.duckdb"))
    daemon.clock(at(FRIDAY, dt.time(8, 0)))
    save_families(warehouse, [*load_families(warehouse), new_family("v9", "Quantile:alpha=0.40")])
    daemon.play(FRIDAY, data)
    server.clear()
    server.stop()

    # The replay of the same days from the same files, in another home, deciding at the slate's time.
    reference = root / "replay"
    monkeypatch_module.delenv("BESTBETS_TODAY")
    monkeypatch_module.setenv("BESTBETS_HOME", str(reference))
    monkeypatch_module.setenv("DAGSTER_HOME", str(reference / "dagster"))
    from bestbets_dagster.replay import run_replay

    run_replay(
        DAYS[0], DAYS[-1], None, instance=DagsterInstance.ephemeral(), selection=SELECTION, decision_time_of_day=SLATE
    )
    return daemon, warehouse, DuckDBWarehouse(path=str(reference / "warehouse.duckdb")), data


@pytest.mark.parametrize("table", TABLES)
def test_the_daily_cycle_writes_what_the_replay_writes(cycle, table):
    _, loop, replay, _ = cycle
    start, end = (DAYS[0], DAYS[-1])
    if table in HISTORY_TABLES:
        start = dt.date(2024, 10, 22)
    if table == "training_windows":
        start = end = dt.date(2025, 11, 17)
    ours = loop.read(table, start, end)
    theirs = replay.read(table, start, end)
    if "model_family" in ours.columns:
        ours = ours[ours["model_family"] != "v9_q40"]
    assert len(theirs) > 0 or table == "game_lines", table  # the recorded snapshots hold no game markets
    pd.testing.assert_frame_equal(_comparable(ours), _comparable(theirs), obj=table)


def test_a_box_score_file_caught_half_written_is_made_whole_by_the_next_tick(cycle):
    """The night of DAYS[1] stored from half its file, then the file completed: the next tick ingested it
    again and graded it again, and every table equals the replay's (the test above)."""
    daemon, loop, replay, _ = cycle
    day = DAYS[1]
    whole = replay.read("player_game_logs", day, day)
    assert daemon.stored_half == [len(whole) // 2] and len(whole) > 100
    assert len(loop.read("player_game_logs", day, day)) == len(whole)
    ingests = [run for run in daemon.runs if run.startswith("box_scores_job") and f"'{day}'" in run]
    assert len(ingests) == 2, daemon.runs
    graded = loop.read("prediction_accuracy", day, day)
    assert len(graded) == len(replay.read("prediction_accuracy", day, day)) > 0


def test_the_downloaders_filled_the_data_directory(cycle):
    daemon, _, _, data = cycle
    # The night's box scores, one file per day, each downloaded the morning after.
    assert sorted(p.name for p in (data / "box_scores").glob("*_2025-11-*")) == [
        f"player_game_logs_{d}.csv.gz" for d in DAYS
    ]
    snapshots = sorted(p.name for p in (data / "odds_api_v4").glob("odds_*"))
    first_day = [s for s in snapshots if s.startswith("odds_20251118_")]
    # 10:00, 12:00, 15:00, 18:00 (15:00-23:00 UTC), then the closings: 19:00, 19:30, 20:00 and 22:30 EST
    assert first_day == [f"odds_20251118_{t}.json.gz" for t in ("150000", "170000", "200000", "230000")]
    closings = [s for s in snapshots if s.startswith("odds_20251119_0")]
    assert closings == [f"odds_20251119_{t}.json.gz" for t in ("000000", "003000", "010000", "033000", "040000")]
    assert sum(run.startswith("box_score_download_job") for run in daemon.runs) == len(DAYS)


def test_the_decision_read_the_snapshots_before_it_and_a_line_that_moved_before_it(cycle):
    _, loop, _, _ = cycle
    lines = loop.read("player_game_lines", DAYS[0], DAYS[0])
    assert (lines["decision_time"] == pd.Timestamp("2025-11-18T17:30Z")).all()
    assert (lines["line_snapshot_time"] == pd.Timestamp("2025-11-18T17:00Z")).all()  # the 12:00 snapshot
    moved = lines[lines["player_name"] == MOVED_PLAYER].iloc[0]
    assert (moved["selected_book"], moved["opening_line"], moved["selected_line"]) == ("draftkings", 24.5, 25.5)
    features = loop.read("player_features", DAYS[0], DAYS[0])
    assert features.loc[features["person_id"] == moved["person_id"], "vegas_line_move"].item() == 1.0
    decisions = loop.read("best_bets_decisions", DAYS[0], DAYS[-1])
    assert (decisions["decision_time"].dt.tz_convert(EASTERN).dt.strftime("%H:%M") == "12:30").all()


def test_every_pick_and_candidate_has_its_closing_line_value(cycle):
    _, loop, _, _ = cycle
    graded = loop.read("best_bets_accuracy", DAYS[0], DAYS[-1])
    assert len(graded) > 0 and (graded["clv_status"] == "measured").all()
    # Every line rose half a point after the decision: an OVER beat the close by +0.5, an UNDER lost it.
    assert graded["clv_points"].tolist() == graded["recommendation"].map({"OVER": 0.5, "UNDER": -0.5}).tolist()
    assert ((graded["clv_probability"] > 0) == (graded["recommendation"] == "OVER")).all()
    # The same for every candidate of the days, each at its shopped book and line.
    candidates = loop.read("pick_signal_tags", DAYS[0], DAYS[-1])
    bets = candidates.rename(columns={"bet_price": "price"})
    clv = closing_line_value(
        bets,
        closing_lines(loop.read("prop_lines", DAYS[0], DAYS[-1])),
        decision_times_of(loop.read("player_game_lines", DAYS[0], DAYS[-1])),
    )
    measured = clv["clv_status"] == "measured"
    assert measured.mean() > 0.95 and len(candidates) > 20
    expected = candidates["recommendation"].map({"OVER": 0.5, "UNDER": -0.5})
    assert (clv.loc[measured, "clv_points"] == expected[measured]).all()


def test_a_family_added_in_the_morning_predicts_that_day(cycle):
    daemon, loop, _, _ = cycle
    predictions = loop.read("predictions", DAYS[0], FRIDAY, family="v9_q40")
    assert set(pd.to_datetime(predictions["game_date"]).dt.date) == {FRIDAY}
    assert len(predictions) == len(loop.read("predictions", FRIDAY, FRIDAY, family="v9_mae")) > 0
    assert any(run.startswith("retrain_job") and "v9_q40" in run for run in daemon.runs), daemon.runs
    # and every day of the loop made its picks once its families had predicted
    decisions = loop.read("best_bets_decisions", DAYS[0], FRIDAY)
    assert sorted(pd.to_datetime(decisions["game_date"]).dt.date) == [*DAYS, FRIDAY]


def test_the_models_are_the_replays(cycle):
    _, loop, replay, _ = cycle
    ours = loop.read("model_registry")
    theirs = replay.read("model_registry")
    ours = ours[ours["model_family"] != "v9_q40"]
    columns = ["model_id", "sha256_hash", "training_samples", "evaluation_mae", "status"]
    pd.testing.assert_frame_equal(_comparable(ours[columns]), _comparable(theirs[columns]))


def test_the_key_is_in_no_file_run_or_event_of_the_cycle(cycle):
    daemon, loop, _, data = cycle
    home = Path(loop.path).parent
    files = [p for root in (home, data) for p in root.rglob("*") if p.is_file()]
    assert len(files) > 100 and not [p for p in files if KEY.encode() in p.read_bytes()]
    runs = daemon.instance.get_runs()
    assert len(runs) > 50
    for run in runs:
        assert KEY not in str(run.run_config) and KEY not in str(run.tags)
        events = daemon.instance.get_records_for_run(run.run_id).records
        assert not [e for e in events if KEY in str(e.event_log_entry)], run.job_name


def test_a_rerun_of_a_decided_day_makes_the_same_picks_after_later_snapshots(cycle):
    """After the day's 15:00, 18:00 and closing snapshots (every line half a point higher), the lines and
    the picks of a decided date re-materialized from the UI (no tags) are those of its 12:30 decision."""
    daemon, loop, _, _ = cycle
    day = str(DAYS[1])
    before = {t: _comparable(loop.read(t, DAYS[1], DAYS[1])) for t in ("player_game_lines", "signal_best_bets_picks")}
    assert len(before["signal_best_bets_picks"]) > 0
    daemon.clock(at(FRIDAY, dt.time(16, 0)))
    for job in ("slate_job", "slate_best_bets_job"):
        result = daemon.defs.resolve_job_def(job).execute_in_process(
            instance=daemon.instance,
            partition_key=day,
            run_config=PICKING_CONFIG if job in PICKING_JOBS else None,
        )
        assert result.success
    for table, rows in before.items():
        pd.testing.assert_frame_equal(_comparable(loop.read(table, DAYS[1], DAYS[1])), rows, obj=table)
