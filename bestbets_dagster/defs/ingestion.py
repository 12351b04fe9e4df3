"""Ingestion assets: box scores and Odds API lines into the warehouse, one date range per run."""


import datetime as dt

from dagster import (
    AssetExecutionContext,
    AssetSpec,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from bestbets_dagster.defs.partition_range import partition_dates
from bestbets_dagster.ingest.box_scores import load_player_game_logs, load_team_game_logs
from bestbets_dagster.ingest.lines import build_player_game_lines, build_prop_lines, match_summary, plain_join_rate
from bestbets_dagster.ingest.odds import load_offers, main_lines
from bestbets_dagster.partitions import game_date_partitions
from bestbets_dagster.resources import NbaDataSource, Warehouse

GROUP = "ingest"


def _season_bounds(start: dt.date, end: dt.date) -> "tuple[dt.date, dt.date]":
    """From August 1 of the season holding `start` to July 31 of the season holding `end`."""
    first = start.year if start.month >= 8 else start.year - 1
    last = end.year + 1 if end.month >= 8 else end.year
    return dt.date(first, 8, 1), dt.date(last, 7, 31)


@asset(
    partitions_def=game_date_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    group_name=GROUP,
    kinds={"python", "duckdb"},
    description="Player box-score rows (DNP rows kept with their reason), one per player per game.",
)
def player_game_logs(context: AssetExecutionContext, warehouse: Warehouse, nba_data: NbaDataSource) -> MaterializeResult:
    start, end = partition_dates(context)
    df = load_player_game_logs(nba_data.path, start, end)
    written = warehouse.replace_partitions("player_game_logs", df, start, end)
    return MaterializeResult(
        metadata={
            "dagster/row_count": written,
            "games": int(df["game_id"].nunique()) if written else 0,
            "dnp_rows": int(df["is_dnp"].sum()) if written else 0,
            "date_range": f"{start}..{end}",
        }
    )


@asset(
    partitions_def=game_date_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    group_name=GROUP,
    kinds={"python", "duckdb"},
    description="Team box scores, one row per team per game.",
)
def team_game_logs(context: AssetExecutionContext, warehouse: Warehouse, nba_data: NbaDataSource) -> MaterializeResult:
    start, end = partition_dates(context)
    df = load_team_game_logs(nba_data.path, start, end)
    written = warehouse.replace_partitions("team_game_logs", df, start, end)
    return MaterializeResult(
        metadata={"dagster/row_count": written, "games": int(df["game_id"].nunique()) if written else 0}
    )


@multi_asset(
    specs=[
        AssetSpec(
            "prop_lines",
            deps=["player_game_logs"],
            partitions_def=game_date_partitions,
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Every book's main player_points line per player-game and snapshot, with person_id.",
        ),
        AssetSpec(
            "player_game_lines",
            deps=["prop_lines", "player_game_logs"],
            partitions_def=game_date_partitions,
            group_name=GROUP,
            kinds={"python", "duckdb"},
            description="Per lined player-game: consensus, selected (DK>FD>BetMGM) and opening line, book spread.",
        ),
    ],
    backfill_policy=BackfillPolicy.single_run(),
)
def prop_lines_assets(context: AssetExecutionContext, warehouse: Warehouse, nba_data: NbaDataSource):
    start, end = partition_dates(context)
    offers = load_offers(nba_data.path)
    in_range = offers[(offers["game_date"] >= str(start)) & (offers["game_date"] <= str(end))]
    season_start, season_end = _season_bounds(start, end)
    # Identity is resolved against everyone who appeared for either team that season.
    rosters = warehouse.read("player_game_logs", season_start, season_end)
    lines, _ = build_prop_lines(main_lines(in_range), rosters)
    per_game = build_player_game_lines(lines, rosters)
    summary = match_summary(per_game) if not per_game.empty else match_summary(per_game.reindex(
        columns=["game_id", "match_status", "player_name"]))
    written_lines = warehouse.replace_partitions("prop_lines", lines, start, end)
    written_games = warehouse.replace_partitions("player_game_lines", per_game, start, end)
    if summary["unresolved"] or summary["ambiguous"]:
        context.log.warning(
            f"{summary['unresolved']} unresolved and {summary['ambiguous']} ambiguous lined player-games; "
            f"first: {summary['first_unresolved']}"
        )
    match_metadata = {
        "match_rate": summary["match_rate"],
        "lined_player_games": summary["lined_player_games"],
        "lined_player_games_with_box_score": summary["lined_player_games_with_box_score"],
        "matched_player_games": summary["matched_player_games"],
        "unresolved_player_games": summary["unresolved"],
        "ambiguous_player_games": summary["ambiguous"],
        "first_unresolved": MetadataValue.json(summary["first_unresolved"]),
        "plain_name_join_rate": plain_join_rate(lines, rosters) if written_lines else None,
    }
    yield MaterializeResult(
        asset_key="prop_lines",
        metadata={
            "dagster/row_count": written_lines,
            "books": MetadataValue.json(sorted(lines["bookmaker"].unique().tolist())),
            "post_tipoff_rows_excluded_downstream": int((lines["snapshot_time"] >= lines["commence_time"]).sum()),
            **match_metadata,
        },
    )
    yield MaterializeResult(asset_key="player_game_lines", metadata={"dagster/row_count": written_games, **match_metadata})
