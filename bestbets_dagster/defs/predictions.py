"""Predictions per family and date, grading once box scores land, and the daily slate schedules."""

import datetime as dt
import hashlib
import io

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetDep,
    AssetExecutionContext,
    DimensionPartitionMapping,
    Failure,
    IdentityPartitionMapping,
    MaterializeResult,
    MetadataValue,
    MultiPartitionMapping,
    TimeWindowPartitionMapping,
)

from bestbets_dagster import tables
from bestbets_dagster.defs.checks import lined_days, table_check_results
from bestbets_dagster.defs.partition_range import GAME_DATE_OF, partition_dates, range_metadata
from bestbets_dagster.defs.table_assets import table_asset
from bestbets_dagster.grading.grading import grade
from bestbets_dagster.models.families import load_families
from bestbets_dagster.models.registry import PINNED_MODELS_KEY, artifact_key
from bestbets_dagster.models.serving import ArtifactUnavailable, load_model_bytes, make_predictions
from bestbets_dagster.partitions import game_date_x_family_partitions
from bestbets_dagster.resources import ArtifactStore, Warehouse


def _keys(context: AssetExecutionContext) -> "dict[str, list[dt.date]]":
    """The run's partitions as {family: [dates]} (one key, or a single-run backfill's many)."""
    by_family: dict[str, list[dt.date]] = {}
    for key in context.partition_keys:
        mk = game_date_x_family_partitions.get_partition_key_from_str(str(key))
        dims = mk.keys_by_dimension
        by_family.setdefault(dims["model_family"], []).append(dt.date.fromisoformat(dims["game_date"]))
    return {f: sorted(d) for f, d in by_family.items()}


def _artifact_loader(artifacts: ArtifactStore):
    """A registry row -> its CatBoost model, from the artifact whose sha256 the registry recorded."""

    def load(row: pd.Series):
        key = artifact_key(row["model_family"], row["model_id"], row["sha256_hash"])
        if not artifacts.exists(key):
            raise ArtifactUnavailable(f"{row['model_id']}: no artifact at {artifacts.uri(key)}")
        data = artifacts.get(key)
        if hashlib.sha256(data).hexdigest() != row["sha256_hash"]:
            raise ArtifactUnavailable(f"{row['model_id']}: the artifact's sha256 differs from the registry's")
        return load_model_bytes(data)

    return load


def _family_summary(rows: pd.DataFrame, written: int, dates: list) -> dict:
    return {
        "rows": written,
        "dates": len(dates),
        "models": sorted(rows["model_id"].unique().tolist()) if written else [],
        "over": int((rows["recommendation"] == "OVER").sum()) if written else 0,
        "under": int((rows["recommendation"] == "UNDER").sum()) if written else 0,
        "shadow_rows": int((rows["model_status"] == "shadow").sum()) if written else 0,
    }


@table_asset(
    "predictions",
    shaped_by=(
        "bestbets_dagster.betting",
        "bestbets_dagster.models.serving",
        "bestbets_dagster.models.training",
        "bestbets_dagster.models.registry",
    ),
    blocking=True,
    blocking_checks={"edge_consistent": "edge = predicted - line, within the schema's range"},
    checks={
        "served_from_the_registry": "ERROR when the registry could not be read and the pinned models served",
        "registered_artifacts_served": (
            "ERROR when a model's artifact is missing or altered: the next model in line served instead"
        ),
    },
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
    group="predictions",
    extra_kinds=("catboost",),
)
def predictions(context: AssetExecutionContext, warehouse: Warehouse, artifacts: ArtifactStore) -> MaterializeResult:
    """Each family's points prediction, line, edge and OVER/UNDER/PASS for every resolved lined player."""
    families = {f.model_family: f for f in load_families(warehouse)}
    registry, registry_problem = _registry_or_pinned(context, warehouse, artifacts)
    load = _artifact_loader(artifacts)
    summary, unavailable, written_rows = {}, {}, []
    keys = _keys(context)
    for family_name, dates in keys.items():
        family = families[family_name]
        features = warehouse.read("player_features", dates[0], dates[-1])
        lines = warehouse.read("player_game_lines", dates[0], dates[-1])
        rows = make_predictions(family, dates, features, lines, registry, load, pd.Timestamp.now(tz="UTC"))
        missing = rows.attrs.get("unavailable_models", {})
        for model_id, reason in missing.items():
            context.log.error(f"{family_name}: model {model_id} is not served: {reason}")
            unavailable[model_id] = reason
        if missing:
            _keep_what_no_model_can_rebuild(warehouse, family_name, dates, rows, missing)
        written = warehouse.replace_partitions("predictions", rows, dates[0], dates[-1], family=family_name)
        if written:
            written_rows.append(rows[["game_date", "model_family"]])
        summary[family_name] = _family_summary(rows, written, dates)
        if not written:
            context.log.warning(f"{family_name}: no predictions for {dates[0]}..{dates[-1]} (no model or no lines)")
    first = min(d[0] for d in keys.values())
    last = max(d[-1] for d in keys.values())
    # The checks read the rows of the run's partitions: its family's when it has one (a backfill runs
    # the families one after another; reading every family's rows of the range each time grew with them).
    only = next(iter(keys)) if len(keys) == 1 else None
    written = pd.concat(written_rows, ignore_index=True) if written_rows else pd.DataFrame()
    return MaterializeResult(
        metadata={**range_metadata(context, len(written), written), "by_family": summary},
        check_results=[
            *table_check_results(
                warehouse, "predictions", first, last, family=only, expected_days=lined_days(warehouse, first, last)
            ),
            _edge_check(warehouse.read("predictions", first, last, family=only)),
            AssetCheckResult(
                check_name="registered_artifacts_served",
                asset_key="predictions",
                passed=not unavailable,
                severity=AssetCheckSeverity.ERROR,
                metadata={"unavailable_models": MetadataValue.json(unavailable)},
            ),
            AssetCheckResult(
                check_name="served_from_the_registry",
                asset_key="predictions",
                passed=registry_problem is None,
                severity=AssetCheckSeverity.ERROR,
                metadata={"problem": registry_problem or ""},
            ),
        ],
    )


