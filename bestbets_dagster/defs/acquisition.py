"""Acquisition: the assets that fill the data directory from the outside world. `odds_api_snapshots`
takes one snapshot of a game day's lines per materialization (the schedule several a day, the closing
sensor one more per game just before tip-off); `nba_box_scores` downloads a played date's box scores
once every game is final. The ingest reads the files they write, as it reads any other."""

import datetime as dt
from typing import Optional

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Backoff,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)
from pydantic import Field

from bestbets_dagster.acquisition.http import SourceError
from bestbets_dagster.acquisition.nba_stats import NotFinal, day_paths, download_day, write_day
from bestbets_dagster.acquisition.odds_api import (
    DEFAULT_HISTORICAL_TIME,
    GAME_MARKETS,
    PLAYER_MARKETS,
    OddsApiKeyError,
    snapshot_moment,
    take_snapshot,
    write_snapshot,
)
from bestbets_dagster.defs.source_alerts import record_source_alert
from bestbets_dagster.defs.table_assets import OWNERS, code_version_of
from bestbets_dagster.ingest.box_scores import box_score_dates
from bestbets_dagster.partitions import game_date_partitions
from bestbets_dagster.resources import NbaDataSource, NbaStats, OddsApi, Warehouse
from bestbets_dagster.timeutil import now_utc, today_eastern

GROUP = "acquisition"
# A source down for minutes (beyond the client's own retries of 429 and 5xx) is tried again by Dagster.
FETCH_RETRY = RetryPolicy(max_retries=3, delay=60, backoff=Backoff.EXPONENTIAL)


class SnapshotConfig(Config):
    kind: str = Field(default="scheduled", description="scheduled, closing (the sensor's last one per game) or manual")
    event_ids: list[str] = Field(default_factory=list, description="only these events (the closing snapshot)")
    at: Optional[str] = Field(
        default=None,
        description="a past date's snapshot time, HH:MM US Eastern (the historical endpoints); "
        f"a past date without it: {DEFAULT_HISTORICAL_TIME}",
    )


def _one_date(context: AssetExecutionContext) -> dt.date:
    keys = context.partition_keys
    if len(keys) != 1:
        raise Failure(f"a download is one game date per run, not {len(keys)} ({keys[0]}..{keys[-1]})")
    return dt.date.fromisoformat(keys[0])


def download_asset(*functions, kind: str, **asset_kwargs):
    """`@asset` for a downloader: a game-date partition per run, the fetch retry policy, the code version
    of the domain modules that fetch and write (`functions`), `kind` the files it writes."""
    return asset(
        partitions_def=game_date_partitions,
        group_name=GROUP,
        kinds={"python", kind},
        owners=OWNERS,
        retry_policy=FETCH_RETRY,
        code_version=code_version_of(*functions),
        **asset_kwargs,
    )


