"""The `bestbets` command. Every command runs the assets through Dagster on the local instance
($DAGSTER_HOME, default $BESTBETS_HOME/dagster), so its runs and lineage show in the Dagster UI."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

from bestbets_dagster import settings


def _apply_environment(args: argparse.Namespace) -> None:
    # Settings are read when Definitions are built, so set them before importing the definitions.
    if getattr(args, "data_dir", None):
        os.environ["BESTBETS_DATA_DIR"] = str(Path(args.data_dir).expanduser().resolve())
    if getattr(args, "home", None):
        os.environ["BESTBETS_HOME"] = str(Path(args.home).expanduser().resolve())
    settings.ensure_dagster_home()


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def run_ingest(start: dt.date | None, end: dt.date | None) -> dict:
    """Materialize the ingestion assets for [start, end] in one run; return counts and the match rate."""
    from dagster import DagsterInstance

    from bestbets_dagster.defs.partition_range import range_tags
    from bestbets_dagster.defs.resources import resources_for_env
    from bestbets_dagster.definitions import defs
    from bestbets_dagster.ingest.box_scores import data_date_range
    from bestbets_dagster.ingest.lines import match_summary

    data_dir = settings.data_dir()
    if start is None or end is None:
        first, last = data_date_range(data_dir)
        start, end = start or first, end or last
    if start > end:
        raise SystemExit(f"--start {start} is after --end {end}")
    began = time.monotonic()
    job = defs.resolve_job_def("ingest_job")
    result = job.execute_in_process(instance=DagsterInstance.get(), tags=range_tags(start, end), raise_on_error=True)
    warehouse = resources_for_env(settings.bestbets_env())["warehouse"]
    counts = {
        name: len(warehouse.read(name, start, end, columns=["game_date"]))
        for name in ("player_game_logs", "team_game_logs", "prop_lines", "player_game_lines")
    }
    lines = warehouse.read("player_game_lines", start, end)
    return {
        "start": str(start),
        "end": str(end),
        "data_dir": str(data_dir),
        "run_id": result.run_id,
        "rows": counts,
        "match": match_summary(lines),
        "wall_s": round(time.monotonic() - began, 1),
    }


def _print_ingest(report: dict) -> None:
    print(f"Ingested {report['start']}..{report['end']} from {report['data_dir']} (run {report['run_id']})")
    for name, n in report["rows"].items():
        print(f"  {name:<20} {n:>8} rows")
    m = report["match"]
    rate = "n/a" if m["match_rate"] is None else f"{m['match_rate']:.2%}"
    print(
        f"  lined player-games {m['lined_player_games']}, in games with box scores "
        f"{m['lined_player_games_with_box_score']}, resolved {m['matched_player_games']}: match rate {rate}"
    )
    if m["first_unresolved"]:
        print(f"  unresolved or ambiguous: {m['unresolved'] + m['ambiguous']}, first: {', '.join(m['first_unresolved'])}")
    print(f"  wall time {report['wall_s']} s")


def cmd_ingest(args: argparse.Namespace) -> int:
    _apply_environment(args)
    _print_ingest(run_ingest(args.start, args.end))
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    _apply_environment(args)
    command = ["dagster", "dev", "-w", str(settings.PROJECT_ROOT / "workspace.yaml"), "-p", str(args.port)]
    print(f"DAGSTER_HOME={os.environ['DAGSTER_HOME']} {' '.join(command)}")
    return subprocess.call(command, cwd=settings.PROJECT_ROOT)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bestbets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", help="a directory laid out like ../shared/data/nba (default: BESTBETS_DATA_DIR)")
        p.add_argument("--home", help="BESTBETS_HOME: warehouse, artifacts, reports and the Dagster instance")

    ingest = sub.add_parser("ingest", help="ingest box scores and prop lines for a date range (default: all the data)")
    common(ingest)
    ingest.add_argument("--start", type=_date)
    ingest.add_argument("--end", type=_date)
    ingest.set_defaults(func=cmd_ingest)

    dev = sub.add_parser("dev", help="open the Dagster UI on this project's instance")
    common(dev)
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(func=cmd_dev)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
