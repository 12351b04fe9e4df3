"""`bestbets build`: box scores, lines and player_features for a date range in one Dagster run (build_job
with the range tags, as `dagster job execute -j build_job` would), then the row counts and match rate."""

from __future__ import annotations

import datetime as dt
import time

import click

from bestbets_dagster import settings
from bestbets_dagster.commands.options import date_range, home_options
from bestbets_dagster.commands.session import cli_run_tags, writing_home


@click.command(
    help="ingest box scores and lines and build player_features for a date range, then print row "
    "counts and the line-to-player match rate"
)
@home_options
@date_range(required=False, default=" (default: the data's first / last box-score date)")
@click.option(
    "--allow-shrink",
    is_flag=True,
    help="let a date's rows fall more than 10% below the stored ones (kept otherwise, with a warning)",
)
def build(start: dt.date | None, end: dt.date | None, allow_shrink: bool) -> int:
    with writing_home("build"):
        print_build(run_build(start, end, allow_shrink))
    return 0


def run_build(start: dt.date | None, end: dt.date | None, allow_shrink: bool = False) -> dict:
    """build_job (box scores, lines, features) for [start, end] in one run, as
    `dagster job execute -j build_job` with the range tags would; return row counts and the match rate."""
    from dagster import DagsterInstance

    from bestbets_dagster.definitions import build_definitions
    from bestbets_dagster.defs.ingestion import ALLOW_SHRINK_TAG
    from bestbets_dagster.defs.partition_range import range_tags
    from bestbets_dagster.defs.resources import current_warehouse
    from bestbets_dagster.ingest.box_scores import data_date_range
    from bestbets_dagster.ingest.lines import match_summary
    from bestbets_dagster.partitions import check_game_dates

    defs = build_definitions()
    data_dir = settings.data_dir()
    if start is None or end is None:
        first, last = data_date_range(data_dir)
        start, end = start or first, end or last
    check_game_dates(start, end)
    began = time.monotonic()
    result = defs.resolve_job_def("build_job").execute_in_process(
        instance=DagsterInstance.get(),
        tags={**range_tags(start, end), **cli_run_tags(), **({ALLOW_SHRINK_TAG: "true"} if allow_shrink else {})},
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        raise_on_error=True,
    )
    warehouse = current_warehouse()
    tables = ["player_game_logs", "team_game_logs", "prop_lines", "player_game_lines", "player_features"]
    counts = {name: len(warehouse.read(name, start, end, columns=["game_date"])) for name in tables}
    report = {
        "start": str(start),
        "end": str(end),
        "data_dir": str(data_dir),
        "run_id": result.run_id,
        "rows": counts,
        "match": match_summary(warehouse.read("player_game_lines", start, end)),
    }
    features = warehouse.read(
        "player_features", start, end, columns=["quality_tier", "is_training_ready", "has_prop_line"]
    )
    report["features"] = {
        "training_ready_share": round(float(features["is_training_ready"].mean()), 4) if len(features) else None,
        "lined_rows": int(features["has_prop_line"].sum()),
        "quality_tiers": features["quality_tier"].value_counts().to_dict(),
    }
    report["wall_s"] = round(time.monotonic() - began, 1)
    return report


def print_build(report: dict) -> None:
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
        print(
            f"  unresolved or ambiguous: {m['unresolved'] + m['ambiguous']}, first: {', '.join(m['first_unresolved'])}"
        )
    f = report["features"]
    print(
        f"  player_features: {f['lined_rows']} rows with a line, training-ready share {f['training_ready_share']}, "
        f"tiers {f['quality_tiers']}"
    )
    print(f"  wall time {report['wall_s']} s")
