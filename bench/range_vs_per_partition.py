"""The same 30 game dates materialized as one ranged run and as one run per partition: ingestion
and features (build_job), each from an empty home on the local SQLite instance.

    .venv/bin/python bench/range_vs_per_partition.py [--start 2025-11-01] [--days 30]

Prints, last, one line of JSON: ranged_s, per_partition_s, their ratio, and the event-log events
each wrote (Dagster's SQLite event log costs per event).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from measure import fresh_home, print_result  # noqa: E402


def _events(instance) -> int:
    from dagster import EventRecordsFilter
    from dagster._core.events import DagsterEventType

    return sum(
        len(instance.get_event_records(EventRecordsFilter(event_type=kind), limit=1_000_000))
        for kind in (
            DagsterEventType.ASSET_MATERIALIZATION,
            DagsterEventType.STEP_SUCCESS,
            DagsterEventType.RUN_SUCCESS,
        )
    )


def _timed_build(days: list[str], ranged: bool) -> tuple[float, int]:
    fresh_home("ranged" if ranged else "per-partition")
    from dagster import DagsterInstance

    from bestbets_dagster.definitions import build_definitions
    from bestbets_dagster.defs.partition_range import range_tags

    job = build_definitions().resolve_job_def("build_job")
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    with DagsterInstance.get() as instance:
        began = time.monotonic()
        if ranged:
            job.execute_in_process(instance=instance, tags=range_tags(days[0], days[-1]), run_config=quiet)
        else:
            for day in days:
                job.execute_in_process(instance=instance, partition_key=day, run_config=quiet)
        return time.monotonic() - began, _events(instance)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2025, 11, 1))
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    days = [str(args.start + dt.timedelta(days=i)) for i in range(args.days)]
    ranged_s, ranged_events = _timed_build(days, ranged=True)
    per_partition_s, per_partition_events = _timed_build(days, ranged=False)
    print_result(
        {
            "dates": f"{days[0]}..{days[-1]}",
            "ranged_s": round(ranged_s, 1),
            "per_partition_s": round(per_partition_s, 1),
            "per_partition_over_ranged": round(per_partition_s / ranged_s, 2),
            "ranged_events": ranged_events,
            "per_partition_events": per_partition_events,
        }
    )


if __name__ == "__main__":
    main()
