"""What the bench scripts measure besides wall time: the peak RSS of the whole process tree (this
process and every descendant, sampled from /proc), and the wall time spent inside CatBoost's fit and
predict (the model work the pipeline exists for)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def tree_rss_mb(root: int | None = None) -> float:
    """The summed RSS of a process and its descendants, in MB."""
    total, todo = 0, [root or os.getpid()]
    while todo:
        pid = todo.pop()
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
        todo += _children(pid)
    return total / 1024


class PeakMemory:
    """Samples tree_rss_mb() every interval_s on a thread; `peak_mb` after the block."""

    def __init__(self, interval_s: float = 0.25):
        self.interval_s, self.peak_mb = interval_s, 0.0
        self._stop = threading.Event()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, tree_rss_mb())
            self._stop.wait(self.interval_s)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, tree_rss_mb())


class CatBoostClock:
    """Wall seconds during which at least one CatBoostRegressor.fit or .predict runs while the block
    runs (in this process: the replay and the jobs run in process). Fits on parallel threads overlap:
    `seconds` counts the wall time covered (the union), `busy_seconds` the sum of every call's."""

    def __init__(self):
        self.seconds = 0.0
        self.busy_seconds = 0.0
        self._active = 0
        self._since = 0.0
        self._lock = threading.Lock()

    def _enter(self) -> float:
        now = time.perf_counter()
        with self._lock:
            if self._active == 0:
                self._since = now
            self._active += 1
        return now

    def _leave(self, began: float) -> None:
        now = time.perf_counter()
        with self._lock:
            self._active -= 1
            self.busy_seconds += now - began
            if self._active == 0:
                self.seconds += now - self._since

    @contextlib.contextmanager
    def installed(self):
        from catboost import CatBoostRegressor

        originals = {name: getattr(CatBoostRegressor, name) for name in ("fit", "predict")}

        def timed(original):
            def wrapper(*args, **kwargs):
                began = self._enter()
                try:
                    return original(*args, **kwargs)
                finally:
                    self._leave(began)

            return wrapper

        for name, original in originals.items():
            setattr(CatBoostRegressor, name, timed(original))
        try:
            yield self
        finally:
            for name, original in originals.items():
                setattr(CatBoostRegressor, name, original)


def fresh_home(prefix: str) -> Path:
    """An empty BESTBETS_HOME (and DAGSTER_HOME in it) for this process, SQLite instance as a user gets."""
    home = Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-")) / "home"
    os.environ["BESTBETS_HOME"] = str(home)
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    from bestbets_dagster import settings

    settings.ensure_dagster_home()
    return home


def print_result(figures: dict) -> None:
    """The figures, last, as one line of JSON."""
    print(json.dumps(figures, sort_keys=True))