@download_asset(
    take_snapshot,
    write_snapshot,
    kind="json",
    check_specs=[
        AssetCheckSpec(
            "credits_above_floor",
            asset="odds_api_snapshots",
            description="WARN (and an alert row) when the Odds API credits left fall under the resource's floor",
        )
    ],
)
def odds_api_snapshots(
    context: AssetExecutionContext,
    config: SnapshotConfig,
    odds_api: OddsApi,
    nba_data: NbaDataSource,
    warehouse: Warehouse,
) -> MaterializeResult:
    """One snapshot of a game day's NBA lines from The Odds API v4: every event not yet tipped off, its
    player_points lines (sportsbooks and pick'em apps) and its game markets, written to the data
    directory as `odds_api_v4/odds_YYYYMMDD_HHMMSS.json.gz` (never overwritten). A past date is taken
    from the historical endpoints at `at`. Shows the credits it spent and those left."""
    day = _one_date(context)
    now = now_utc()
    at = snapshot_moment(day, config.at, today_eastern())
    try:
        with odds_api.client() as client:
            snapshot = take_snapshot(client, day, now, at=at, event_ids=config.event_ids or None, log=context.log)
            usage = client.usage
    except OddsApiKeyError as exc:
        raise Failure(str(exc), allow_retries=False) from None
    try:
        path = write_snapshot(nba_data.path, snapshot) if snapshot.events else None
    except FileExistsError as exc:
        raise Failure(
            f"{exc.filename2 or exc.filename}: a snapshot of that moment is already in the data directory "
            "(snapshots are never overwritten)",
            allow_retries=False,
        ) from None
    if path is None:
        context.log.info(f"no NBA event of {day} left to snapshot ({snapshot.listed} listed): nothing written")
    low = usage.remaining is not None and usage.remaining < odds_api.credit_floor
    if low:
        message = f"{usage.remaining} Odds API credits left, under the floor of {odds_api.credit_floor}"
        context.log.warning(message)
        record_source_alert(warehouse, day, "odds_credits", "odds_api", "WARN", message)
    return MaterializeResult(
        metadata={
            "file": str(path) if path else "none (no event to snapshot)",
            "kind": config.kind,
            "snapshot_time": snapshot.taken_at.isoformat(),
            "historical": snapshot.historical,
            "events": len(snapshot.events),
            "events_skipped": MetadataValue.json(snapshot.skipped),
            "player_outcomes": snapshot.count(PLAYER_MARKETS),
            "game_outcomes": snapshot.count(GAME_MARKETS),
            **usage.as_metadata(),
        },
        check_results=[
            AssetCheckResult(
                check_name="credits_above_floor",
                passed=not low,
                severity=AssetCheckSeverity.WARN,
                metadata={"credits_remaining": usage.remaining, "floor": odds_api.credit_floor},
            )
        ],
    )


class BoxScoreDownloadConfig(Config):
    replace: bool = Field(
        default=False,
        description="download a date the data directory already holds (a correction), replacing its day files",
    )


@download_asset(download_day, write_day, kind="csv")
def nba_box_scores(
    context: AssetExecutionContext, config: BoxScoreDownloadConfig, nba_stats: NbaStats, nba_data: NbaDataSource
) -> MaterializeResult:
    """A played date's player and team box scores from NBA.com (scoreboard and traditional box score v3),
    written to the data directory as that date's files of `box_scores/` and `team_game_logs/`, once
    every game of the date is final (a date is never written half; the download sensor tries again)."""
    day = _one_date(context)
    if day >= today_eastern():
        raise Failure(f"{day} is not over yet: its box scores are downloaded the morning after", allow_retries=False)
    if day in box_score_dates(nba_data.path):
        if not config.replace:
            return MaterializeResult(
                metadata={"written": False, "reason": f"the data directory already holds box scores of {day}"}
            )
        if not all(p.exists() for p in day_paths(nba_data.path, day)):
            raise Failure(
                f"the box scores of {day} are in another file of the data directory (a season file): a day "
                "file beside it would hold the same games twice; correct that file instead",
                allow_retries=False,
            )
    try:
        with nba_stats.client() as client:
            downloaded = download_day(client, day)
    except NotFinal as exc:
        raise Failure(str(exc), allow_retries=False) from None
    except SourceError as exc:
        raise Failure(str(exc)) from None
    if downloaded.postponed:
        context.log.warning(f"postponed, left out: {', '.join(downloaded.postponed)}")
    if not downloaded.games:
        return MaterializeResult(metadata={"written": False, "reason": f"no regular-season game on {day}"})
    players, teams = write_day(nba_data.path, downloaded)
    return MaterializeResult(
        metadata={
            "written": True,
            "files": MetadataValue.json([str(players), str(teams)]),
            "games": len(downloaded.games),
            "player_rows": len(downloaded.players),
            "team_rows": len(downloaded.teams),
            "dnp_rows": int(downloaded.players["minutes"].isna().sum()),
            "postponed": MetadataValue.json(downloaded.postponed),
            "downloaded_at": pd.Timestamp(now_utc()).isoformat(),
        }
    )
