"""Ingestion assets: box scores and Odds API lines into the warehouse, one date range per run."""

import datetime as dt

import pandas as pd
from dagster import (
    AssetDep,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
)

from bestbets_dagster.defs.checks import table_check_results
from bestbets_dagster.defs.partition_range import days_before, days_between, partition_dates, range_metadata
from bestbets_dagster.defs.table_assets import table_asset
from bestbets_dagster.ingest.box_scores import load_player_game_logs, load_team_game_logs
from bestbets_dagster.ingest.lines import (
    build_player_game_lines,
    build_prop_lines,
    choose_decision_times,
    decision_times_of,
    match_summary,
    plain_join_rate,
)
from bestbets_dagster.ingest.odds import load_game_lines, load_offers, main_lines
from bestbets_dagster.resources import NbaDataSource, Warehouse
from bestbets_dagster.timeutil import now_utc, season_start, today_eastern

# Run tags that fix a decision time: the slate schedule's instant (its own date), or a replay's time of
# day (US Eastern) for every date of the run. See ingest.lines.choose_decision_times.
DECISION_TIME_TAG = "bestbets/decision_time"
DECISION_TIME_OF_DAY_TAG = "bestbets/decision_time_of_day"
DECISION_TIME_FROM_TAG = "bestbets/decision_time_from"  # the first date the time of day applies to

GROUP = "ingest"
# Identity reads the box scores of the season of D and the season before, up to D itself: at most two
# years back (from a July date to August 1 two seasons earlier).
ROSTER_DAYS = 731
ROSTERS = AssetDep("player_game_logs", partition_mapping=days_before(ROSTER_DAYS, 0))


def _previous_season_start(day: dt.date) -> dt.date:
    """The start of the season before the one holding `day` (the identity fallback)."""
    start = season_start(day)
    return start.replace(year=start.year - 1)


# A date whose source rows fall more than this share below its stored rows keeps the stored rows (a file
# caught mid-write, players or books that vanished) unless the run is tagged ALLOW_SHRINK_TAG=true
# (`bestbets build --allow-shrink`, or the tag on a launch in the UI).
SHRINK_SHARE = 0.10
ALLOW_SHRINK_TAG = "bestbets/allow_shrink"


def shrunk_dates(stored: pd.Series, new: pd.Series, share: float = SHRINK_SHARE) -> list[dt.date]:
    """Dates with both stored and new rows whose new count is more than `share` below the stored one
    (stored, new: row counts by date)."""
    both = stored.index.intersection(new.index)
    return sorted(d for d in both if new[d] < stored[d] * (1.0 - share))


def replace_from_source(
    context: AssetExecutionContext, warehouse: Warehouse, table: str, rows: pd.DataFrame, start: dt.date, end: dt.date
) -> tuple[int, list[str], dict]:
    """Replace the partitions [start, end] of a table read from source files, except the dates for
    which the source now has no row while the warehouse has some, and (unless the run allows it) the
    dates whose rows shrank by more than SHRINK_SHARE: those keep their stored rows (a missing,
    truncated, half-written or empty file must never erase what was ingested). Returns the rows
    written, the dates kept and {date: {stored, source, files}} of the shrunk ones kept."""
    stored_days = pd.to_datetime(warehouse.read(table, start, end, columns=["game_date"])["game_date"]).dt.date
    stored_counts = stored_days.value_counts()
    new_days = pd.to_datetime(rows["game_date"]).dt.date if len(rows) else pd.Series(dtype=object)
    new_counts = new_days.value_counts()
    kept = sorted(set(stored_counts.index) - set(new_counts.index))
    if kept:
        context.log.warning(
            f"{table}: the source has no rows for {len(kept)} date(s) with stored rows "
            f"({', '.join(map(str, kept[:5]))}{' ...' if len(kept) > 5 else ''}): their stored rows "
            "are kept; delete them by hand if the games really are gone"
        )
    shrunk, held = shrunk_dates(stored_counts, new_counts), {}
    if shrunk and context.run.tags.get(ALLOW_SHRINK_TAG) != "true":
        for day in shrunk:
            files = sorted(set(rows.loc[new_days == day, "source_file"])) if "source_file" in rows else []
            held[str(day)] = {"stored": int(stored_counts[day]), "source": int(new_counts[day]), "files": files}
            context.log.warning(
                f"{table} {day}: the source has {new_counts[day]} rows where {stored_counts[day]} are stored "
                f"({', '.join(files) or 'the source files'}): the stored rows are kept (a file caught mid-write?). "
                f"If the rows really are fewer, run again with {ALLOW_SHRINK_TAG}=true (bestbets build --allow-shrink)"
            )
        rows = rows[~new_days.isin(shrunk)]
        kept = sorted([*kept, *shrunk])
    if kept:
        stored = warehouse.read(table, kept[0], kept[-1])
        rows = pd.concat([rows, stored[pd.to_datetime(stored["game_date"]).dt.date.isin(kept)]], ignore_index=True)
    return warehouse.replace_partitions(table, rows, start, end), [str(d) for d in kept], held


