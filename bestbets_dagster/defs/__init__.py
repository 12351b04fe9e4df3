"""The Dagster layer: assets, checks, jobs, schedules and sensors, found in this folder's modules by
`dg.load_from_defs_folder` (bestbets_dagster.definitions). Domain logic lives elsewhere. The lists
below group the assets for tests that materialize a stage on its own."""

import warnings

from dagster import BetaWarning

# BackfillPolicy.single_run() and the multi-partition mappings are beta in Dagster 1.13; ranged runs
# and the (date, family) lineage are the point of them here. Set before the asset modules are
# imported: the warnings are raised when they are defined.
warnings.filterwarnings("ignore", category=BetaWarning, message=r".*(backfill_policy|PartitionMapping).*")

# isort: split

from bestbets_dagster.defs.acquisition import nba_box_scores, odds_api_snapshots
from bestbets_dagster.defs.bestbets import best_bets_accuracy, pick_signal_tags, signal_best_bets_picks
from bestbets_dagster.defs.features import player_features
from bestbets_dagster.defs.ingestion import (
    game_lines,
    player_game_lines,
    player_game_logs,
    prop_lines,
    team_game_logs,
)
from bestbets_dagster.defs.models import family_models, model_registry, training_windows
from bestbets_dagster.defs.monitoring import model_performance_daily, monitoring_alerts, signal_health_daily
from bestbets_dagster.defs.predictions import prediction_accuracy, predictions

acquisition_assets = [odds_api_snapshots, nba_box_scores]
ingest_assets = [player_game_logs, team_game_logs, prop_lines, player_game_lines, game_lines]
feature_assets = [player_features]
model_assets = [training_windows, family_models, model_registry]
prediction_assets = [predictions, prediction_accuracy]
best_bets_assets = [pick_signal_tags, signal_best_bets_picks, best_bets_accuracy]
monitoring_assets = [signal_health_daily, model_performance_daily, monitoring_alerts]
all_assets = [*ingest_assets, *feature_assets, *model_assets, *prediction_assets, *best_bets_assets, *monitoring_assets]
