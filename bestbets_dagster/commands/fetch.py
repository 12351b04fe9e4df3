"""`bestbets fetch odds|box-scores`: the downloaders' assets run through Dagster for given dates (a
backfill, a missed day, a rehearsal), and the credits an Odds API backfill would spend (--dry-run)."""

from __future__ import annotations

import datetime as dt
import functools
import os

from bestbets_dagster.acquisition.odds_api import (
    KEY_VARIABLE,
    ODDS_API_BASE_URL,
    OddsApiClient,
    OddsApiKeyError,
    events_of_day,
    planned_credits,
    snapshot_moment,
)


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