def _keep_what_no_model_can_rebuild(warehouse: Warehouse, family: str, dates, rows: pd.DataFrame, missing: dict):
    """Fail, writing nothing of the family, when a date that has stored predictions would lose them
    because no model of it can be loaded (every artifact gone): a re-run must never delete what it
    cannot rebuild. A date still served by an earlier model is rebuilt as usual."""
    stored = warehouse.read("predictions", dates[0], dates[-1], family=family, columns=["game_date"])
    rebuilt = set(pd.to_datetime(rows["game_date"]).dt.date) if len(rows) else set()
    lost = sorted(set(pd.to_datetime(stored["game_date"]).dt.date) - rebuilt)
    if lost:
        reasons = "; ".join(f"{model}: {reason}" for model, reason in sorted(missing.items())[:3])
        raise Failure(
            description=(
                f"{family}: no loadable model for {len(lost)} date(s) with stored predictions "
                f"({', '.join(map(str, lost[:5]))}); the stored rows are kept. {reasons}. Restore the artifact "
                "(or retrain the week: bestbets retrain) and run again."
            ),
            allow_retries=False,
        )


def _registry_or_pinned(context, warehouse: Warehouse, artifacts: ArtifactStore) -> tuple[pd.DataFrame, str | None]:
    """The registry table; when it cannot be read, the models pinned by the model_registry asset
    (an ERROR check and log say so). Returns the rows and the problem, if any."""
    try:
        return warehouse.read("model_registry"), None
    except Exception as error:  # noqa: BLE001 - any failure to read falls back, and is reported
        problem = f"model_registry cannot be read ({type(error).__name__}: {error}); serving the pinned models"
        if not artifacts.exists(PINNED_MODELS_KEY):
            raise RuntimeError(
                f"model_registry cannot be read and no models are pinned at {artifacts.uri(PINNED_MODELS_KEY)}: {error}"
            ) from error
        context.log.error(problem)
        pinned = pd.read_json(io.BytesIO(artifacts.get(PINNED_MODELS_KEY)), orient="records", dtype=False)
        return tables.conform(tables.table("model_registry"), pinned), problem


def _edge_check(rows: pd.DataFrame) -> AssetCheckResult:
    edge = rows["edge"].astype(float)
    gap = (rows["predicted_points"].astype(float) - rows["line_value"].astype(float) - edge).abs()
    bad = rows[(edge.abs() > 60) | (gap > 0.051)]
    return AssetCheckResult(
        check_name="edge_consistent",
        asset_key="predictions",
        passed=bad.empty,
        metadata={
            "rows": len(rows),
            "bad_rows": len(bad),
            "max_abs_edge": float(edge.abs().max()) if len(rows) else 0.0,
        },
    )


@table_asset(
    "prediction_accuracy",
    shaped_by=("bestbets_dagster.betting", "bestbets_dagster.grading.grading"),
    blocking=False,
    deps=[AssetDep("predictions", partition_mapping=GAME_DATE_OF), "player_game_logs"],
    group="predictions",
)
def prediction_accuracy(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """Every family's predictions of a date graded: pushes, PASSes and players who did not play give NULL, never
    a loss."""
    start, end = partition_dates(context)
    preds = warehouse.read("predictions", start, end)
    graded = grade(preds, warehouse.read("player_game_logs", start, end), pd.Timestamp.now(tz="UTC"))
    written = warehouse.replace_partitions("prediction_accuracy", graded, start, end)
    summary = {}
    for family_name, rows in graded.groupby("model_family") if written else []:
        decided = rows["prediction_correct"].dropna()
        summary[family_name] = {
            "graded": len(rows),
            "voided": int(rows["is_voided"].sum()),
            "hit_rate": round(float(decided.mean()), 4) if len(decided) else None,
            "decided_bets": int(len(decided)),
        }
    boxed = set(
        pd.to_datetime(warehouse.read("player_game_logs", start, end, columns=["game_date"])["game_date"]).dt.date
    )
    return MaterializeResult(
        metadata={
            **range_metadata(context, written, graded),
            "ungraded_awaiting_box_score": int(len(preds) - written),
            "by_family": summary,
        },
        check_results=table_check_results(
            warehouse,
            "prediction_accuracy",
            start,
            end,
            expected_days=sorted(boxed & set(lined_days(warehouse, start, end))),
        ),
    )
