"""The Dagster layer: assets, checks, jobs, schedules and sensors. Domain logic lives elsewhere."""

from dagster import AssetSelection, define_asset_job

from bestbets_dagster.defs.features import player_features
from bestbets_dagster.defs.ingestion import player_game_lines, player_game_logs, prop_lines, team_game_logs
from bestbets_dagster.partitions import game_date_partitions

ingest_assets = [player_game_logs, team_game_logs, prop_lines, player_game_lines]

ingest_job = define_asset_job(
    "ingest_job",
    selection=AssetSelection.assets(*ingest_assets),
    partitions_def=game_date_partitions,
    description="Box scores and prop lines for a game-date range.",
)

feature_assets = [player_features]

all_assets = [*ingest_assets, *feature_assets]
all_asset_checks: list = []
all_jobs = [ingest_job]
all_schedules: list = []
all_sensors: list = []
