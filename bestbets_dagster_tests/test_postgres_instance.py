"""The production instance on a real PostgreSQL server (Debian's package, started here on a free
port): the dagster.yaml a home gets when DAGSTER_PG_HOST is set keeps runs, event logs and sensor
ticks in PostgreSQL. A ranged materialization writes one run and its materializations there, and
the daemon's tick of model_family_partitions_sensor writes its tick and the dynamic partitions."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest
from dagster import DagsterInstance, DagsterRunStatus, materialize

from bestbets_dagster import settings
from bestbets_dagster.defs.partition_range import range_tags
from bestbets_dagster.models.families import load_families
from bestbets_dagster.resources import DuckDBWarehouse, NbaDataSource
from bestbets_dagster_tests.conftest import stop_process_group, subprocess_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("postgres")]  # one server, the tests in order
START, END = "2025-11-01", "2025-11-03"


def _server_binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))[-1:]), None)
    assert found, f"{name} not found: `make test` installs Debian's postgresql (or `apt-get install postgresql`)"
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of its own (PostgreSQL refuses to run as root: as the postgres user then)."""
    root = Path(tempfile.mkdtemp(prefix="bestbets-pg-"))
    as_owner = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    subprocess.run(
        [*as_owner, _server_binary("initdb"), "-D", str(data), "-U", "dagster", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    pg_ctl = _server_binary("pg_ctl")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [*as_owner, pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        admin = psycopg2.connect(host="127.0.0.1", port=port, user="dagster", dbname="postgres")
        admin.autocommit = True
        admin.cursor().execute("CREATE DATABASE dagster")
        admin.close()
        yield {
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_PORT": str(port),
            "DAGSTER_PG_USERNAME": "dagster",
            "DAGSTER_PG_PASSWORD": "unused-with-trust-auth",
            "DAGSTER_PG_DB": "dagster",
        }
    finally:
        subprocess.run([*as_owner, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def home(postgres, tmp_path_factory):
    """A home whose new instance is configured the way ensure_dagster_home configures it."""
    home = tmp_path_factory.mktemp("pg-home") / "home"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**postgres, "BESTBETS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}.items():
            patch.setenv(name, value)
        settings.ensure_dagster_home()
    assert "postgres_db" in (home / "dagster" / "dagster.yaml").read_text()
    return home


def _query(postgres: dict, sql: str) -> list[tuple]:
    connection = psycopg2.connect(
        host=postgres["DAGSTER_PG_HOST"], port=postgres["DAGSTER_PG_PORT"], user="dagster", dbname="dagster"
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        connection.close()


def test_a_ranged_materialization_is_one_run_in_postgres(postgres, home, monkeypatch):
    from bestbets_dagster.defs import ingest_assets

    for name, value in postgres.items():
        monkeypatch.setenv(name, value)
    warehouse = DuckDBWarehouse(path=str(home / "warehouse.duckdb"))
    with DagsterInstance.from_config(str(home / "dagster")) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = materialize(
            ingest_assets,
            instance=instance,
            resources={"warehouse": warehouse, "nba_data": NbaDataSource(data_dir=str(settings.data_dir()))},
            tags=range_tags(START, END),
        )
        assert result.success
        (run,) = instance.get_runs()
        assert run.status == DagsterRunStatus.SUCCESS and run.run_id == result.run_id
    # What the storage holds, read with SQL: the run, and one materialization per asset and date.
    assert _query(postgres, "SELECT run_id, status FROM runs") == [(result.run_id, "SUCCESS")]
    materialized = _query(
        postgres,
        "SELECT asset_key, partition FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
        "ORDER BY asset_key, partition",
    )
    days = ["2025-11-01", "2025-11-02", "2025-11-03"]
    assets = sorted(f'["{asset.key.path[-1]}"]' for asset in ingest_assets)
    assert materialized == [(asset, day) for asset in assets for day in days]


def test_the_daemon_s_sensor_tick_is_stored_in_postgres(postgres, home):
    """model_family_partitions_sensor (running by default) ticks on the daemon: the tick and the
    dynamic partitions it requests land in PostgreSQL."""
    env = {**subprocess_env(home), **postgres}
    log = open(home / "daemon.log", "w")
    daemon = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "workspace.yaml"],
        cwd=settings.PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            ticks = _query(postgres, "SELECT status FROM job_ticks WHERE selector_id IS NOT NULL")
            partitions = _query(postgres, "SELECT partition FROM dynamic_partitions ORDER BY partition")
            if partitions:
                break
            assert daemon.poll() is None, (home / "daemon.log").read_text()[-3000:]
            time.sleep(3)
    finally:
        stop_process_group(daemon)
        log.close()
    warehouse = DuckDBWarehouse(path=str(home / "warehouse.duckdb"))
    enabled = sorted(f.model_family for f in load_families(warehouse) if f.enabled)
    assert [p for (p,) in partitions] == enabled, (home / "daemon.log").read_text()[-3000:]
    assert ticks and {status for (status,) in ticks} <= {"SUCCESS", "SKIPPED", "STARTED"}