def _ingest_box_scores(context: AssetExecutionContext, warehouse: Warehouse, table: str, rows) -> MaterializeResult:
    """rows(start, end): the table's rows of the run's dates, read from the box-score files."""
    start, end = partition_dates(context)
    df = rows(start, end)
    written, kept, held = replace_from_source(context, warehouse, table, df, start, end)
    metadata = {
        **range_metadata(context, written, df),
        "games": int(df["game_id"].nunique()) if written else 0,
        "date_range": f"{start}..{end}",
        "kept_stored_dates": MetadataValue.json(kept),
        "shrunk_dates_kept": MetadataValue.json(held),
    }
    if "is_dnp" in df.columns:
        metadata["dnp_rows"] = int(df["is_dnp"].sum()) if written else 0
    return MaterializeResult(metadata=metadata, check_results=table_check_results(warehouse, table, start, end))


def box_score_asset(table: str, load, description: str):
    """The asset that ingests one box-score table: load(data_dir, start, end) reads its rows."""

    @table_asset(
        table,
        shaped_by=("bestbets_dagster.ingest.box_scores",),
        blocking=True,
        game_days=False,
        deps=["nba_box_scores"],
        group=GROUP,
        description=description,
    )
    def ingest(context: AssetExecutionContext, warehouse: Warehouse, nba_data: NbaDataSource) -> MaterializeResult:
        return _ingest_box_scores(context, warehouse, table, lambda start, end: load(nba_data.path, start, end))

    return ingest


player_game_logs = box_score_asset(
    "player_game_logs",
    load_player_game_logs,
    "Player box-score rows (DNP rows kept with their reason), one per player per game.",
)
team_game_logs = box_score_asset("team_game_logs", load_team_game_logs, "Team box scores, one row per team per game.")


def _rosters(warehouse: Warehouse, start: dt.date, end: dt.date):
    """Everyone who appeared for any team from the season before the one holding `start` through
    `end`: identity for a game on D is resolved against the players who appeared for either of its
    teams that season up to D, then the season before (never a later game)."""
    return warehouse.read("player_game_logs", _previous_season_start(start), end)


def _match_metadata(per_game, lines, rosters) -> dict:
    summary = match_summary(per_game)
    return {
        "match_rate": summary["match_rate"],
        "lined_player_games": summary["lined_player_games"],
        "lined_player_games_with_box_score": summary["lined_player_games_with_box_score"],
        "matched_player_games": summary["matched_player_games"],
        "unresolved_player_games": summary["unresolved"],
        "ambiguous_player_games": summary["ambiguous"],
        "first_unresolved": MetadataValue.json(summary["first_unresolved"]),
        "plain_name_join_rate": plain_join_rate(lines, rosters),
    }


@table_asset(
    "prop_lines",
    shaped_by=("bestbets_dagster.ingest.odds", "bestbets_dagster.ingest.identity", "bestbets_dagster.ingest.lines"),
    blocking=True,
    game_days=False,
    deps=[ROSTERS, "odds_api_snapshots"],
    group=GROUP,
)
def prop_lines(context: AssetExecutionContext, warehouse: Warehouse, nba_data: NbaDataSource) -> MaterializeResult:
    """Every book's main player_points line per player-game and snapshot, with person_id."""
    start, end = partition_dates(context)
    offers = load_offers(nba_data.path, start, end)
    in_range = offers[(offers["game_date"] >= str(start)) & (offers["game_date"] <= str(end))]
    rosters = _rosters(warehouse, start, end)
    lines, _ = build_prop_lines(main_lines(in_range), rosters)
    metadata = _match_metadata(build_player_game_lines(lines, rosters), lines, rosters)
    written, kept, held = replace_from_source(context, warehouse, "prop_lines", lines, start, end)
    set_aside, conflicts = lines.attrs.get("events_set_aside", []), lines.attrs.get("conflicting_lines", [])
    if set_aside:
        context.log.warning(
            f"{len(set_aside)} event snapshot(s) set aside: home and away do not agree with the game; "
            f"first: {set_aside[0]}"
        )
    if conflicts:
        context.log.warning(
            f"{len(conflicts)} line(s) dropped: one book listed one player under two names at different lines "
            f"in one snapshot; first: {conflicts[0]}"
        )
    if metadata["unresolved_player_games"] or metadata["ambiguous_player_games"]:
        context.log.warning(
            f"{metadata['unresolved_player_games']} unresolved and {metadata['ambiguous_player_games']} ambiguous "
            f"lined player-games; first: {metadata['first_unresolved'].value}"
        )
    return MaterializeResult(
        metadata={
            **range_metadata(context, written, lines),
            "books": MetadataValue.json(sorted(lines["bookmaker"].unique().tolist())),
            "post_tipoff_rows": int((lines["snapshot_time"] >= lines["commence_time"]).sum()),
            "kept_stored_dates": MetadataValue.json(kept),
            "shrunk_dates_kept": MetadataValue.json(held),
            "events_set_aside": MetadataValue.json(set_aside[:20]),
            "conflicting_lines_dropped": MetadataValue.json(conflicts[:20]),
            **metadata,
        },
        check_results=table_check_results(warehouse, "prop_lines", start, end),
    )


