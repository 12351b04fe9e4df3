"""Model families as dynamic partitions, weekly training per family, and the retrain reminder."""

import concurrent.futures
import datetime as dt
import hashlib
import json
import os

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetDep,
    AssetExecutionContext,
    BackfillPolicy,
    Config,
    DefaultSensorStatus,
    MaterializeResult,
    MetadataValue,
    MultiToSingleDimensionPartitionMapping,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    TableColumn,
    TableRecord,
    TableSchema,
    TimeWindowPartitionMapping,
    asset,
    sensor,
)

from bestbets_dagster import tables
from bestbets_dagster.defs.checks import table_check_results, table_definition_metadata
from bestbets_dagster.defs.partition_range import markdown_table, partition_dates, range_metadata
from bestbets_dagster.defs.table_assets import OWNERS, backend_kind, modules_version, table_asset
from bestbets_dagster.models.families import enabled_family_ids, load_families
from bestbets_dagster.models.registry import PINNED_MODELS_KEY, artifact_key, pinned_models, registry_row
from bestbets_dagster.models.training import (
    TRAINING_HISTORY_WEEKS,
    NotEnoughData,
    labeled_fingerprints,
    labeled_rows,
    train_family_model,
    training_history_start,
    training_window_row,
)
from bestbets_dagster.partitions import (
    MODEL_FAMILY_PARTITIONS_NAME,
    model_family_partitions,
    training_week_partitions,
    training_week_x_family_partitions,
)
from bestbets_dagster.resources import ArtifactStore, Warehouse
from bestbets_dagster.timeutil import monday_of

# A training week W reads the daily partitions [W - 58 weeks, W - 1]: weekly to daily, offsets in weeks.
TRAINING_LOOKBACK = TimeWindowPartitionMapping(
    start_offset=-TRAINING_HISTORY_WEEKS, end_offset=-1, allow_nonexistent_upstream_partitions=True
)


class FamilyModelsConfig(Config):
    enable: bool = False
    """Promote a model that passes every gate even when its family is not auto-promote."""
    parallel_fits: int = 0
    """Models of a run trained at once (0: one per core). Every fit uses one CatBoost thread: on these
    window sizes CatBoost keeps about one core busy whatever its thread count, and a fixed count keeps
    a model's bytes the same whether its week trains alone (the daily run) or in a range."""


def partition_changes(existing: list, wanted: list) -> "tuple[list[str], list[str]]":
    """Dynamic partitions to add and to delete so that the partitions equal the enabled families."""
    return sorted(set(wanted) - set(existing)), sorted(set(existing) - set(wanted))


def current_training_week(today: dt.date) -> str:
    return monday_of(today).isoformat()


def _labeled(warehouse: Warehouse, first_week: dt.date, last_week: dt.date) -> pd.DataFrame:
    """Labeled rows of every training week of [first_week, last_week]: features and box scores
    before each week, as far back as the look-back reaches."""
    start, end = training_history_start(first_week), last_week - dt.timedelta(days=1)
    return labeled_rows(warehouse.read("player_features", start, end), warehouse.read("player_game_logs", start, end))


def _of_week(labeled: pd.DataFrame, week: dt.date) -> pd.DataFrame:
    days = pd.to_datetime(labeled["game_date"])
    return labeled[(days >= pd.Timestamp(training_history_start(week))) & (days < pd.Timestamp(week))]


