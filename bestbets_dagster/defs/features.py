"""The player_features asset: the V12 feature rows for a date range, in one vectorized pass."""

import datetime as dt

from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue

from bestbets_dagster.bestbets.pipeline import HISTORY_LOOKBACK_DAYS
from bestbets_dagster.defs.checks import game_days, table_check_results
from bestbets_dagster.defs.partition_range import days_between, history_deps, partition_dates, range_metadata
from bestbets_dagster.defs.table_assets import table_asset
from bestbets_dagster.features.build import FeatureSettings, build_features
from bestbets_dagster.features.contract import V12_FEATURES
from bestbets_dagster.ingest.lines import decision_times_of, team_game_lines
from bestbets_dagster.resources import Warehouse


class PlayerFeaturesConfig(Config):
    injury_proxy: bool = False
    """Treat teammates whose box score of the date says DNP/DND - Injury/Illness or NWT as listed OUT
    before the game (the data has no pre-game injury report). Off by default: it reads the box score
    of the date itself."""


@table_asset(
    "player_features",
    shaped_by=(
        "bestbets_dagster.features.build",
        "bestbets_dagster.features.contract",
        "bestbets_dagster.ingest.lines",
    ),
    blocking=True,
    # Box scores of D itself give the schedule of D (who plays whom) only; no feature reads them.
    deps=[
        *history_deps("player_game_logs", "team_game_logs", "player_game_lines", through_the_day=True),
        "game_lines",  # the day's totals and spreads, as of its decision
    ],
    group="features",
)
def player_features(
    context: AssetExecutionContext, config: PlayerFeaturesConfig, warehouse: Warehouse
) -> MaterializeResult:
    """One row per player expected to play: the 54 V12 features (V9, V12-noveg are subsets) and quality."""
    start, end = partition_dates(context)
    player_logs, team_logs, lines = (
        warehouse.read(table, start - dt.timedelta(days=HISTORY_LOOKBACK_DAYS), end)
        for table in ("player_game_logs", "team_game_logs", "player_game_lines")
    )
    game_context = team_game_lines(warehouse.read("game_lines", start, end), decision_times_of(lines))
    features = build_features(
        days_between(start, end),
        player_logs,
        team_logs,
        lines,
        settings=FeatureSettings(injury_proxy=config.injury_proxy),
        game_context=game_context,
    )
    written = warehouse.replace_partitions("player_features", features, start, end)
    nan_share = features[list(V12_FEATURES)].isna().mean().round(4) if written else None
    tiers = features["quality_tier"].value_counts().to_dict() if written else {}
    return MaterializeResult(
        metadata={
            **range_metadata(context, written, features),
            "game_dates": int(features["game_date"].nunique()) if written else 0,
            "lined_rows": int(features["has_prop_line"].sum()) if written else 0,
            "training_ready_share": round(float(features["is_training_ready"].mean()), 4) if written else None,
            "quality_tier_histogram": MetadataValue.json({k: int(v) for k, v in tiers.items()}),
            "nan_share_per_feature": MetadataValue.md(
                "| feature | NaN share |\n|---|---|\n"
                + "\n".join(f"| {name} | {share:.1%} |" for name, share in nan_share.items())
            )
            if nan_share is not None
            else MetadataValue.md("no rows"),
            "injury_proxy": config.injury_proxy,
        },
        check_results=table_check_results(
            warehouse, "player_features", start, end, expected_days=game_days(warehouse, start, end)
        ),
    )
