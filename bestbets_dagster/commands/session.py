"""What every command shares around its work: the tags of its runs, the sweep of runs left by killed
processes, the home's writer lock, the warehouse checked before use, and the errors told in one line."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import sys

from bestbets_dagster import settings

PID_TAG, HOST_TAG = "bestbets/pid", "bestbets/host"
# The run config of a command's runs: their log at WARNING and above (the whole log is in the UI).
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def cli_run_tags() -> dict[str, str]:
    """Tags of every run this command starts: which process on which machine runs it."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, and another user's
    return True


# A run created and never started (its launcher killed between the two) is dead after this long.
NOT_STARTED_GRACE = dt.timedelta(minutes=10)


def _run_pid(instance, run) -> int | None:
    """The pid that runs `run`: the bestbets command's tag, else the process that logged its start
    (a run Dagster's CLI or the UI started in this instance)."""
    from dagster import DagsterEventType

    if run.tags.get(PID_TAG):
        return int(run.tags[PID_TAG])
    started = instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_START)
    return started[-1].dagster_event.pid if started and started[-1].dagster_event else None


def fail_dead_runs(instance) -> list[str]:
    """Runs left behind by a killed process are marked failed, whoever started them, so the UI tells the
    truth: a run STARTING or STARTED whose process is gone (SIGKILL, a crash, a reboot), and a run NOT_STARTED
    for 10 minutes (created, never launched). A run a bestbets command started on another machine (its host
    tag) is left to that machine; untagged runs are judged only on a local (SQLite) instance, where every
    run's process is on this machine. Returns their ids."""
    from dagster import DagsterRunStatus, RunsFilter

    host, local = socket.gethostname(), not os.environ.get("DAGSTER_PG_HOST")
    records = instance.get_run_records(
        filters=RunsFilter(statuses=[DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED])
    )
    now = dt.datetime.now(dt.timezone.utc)
    failed = []
    for record in records:
        run = record.dagster_run
        if run.tags.get(HOST_TAG, host if local else None) != host:
            continue
        if run.status == DagsterRunStatus.NOT_STARTED:
            pid = int(run.tags.get(PID_TAG, "0"))
            dead = now - record.create_timestamp > NOT_STARTED_GRACE and not (pid and _alive(pid))
            reason = f"it was created {record.create_timestamp:%Y-%m-%d %H:%M} UTC and never started"
        else:
            pid = _run_pid(instance, run)
            dead = bool(pid) and pid != os.getpid() and not _alive(pid)
            reason = f"the process that ran it (pid {pid}) is gone"
        if dead:
            instance.report_run_failed(run, f"marked failed by bestbets: {reason}")
            failed.append(run.run_id)
    if failed:
        print(f"marked {len(failed)} run(s) failed whose process is gone: {', '.join(failed)}", file=sys.stderr)
    return failed


@contextlib.contextmanager
def writing_home(command: str):
    """One writing command per home at a time: a second one refuses at once, naming the first (two
    overlapping builds of one range with different inputs would leave a mix of both). Runs left
    behind by a killed command are marked failed first."""
    from dagster import DagsterInstance

    from bestbets_dagster.home_lock import HomeBusy, writing

    try:
        with writing(settings.bestbets_home(), command):
            fail_dead_runs(DagsterInstance.get())
            warehouse()  # a damaged warehouse stops the command before it writes anything
            yield
    except HomeBusy as busy:
        raise SystemExit(str(busy)) from None


def warehouse():
    """The environment's warehouse, read whole once first (a damaged file fails here, saying what to do)."""
    from bestbets_dagster.defs.resources import current_warehouse

    store = current_warehouse()
    store.verify()
    return store


def user_errors() -> tuple[type[Exception], ...]:
    """The errors whose message is the whole story (file, row, what to do): printed without a traceback.
    Imported when one is raised: the warehouse module imports DuckDB and Dagster."""
    from bestbets_dagster.home_lock import HomeBusy
    from bestbets_dagster.ingest.errors import IngestError
    from bestbets_dagster.resources.warehouse import WarehouseError
    from bestbets_dagster.tables import DataValidationError

    return (IngestError, WarehouseError, DataValidationError, HomeBusy)
