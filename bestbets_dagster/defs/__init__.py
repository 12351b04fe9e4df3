"""The Dagster layer: assets, checks, jobs, schedules and sensors. Domain logic lives elsewhere."""

import warnings

from dagster import AssetSelection, BetaWarning

# BackfillPolicy.single_run() and the multi-partition mappings are beta in Dagster 1.13; ranged runs
# and the (date, family) lineage are the point of them here. Set before the asset modules are
# imported: the warnings are raised when they are defined.
warnings.filterwarnings("ignore", category=BetaWarning, message=r".*(backfill_policy|PartitionMapping).*")

# isort: split

from bestbets_dagster.defs.bestbets import (
    best_bets_accuracy,
    best_bets_grading_job,
    best_bets_job,
    pick_signal_tags,
    signal_best_bets_picks,
    signal_tags_job,
)
from bestbets_dagster.defs.daily import daily_jobs, daily_schedules, daily_sensors
from bestbets_dagster.defs.features import player_features
from bestbets_dagster.defs.ingestion import (
    player_game_lines,
    player_game_logs,
    prop_lines,
    team_game_logs,
)
from bestbets_dagster.defs.models import (
    family_models,
    model_family_partitions_sensor,
    model_registry,
    model_registry_job,
    retrain_job,
    training_windows,
    training_windows_job,
)
from bestbets_dagster.defs.monitoring import (
    alerts_to_slack,
    model_performance_daily,
    monitoring_alerts,
    monitoring_job,
    signal_health_daily,
)
from bestbets_dagster.defs.predictions import grading_job, prediction_accuracy, predictions, predictions_job
from bestbets_dagster.defs.table_assets import game_date_job

ingest_assets = [player_game_logs, team_game_logs, prop_lines, player_game_lines]

ingest_job = game_date_job(
    "ingest_job",
    AssetSelection.assets(*ingest_assets),
    "Box scores and prop lines for a game-date range.",
)

feature_assets = [player_features]

build_job = game_date_job(
    "build_job",
    AssetSelection.assets(*ingest_assets, *feature_assets),
    "Ingestion and features for a game-date range.",
)

model_assets = [training_windows, family_models, model_registry]

prediction_assets = [predictions, prediction_accuracy]

best_bets_assets = [pick_signal_tags, signal_best_bets_picks, best_bets_accuracy]

monitoring_assets = [signal_health_daily, model_performance_daily, monitoring_alerts]

all_assets = [*ingest_assets, *feature_assets, *model_assets, *prediction_assets, *best_bets_assets, *monitoring_assets]
all_asset_checks: list = []
all_jobs = [
    ingest_job,
    build_job,
    training_windows_job,
    retrain_job,
    model_registry_job,
    predictions_job,
    grading_job,
    signal_tags_job,
    best_bets_job,
    best_bets_grading_job,
    monitoring_job,
    *daily_jobs,
]
all_schedules = [*daily_schedules]
all_sensors = [model_family_partitions_sensor, *daily_sensors, alerts_to_slack]
