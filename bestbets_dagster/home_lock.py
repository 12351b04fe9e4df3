"""One writer per home: the lock `bestbets.lock` a writing command holds (filelock, the library the
warehouse's own lock uses), its holder named in `bestbets.holder`, and the check every warehouse write
makes, so a run Dagster's own CLI, the UI or a sensor starts while a bestbets command writes refuses
instead of mixing its rows with the command's."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path

import filelock

LOCK_FILE = "bestbets.lock"
HOLDER_FILE = "bestbets.holder"
# The pid of the command holding the home's lock, inherited by the processes it starts (Dagster's
# multiprocess executor): their writes are the command's own.
HOLDER_ENV = "BESTBETS_WRITER_PID"
# A check takes the lock for an instant: two checks, or a command starting during one, wait this long
# at most for each other; a command holds it for its whole run, and a check gives up on it after this.
CHECK_WAIT_S = 2.0


class HomeBusy(RuntimeError):
    """Another bestbets command is writing to this home."""


def _holder(home: Path) -> str:
    try:
        return (home / HOLDER_FILE).read_text().strip()
    except OSError:
        return ""


def _busy(home: Path) -> HomeBusy:
    return HomeBusy(
        f"another bestbets command is writing to {home} ({_holder(home) or 'unknown'}): "
        "wait for it to finish, or stop it, and run again"
    )


@contextlib.contextmanager
def writing(home: Path, command: str):
    """Hold the home's writer lock for `command`, or raise HomeBusy naming the holder."""
    home.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(home / LOCK_FILE)
    try:
        lock.acquire(timeout=CHECK_WAIT_S)
    except filelock.Timeout:
        raise _busy(home) from None
    before = os.environ.get(HOLDER_ENV)
    try:
        now = dt.datetime.now(dt.timezone.utc)
        (home / HOLDER_FILE).write_text(f"pid {os.getpid()}: bestbets {command}, since {now:%Y-%m-%d %H:%M:%S} UTC")
        os.environ[HOLDER_ENV] = str(os.getpid())
        yield
    finally:
        if before is None:
            os.environ.pop(HOLDER_ENV, None)
        else:
            os.environ[HOLDER_ENV] = before
        (home / HOLDER_FILE).unlink(missing_ok=True)  # it names the holder while there is one
        lock.release()


def refuse_if_another_writes(home: Path) -> None:
    """Raise HomeBusy when a command other than this process's (or its parent command's) holds the home's
    writer lock. A home without the lock file, or one whose lock cannot be opened (read-only), has no
    writer to respect."""
    if not (home / LOCK_FILE).exists():
        return
    if os.environ.get(HOLDER_ENV) and _holder(home).startswith(f"pid {os.environ[HOLDER_ENV]}:"):
        return  # the command holding the lock, or a process it started
    lock = filelock.FileLock(home / LOCK_FILE)
    try:
        lock.acquire(timeout=CHECK_WAIT_S)
    except filelock.Timeout:
        raise _busy(home) from None
    except OSError:
        return
    lock.release()
