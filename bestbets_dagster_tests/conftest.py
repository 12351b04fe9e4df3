"""Shared fixtures. Tests read the real data from ../shared/data/nba (BESTBETS_DATA_DIR overrides)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest

from bestbets_dagster import settings

DATA_DIR = settings.data_dir()
# The first game date of the shared box scores (2024-25 opening night): the ranged ingestion starts there.
DATA_FIRST_GAME_DATE = "2024-10-22"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "box_scores").is_dir():
        pytest.fail(f"the real data is missing at {DATA_DIR} (set BESTBETS_DATA_DIR)")
    return DATA_DIR


@pytest.fixture()
def isolated_home(tmp_path, monkeypatch) -> Path:
    """A fresh BESTBETS_HOME and DAGSTER_HOME for one test."""
    home = tmp_path / "home"
    monkeypatch.setenv("BESTBETS_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    monkeypatch.setenv("BESTBETS_DATA_DIR", str(DATA_DIR))
    return home


@pytest.fixture(scope="session")
def real_player_logs(data_dir) -> pd.DataFrame:
    from bestbets_dagster.ingest.box_scores import load_player_game_logs

    return load_player_game_logs(data_dir)


ACCURACY_COLUMNS = ["game_date", "model_family", "person_id", "prediction_correct", "recommendation"]


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def run_in_project(argv: list[str], env: dict[str, str] | None, timeout: int = 600) -> subprocess.CompletedProcess:
    """A command run from the project's root, output captured as text."""
    return subprocess.run(argv, cwd=settings.PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def run_cli(
    home: Path, *argv: str, timeout: int = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`bestbets *argv` in a subprocess on `home` and the shared data (or `env`), output captured."""
    return run_in_project(
        [sys.executable, "-m", "bestbets_dagster.commands", *argv], env or subprocess_env(home), timeout
    )


@contextlib.contextmanager
def home_instance(home: Path):
    """The Dagster instance of a home as its commands open it: DagsterInstance.get() with DAGSTER_HOME
    = home/dagster (the embedded event log finds its files from DAGSTER_HOME, as Dagster's CLI and
    `dagster dev` do; DagsterInstance.from_config(dir) would not tell it the directory)."""
    from dagster import DagsterInstance

    with mock.patch.dict(os.environ, {"DAGSTER_HOME": str(home / "dagster")}), DagsterInstance.get() as instance:
        yield instance


def stop_process_group(process: subprocess.Popen) -> None:
    """SIGTERM to a server started with start_new_session=True and everything it started (webserver,
    daemon, code servers), SIGKILL if it has not stopped within a minute."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def subprocess_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "BESTBETS_HOME": str(home),
            "DAGSTER_HOME": str(home / "dagster"),
            "BESTBETS_DATA_DIR": str(DATA_DIR),
        }
    )
    return env


@pytest.fixture(scope="session")
def ingested(tmp_path_factory, data_dir):
    """Both seasons of the real data ingested through Dagster in one ranged run (ephemeral instance)."""
    from dagster import DagsterInstance, materialize

    from bestbets_dagster.defs import ingest_assets
    from bestbets_dagster.defs.partition_range import range_tags
    from bestbets_dagster.resources import DuckDBWarehouse, NbaDataSource

    warehouse = DuckDBWarehouse(path=str(tmp_path_factory.mktemp("wh") / "warehouse.duckdb"))
    result = materialize(
        ingest_assets,
        instance=DagsterInstance.ephemeral(),
        resources={"warehouse": warehouse, "nba_data": NbaDataSource(data_dir=str(data_dir))},
        tags=range_tags(DATA_FIRST_GAME_DATE, "2026-02-09"),
    )
    assert result.success
    return warehouse, result


@pytest.fixture(scope="session")
def built(ingested):
    """`ingested` plus player_features over both seasons, in one ranged run."""
    from dagster import DagsterInstance, materialize

    from bestbets_dagster.defs import feature_assets
    from bestbets_dagster.defs.partition_range import range_tags

    warehouse, _ = ingested
    if warehouse.read("player_features", "2026-02-09", "2026-02-09", columns=["game_date"]).empty:
        result = materialize(
            feature_assets,
            instance=DagsterInstance.ephemeral(),
            resources={"warehouse": warehouse},
            tags=range_tags(DATA_FIRST_GAME_DATE, "2026-02-09"),
        )
        assert result.success
    return warehouse


