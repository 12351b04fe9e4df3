"""One writer per home: the lock file `bestbets.lock` a writing command holds (flock) with its pid and
name, and the check every warehouse write makes, so a run Dagster's own CLI, the UI or a sensor starts
while a bestbets command writes refuses instead of mixing its rows with the command's."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from pathlib import Path

LOCK_FILE = "bestbets.lock"
# The pid of the command holding the home's lock, inherited by the processes it starts (Dagster's
# multiprocess executor): their writes are the command's own.
HOLDER_ENV = "BESTBETS_WRITER_PID"


class HomeBusy(RuntimeError):
    """Another bestbets command is writing to this home."""


def _busy(home: Path, holder: str) -> HomeBusy:
    return HomeBusy(
        f"another bestbets command is writing to {home} ({holder or 'unknown'}): "
        "wait for it to finish, or stop it, and run again"
    )


@contextlib.contextmanager
def writing(home: Path, command: str):
    """Hold the home's writer lock for `command`, or raise HomeBusy naming the holder at once."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / LOCK_FILE, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            raise _busy(home, lock.read().strip()) from None
        lock.seek(0)
        lock.truncate()
        lock.write(
            f"pid {os.getpid()}: bestbets {command}, since {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC"
        )
        lock.flush()
        before = os.environ.get(HOLDER_ENV)
        os.environ[HOLDER_ENV] = str(os.getpid())
        try:
            yield
        finally:
            if before is None:
                os.environ.pop(HOLDER_ENV, None)
            else:
                os.environ[HOLDER_ENV] = before
            fcntl.flock(lock, fcntl.LOCK_UN)


def refuse_if_another_writes(home: Path) -> None:
    """Raise HomeBusy when a command other than this process's (or its parent command's) holds the home's
    writer lock. A home without the lock file, or one that cannot be opened, has no writer to respect."""
    try:
        lock = open(home / LOCK_FILE)
    except OSError:
        return
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = lock.read().strip()
            if holder.startswith(f"pid {os.environ.get(HOLDER_ENV, '-')}:"):
                return  # the command holding the lock, or a process it started
            raise _busy(home, holder) from None
        fcntl.flock(lock, fcntl.LOCK_UN)
