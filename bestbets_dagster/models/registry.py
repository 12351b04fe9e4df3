"""The model registry: one row per trained model, and which model serves a family on a date.

A row records only facts of its own training run, so re-running one (week, family) partition
replaces exactly one row. Serving is derived, point in time: the model of family F serving date D
is the promoted model with the latest production_start_date (its training cutoff W) on or before
D; it serves until the day before the next promoted model starts. A model can therefore never
serve a date before its cutoff, and its evaluation week [W-7, W) lies before its first served date.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import subprocess

import numpy as np
import pandas as pd

from bestbets_dagster.models.families import Family
from bestbets_dagster.models.training import TrainedModel

SERVING_STATUSES = ("production",)


def model_id(family: str, train_start: dt.date, train_end: dt.date, cutoff: dt.date) -> str:
    """The original's shadow-model naming plus the cutoff week: two weeks can share a training window
    (no games between them), and each (week, family) partition must own its id and artifact."""
    return f"catboost_{family}_train{train_start:%Y%m%d}_{train_end:%Y%m%d}_w{cutoff:%Y%m%d}"


def artifact_key(family: str, model: str, sha256: str) -> str:
    """Where a model's bytes live: the key names their content, so bytes are written once and never
    overwritten. A retrain that gives other bytes writes another key, and the registry row is
    switched to it only after the bytes are stored; an interrupted retrain leaves the old row and
    its bytes as they were."""
    return f"models/{family}/{model}-{sha256[:16]}.cbm"


@functools.cache  # the code a process runs is the commit it started on; a season trains 330 models
def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _finite(value):
    """NaN and infinity become null: json.dumps would write them as NaN, which no JSON reader accepts."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _json(value) -> str:
    return json.dumps(_finite(value), default=str, sort_keys=True, allow_nan=False)


def registry_row(
    trained: TrainedModel, artifact_uri: str, sha256: str, promote: bool, created_at: pd.Timestamp
) -> dict:
    """A passing model of an auto-promote family (or one promoted by hand) serves from W on; a passing
    model otherwise is registered active but disabled; a failing one is registered rejected."""
    fam: Family = trained.family
    w = trained.window
    mid = model_id(fam.model_family, w.train_start, w.train_end, w.cutoff)
    serving = trained.gates_passed and promote
    status = "production" if serving else ("active" if trained.gates_passed else "rejected")
    m = trained.metrics
    return {
        "model_id": mid,
        "model_family": fam.model_family,
        "feature_set": fam.feature_set,
        "loss_function": fam.loss_function,
        "quantile_alpha": fam.quantile_alpha,
        "model_version": fam.feature_set.split("_")[0],
        "model_type": "catboost",
        "artifact_uri": artifact_uri,
        "sha256_hash": sha256,
        "feature_count": len(trained.features),
        "features_json": _json(trained.features),
        "training_cutoff": w.cutoff,
        "training_start_date": w.train_start,
        "training_end_date": w.train_end,
        "eval_start_date": w.eval_start,
        "eval_end_date": w.eval_end,
        "training_samples": trained.training_rows,
        "evaluation_mae": m["mae"],
        "evaluation_hit_rate": m["hit_rate"],
        "evaluation_hit_rate_edge_3plus": m["hit_rate_edge3"],
        "evaluation_hit_rate_edge_5plus": m["hit_rate_edge5"],
        "evaluation_n_edge_3plus": m["n_edge3"],
        "gates_json": _json(trained.gates),
        "gates_passed": trained.gates_passed,
        "walkforward_json": _json(trained.walkforward),
        "strengths_json": _json(trained.strengths),
        "training_config_json": _json(trained.hyperparameters),
        "status": status,
        "is_production": serving,
        "enabled": serving,
        "production_start_date": w.cutoff if serving else None,
        "production_end_date": None,
        "experiment_id": None,
        "git_commit": _git_commit(),
        "notes": None
        if trained.gates_passed
        else "failed gates: " + ", ".join(g["gate"] for g in trained.gates if g["status"] != "passed"),
        "created_at": created_at,
        "created_by": "family_models",
    }