@pytest.fixture(scope="session")
def signal_rows(built):
    """Every resolved lined player-game of 2025-11-01..12-06 with its signal context and features."""
    warehouse = built
    lines = warehouse.read("player_game_lines", "2025-10-15", "2025-12-06")
    logs = warehouse.read("player_game_logs", DATA_FIRST_GAME_DATE, "2025-12-06")
    teams = warehouse.read("team_game_logs", DATA_FIRST_GAME_DATE, "2025-12-06")
    features = warehouse.read(
        "player_features", "2025-11-01", "2025-12-06", columns=["game_date", "person_id", "available_quality_score"]
    )
    t = lines[lines["person_id"].notna() & (pd.to_datetime(lines["game_date"]) >= "2025-11-01")].copy()
    t["person_id"] = t["person_id"].astype("int64")
    t = t.rename(columns={"selected_line": "line_value", "line_std": "multi_book_line_std"})
    t["line_value"] = t["line_value"].astype(float)
    t["model_family"] = "v9_mae"
    t = t.reset_index(drop=True)
    from bestbets_dagster.signals.context import signal_context

    context = signal_context(t, logs, teams, lines, pd.DataFrame(columns=ACCURACY_COLUMNS))
    frame = pd.concat([t, context], axis=1)
    frame = frame.merge(
        features.assign(game_date=pd.to_datetime(features["game_date"]).astype("datetime64[ns]")),
        on=["game_date", "person_id"],
        how="left",
    )
    frame["model_health_status"] = "healthy"
    return frame, logs, lines


@pytest.fixture(scope="session")
def replay(tmp_path_factory):
    """The README's main command, from a fresh BESTBETS_HOME."""
    home = tmp_path_factory.mktemp("replay") / "home"
    result = run_cli(home, "replay", "--start", "2025-10-21", "--end", "2025-12-06", timeout=1200)
    assert result.returncode == 0, result.stderr[-4000:]
    return home, result.stdout


class _EmulatorThread:
    """bqemulator's server on its own thread and event loop (its bundled runner lives in a package
    that imports testcontainers, which this project does not need)."""

    def __init__(self, emulator_settings):
        from bqemulator.server import EmulatorServer

        self.server = EmulatorServer(emulator_settings)
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bigquery-emulator", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start())
        except BaseException as error:  # noqa: BLE001 - surfaced by start()
            self._error = error
            self._started.set()
            return
        self._started.set()
        self._loop.run_forever()

    def start(self) -> None:
        self._thread.start()
        if not self._started.wait(timeout=90) or self._error is not None:
            raise RuntimeError(f"the BigQuery emulator did not start: {self._error}")

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


@pytest.fixture(scope="session")
def gcp_emulators():
    """BigQuery (bqemulator) and GCS (gcp-storage-emulator) in this process on 127.0.0.1, with the
    environment BESTBETS_ENV=gcp reads. Two offline workarounds: the DuckDB spatial extension (a
    download, needed only for GEOGRAPHY, which no table here has) is not loaded, and the upload route
    accepts the google client's `*/*` media part."""
    import socket

    import bqemulator.api.routes.upload as upload
    import bqemulator.storage.engine as engine
    from bqemulator.config import PersistenceMode, Settings
    from gcp_storage_emulator.server import create_server

    engine.DuckDBEngine._load_spatial = lambda self: None
    upload._PERMITTED_MEDIA_CONTENT_TYPES = (*upload._PERMITTED_MEDIA_CONTENT_TYPES, "*/*")
    bq = _EmulatorThread(
        Settings(
            persistence_mode=PersistenceMode.EPHEMERAL,
            rest_host="127.0.0.1",
            rest_port=0,
            grpc_host="127.0.0.1",
            grpc_port=0,
        )
    )
    bq.start()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        gcs_port = sock.getsockname()[1]
    gcs = create_server("127.0.0.1", gcs_port, in_memory=True, default_bucket="bestbets-test")
    gcs.start()
    env = {
        "BIGQUERY_EMULATOR_HOST": f"http://127.0.0.1:{bq.server.rest_port}",
        "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{gcs_port}",
        "BESTBETS_GCP_PROJECT": "bestbets-test",
        "BESTBETS_GCS_BUCKET": "bestbets-test",
    }
    try:
        yield env
    finally:
        gcs.stop()
        bq.stop()