@table_asset(
    "training_windows",
    shaped_by=("bestbets_dagster.models.training",),
    blocking=True,
    game_days=False,
    deps=[
        AssetDep("player_features", partition_mapping=TRAINING_LOOKBACK),
        AssetDep("player_game_logs", partition_mapping=TRAINING_LOOKBACK),
    ],
    partitions_def=training_week_partitions,
    group="models",
)
def training_windows(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """Per training week W: the labeled rows before W that every family's model of W trains and is evaluated on
    (counts and fingerprint)."""
    first, last = partition_dates(context)
    weeks = [first + dt.timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    labeled = _labeled(warehouse, weeks[0], weeks[-1])
    now = pd.Timestamp.now(tz="UTC")
    fingerprints = labeled_fingerprints(labeled, weeks)
    rows = pd.DataFrame([training_window_row(_of_week(labeled, week), week, now, fingerprints[week]) for week in weeks])
    written = warehouse.replace_partitions("training_windows", rows, weeks[0], weeks[-1])
    return MaterializeResult(
        metadata={
            **range_metadata(context, written, rows, "training_week"),
            "weeks": MetadataValue.md(
                markdown_table(rows[["training_week", "n_game_days", "n_labeled_rows", "n_eval_rows"]])
            ),
        },
        check_results=table_check_results(warehouse, "training_windows", weeks[0], weeks[-1]),
    )


@asset(
    check_specs=[
        AssetCheckSpec(
            "registry_schema",
            asset="family_models",
            blocking=True,
            description="model_registry matches its schema, one row per model_id; "
            "the models written have their artifact",
        )
    ],
    metadata=table_definition_metadata("model_registry"),
    deps=[AssetDep("training_windows", partition_mapping=MultiToSingleDimensionPartitionMapping("training_week"))],
    partitions_def=training_week_x_family_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    group_name="models",
    kinds={"python", "catboost", backend_kind()},
    owners=OWNERS,
    code_version=modules_version(
        "bestbets_dagster.defs.models",
        "bestbets_dagster.models",
        "bestbets_dagster.betting",
        tables_read=["model_registry"],
    ),
    description="One CatBoost model per family and training week W, trained on the week's training window, held "
    "to the six gates and registered in model_registry.",
)
def family_models(
    context: AssetExecutionContext, config: FamilyModelsConfig, warehouse: Warehouse, artifacts: ArtifactStore
) -> MaterializeResult:
    keys = [training_week_x_family_partitions.get_partition_key_from_str(str(k)) for k in context.partition_keys]
    weeks = sorted({dt.date.fromisoformat(k.keys_by_dimension["training_week"]) for k in keys})
    families = {f.model_family: f for f in load_families(warehouse)}
    labeled = _labeled(warehouse, weeks[0], weeks[-1])
    windows = warehouse.read("training_windows", weeks[0], weeks[-1])
    fingerprints = dict(zip(pd.to_datetime(windows["training_week"]).dt.date, windows["labeled_sha256"]))
    for week, fingerprint in labeled_fingerprints(labeled, weeks).items():
        if fingerprints.get(week) != fingerprint:
            raise ValueError(
                f"training window {week}: the labeled rows differ from training_windows "
                f"({'no row' if week not in fingerprints else 'fingerprint differs'}): "
                "materialize training_windows of that week first"
            )
    keyed = []
    for key in sorted(keys, key=str):
        name = key.keys_by_dimension["model_family"]
        if name not in families:
            raise ValueError(f"model_family partition {name!r} has no row in the model_family table")
        keyed.append((dt.date.fromisoformat(key.keys_by_dimension["training_week"]), families[name]))
    workers = min(len(keyed), config.parallel_fits or os.cpu_count() or 1)

    def fit(week_and_family):
        week, family = week_and_family
        try:
            return train_family_model(family, _of_week(labeled, week), week, thread_count=1)
        except NotEnoughData as reason:
            return reason

    # CatBoost releases the GIL while it fits: the weeks' models train side by side; each model's
    # bytes are stored on this thread as soon as it and those before it are done, and the registry
    # rows of each family's consecutive weeks are written together once all are (a registry write
    # validates and commits: one per model cost more main-thread time than the fits could spare).
    summary, rows = [], {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        for (week, family), trained in zip(keyed, pool.map(fit, keyed), strict=True):
            rows[(family.model_family, week)] = _store_model(context, config, artifacts, week, family, trained, summary)
    _write_registry_rows(warehouse, rows)
    trained_rows = [s for s in summary if s["trained"]]
    return MaterializeResult(
        metadata={
            "models_trained": len(trained_rows),
            "models_promoted": sum(s["status"] == "production" for s in trained_rows),
            "models": MetadataValue.json(summary),
        },
        check_results=[_registry_check(warehouse, artifacts, [s["model_id"] for s in trained_rows])],
    )


def _store_model(context, config, artifacts, week, family, trained, summary: list) -> dict | None:
    """Store one trained model's bytes and return its registry row (None when it could not train);
    add it to the summary."""
    name = family.model_family
    if isinstance(trained, NotEnoughData):
        context.log.warning(f"{name} {week}: not trained: {trained}")
        summary.append({"family": name, "week": str(week), "trained": False, "reason": str(trained)})
        return None
    row = registry_row(
        trained, "", "", promote=family.auto_promote or config.enable, created_at=pd.Timestamp.now(tz="UTC")
    )
    model_bytes = trained.model_bytes()
    key = artifact_key(name, row["model_id"], hashlib.sha256(model_bytes).hexdigest())
    ref = artifacts.put(key, model_bytes, content_type="application/octet-stream")
    row.update(artifact_uri=ref.uri, sha256_hash=ref.sha256)
    summary.append(
        {
            "family": name,
            "week": str(week),
            "trained": True,
            "model_id": row["model_id"],
            "status": row["status"],
            "mae": trained.metrics["mae"],
            "hit_rate_edge3": trained.metrics["hit_rate_edge3"],
            "n_edge3": trained.metrics["n_edge3"],
            "failed_gates": [g["gate"] for g in trained.gates if g["status"] != "passed"],
        }
    )
    return row


def _write_registry_rows(warehouse: Warehouse, rows: dict[tuple[str, dt.date], dict | None]) -> None:
    """Replace the model_registry rows of every (family, week) of `rows` ({(family, week): row, or
    None for a week that could not train, whose earlier row must not stay}), one write per run of
    consecutive weeks of a family: the weeks of a run only, never a week between them it did not train."""
    blocks: list[list[tuple[str, dt.date]]] = []
    for family, week in sorted(rows):
        last = blocks[-1][-1] if blocks else None
        if last is not None and last[0] == family and week - last[1] == dt.timedelta(weeks=1):
            blocks[-1].append((family, week))
        else:
            blocks.append([(family, week)])
    for block in blocks:
        trained = [rows[key] for key in block if rows[key] is not None]
        warehouse.replace_partitions(
            "model_registry", pd.DataFrame(trained), block[0][1], block[-1][1], family=block[0][0]
        )


REGISTRY_COLUMNS = {
    "model_id": "string",
    "model_family": "string",
    "training_cutoff": "date",
    "training_start_date": "date",
    "training_end_date": "date",
    "eval_start_date": "date",
    "eval_end_date": "date",
    "training_samples": "int",
    "evaluation_mae": "float",
    "evaluation_hit_rate_edge_3plus": "float",
    "gates_passed": "bool",
    "failed_gates": "string",
    "status": "string",
    "production_start_date": "date",
    "production_end_date": "date",
    "sha256_hash": "string",
    "artifact_uri": "string",
}


def registry_records(registry: pd.DataFrame) -> list:
    """Rows of the registry view: every model with its window, gates, status and artifact."""
    records = []
    for row in registry.sort_values(["model_family", "training_cutoff"]).to_dict("records"):
        gates = json.loads(row["gates_json"]) if isinstance(row.get("gates_json"), str) else []
        row["failed_gates"] = ", ".join(g["gate"] for g in gates if g.get("status") != "passed")
        records.append(TableRecord({c: _cell(row.get(c), kind) for c, kind in REGISTRY_COLUMNS.items()}))
    return records


def _cell(value, kind: str):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if kind == "date":
        return f"{pd.Timestamp(value):%Y-%m-%d}"
    return {"int": int, "float": lambda v: round(float(v), 4), "bool": bool}.get(kind, str)(value)


@asset(
    deps=["family_models"],
    metadata=table_definition_metadata("model_registry"),
    group_name="models",
    kinds={"python", backend_kind()},
    owners=OWNERS,
    code_version=modules_version("bestbets_dagster.defs.models", "bestbets_dagster.models.registry"),
    description="The model registry as a whole: every model any family has trained, with its training window, "
    "gates, status, serving dates and artifact sha256. A pick's source_model_id is a model_id here. "
    "Also pins each enabled family's serving models in the artifact store for serving to fall back on.",
)
def model_registry(warehouse: Warehouse, artifacts: ArtifactStore) -> MaterializeResult:
    registry = warehouse.read("model_registry")
    schema = TableSchema(columns=[TableColumn(c, k) for c, k in REGISTRY_COLUMNS.items()])
    pinned = pinned_models(registry, [f.model_family for f in load_families(warehouse) if f.enabled])
    ref = artifacts.put(
        PINNED_MODELS_KEY, pinned.to_json(orient="records", date_format="iso").encode(), content_type="application/json"
    )
    return MaterializeResult(
        metadata={
            "dagster/row_count": len(registry),
            "pinned_models": MetadataValue.json({"uri": ref.uri, "models": pinned["model_id"].tolist()}),
            "models": MetadataValue.table(registry_records(registry), schema=schema),
            "by_status": MetadataValue.json(registry["status"].value_counts().to_dict() if len(registry) else {}),
        }
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
    missing = [
        r.model_id
        for r in mine.itertuples(index=False)
        if not artifacts.exists(artifact_key(r.model_family, r.model_id, r.sha256_hash))
        or hashlib.sha256(artifacts.get(artifact_key(r.model_family, r.model_id, r.sha256_hash))).hexdigest()
        != r.sha256_hash
    ]
    if missing:
        problems.append(f"artifact missing or not the registered bytes: {missing[:5]}")
    return AssetCheckResult(
        check_name="registry_schema",
        asset_key="family_models",
        passed=not problems,
        metadata={"models": len(registry), "problems": "; ".join(problems)},
    )


@sensor(
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description=("Keeps the model_family dynamic partitions equal to the registry's enabled families."),
)
def model_family_partitions_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
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


def sync_family_partitions(instance, warehouse) -> tuple[list[str], list[str]]:
    """What model_family_partitions_sensor requests, applied directly (for commands run without the daemon)."""
    existing = instance.get_dynamic_partitions(MODEL_FAMILY_PARTITIONS_NAME)
    add, delete = partition_changes(existing, enabled_family_ids(warehouse))
    if add:
        instance.add_dynamic_partitions(MODEL_FAMILY_PARTITIONS_NAME, add)
    for key in delete:
        instance.delete_dynamic_partition(MODEL_FAMILY_PARTITIONS_NAME, key)
    return add, delete
