"""Predictions per family and date, grading once box scores land, and the daily slate schedules."""

import datetime as dt
import hashlib

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetDep,
    AssetExecutionContext,
    BackfillPolicy,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    DimensionPartitionMapping,
    IdentityPartitionMapping,
    MaterializeResult,
    MultiPartitionKey,
    MultiPartitionMapping,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    TimeWindowPartitionMapping,
    asset,
    define_asset_job,
    schedule,
    sensor,
)

from bestbets_dagster.defs.checks import lined_days, table_check_results, table_check_specs
from bestbets_dagster.defs.partition_range import GAME_DATE_OF, range_tags
from bestbets_dagster.grading.grading import grade
from bestbets_dagster.models.families import enabled_family_ids, load_families
from bestbets_dagster.models.registry import artifact_key
from bestbets_dagster.models.serving import load_model_bytes, make_predictions
from bestbets_dagster.partitions import MODEL_FAMILY_PARTITIONS_NAME, game_date_x_family_partitions
from bestbets_dagster.resources import ArtifactStore, Warehouse
from bestbets_dagster.timeutil import today_eastern



def _keys(context: AssetExecutionContext) -> "dict[str, list[dt.date]]":
    """The run's partitions as {family: [dates]} (one key, or a single-run backfill's many)."""
    by_family: dict[str, list[dt.date]] = {}
    for key in context.partition_keys:
        mk = game_date_x_family_partitions.get_partition_key_from_str(str(key))
        dims = mk.keys_by_dimension
        by_family.setdefault(dims["model_family"], []).append(dt.date.fromisoformat(dims["game_date"]))
    return {f: sorted(d) for f, d in by_family.items()}


@asset(
    check_specs=[*table_check_specs("predictions", blocking=True),
                 AssetCheckSpec("edge_consistent", asset="predictions", blocking=True,
                                description="edge = predicted - line, within the schema's range")],
    deps=[
        AssetDep("player_features", partition_mapping=GAME_DATE_OF),
        AssetDep("player_game_lines", partition_mapping=GAME_DATE_OF),
        # A date's model is the family's model of the training week holding that date.
        AssetDep(
            "family_models",
            partition_mapping=MultiPartitionMapping(
                {
                    "training_week": DimensionPartitionMapping("game_date", TimeWindowPartitionMapping()),
                    "model_family": DimensionPartitionMapping("model_family", IdentityPartitionMapping()),
                }
            ),
        ),
    ],
    partitions_def=game_date_x_family_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    group_name="predictions",
    kinds={"catboost", "duckdb"},
    description="Each family's points prediction, line, edge and OVER/UNDER/PASS for every resolved lined player.",
)
def predictions(context: AssetExecutionContext, warehouse: Warehouse, artifacts: ArtifactStore) -> MaterializeResult:
    families = {f.model_family: f for f in load_families(warehouse)}
    registry = warehouse.read("model_registry")

    def load(row: pd.Series):
        data = artifacts.get(artifact_key(row["model_family"], row["model_id"]))
        if hashlib.sha256(data).hexdigest() != row["sha256_hash"]:
            raise ValueError(f"{row['model_id']}: artifact sha256 differs from the registry's")
        return load_model_bytes(data)

    summary = {}
    for family_name, dates in _keys(context).items():
        family = families[family_name]
        features = warehouse.read("player_features", dates[0], dates[-1])
        lines = warehouse.read("player_game_lines", dates[0], dates[-1])
        rows = make_predictions(family, dates, features, lines, registry, load, pd.Timestamp.now(tz="UTC"))
        written = warehouse.replace_partitions("predictions", rows, dates[0], dates[-1], family=family_name)
        summary[family_name] = {
            "rows": written,
            "dates": len(dates),
            "models": sorted(rows["model_id"].unique().tolist()) if written else [],
            "over": int((rows["recommendation"] == "OVER").sum()) if written else 0,
            "under": int((rows["recommendation"] == "UNDER").sum()) if written else 0,
            "shadow_rows": int((rows["model_status"] == "shadow").sum()) if written else 0,
        }
        if not written:
            context.log.warning(f"{family_name}: no predictions for {dates[0]}..{dates[-1]} (no model or no lines)")
    first = min(d[0] for d in _keys(context).values())
    last = max(d[-1] for d in _keys(context).values())
    return MaterializeResult(
        metadata={"dagster/row_count": sum(s["rows"] for s in summary.values()), "by_family": summary},
        check_results=[*table_check_results(warehouse, "predictions", first, last,
                                            expected_days=lined_days(warehouse, first, last)),
                       _edge_check(warehouse.read("predictions", first, last))],
    )


def _edge_check(rows: pd.DataFrame) -> AssetCheckResult:
    edge = rows["edge"].astype(float)
    gap = (rows["predicted_points"].astype(float) - rows["line_value"].astype(float) - edge).abs()
    bad = rows[(edge.abs() > 60) | (gap > 0.051)]
    return AssetCheckResult(check_name="edge_consistent", asset_key="predictions", passed=bad.empty,
                            metadata={"rows": len(rows), "bad_rows": len(bad), "max_abs_edge": float(edge.abs().max()) if len(rows) else 0.0})


