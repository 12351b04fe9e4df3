"""Training one family's CatBoost model for one cutoff week W.

Window: the last `window_days` game days before W-7 (only days with games count, so the first weeks
of a season train on the end of the last one); evaluation on [W-7, W) against real lines. The loss
is always the family's, set explicitly (the original's "MAE" families silently trained with RMSE),
and early stopping watches the last 15% of the window in time (the original split at random).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import tempfile

import numpy as np
import pandas as pd
from catboost import CatBoostRegressor

from bestbets_dagster.features.contract import feature_columns
from bestbets_dagster.models import gates as gate_rules
from bestbets_dagster.models.families import Family

HYPERPARAMETERS = {
    "iterations": 1000,
    "learning_rate": 0.05,
    "depth": 6,
    "l2_leaf_reg": 3,
    "random_seed": 42,
    "early_stopping_rounds": 50,
}
PREDICTION_RANGE = (0.0, 60.0)
VALIDATION_SHARE = 0.15
EVAL_DAYS = 7
MIN_TRAINING_ROWS = 1000
MIN_EVAL_ROWS = 100


class NotEnoughData(ValueError):
    """The window holds too few rows to train or evaluate (the original's pre-checks)."""


def labeled_rows(features: pd.DataFrame, player_logs: pd.DataFrame) -> pd.DataFrame:
    """Feature rows of players who then played, with their actual points (the training label)."""
    played = player_logs[player_logs["minutes"].fillna(0) > 0][["game_date", "person_id", "points"]]
    played = played.assign(game_date=pd.to_datetime(played["game_date"]).astype("datetime64[ns]"),
                           person_id=played["person_id"].astype("int64"))
    rows = features.assign(game_date=pd.to_datetime(features["game_date"]).astype("datetime64[ns]"),
                           person_id=features["person_id"].astype("int64"))
    return rows.merge(played.rename(columns={"points": "actual_points"}), on=["game_date", "person_id"], how="inner")


# How far back a training week's labeled rows reach: 42 game days before W-7 across an off-season.
TRAINING_HISTORY_WEEKS = 58


def training_history_start(cutoff: dt.date) -> dt.date:
    return cutoff - dt.timedelta(weeks=TRAINING_HISTORY_WEEKS)


def labeled_fingerprint(labeled: pd.DataFrame) -> str:
    """sha256 of the labeled rows (keys, label, every feature), independent of row order."""
    if labeled.empty:
        return hashlib.sha256(b"").hexdigest()
    rows = labeled.sort_values(["game_date", "person_id"]).reset_index(drop=True)
    rows = rows[sorted(rows.columns)]
    hashed = pd.util.hash_pandas_object(rows.astype(str), index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def training_window_row(labeled: pd.DataFrame, cutoff: dt.date, computed_at: pd.Timestamp) -> dict:
    """The training_windows row of week `cutoff` from its labeled rows (everything before the cutoff)."""
    days = pd.to_datetime(labeled["game_date"]).dt.date if len(labeled) else pd.Series(dtype=object)
    eval_start = cutoff - dt.timedelta(days=EVAL_DAYS)
    return {
        "training_week": pd.Timestamp(cutoff),
        "first_day": pd.Timestamp(min(days)) if len(days) else None,
        "last_day": pd.Timestamp(max(days)) if len(days) else None,
        "n_game_days": int(days[days < eval_start].nunique()),
        "n_labeled_rows": len(labeled),
        "n_eval_rows": int((days >= eval_start).sum()),
        "labeled_sha256": labeled_fingerprint(labeled),
        "computed_at": computed_at,
    }


@dataclasses.dataclass(frozen=True)
class Window:
    cutoff: dt.date
    train_days: tuple[dt.date, ...]
    eval_start: dt.date
    eval_end: dt.date

    @property
    def train_start(self) -> dt.date:
        return self.train_days[0]

    @property
    def train_end(self) -> dt.date:
        return self.train_days[-1]


def training_window(game_days, cutoff: dt.date, window_days: int = 42) -> Window:
    """The last `window_days` game days before cutoff - 7, and the evaluation week [cutoff - 7, cutoff)."""
    eval_start = cutoff - dt.timedelta(days=EVAL_DAYS)
    before = sorted(d for d in set(game_days) if d < eval_start)
    if not before:
        raise NotEnoughData(f"no game days before {eval_start} to train a model for cutoff {cutoff}")
    return Window(cutoff, tuple(before[-window_days:]), eval_start, cutoff - dt.timedelta(days=1))


@dataclasses.dataclass
class TrainedModel:
    family: Family
    window: Window
    model: CatBoostRegressor
    features: list[str]
    training_rows: int
    validation_rows: int
    evaluation: pd.DataFrame  # game_date, person_id, prediction, actual, line, season_avg
    metrics: dict
    gates: list[dict]
    gates_passed: bool
    walkforward: list[dict]
    strengths: dict
    hyperparameters: dict

    def model_bytes(self) -> bytes:
        """The .cbm bytes. CatBoost stamps a random model_guid and the finish time into the model;
        both are fixed (to the cutoff) so that the same training rows give the same bytes."""
        metadata = self.model.get_metadata()
        metadata["model_guid"] = f"{self.window.cutoff:%Y%m%d}-{self.family.model_family}"
        metadata["train_finish_time"] = f"{self.window.cutoff:%Y-%m-%d}T00:00:00Z"
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.cbm")
            self.model.save_model(path)
            with open(path, "rb") as fh:
                return fh.read()


def validation_days(days: pd.Series) -> set:
    """The latest game days that together hold at most VALIDATION_SHARE of the rows (at least one day)."""
    per_day = days.value_counts().sort_index(ascending=False)
    share = per_day.cumsum() / per_day.sum()
    chosen = per_day.index[share <= VALIDATION_SHARE]
    return set(chosen) if len(chosen) else {per_day.index[0]}


def predict(model: CatBoostRegressor, rows: pd.DataFrame, feature_set: str) -> np.ndarray:
    """Predictions clamped to [0, 60], the vector always built from the feature contract."""
    x = rows[feature_columns(feature_set)].astype("float64")
    return np.clip(model.predict(x), *PREDICTION_RANGE)


def train_family_model(
    family: Family, labeled: pd.DataFrame, cutoff: dt.date, hyperparameters: dict | None = None, thread_count: int = -1
) -> TrainedModel:
    """Train, evaluate on the week before the cutoff, and hold the model to the gates."""
    params = {**HYPERPARAMETERS, **(hyperparameters or {})}
    days = labeled["game_date"].dt.date
    window = training_window(days.unique(), cutoff, family.training_window_days)
    in_window = days.isin(window.train_days)
    train = labeled[in_window & labeled["is_training_ready"].astype(bool)].sort_values(["game_date", "person_id"])
    if len(train) < MIN_TRAINING_ROWS:
        raise NotEnoughData(f"{len(train)} training rows in {window.train_start}..{window.train_end} (< {MIN_TRAINING_ROWS})")
    # Too few evaluation rows (the week before a season's first cutoff has no games) fails the
    # eval_rows gate: the model is registered, rejected, rather than not at all.
    evaluation = labeled[(days >= window.eval_start) & (days <= window.eval_end)].sort_values(["game_date", "person_id"])

    # Early stopping on the last 15% of the window's rows in time, cut at a day boundary:
    # validation follows training (the original split at random).
    is_val = train["game_date"].dt.date.isin(validation_days(train["game_date"].dt.date))
    columns = feature_columns(family.feature_set)
    model = CatBoostRegressor(
        loss_function=family.loss_function,
        verbose=False,
        allow_writing_files=False,
        thread_count=thread_count,
        **params,
    )
    model.fit(
        train.loc[~is_val, columns].astype("float64"),
        train.loc[~is_val, "actual_points"].astype("float64"),
        eval_set=(train.loc[is_val, columns].astype("float64"), train.loc[is_val, "actual_points"].astype("float64")),
    )
    scored = pd.DataFrame(
        {
            "game_date": evaluation["game_date"].to_numpy(),
            "person_id": evaluation["person_id"].to_numpy(),
            "prediction": predict(model, evaluation, family.feature_set),
            "actual": evaluation["actual_points"].astype("float64").to_numpy(),
            "line": evaluation["vegas_points_line"].astype("float64").to_numpy(),
            "season_avg": evaluation["points_avg_season"].astype("float64").to_numpy(),
        }
    )
    gate_results, passed = gate_rules.evaluate_gates(scored, min_eval_rows=MIN_EVAL_ROWS)
    return TrainedModel(
        family=family,
        window=window,
        model=model,
        features=columns,
        training_rows=int((~is_val).sum()),
        validation_rows=int(is_val.sum()),
        evaluation=scored,
        metrics=gate_rules.metrics(scored),
        gates=gate_results,
        gates_passed=passed,
        walkforward=gate_rules.walkforward(scored),
        strengths=gate_rules.strengths(scored),
        hyperparameters={"loss_function": family.loss_function, **params, "best_iteration": model.get_best_iteration()},
    )