def serving_periods(registry: pd.DataFrame) -> pd.DataFrame:
    """Promoted models with their derived serving period [production_start_date, production_end_date]."""
    promoted = registry[registry["status"].isin(SERVING_STATUSES) & registry["production_start_date"].notna()].copy()
    promoted = promoted.sort_values(["model_family", "production_start_date", "created_at"])
    promoted = promoted.drop_duplicates(["model_family", "production_start_date"], keep="last")
    next_start = promoted.groupby("model_family")["production_start_date"].shift(-1)
    promoted["production_end_date"] = next_start - pd.Timedelta(days=1)
    return promoted.reset_index(drop=True)


def serving_model(
    registry: pd.DataFrame, family: str, day: dt.date, periods: pd.DataFrame | None = None
) -> pd.Series | None:
    """The model that serves `family` on `day`, or None (periods: serving_periods(registry), if known)."""
    periods = serving_periods(registry) if periods is None else periods
    ts = pd.Timestamp(day)
    hit = periods[
        (periods["model_family"] == family)
        & (periods["production_start_date"] <= ts)
        & (periods["production_end_date"].isna() | (periods["production_end_date"] >= ts))
    ]
    return None if hit.empty else hit.iloc[-1]


def staleness(families: list[Family], registry: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """The retrain reminder: per enabled family, days since the newest enabled model's training end,
    with urgency ROUTINE 7-10, OVERDUE 11-14, URGENT 15+ (and URGENT without a serving model), and the
    reason in words: the newest serving model's age, "no model passed the gates since D" (the
    family's first training cutoff) or "never trained"."""
    live = registry[registry["enabled"].astype(bool) & registry["status"].isin(["active", "production"])]
    newest = live.groupby("model_family")["training_end_date"].max()
    first_cutoff = registry.groupby("model_family")["training_cutoff"].min() if len(registry) else pd.Series()
    rows = []
    for fam in families:
        if not fam.enabled:
            continue
        end = newest.get(fam.model_family)
        age = None if end is None or pd.isna(end) else (pd.Timestamp(today) - pd.Timestamp(end)).days
        tried = first_cutoff.get(fam.model_family)
        if age is not None:
            reason = f"newest serving model trained through {pd.Timestamp(end).date()} ({age} days ago)"
        elif tried is not None and not pd.isna(tried):
            reason = f"no model passed the gates since {pd.Timestamp(tried).date()}"
        else:
            reason = "never trained"
        if age is None or age >= 15:
            urgency = "URGENT"
        elif age >= 11:
            urgency = "OVERDUE"
        elif age >= 7:
            urgency = "ROUTINE"
        else:
            urgency = None
        rows.append(
            {
                "model_family": fam.model_family,
                "last_training_end": None if age is None else pd.Timestamp(end).date(),
                "age_days": age,
                "urgency": urgency,
                "reason": reason,
                "auto_retrain": fam.auto_retrain,
            }
        )
    return pd.DataFrame(
        rows, columns=["model_family", "last_training_end", "age_days", "urgency", "reason", "auto_retrain"]
    )


# Where the model_registry asset pins the models serving can fall back on when the registry table
# cannot be read: a JSON list of registry rows (an operator may edit it).
PINNED_MODELS_KEY = "registry/pinned_models.json"


def pinned_models(registry: pd.DataFrame, families: list[str]) -> pd.DataFrame:
    """Per family, the rows serving needs from its newest week on: its newest promoted model and its
    newest model of any status (the shadow), so `model_for_date` chooses as it would on the table."""
    rows = registry[registry["model_family"].isin(families)].sort_values(["training_cutoff", "created_at"])
    promoted = rows[rows["status"] == "production"].groupby("model_family").tail(1)
    newest = rows.groupby("model_family").tail(1)
    return pd.concat([promoted, newest]).drop_duplicates("model_id").reset_index(drop=True)
