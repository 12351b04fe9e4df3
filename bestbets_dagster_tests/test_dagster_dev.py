"""The real servers: `dagster dev` (webserver and daemon) on 127.0.0.1 with a temporary DAGSTER_HOME
on a copy of the replay's warehouse; a partition-range backfill of the monitoring assets launched
through GraphQL, as the UI launches it, runs to completion and writes the rows the replay wrote."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pandas as pd
import pytest

from bestbets_dagster import settings
from bestbets_dagster.resources import DuckDBWarehouse
from bestbets_dagster_tests.conftest import stop_process_group, subprocess_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("replay")]

MONITORING = ["signal_health_daily", "model_performance_daily", "monitoring_alerts"]
START, END = "2025-11-01", "2025-11-07"

LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on PartitionKeysNotFoundError { message }
    ... on InvalidSubsetError { message }
  }
}"""
STATUS = """
query Status($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status numPartitions }
    ... on PythonError { message }
  }
}"""
RUNS = "query Runs { runsOrError { ... on Runs { results { runId status } } } }"


def _graphql(port: int, query: str, variables: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body
    return body["data"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def render(url: str, out_dir, name: str) -> tuple[str, str]:
    """Headless Chromium on `url`: (the DOM after scripts ran, the console lines); the screenshot
    lands in out_dir/name.png. Flags: no sandbox (root), nothing that calls out of this machine."""
    assert CHROMIUM, "chromium not found: `make test` installs Debian's chromium, or `apt-get install chromium`"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={out_dir / ('profile-' + name)}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1400,1000",
        "--virtual-time-budget=15000",  # let the page's scripts run and its queries answer
    ]
    shot = subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={out_dir / (name + '.png')}", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    console = [line for line in (shot.stderr + dom.stderr).splitlines() if ":CONSOLE" in line]
    assert (out_dir / (name + ".png")).stat().st_size > 20_000, shot.stderr[-2000:]  # a page, not a blank
    return dom.stdout, "\n".join(console)


def _wait_until(check, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def test_a_backfill_launched_through_graphql_runs_on_the_daemon(replay, tmp_path):
    stored_home, _ = replay
    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    shutil.copy(stored_home / "warehouse.duckdb", home / "warehouse.duckdb")
    shutil.copytree(stored_home / "artifacts", home / "artifacts")
    (home / "dagster" / "dagster.yaml").write_text(settings.INSTANCE_CONFIG)  # as a new home has it
    warehouse = DuckDBWarehouse(path=str(home / "warehouse.duckdb"))
    expected = {t: warehouse.read(t, START, END) for t in MONITORING}
    for table in MONITORING:  # the backfill must write them again
        warehouse.replace_partitions(table, pd.DataFrame(), START, END)

    port = _free_port()
    log = open(tmp_path / "dagster_dev.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=settings.PROJECT_ROOT,
        env=subprocess_env(home),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # its own process group: webserver, daemon and code servers stop together
    try:

        def ready():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                    return True
            except (urllib.error.URLError, ConnectionError, OSError):
                assert server.poll() is None, (tmp_path / "dagster_dev.log").read_text()[-3000:]
                return False

        _wait_until(ready, 180, "the webserver")
        days = [str(d.date()) for d in pd.date_range(START, END)]
        launched = _graphql(
            port,
            LAUNCH,
            {
                "params": {
                    "partitionNames": days,
                    "assetSelection": [{"path": [name]} for name in MONITORING],
                    "title": "monitoring backfill from the test",
                }
            },
        )["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]

        def finished():
            status = _graphql(port, STATUS, {"id": backfill_id})["partitionBackfillOrError"]
            assert status["__typename"] == "PartitionBackfill", status
            return status if status["status"] not in ("REQUESTED", "CANCELING", "FAILING") else None

        status = _wait_until(finished, 600, f"backfill {backfill_id}")
        assert status["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), (
            status,
            (tmp_path / "dagster_dev.log").read_text()[-3000:],
        )
        assert status["numPartitions"] == len(days)
        # A backfill of a range is one run (single-run backfill policy), not one run per date.
        runs = _graphql(port, RUNS, {})["runsOrError"]["results"]
        assert [run["status"] for run in runs] == ["SUCCESS"], runs
        # The UI as a person sees it: the asset's partitions page renders, with no script error.
        dom, console = render(f"http://127.0.0.1:{port}/assets/monitoring_alerts?view=partitions", tmp_path, "ui")
        assert "monitoring_alerts" in dom and "Partitions" in dom, dom[-2000:]
        assert "Uncaught" not in console and "Error" not in console, console
    finally:
        stop_process_group(server)
        log.close()
    when = {"computed_at", "created_at"}
    for table in MONITORING:
        found = warehouse.read(table, START, END)
        assert len(found) == len(expected[table]) > 0, table
        columns = [c for c in found.columns if c not in when]
        pd.testing.assert_frame_equal(found[columns], expected[table][columns], obj=table)
