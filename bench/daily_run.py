"""One game day end to end with the models already trained, as the daily cycle runs it: before
tip-off the slate (lines -> features), every family's predictions, then the tags, picks and export;
the next morning the box scores and the morning job (grading, pick grading, monitoring).

    .venv/bin/python bench/daily_run.py [--day 2025-11-24]

Setup, not timed: a replay of the day itself from an empty home (history ingested, this week's
model of every enabled family trained). Then each step of the day runs again, timed, as its job on
the same instance. Prints, last, one line of JSON: wall_s (the day's steps), seconds per step and
peak_rss_mb. Target (issue 17, 2 cores): under 30 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from measure import PeakMemory, fresh_home, print_result  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2025, 11, 24))
    args = parser.parse_args()
    fresh_home("daily")

    from dagster import DagsterInstance, MultiPartitionKey

    from bestbets_dagster.definitions import build_definitions
    from bestbets_dagster.defs.resources import current_warehouse
    from bestbets_dagster.models.families import load_families
    from bestbets_dagster.replay import run_replay

    run_replay(args.day, args.day, None)  # setup: history, this week's models
    defs, instance, day = build_definitions(), DagsterInstance.get(), str(args.day)
    families = sorted(f.model_family for f in load_families(current_warehouse()) if f.enabled)
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

    def run(job: str, key) -> None:
        defs.resolve_job_def(job).execute_in_process(
            instance=instance, partition_key=key, run_config=quiet, raise_on_error=True
        )

    steps = {
        "slate (lines, features)": lambda: run("slate_job", day),
        "predictions (every family)": lambda: [
            run("predictions_job", MultiPartitionKey({"game_date": day, "model_family": f})) for f in families
        ],
        "tags, picks, export": lambda: run("slate_best_bets_job", day),
        "box scores (next morning)": lambda: run("box_scores_job", day),
        "grading and monitoring": lambda: run("morning_job", day),
    }
    seconds = {}
    began = time.monotonic()
    with PeakMemory() as memory:
        for name, step in steps.items():
            step_began = time.monotonic()
            step()
            seconds[name] = round(time.monotonic() - step_began, 1)
    print_result(
        {
            "day": day,
            "families": len(families),
            "wall_s": round(time.monotonic() - began, 1),
            "steps_s": seconds,
            "peak_rss_mb": round(memory.peak_mb),
        }
    )


if __name__ == "__main__":
    main()
