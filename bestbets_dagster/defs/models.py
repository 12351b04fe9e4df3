"""Model families as dynamic partitions, weekly training per family, and the retrain reminder."""

import datetime as dt
import hashlib

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    BackfillPolicy,
    Config,
    DefaultSensorStatus,
    MaterializeResult,
    MetadataValue,
    MultiPartitionKey,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    asset,
    define_asset_job,
    sensor,
)

from bestbets_dagster import tables
from bestbets_dagster.models.families import enabled_family_ids, load_families
from bestbets_dagster.models.registry import artifact_key, registry_row, staleness
from bestbets_dagster.models.training import NotEnoughData, labeled_rows, train_family_model
from bestbets_dagster.partitions import (
    MODEL_FAMILY_PARTITIONS_NAME,
    model_family_partitions,
    training_week_x_family_partitions,
)
from bestbets_dagster.resources import ArtifactStore, Warehouse
from bestbets_dagster.timeutil import today_eastern

# Enough look-back to reach 42 game days before the evaluation week across an off-season.
TRAINING_HISTORY_DAYS = 400


class FamilyModelsConfig(Config):
    enable: bool = False
    """Promote a model that passes every gate even when its family is not auto-promote."""


def partition_changes(existing: list, wanted: list) -> "tuple[list[str], list[str]]":
    """Dynamic partitions to add and to delete so that the partitions equal the enabled families."""
    return sorted(set(wanted) - set(existing)), sorted(set(existing) - set(wanted))


def current_training_week(today: dt.date) -> str:
    return (today - dt.timedelta(days=today.weekday())).isoformat()


@asset(
    check_specs=[AssetCheckSpec("registry_schema", asset="family_models", blocking=True,
                                description="model_registry matches its schema, one row per model_id; the models written have their artifact")],
    deps=["player_features", "player_game_logs"],
    partitions_def=training_week_x_family_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    group_name="models",
    kinds={"catboost", "duckdb"},
    description="One CatBoost model per family and training week W, held to the six gates and registered.",
)
def family_models(context: AssetExecutionContext, config: FamilyModelsConfig, warehouse: Warehouse,
                  artifacts: ArtifactStore) -> MaterializeResult:
    keys = [training_week_x_family_partitions.get_partition_key_from_str(str(k)) for k in context.partition_keys]
    weeks = sorted({dt.date.fromisoformat(k.keys_by_dimension["training_week"]) for k in keys})
    families = {f.model_family: f for f in load_families(warehouse)}
    start = weeks[0] - dt.timedelta(days=TRAINING_HISTORY_DAYS)
    end = weeks[-1] - dt.timedelta(days=1)
    labeled = labeled_rows(warehouse.read("player_features", start, end), warehouse.read("player_game_logs", start, end))
    summary = []
    for key in sorted(keys, key=str):
        week = dt.date.fromisoformat(key.keys_by_dimension["training_week"])
        name = key.keys_by_dimension["model_family"]
        if name not in families:
            raise ValueError(f"model_family partition {name!r} has no row in the model_family table")
        family = families[name]
        try:
            trained = train_family_model(family, labeled, week)
        except NotEnoughData as reason:
            # Clear any earlier model of this partition: a re-run must not leave a stale row.
            warehouse.replace_partitions("model_registry", pd.DataFrame(), week, family=name)
            context.log.warning(f"{name} {week}: not trained: {reason}")
            summary.append({"family": name, "week": str(week), "trained": False, "reason": str(reason)})
            continue
        row = registry_row(trained, "", "", promote=family.auto_promote or config.enable,
                           created_at=pd.Timestamp.now(tz="UTC"))
        ref = artifacts.put(artifact_key(name, row["model_id"]), trained.model_bytes(), content_type="application/octet-stream")
        row.update(artifact_uri=ref.uri, sha256_hash=ref.sha256)
        warehouse.replace_partitions("model_registry", pd.DataFrame([row]), week, family=name)
        summary.append(
            {
                "family": name, "week": str(week), "trained": True, "model_id": row["model_id"], "status": row["status"],
                "mae": trained.metrics["mae"], "hit_rate_edge3": trained.metrics["hit_rate_edge3"],
                "n_edge3": trained.metrics["n_edge3"],
                "failed_gates": [g["gate"] for g in trained.gates if g["status"] != "passed"],
            }
        )
    trained_rows = [s for s in summary if s["trained"]]
    return MaterializeResult(
        metadata={
            "models_trained": len(trained_rows),
            "models_promoted": sum(s["status"] == "production" for s in trained_rows),
            "models": MetadataValue.json(summary),
        },
        check_results=[_registry_check(warehouse, artifacts, [s["model_id"] for s in trained_rows])],
    )