@asset(
    check_specs=table_check_specs("prediction_accuracy", blocking=False),
    deps=["predictions", AssetDep("player_game_logs", partition_mapping=GAME_DATE_OF)],
    partitions_def=game_date_x_family_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    group_name="predictions",
    kinds={"python", "duckdb"},
    description="Every prediction graded: pushes, PASSes and players who did not play give NULL, never a loss.",
)
def prediction_accuracy(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    summary = {}
    for family_name, dates in _keys(context).items():
        preds = warehouse.read("predictions", dates[0], dates[-1], family=family_name)
        logs = warehouse.read("player_game_logs", dates[0], dates[-1])
        graded = grade(preds, logs, pd.Timestamp.now(tz="UTC"))
        written = warehouse.replace_partitions("prediction_accuracy", graded, dates[0], dates[-1], family=family_name)
        decided = graded["prediction_correct"].dropna() if written else pd.Series(dtype=bool)
        summary[family_name] = {
            "graded": written,
            "voided": int(graded["is_voided"].sum()) if written else 0,
            "ungraded_awaiting_box_score": int(len(preds) - written),
            "hit_rate": round(float(decided.mean()), 4) if len(decided) else None,
            "decided_bets": int(len(decided)),
        }
    first = min(d[0] for d in _keys(context).values())
    last = max(d[-1] for d in _keys(context).values())
    boxed = set(pd.to_datetime(warehouse.read("player_game_logs", first, last, columns=["game_date"])["game_date"]).dt.date)
    return MaterializeResult(
        metadata={"dagster/row_count": sum(s["graded"] for s in summary.values()), "by_family": summary},
        check_results=table_check_results(warehouse, "prediction_accuracy", first, last,
                                          expected_days=sorted(boxed & set(lined_days(warehouse, first, last)))),
    )


predictions_job = define_asset_job(
    "predictions_job", selection=[predictions], partitions_def=game_date_x_family_partitions,
    description="Predictions for (date, family) partitions.",
)
grading_job = define_asset_job(
    "grading_job", selection=[prediction_accuracy], partitions_def=game_date_x_family_partitions,
    description="Grade (date, family) partitions against the box scores.",
)


def all_families_tags(day_start: dt.date, day_end: dt.date, families: list) -> dict:
    """Run tags for one run over every family and every date of [day_start, day_end]."""
    first = MultiPartitionKey({"game_date": str(day_start), "model_family": families[0]})
    last = MultiPartitionKey({"game_date": str(day_end), "model_family": families[-1]})
    return range_tags(str(first), str(last))


@schedule(cron_schedule="30 12 * * *", execution_timezone="America/New_York", job_name="build_job",
          default_status=DefaultScheduleStatus.STOPPED)
def slate_build_schedule(context: ScheduleEvaluationContext):
    """Today's slate, after the books' midday snapshot: ingest box scores and lines, build features."""
    day = context.scheduled_execution_time.date()
    return RunRequest(run_key=f"slate-build:{day}", partition_key=str(day))


@schedule(cron_schedule="0 13 * * *", execution_timezone="America/New_York", job=predictions_job,
          default_status=DefaultScheduleStatus.STOPPED)
def slate_predictions_schedule(context: ScheduleEvaluationContext, warehouse: Warehouse):
    """Today's predictions, every enabled family in one run, half an hour after the build."""
    day = context.scheduled_execution_time.date()
    families = enabled_family_ids(warehouse)
    if not families:
        return SkipReason("no enabled model families")
    return RunRequest(run_key=f"slate-predictions:{day}", tags=all_families_tags(day, day, families))


def grading_requests(warehouse: Warehouse, families: set, today: dt.date, lookback_days: int = 14) -> list:
    """A grading run per (date, family) with predictions and box scores in the look-back window;
    the run key holds the date's box-score row count, so more box scores landing grade it again."""
    since = today - dt.timedelta(days=lookback_days)
    pending = warehouse.query(
        """
        SELECT p.game_date, p.model_family, COUNT(*) AS n_predictions, MAX(b.n_box_rows) AS n_box_rows
        FROM {predictions} AS p
        JOIN (SELECT game_date, COUNT(*) AS n_box_rows FROM {player_game_logs}
              WHERE game_date >= @since GROUP BY game_date) AS b ON b.game_date = p.game_date
        WHERE p.game_date >= @since AND p.game_date < @today
        GROUP BY p.game_date, p.model_family
        ORDER BY p.game_date, p.model_family
        """,
        {"since": since, "today": today},
    )
    return [
        RunRequest(
            run_key=f"grade:{row.game_date:%Y-%m-%d}:{row.model_family}:{row.n_box_rows}",
            partition_key=MultiPartitionKey({"game_date": f"{row.game_date:%Y-%m-%d}", "model_family": row.model_family}),
        )
        for row in pending.itertuples(index=False)
        if row.model_family in families
    ]


@sensor(job=grading_job, minimum_interval_seconds=600, default_status=DefaultSensorStatus.RUNNING)
def grade_when_box_scores_land(context: SensorEvaluationContext, warehouse: Warehouse):
    """Grades a (date, family) once box scores for the date are in, and again when more arrive."""
    families = set(context.instance.get_dynamic_partitions(MODEL_FAMILY_PARTITIONS_NAME))
    requests = grading_requests(warehouse, families, today_eastern())
    if not requests:
        return SkipReason("no predictions with box scores in the last 14 days")
    return SensorResult(run_requests=requests)