def run_decision_times(context: AssetExecutionContext, warehouse: Warehouse, start: dt.date, end: dt.date) -> dict:
    """The decision time of each date of the run, from its tags, the stored rows and the clock."""
    tags = context.run.tags
    slate = tags.get(DECISION_TIME_TAG)
    time_of_day, time_of_day_from = tags.get(DECISION_TIME_OF_DAY_TAG), tags.get(DECISION_TIME_FROM_TAG)
    stored = decision_times_of(warehouse.read("player_game_lines", start, end, columns=["game_date", "decision_time"]))
    return choose_decision_times(
        days_between(start, end),
        stored,
        today=today_eastern(),
        now=pd.Timestamp(now_utc()),
        slate=pd.Timestamp(slate) if slate else None,
        time_of_day=dt.time.fromisoformat(time_of_day) if time_of_day else None,
        time_of_day_from=dt.date.fromisoformat(time_of_day_from) if time_of_day_from else None,
    )


@table_asset(
    "player_game_lines",
    shaped_by=("bestbets_dagster.ingest.identity", "bestbets_dagster.ingest.lines"),
    blocking=True,
    game_days=False,
    deps=["prop_lines", ROSTERS],
    group=GROUP,
)
def player_game_lines(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """Per lined player-game: consensus, selected (DK>FD>BetMGM) and opening line, book spread."""
    start, end = partition_dates(context)
    lines = warehouse.read("prop_lines", start, end)
    rosters = _rosters(warehouse, start, end)
    decisions = run_decision_times(context, warehouse, start, end)
    per_game = build_player_game_lines(lines, rosters, decisions)
    outliers = per_game.attrs.get("outlier_lines", [])
    if outliers:
        context.log.warning(
            f"{len(outliers)} book line(s) far from the other books' never selected; first: {outliers[0]}"
        )
    written = warehouse.replace_partitions("player_game_lines", per_game, start, end)
    return MaterializeResult(
        metadata={
            **range_metadata(context, written, per_game),
            **_match_metadata(per_game, lines, rosters),
            "decision_times": MetadataValue.json(
                {
                    str(d): (t.isoformat() if t is not None else "latest pre-tip-off snapshot")
                    for d, t in decisions.items()
                }
                if start == end
                else {"decided": sum(t is not None for t in decisions.values()), "dates": len(decisions)}
            ),
            "outlier_lines_dropped": len(outliers),
            "outlier_lines": MetadataValue.json([{k: str(v) for k, v in o.items()} for o in outliers[:20]]),
        },
        check_results=table_check_results(warehouse, "player_game_lines", start, end),
    )


@table_asset(
    "game_lines",
    shaped_by=("bestbets_dagster.ingest.odds",),
    blocking=True,
    game_days=False,
    deps=["odds_api_snapshots"],
    group=GROUP,
)
def game_lines(context: AssetExecutionContext, warehouse: Warehouse, nba_data: NbaDataSource) -> MaterializeResult:
    """Every book's game markets (total, spread, moneyline) per event and snapshot; none on a source
    without them (the flat snapshots hold player markets only)."""
    start, end = partition_dates(context)
    rows = load_game_lines(nba_data.path, start, end)
    rows = rows[(rows["game_date"] >= str(start)) & (rows["game_date"] <= str(end))]
    written, kept, held = replace_from_source(context, warehouse, "game_lines", rows, start, end)
    return MaterializeResult(
        metadata={
            **range_metadata(context, written, rows),
            "events": int(rows["event_id"].nunique()) if len(rows) else 0,
            "books": MetadataValue.json(sorted(rows["bookmaker"].unique().tolist()) if len(rows) else []),
            "kept_stored_dates": MetadataValue.json(kept),
            "shrunk_dates_kept": MetadataValue.json(held),
        },
        check_results=table_check_results(warehouse, "game_lines", start, end),
    )