def _registry_check(warehouse: Warehouse, artifacts: ArtifactStore, written: list) -> AssetCheckResult:
    """The registry's schema and unique ids, and for the models this run wrote, an artifact whose
    sha256 is the registry's."""
    registry = warehouse.read("model_registry")
    problems = []
    try:
        tables.validate("model_registry", registry, source="model_registry")
    except Exception as error:  # noqa: BLE001 - the finding is the check's result
        problems.append(str(error)[:1000])
    duplicated = registry[registry["model_id"].duplicated()]["model_id"].tolist()
    if duplicated:
        problems.append(f"duplicate model_id: {duplicated[:5]}")
    mine = registry[registry["model_id"].isin(written)]
    missing = [r.model_id for r in mine.itertuples(index=False)
               if not artifacts.exists(artifact_key(r.model_family, r.model_id))
               or hashlib.sha256(artifacts.get(artifact_key(r.model_family, r.model_id))).hexdigest() != r.sha256_hash]
    if missing:
        problems.append(f"artifact missing or not the registered bytes: {missing[:5]}")
    return AssetCheckResult(check_name="registry_schema", asset_key="family_models", passed=not problems,
                            metadata={"models": len(registry), "problems": "; ".join(problems)})


retrain_job = define_asset_job(
    "retrain_job",
    selection=[family_models],
    partitions_def=training_week_x_family_partitions,
    description="Train family models for (training week, family) partitions.",
)


@sensor(minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING)
def model_family_partitions_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """Keeps the model_family dynamic partitions equal to the registry's enabled families."""
    existing = context.instance.get_dynamic_partitions(MODEL_FAMILY_PARTITIONS_NAME)
    add, delete = partition_changes(existing, enabled_family_ids(warehouse))
    if not add and not delete:
        return SkipReason(f"model_family partitions already equal the {len(existing)} enabled families")
    requests = []
    if add:
        requests.append(model_family_partitions.build_add_request(add))
    if delete:
        requests.append(model_family_partitions.build_delete_request(delete))
    context.log.info(f"model_family partitions: adding {add}, deleting {delete}")
    return SensorResult(dynamic_partitions_requests=requests)


@sensor(job=retrain_job, minimum_interval_seconds=6 * 3600, default_status=DefaultSensorStatus.STOPPED)
def retrain_reminder_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """Reports each enabled family's staleness (ROUTINE 7-10 days, OVERDUE 11-14, URGENT 15+) and
    requests this week's training run for stale families that retrain automatically. Stopped by
    default, like the slate schedules: opening the UI on a replay's instance must not start training;
    turn it on in production."""
    today = today_eastern()
    report = staleness(load_families(warehouse), warehouse.read("model_registry"), today)
    stale = report[report["urgency"].notna()]
    if stale.empty:
        return SkipReason(f"every enabled family trained within 7 days of {today}")
    existing = set(context.instance.get_dynamic_partitions(MODEL_FAMILY_PARTITIONS_NAME))
    week = current_training_week(today)
    requests = []
    for row in stale.itertuples(index=False):
        age = "never trained" if row.age_days is None or pd.isna(row.age_days) else f"{int(row.age_days)} days old"
        context.log.warning(f"retrain reminder: {row.model_family} {row.urgency} ({age}); "
                            f"`bestbets retrain --family {row.model_family}`")
        if row.auto_retrain and row.model_family in existing:
            requests.append(
                RunRequest(
                    run_key=f"retrain:{row.model_family}:{week}",
                    partition_key=MultiPartitionKey({"training_week": week, "model_family": row.model_family}),
                    tags={"bestbets/retrain_urgency": row.urgency},
                )
            )
    return SensorResult(run_requests=requests)
