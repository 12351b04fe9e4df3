"""Model experiments as an asset: one dynamic partition per experiment name, its recipe in the run
config. Its runs read the production features, box scores and lines and write model_experiments only
(and a passing recipe's disabled family into model_family)."""

import datetime as dt
import inspect

import pandas as pd
from dagster import (
    AllPartitionMapping,
    AssetDep,
    AssetExecutionContext,
    BackfillPolicy,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from bestbets_dagster.defs.checks import table_definition_metadata
from bestbets_dagster.defs.partition_range import markdown_table
from bestbets_dagster.defs.table_assets import OWNERS, backend_kind, code_version
from bestbets_dagster.experiments.runs import ExperimentSpec, register_if_passed, run_experiment
from bestbets_dagster.ingest.lines import current_offers, decision_times_of
from bestbets_dagster.models.families import load_families, save_families
from bestbets_dagster.models.training import labeled_rows, training_history_start
from bestbets_dagster.partitions import experiment_partitions
from bestbets_dagster.resources import BestBetsSettings, Warehouse


class ExperimentConfig(Config):
    feature_set: str = Field(description="v9, v12 or v12_noveg")
    loss_function: str = Field(description="a CatBoost loss: MAE, Quantile:alpha=0.43, Huber:delta=5, ...")
    train_start: str | None = Field(default=None, description="single training: first game day (YYYY-MM-DD)")
    train_end: str | None = Field(default=None, description="single training: last game day (default: the newest)")
    walkforward_start: str | None = Field(default=None, description="walk-forward: first day predicted")
    walkforward_end: str | None = Field(default=None, description="walk-forward: last day predicted")

    def spec(self, name: str) -> ExperimentSpec:
        def day(text):
            return dt.date.fromisoformat(text) if text else None

        return ExperimentSpec(
            name,
            self.feature_set,
            self.loss_function,
            day(self.train_start),
            day(self.train_end),
            day(self.walkforward_start),
            day(self.walkforward_end),
        )


def experiment_reads(spec: ExperimentSpec, newest: dt.date) -> tuple[dt.date, dt.date]:
    """The days of features and box scores an experiment reads: the training look-back of its first
    model through its last day."""
    if spec.walkforward:
        return training_history_start(spec.walkforward_start), spec.walkforward_end
    end = spec.train_end or newest
    return (spec.train_start or training_history_start(end + dt.timedelta(days=1))), end


def experiment_asset(fn):
    """`@asset` of the model_experiments table: one run per experiment partition (each has its recipe)."""
    return asset(
        name="model_experiments",
        partitions_def=experiment_partitions,
        deps=[
            AssetDep(name, partition_mapping=AllPartitionMapping())
            for name in ("player_features", "player_game_logs", "player_game_lines", "prop_lines")
        ],
        metadata=table_definition_metadata("model_experiments"),
        backfill_policy=BackfillPolicy.multi_run(1),
        group_name="experiments",
        kinds={"python", "catboost", backend_kind()},
        owners=OWNERS,
        code_version=code_version(
            fn, "model_experiments", ("bestbets_dagster.experiments.runs", "bestbets_dagster.betting")
        ),
        description=inspect.getdoc(fn),
    )(fn)


@experiment_asset
def model_experiments(
    context: AssetExecutionContext, config: ExperimentConfig, warehouse: Warehouse, best_bets: BestBetsSettings
) -> MaterializeResult:
    """An experiment per partition: a feature set x loss trained with the production recipe and gates, once or
    walk-forward week by week, with its weekly figures against the real lines; registered as a disabled family
    when it passes. Writes model_experiments (and model_family when it registers), nothing else."""
    spec = config.spec(context.partition_key)  # run_experiment checks it
    newest = warehouse.read("player_game_logs", columns=["game_date"])["game_date"].max()
    if pd.isna(newest):
        raise ValueError(f"experiment {spec.name}: the warehouse has no box scores: build the data first")
    start, end = experiment_reads(spec, pd.Timestamp(newest).date())
    labeled = labeled_rows(
        warehouse.read("player_features", start, end), warehouse.read("player_game_logs", start, end)
    )
    if labeled.empty:
        raise ValueError(f"experiment {spec.name}: no labeled rows in {start}..{end}: build the features first")
    lines, offers = pd.DataFrame(), None
    if spec.walkforward:
        lines = warehouse.read("player_game_lines", spec.walkforward_start, spec.walkforward_end)
        # Every book's lines as each date's decision saw them: the market each bet is priced from.
        offers = current_offers(
            warehouse.read("prop_lines", spec.walkforward_start, spec.walkforward_end), decision_times_of(lines)
        )

    def progress(done, total, label):
        context.log.info(f"{spec.name}: {label} ({done}/{total})")

    result = run_experiment(spec, labeled, lines, best_bets.config(), progress, offers=offers)
    families, registered, note = register_if_passed(result, load_families(warehouse))
    if registered:
        save_families(warehouse, families)
    stored = warehouse.read("model_experiments")
    row = {
        **result.row,
        "registered": registered,
        "run_id": context.run.run_id,
        "created_at": pd.Timestamp.now(tz="UTC"),
    }
    others = stored[stored["experiment_name"] != spec.name] if len(stored) else stored
    kept = [others] if len(others) else []
    warehouse.replace_table("model_experiments", pd.concat([*kept, pd.DataFrame([row])], ignore_index=True))
    context.log.info(f"{spec.name}: {result.row['verdict']}; {note}")
    return MaterializeResult(
        metadata={
            "model_family": result.row["model_family"],
            "mode": result.row["mode"],
            "passed": bool(result.row["passed"]),
            "verdict": result.row["verdict"],
            "registration": note,
            **{
                name: float(result.row[name])
                for name in ("mae", "line_mae", "bias", "hit_rate", "units")
                if result.row[name] is not None and not pd.isna(result.row[name])
            },
            "n_bets": int(result.row["n_bets"] or 0),
            "weeks": MetadataValue.md(markdown_table(result.weeks)),
        }
    )
