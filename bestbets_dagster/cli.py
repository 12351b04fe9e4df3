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


def run_job(job_name: str, start: dt.date | None, end: dt.date | None) -> dict:
    """Materialize a job's assets for [start, end] in one run; return row counts and the match rate."""
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
    job = defs.resolve_job_def(job_name)
    result = job.execute_in_process(
        instance=DagsterInstance.get(),
        tags=range_tags(start, end),
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        raise_on_error=True,
    )
    warehouse = resources_for_env(settings.bestbets_env())["warehouse"]
    tables = ["player_game_logs", "team_game_logs", "prop_lines", "player_game_lines"]
    if job_name == "build_job":
        tables.append("player_features")
    counts = {name: len(warehouse.read(name, start, end, columns=["game_date"])) for name in tables}
    report = {
        "start": str(start),
        "end": str(end),
        "data_dir": str(data_dir),
        "run_id": result.run_id,
        "rows": counts,
        "match": match_summary(warehouse.read("player_game_lines", start, end)),
    }
    if "player_features" in counts:
        features = warehouse.read("player_features", start, end, columns=["quality_tier", "is_training_ready", "has_prop_line"])
        report["features"] = {
            "training_ready_share": round(float(features["is_training_ready"].mean()), 4) if len(features) else None,
            "lined_rows": int(features["has_prop_line"].sum()),
            "quality_tiers": features["quality_tier"].value_counts().to_dict(),
        }
    report["wall_s"] = round(time.monotonic() - began, 1)
    return report


def _print_report(report: dict) -> None:
    print(f"Materialized {report['start']}..{report['end']} from {report['data_dir']} (run {report['run_id']})")
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
    if "features" in report:
        f = report["features"]
        print(
            f"  player_features: {f['lined_rows']} rows with a line, training-ready share {f['training_ready_share']}, "
            f"tiers {f['quality_tiers']}"
        )
    print(f"  wall time {report['wall_s']} s")


def cmd_ingest(args: argparse.Namespace) -> int:
    _apply_environment(args)
    _print_report(run_job("ingest_job", args.start, args.end))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    _apply_environment(args)
    _print_report(run_job("build_job", args.start, args.end))
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

    build = sub.add_parser("build", help="ingest and build player_features for a date range (default: all the data)")
    common(build)
    build.add_argument("--start", type=_date)
    build.add_argument("--end", type=_date)
    build.set_defaults(func=cmd_build)

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