def raw_points_offers(data_dir: Path) -> pd.DataFrame:
    """Every player_points offer of the raw odds files, read without the project's ingest code: one row
    per (event, book, player, snapshot) with the game's Eastern date and whether it was pre-game. The
    row counts the tests expect are derived from this, so adding raw files changes them by itself."""
    import gzip
    import json
    import re

    frames = []
    for path in sorted((data_dir / "odds_api_snapshots").glob("raw_*.csv*")):
        raw = pd.read_csv(path, dtype=str)
        raw = raw[raw["market"] == "player_points"]
        stamp = re.search(r"(\d{8})_(\d{6})", path.name)
        frames.append(
            pd.DataFrame(
                {
                    "event_id": raw["event_id"],
                    "bookmaker": raw["bookmaker"].str.strip().str.lower(),
                    "player": raw["player"].str.strip(),
                    "snapshot_time": pd.Timestamp("".join(stamp.groups()), tz="UTC"),
                    "commence_time": pd.to_datetime(raw["game_time"], utc=True),
                    "home_team": raw["game"].str.split(" @ ").str[1].str.strip(),
                }
            )
        )
    records = []
    for path in sorted((data_dir / "odds_api_v4").glob("*.json*")):
        with gzip.open(path, "rt") if path.name.endswith(".gz") else open(path) as fh:
            document = json.load(fh)
        for event in document["data"]:
            for book in event["bookmakers"]:
                for market in book["markets"]:
                    if market["key"] == "player_points":
                        records += [
                            (
                                event["id"],
                                book["key"].lower(),
                                outcome["description"].strip(),
                                document["timestamp"],
                                event["commence_time"],
                                event["home_team"],
                            )
                            for outcome in market["outcomes"]
                        ]
    frames.append(
        pd.DataFrame.from_records(
            records, columns=["event_id", "bookmaker", "player", "snapshot_time", "commence_time", "home_team"]
        )
    )
    offers = pd.concat(frames, ignore_index=True)
    for column in ("snapshot_time", "commence_time"):
        offers[column] = pd.to_datetime(offers[column], utc=True)
    offers = offers.drop_duplicates(["event_id", "bookmaker", "player", "snapshot_time"]).reset_index(drop=True)
    offers["game_date"] = offers["commence_time"].dt.tz_convert("America/New_York").dt.tz_localize(None).dt.normalize()
    offers["pre_game"] = offers["snapshot_time"] < offers["commence_time"]
    return offers


def raw_counts(data_dir: Path, start: str | None = None, end: str | None = None) -> dict[str, int]:
    """prop_lines rows (one main line per event, book, player and snapshot) and lined player-games
    (distinct event and player with a pre-game line) of the raw files, game dates in [start, end]."""
    offers = raw_points_offers(data_dir)
    if start:
        offers = offers[offers["game_date"] >= pd.Timestamp(start)]
    if end:
        offers = offers[offers["game_date"] <= pd.Timestamp(end)]
    lined = offers[offers["pre_game"]].drop_duplicates(["event_id", "player"])
    # Games with a box score (Cup finals and playoffs have none): the home team's box-score row that date.
    from bestbets_dagster.ingest.teams import team_abbr

    box = pd.concat(
        pd.read_csv(p, usecols=["game_date", "team_abbr"]) for p in sorted((data_dir / "box_scores").glob("*.csv*"))
    )
    boxed = set(zip(pd.to_datetime(box["game_date"]), box["team_abbr"]))
    with_box = [(day, team_abbr(home)) in boxed for day, home in zip(lined["game_date"], lined["home_team"])]
    return {
        "prop_lines": len(offers),
        "lined_player_games": len(lined),
        "lined_player_games_with_box_score": int(sum(with_box)),
    }


# The slow tier, run by CI beside the fast one: a test that uses a fixture built through Dagster (both seasons
# ingested, a replay, the daily cycle, the reliability corpus's home of three weeks) or a service (the
# emulators, PostgreSQL), or that starts a process (a `bestbets` command, Dagster's CLI, a second writer).
# `pytest -m "not slow"` is the fast tier: unit tests on small frames and in-process checks.
BUILT_THROUGH_DAGSTER = {"ingested", "built", "signal_rows", "replay", "cycle", "base", "graph"}
END_TO_END_FIXTURES = BUILT_THROUGH_DAGSTER | {"gcp_emulators", "postgres"}
STARTS_A_PROCESS = ("run_cli(", "run_in_project(", "subprocess.", "_cli(")


def _starts_a_process(item) -> bool:
    import inspect

    try:
        source = inspect.getsource(item.function)
    except (OSError, TypeError):
        return False
    return any(call in source for call in STARTS_A_PROCESS)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if END_TO_END_FIXTURES & set(getattr(item, "fixturenames", ())) or _starts_a_process(item):
            item.add_marker(pytest.mark.slow)
