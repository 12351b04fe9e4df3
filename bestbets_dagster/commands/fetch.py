"""`bestbets fetch odds|box-scores`: the downloaders' assets run through Dagster for given dates (a
backfill, a missed day, a rehearsal), and the credits an Odds API backfill would spend (--dry-run)."""

from __future__ import annotations

import datetime as dt
import functools
import os

import click

from bestbets_dagster.acquisition.odds_api import (
    KEY_VARIABLE,
    ODDS_API_BASE_URL,
    OddsApiClient,
    OddsApiKeyError,
    events_of_day,
    planned_credits,
    snapshot_moment,
)
from bestbets_dagster.commands.options import DATE, command_group, date_range, home_options
from bestbets_dagster.commands.session import cli_run_tags


def _failure(result) -> str:
    """The message of a failed run's first failed step (a Failure's description, an error's message)."""
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            user = error
            while user.cause is not None and user.cls_name in ("DagsterExecutionStepExecutionError",):
                user = user.cause
            text = (user.message or str(error)).strip().splitlines()[0]
            return text.split("Failure: ", 1)[-1]
    return "the run failed"


@functools.cache
def _job(job_name: str):
    from bestbets_dagster.definitions import build_definitions

    return build_definitions().resolve_job_def(job_name)


def _run(job_name: str, day: dt.date, run_config: dict, tags: dict):
    from dagster import DagsterInstance

    job = _job(job_name)
    # The command prints what happened in one line per date; the run's whole log is in the UI.
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    return job.execute_in_process(
        instance=DagsterInstance.get(),
        partition_key=str(day),
        run_config={**run_config, **quiet},
        tags=tags,
        raise_on_error=False,
    )


def _metadata(result, asset: str) -> dict:
    materialized = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    if not materialized:
        return {}
    return {k: getattr(v, "value", v) for k, v in materialized[-1].materialization.metadata.items()}


def odds_dry_run(days: list[dt.date], at: str | None) -> int:
    """Print the events of each date and the most a snapshot of them would cost; spends only the
    historical listing's 1 credit per past date."""
    from bestbets_dagster import settings
    from bestbets_dagster.timeutil import now_utc, today_eastern

    total = 0
    url = settings.source_urls()["odds_api"] or ODDS_API_BASE_URL
    try:
        with OddsApiClient(os.environ.get(KEY_VARIABLE), url) as client:
            for day in days:
                moment = snapshot_moment(day, at, today_eastern())
                listed, _ = client.events(moment)
                events = events_of_day(listed, day, moment or now_utc())
                credits = planned_credits(len(events), historical=moment is not None)
                total += credits
                when = f"historical at {moment:%Y-%m-%d %H:%M %Z}" if moment else "live"
                print(f"{day}: {len(events)} events, {when}: at most {credits} credits")
            print(
                f"in all at most {total} credits for {len(days)} date(s) "
                f"(the listings cost {client.usage.spent}; {client.usage.remaining} credits left)"
            )
    except OddsApiKeyError as exc:
        raise SystemExit(str(exc)) from None
    return 0


def _each_day(days: list[dt.date], job: str, run_config: dict, tags: dict, asset: str, shown) -> int:
    """Run the download job for each date, one line each: shown(day, metadata, run id) or why it failed.
    Exit status 1 if any date failed."""
    failed = 0
    for day in days:
        result = _run(job, day, run_config, tags)
        if result.success:
            print(shown(day, _metadata(result, asset), result.run_id))
        else:
            print(f"{day}: failed: {_failure(result)}")
            failed += 1
    return 1 if failed else 0


def _odds_line(day: dt.date, shown: dict, run_id: str) -> str:
    skipped = shown.get("events_skipped")
    return (
        (f"{day}: skipped, listed but without odds any more: {', '.join(skipped)}\n" if skipped else "")
        + f"{day}: {shown.get('events')} events at {shown.get('snapshot_time')} -> {shown.get('file')}; "
        f"{shown.get('credits_spent')} credits spent, {shown.get('credits_remaining')} left (Dagster run {run_id})"
    )


def _box_scores_line(day: dt.date, shown: dict, run_id: str) -> str:
    if not shown.get("written"):
        return f"{day}: nothing written: {shown.get('reason')} (Dagster run {run_id})"
    return (
        f"{day}: {shown.get('games')} games, {shown.get('player_rows')} player rows -> "
        f"{', '.join(shown.get('files') or [])} (Dagster run {run_id})"
    )


def fetch_odds(days: list[dt.date], at: str | None, event_ids: list[str], tags: dict) -> int:
    if not os.environ.get(KEY_VARIABLE):
        raise SystemExit(f"the Odds API key is not set: export {KEY_VARIABLE}")
    config = {"kind": "manual", "event_ids": event_ids, **({"at": at} if at else {})}
    run_config = {"ops": {"odds_api_snapshots": {"config": config}}}
    return _each_day(days, "odds_snapshot_job", run_config, tags, "odds_api_snapshots", _odds_line)


def fetch_box_scores(days: list[dt.date], replace: bool, tags: dict) -> int:
    run_config = {"ops": {"nba_box_scores": {"config": {"replace": replace}}}}
    return _each_day(days, "box_score_download_job", run_config, tags, "nba_box_scores", _box_scores_line)


def _days(day: dt.date | None, start: dt.date | None, end: dt.date | None) -> list[dt.date]:
    from bestbets_dagster.defs.partition_range import days_between

    if day and (start or end):
        raise SystemExit("give --date, or --start and --end, not both")
    if day:
        return [day]
    if not (start and end):
        raise SystemExit("give --date D, or --start D1 --end D2")
    return days_between(start, end)


def _dates(command):
    command = date_range(required=False, default=" (a backfill: one run per date)")(command)
    return click.option("--date", "day", type=DATE, help="one game date, YYYY-MM-DD")(command)


fetch = command_group("fetch", "download into the data directory: an Odds API snapshot, or NBA.com box scores")


@fetch.command(
    help="a snapshot of each date's lines (live for today or later, the historical endpoints for a past date)"
)
@home_options
@_dates
@click.option("--at", help="a past date's snapshot time, HH:MM US Eastern (default 12:00)")
@click.option("--events", help="comma-separated event ids (default: every event of the date)")
@click.option(
    "--dry-run",
    is_flag=True,
    help="list the events and print the most the snapshots would cost, spend nothing else "
    "(a past date's listing costs 1 credit)",
)
def odds(day, start, end, at: str | None, events: str | None, dry_run: bool) -> int:
    days = _days(day, start, end)
    if dry_run:
        return odds_dry_run(days, at)
    return fetch_odds(days, at, [e for e in (events or "").split(",") if e], cli_run_tags())


@fetch.command("box-scores", help="a played date's box scores, once every game is final")
@home_options
@_dates
@click.option("--replace", is_flag=True, help="download a date the data directory already has")
def box_scores(day, start, end, replace: bool) -> int:
    return fetch_box_scores(_days(day, start, end), replace, cli_run_tags())
