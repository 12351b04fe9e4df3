"""A season backfill from an empty home: the whole graph over 2024-10-22..2025-12-06 (ingest and
features, weekly training of every enabled family, predictions, grading, signals, picks and
monitoring), exactly as `bestbets replay` runs it on the local SQLite instance.

    .venv/bin/python bench/season_backfill.py [--start 2024-10-22] [--end 2025-12-06]

Prints the replay's stage lines, then, last, one line of JSON: wall_s, stages_s (wall seconds per
stage), catboost_s and catboost_share (0-1: the wall time during which a CatBoost fit or predict
runs; catboost_busy_s sums the calls, which overlap when models train side by side), and
peak_rss_mb (the whole process tree). Targets (issue 17, 2 cores): wall under 600 s, peak under
4 GiB, CatBoost at least 70% of the wall time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from measure import CatBoostClock, PeakMemory, fresh_home, print_result  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2024, 10, 22))
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2025, 12, 6))
    args = parser.parse_args()
    home = fresh_home("season")

    from bestbets_dagster.defs.resources import current_warehouse
    from bestbets_dagster.replay import run_replay

    clock = CatBoostClock()
    began = time.monotonic()
    with PeakMemory() as memory, clock.installed():
        report = run_replay(args.start, args.end, None)
    wall = time.monotonic() - began
    print_result(
        {
            "start": str(args.start),
            "end": str(args.end),
            "home": str(home),
            "wall_s": round(wall, 1),
            "stages_s": report["timing"]["stages_s"],
            "catboost_s": round(clock.seconds, 1),
            "catboost_busy_s": round(clock.busy_seconds, 1),
            "catboost_share": round(clock.seconds / wall, 3),
            "peak_rss_mb": round(memory.peak_mb),
            "models_trained": len(current_warehouse().read("model_registry")),
            "predictions": report["rows"]["predictions"],
        }
    )


if __name__ == "__main__":
    main()
