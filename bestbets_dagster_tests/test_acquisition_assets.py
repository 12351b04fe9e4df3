"""The acquisition layer through Dagster, against the local stand-ins of The Odds API and NBA.com: the
snapshot asset (usage, the credit floor's alert row, the key nowhere in the instance), the schedules and
sensors that start the downloads on the supported clock (BESTBETS_TODAY), the freshness sensor's alert
rows, and `bestbets fetch` as a user runs it."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from dagster import DagsterInstance, build_schedule_context, build_sensor_context, materialize
from pytest_httpserver import HTTPServer

from bestbets_dagster import settings
from bestbets_dagster_tests.conftest import DATA_DIR
from bestbets_dagster_tests.fake_sources import FakeNbaStats, FakeOddsApi

KEY = "test-key-9a41d7"
DAY = dt.date(2025, 11, 18)
FIRST_TIP = "2025-11-19T00:10Z"  # Golden State @ Orlando, 19:10 US Eastern


@pytest.fixture()
def fakes(tmp_path, monkeypatch):
    server = HTTPServer()
    server.start()
    odds, nba = FakeOddsApi(server, DATA_DIR, KEY), FakeNbaStats(server, DATA_DIR)
    data = tmp_path / "data"
    for folder in ("box_scores", "team_game_logs", "odds_api_v4"):
        (data / folder).mkdir(parents=True)
    monkeypatch.setenv("BESTBETS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))
    monkeypatch.setenv("BESTBETS_DATA_DIR", str(data))
    monkeypatch.setenv("BESTBETS_ODDS_API_URL", odds.url)
    monkeypatch.setenv("BESTBETS_NBA_STATS_URL", nba.url)
    monkeypatch.setenv("ODDS_API_KEY", KEY)
    yield odds, nba, data
    server.clear()
    server.stop()


def _clock(monkeypatch, moment: str) -> None:
    monkeypatch.setenv("BESTBETS_TODAY", moment)


def _defs():
    from bestbets_dagster.definitions import build_definitions

    return build_definitions()


def _resources():
    from bestbets_dagster.defs.resources import local_resources

    return local_resources()


def _snapshot(instance, monkeypatch, moment: str, **config):
    from bestbets_dagster.defs.acquisition import odds_api_snapshots

    _clock(monkeypatch, moment)
    resources = _resources()
    return materialize(
        [odds_api_snapshots],
        partition_key=str(DAY),
        instance=instance,
        resources={k: resources[k] for k in ("odds_api", "nba_data", "warehouse")},
        run_config={"ops": {"odds_api_snapshots": {"config": config}}},
    )


def test_a_snapshot_materialization_shows_its_file_events_and_credits_and_never_the_key(fakes, monkeypatch):
    odds, _, data = fakes
    instance = DagsterInstance.ephemeral()
    result = _snapshot(instance, monkeypatch, "2025-11-18T10:00:00-05:00")
    assert result.success
    metadata = {k: v.value for k, v in result.asset_materializations_for_node("odds_api_snapshots")[0].metadata.items()}
    assert metadata["file"] == str(data / "odds_api_v4" / "odds_20251118_150000.json.gz")
    assert (metadata["events"], metadata["credits_spent"], metadata["credits_remaining"]) == (6, 15, 19_985)
    assert metadata["historical"] is False and metadata["kind"] == "scheduled"
    # The key is in no event, run record, config or file.
    records = instance.get_records_for_run(result.run_id).records
    stored = " ".join(str(r.event_log_entry) for r in records)
    run = instance.get_run_by_id(result.run_id)
    assert KEY not in stored and KEY not in str(run.run_config) and KEY not in str(run.tags)
    assert KEY not in gzip.open(metadata["file"], "rt").read()
    assert "ODDS_API_KEY" not in stored or KEY not in stored


def test_credits_under_the_floor_fail_the_check_and_leave_one_alert_row(fakes, monkeypatch):
    odds, _, _ = fakes
    odds.remaining = 1_500  # under the default floor of 2,000
    monkeypatch.setenv("BESTBETS_ODDS_CREDIT_FLOOR", "2000")
    instance = DagsterInstance.ephemeral()
    result = _snapshot(instance, monkeypatch, "2025-11-18T10:00:00-05:00")
    (check,) = result.get_asset_check_evaluations()
    assert (check.check_name, check.passed, check.severity.value) == ("credits_above_floor", False, "WARN")
    _snapshot(instance, monkeypatch, "2025-11-18T12:00:00-05:00")  # found again: still one row, not sent twice
    alerts = _resources()["warehouse"].read("source_alerts")
    assert alerts[["alert_type", "subject", "severity"]].values.tolist() == [["odds_credits", "odds_api", "WARN"]]
    assert alerts["message"].item() == "1470 Odds API credits left, under the floor of 2000"


def test_a_bad_key_fails_the_run_once_with_the_variable_named(fakes, monkeypatch):
    monkeypatch.setenv("ODDS_API_KEY", "wrong")
    from bestbets_dagster.defs.acquisition import odds_api_snapshots

    _clock(monkeypatch, "2025-11-18T10:00:00-05:00")
    resources = _resources()
    result = materialize(
        [odds_api_snapshots],
        partition_key=str(DAY),
        instance=DagsterInstance.ephemeral(),
        resources={k: resources[k] for k in ("odds_api", "nba_data", "warehouse")},
        raise_on_error=False,
    )
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "The Odds API refused the key in ODDS_API_KEY (INVALID_KEY)" in failure.message
    assert len(fakes[0].requests) == 1  # not retried: a key does not come right by waiting


def test_the_snapshot_schedule_ticks_at_the_configured_times_on_the_supported_clock(fakes, monkeypatch):
    monkeypatch.setenv("BESTBETS_SNAPSHOT_TIMES", "09:30,12:00,17:45")
    defs = _defs()
    schedule = defs.resolve_schedule_def("odds_snapshot_schedule")
    assert list(schedule.cron_schedule) == ["30 9 * * *", "0 12 * * *", "45 17 * * *"]
    # A rehearsal: the wall clock's 17:45 on 2026-12-06, the project's clock on 2025-11-18.
    _clock(monkeypatch, "2025-11-18")
    tick = dt.datetime(2026, 12, 6, 17, 45, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    (request,) = schedule.evaluate_tick(_at(defs, tick)).run_requests
    assert (request.partition_key, request.run_key) == ("2025-11-18", "odds:2025-11-18:1745")
    assert request.run_config == {"ops": {"odds_api_snapshots": {"config": {"kind": "scheduled"}}}}
    slate = defs.resolve_schedule_def("slate_schedule")
    noon = dt.datetime(2026, 12, 6, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    (request,) = slate.evaluate_tick(_at(defs, noon)).run_requests
    assert request.partition_key == "2025-11-18"
    assert request.tags["bestbets/decision_time"] == "2025-11-18T12:30:00-05:00"


def _at(defs, tick: dt.datetime):
    return build_schedule_context(scheduled_execution_time=tick, repository_def=defs.get_repository_def())


def _sensor(defs, name: str, instance=None):
    return defs.resolve_sensor_def(name).evaluate_tick(
        build_sensor_context(
            instance=instance or DagsterInstance.ephemeral(), resources=_resources(), definitions=defs, sensor_name=name
        )
    )


def test_the_closing_sensor_takes_each_game_in_the_15_minutes_before_its_tip_off(fakes, monkeypatch):
    _, _, data = fakes
    shutil.copy(DATA_DIR / "odds_api_v4" / "player_props_2025-10-22.json.gz", data / "odds_api_v4")  # another day
    instance = DagsterInstance.ephemeral()
    assert _snapshot(instance, monkeypatch, "2025-11-18T10:00:00-05:00").success
    defs = _defs()
    _clock(monkeypatch, "2025-11-18T18:50:00-05:00")  # 20 minutes before the first tip-off
    assert _sensor(defs, "closing_snapshot_sensor").skip_message == (
        "no game of 2025-11-18 tips off in the next 15 minutes"
    )
    _clock(monkeypatch, "2025-11-18T19:57:00-05:00")  # the two 20:10 games are due (and only they)
    (request,) = _sensor(defs, "closing_snapshot_sensor").run_requests
    assert request.run_key == "closing:2025-11-18:2025-11-19T01:10Z"
    assert request.run_config["ops"]["odds_api_snapshots"]["config"] == {
        "kind": "closing",
        "event_ids": ["0e5d47b1a4c507af55eafadbd01f0e9d", "21a2823d808c3891e6bec16cbc206cb2"],
    }
    result = _snapshot(instance, monkeypatch, "2025-11-18T19:57:00-05:00", kind="closing", event_ids=[
        "0e5d47b1a4c507af55eafadbd01f0e9d", "21a2823d808c3891e6bec16cbc206cb2"
    ])  # fmt: skip
    metadata = result.asset_materializations_for_node("odds_api_snapshots")[0].metadata
    assert (metadata["events"].value, metadata["credits_spent"].value) == (2, 2 * 2 + 3)


def test_the_download_sensor_asks_for_a_date_once_every_game_is_final(fakes, monkeypatch):
    _, nba, data = fakes
    nba.not_final.add("0022500245")  # a game of 2025-11-17 still on
    _clock(monkeypatch, "2025-11-18T09:00:00-05:00")
    defs = _defs()
    requests = _sensor(defs, "box_score_download_sensor").run_requests
    assert [r.partition_key for r in requests] == ["2025-11-15", "2025-11-16"]
    assert requests[0].run_key == "box-download:2025-11-15:20251118T14"
    nba.not_final.clear()
    for day in ("2025-11-15", "2025-11-16", "2025-11-17"):
        result = defs.resolve_job_def("box_score_download_job").execute_in_process(
            partition_key=day, instance=DagsterInstance.ephemeral(), resources=None
        )
        assert result.success
    assert _sensor(defs, "box_score_download_sensor").skip_message == (
        "the data directory has the box scores of the last days"
    )
    files = sorted(p.name for p in (data / "box_scores").iterdir())
    assert files == [f"player_game_logs_2025-11-1{d}.csv.gz" for d in (5, 6, 7)]


def test_a_box_score_download_of_a_date_not_final_fails_and_writes_nothing(fakes, monkeypatch):
    _, nba, data = fakes
    nba.not_final.add("0022500245")
    _clock(monkeypatch, "2025-11-18T09:00:00-05:00")
    result = (
        _defs()
        .resolve_job_def("box_score_download_job")
        .execute_in_process(partition_key="2025-11-17", instance=DagsterInstance.ephemeral(), raise_on_error=False)
    )
    assert not result.success
    message = result.get_step_failure_events()[0].step_failure_data.error.message
    assert "1 of 8 games of 2025-11-17 are not final yet (0022500245" in message
    assert not list((data / "box_scores").iterdir())


def test_the_freshness_sensor_writes_an_alert_row_when_a_source_is_late(fakes, monkeypatch):
    _, _, data = fakes
    shutil.copy(DATA_DIR / "odds_api_v4" / "player_props_2025-10-22.json.gz", data / "odds_api_v4")
    defs = _defs()
    _clock(monkeypatch, "2025-10-23T09:00:00-04:00")  # before the first snapshot is due: nothing late
    assert _sensor(defs, "source_freshness_sensor").skip_message == "the odds and the box scores are on time"
    _clock(monkeypatch, "2025-10-23T11:00:00-04:00")  # the 10:00 snapshot missing; yesterday's 12 games unboxed
    message = _sensor(defs, "source_freshness_sensor").skip_message
    assert "no Odds API snapshot of 2025-10-23 since the first one was due at 10:00 US Eastern" in message
    assert "no box scores of 2025-10-22 (12 games listed) by 10:00 US Eastern the next morning" in message
    _clock(monkeypatch, "2025-10-23T12:45:00-04:00")  # past the slate: the odds are an error now
    _sensor(defs, "source_freshness_sensor")
    alerts = _resources()["warehouse"].read("source_alerts").sort_values("alert_type")
    assert alerts[["game_date", "alert_type", "severity"]].astype(str).values.tolist() == [
        ["2025-10-22", "box_scores_late", "WARN"],
        ["2025-10-23", "odds_late", "ERROR"],
    ]
    # alerts_to_slack sends them with the monitoring's (to the sensor's log without a Slack token)
    sent = _sensor(defs, "alerts_to_slack")
    (observation,) = sent.asset_events
    assert observation.metadata["sent"].value == 2  # the odds' (the 11:00 WARN escalated in place) and the box scores'
    assert observation.description == "2 alert(s) sent via the sensor log; 0 older ones only stored"


def _cli(*argv: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bestbets_dagster.commands", *argv],
        cwd=settings.PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_bestbets_fetch_against_the_test_servers(fakes, capsys, monkeypatch):
    odds, _, data = fakes
    env = {k: v for k, v in os.environ.items() if k != "BESTBETS_TODAY"}
    # As a user runs it: a new process, the servers named by the environment.
    dry = _cli("fetch", "odds", "--date", "2025-11-18", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        "2025-11-18: 6 events, historical at 2025-11-18 12:00 EST: at most 151 credits",
        "in all at most 151 credits for 1 date(s) (the listings cost 1; 19999 credits left)",
    ]
    fetched = _cli("fetch", "odds", "--date", "2025-11-18", "--at", "11:00", env=env)
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout.startswith(
        "2025-11-18: 6 events at 2025-11-18T16:00:00+00:00 -> "
        f"{data / 'odds_api_v4' / 'odds_20251118_160000.json.gz'}; 151 credits spent, 19848 left"
    )
    assert KEY not in fetched.stdout + fetched.stderr + dry.stdout + dry.stderr
    assert json.loads(gzip.open(data / "odds_api_v4" / "odds_20251118_160000.json.gz", "rt").read())["timestamp"] == (
        "2025-11-18T16:00:00Z"
    )
    # The rest in this process (the same entry point, without a new interpreter each time).
    from bestbets_dagster.commands.main import main

    assert main(["fetch", "box-scores", "--date", "2025-11-18"]) == 0
    assert capsys.readouterr().out.startswith("2025-11-18: 6 games, 160 player rows -> ")
    assert main(["fetch", "box-scores", "--date", "2025-11-18"]) == 0
    assert "nothing written: the data directory already holds box scores of 2025-11-18" in capsys.readouterr().out
    assert len(pd.read_csv(data / "box_scores" / "player_game_logs_2025-11-18.csv.gz")) == 160
    monkeypatch.delenv("ODDS_API_KEY")
    with pytest.raises(SystemExit, match="^the Odds API key is not set: export ODDS_API_KEY$"):
        main(["fetch", "odds", "--date", "2025-11-18"])
