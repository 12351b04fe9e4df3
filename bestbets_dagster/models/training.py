"""Training one family's CatBoost model for one cutoff week W, walk-forward.

Two fits of one recipe. The gate fit trains on the last `window_days` game days before W-7 and is
evaluated on [W-7, W) against real lines: the gates judge the recipe on a week it never saw. The
serving fit, the model that is registered and served from W, trains on the last `window_days` game
days before W with the gate fit's number of trees, so the week just before W is not thrown away
(still walk-forward: nothing on or after W). Only game days count, so the first weeks of a season
train on the end of the last one.

With PLAYER_BASELINE on, a model starts from a per-player baseline (his last-10 average), so the
trees learn the deviation from it; it is off because it did not help on either real line window
(v9_mae MAE 5.152 with it vs 5.139 without on 2025-10-21..12-06, 5.472 vs 5.414 on 2024-11-18..
2025-01-12), and a model records in its metadata whether it has one, so serving never guesses. The
loss is always the family's, set explicitly (the original's "MAE" families silently trained with
RMSE). Early stopping watches the last 15% of the gate window in time, only days of W's own season
(the end of the previous season is another game); when the season has too few of them, the trees
are a fixed count.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import tempfile

import numpy as np
import pandas as pd
from catboost import CatBoostRegressor, Pool

from bestbets_dagster.features.contract import feature_columns
from bestbets_dagster.models import gates as gate_rules
from bestbets_dagster.models.families import Family
from bestbets_dagster.tables import keyed_by_player_game
from bestbets_dagster.timeutil import season_of

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
# Fewer in-season validation rows than this share of the intended slice: no early stopping, and the
# recipe trains FIXED_ITERATIONS trees.
MIN_VALIDATION_FILL = 0.5
FIXED_ITERATIONS = 300
# The baseline each model starts from: the player's last-10 average, else his season average, else
# the mean label of the training rows that had neither (stored in the model's metadata).
BASELINE_FEATURES = ("points_avg_last_10", "points_avg_season")
PLAYER_BASELINE = False
EVAL_DAYS = 7
MIN_TRAINING_ROWS = 1000
MIN_EVAL_ROWS = 100


class NotEnoughData(ValueError):
    """The window holds too few rows to train or evaluate (the original's pre-checks)."""


def labeled_rows(features: pd.DataFrame, player_logs: pd.DataFrame) -> pd.DataFrame:
    """Feature rows of players who then played, with their actual points (the training label)."""
    played = player_logs[player_logs["minutes"].fillna(0) > 0][["game_date", "person_id", "points"]]
    played, rows = keyed_by_player_game(played), keyed_by_player_game(features)
    return rows.merge(played.rename(columns={"points": "actual_points"}), on=["game_date", "person_id"], how="inner")


# How far back a training week's labeled rows reach: 42 game days before W-7 across an off-season.
TRAINING_HISTORY_WEEKS = 58


def training_history_start(cutoff: dt.date) -> dt.date:
    return cutoff - dt.timedelta(weeks=TRAINING_HISTORY_WEEKS)


def labeled_fingerprint(labeled: pd.DataFrame) -> str:
    """sha256 of the labeled rows (keys, label, every feature), independent of row order and of how
    a backend types a column: numbers and booleans hash as float64, dates as nanoseconds, the rest as
    text (hashing the numbers as text made this a third of a season backfill's training time)."""
    return hashlib.sha256(_row_hashes(labeled)[1].tobytes()).hexdigest()


def labeled_fingerprints(labeled: pd.DataFrame, weeks: list[dt.date]) -> dict[dt.date, str]:
    """{W: labeled_fingerprint of W's window} (the rows of [training_history_start(W), W)) for many
    weeks from one hashing pass: a row's hash does not depend on the other rows, so a window's
    fingerprint is the hash of its slice of the date-ordered row hashes."""
    dates, hashes = _row_hashes(labeled)
    out = {}
    for week in weeks:
        lo, hi = dates.searchsorted([np.datetime64(training_history_start(week)), np.datetime64(week)], side="left")
        out[week] = hashlib.sha256(hashes[lo:hi].tobytes()).hexdigest()
    return out


def _row_hashes(labeled: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(game dates, one uint64 hash per row), rows ordered by (game_date, person_id)."""
    if labeled.empty:
        return np.array([], dtype="datetime64[ns]"), np.array([], dtype="uint64")
    rows = labeled.sort_values(["game_date", "person_id"]).reset_index(drop=True)
    canonical = {}
    for name in sorted(rows.columns):
        column = rows[name]
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            canonical[name] = pd.to_numeric(column, errors="coerce").astype("float64")
        elif pd.api.types.is_datetime64_any_dtype(column):
            canonical[name] = column.astype("datetime64[ns]").astype("int64")
        else:
            canonical[name] = column.astype(str)
    hashed = pd.util.hash_pandas_object(pd.DataFrame(canonical), index=False).to_numpy()
    return pd.to_datetime(rows["game_date"]).astype("datetime64[ns]").to_numpy(), hashed


def training_window_row(
    labeled: pd.DataFrame, cutoff: dt.date, computed_at: pd.Timestamp, fingerprint: str | None = None
) -> dict:
    """The training_windows row of week `cutoff` from its labeled rows (everything before the cutoff);
    fingerprint: their labeled_fingerprint when already computed."""
    days = pd.to_datetime(labeled["game_date"]).dt.date if len(labeled) else pd.Series(dtype=object)
    eval_start = cutoff - dt.timedelta(days=EVAL_DAYS)
    return {
        "training_week": pd.Timestamp(cutoff),
        "first_day": pd.Timestamp(min(days)) if len(days) else None,
        "last_day": pd.Timestamp(max(days)) if len(days) else None,
        "n_game_days": int(days[days < eval_start].nunique()),
        "n_labeled_rows": len(labeled),
        "n_eval_rows": int((days >= eval_start).sum()),
        "labeled_sha256": fingerprint or labeled_fingerprint(labeled),
        "computed_at": computed_at,
    }


@dataclasses.dataclass(frozen=True)
class Window:
    """train_days: the serving fit's game days (before the cutoff); gate_train_days: the gate fit's
    (before the evaluation week [eval_start, eval_end])."""

    cutoff: dt.date
    train_days: tuple[dt.date, ...]
    eval_start: dt.date
    eval_end: dt.date
    gate_train_days: tuple[dt.date, ...] = ()

    @property
    def train_start(self) -> dt.date:
        return self.train_days[0]

    @property
    def train_end(self) -> dt.date:
        return self.train_days[-1]


def training_window(game_days, cutoff: dt.date, window_days: int = 42) -> Window:
    """The gate fit's last `window_days` game days before cutoff - 7, the evaluation week
    [cutoff - 7, cutoff), and the serving fit's last `window_days` game days before the cutoff."""
    eval_start = cutoff - dt.timedelta(days=EVAL_DAYS)
    days = sorted(set(game_days))
    before_eval = [d for d in days if d < eval_start]
    if not before_eval:
        raise NotEnoughData(f"no game days before {eval_start} to train a model for cutoff {cutoff}")
    before_cutoff = [d for d in days if d < cutoff]
    return Window(
        cutoff,
        tuple(before_cutoff[-window_days:]),
        eval_start,
        cutoff - dt.timedelta(days=1),
        tuple(before_eval[-window_days:]),
    )


@dataclasses.dataclass
class TrainedModel:
    family: Family
    window: Window
    model: CatBoostRegressor  # the serving fit
    features: list[str]
    training_rows: int  # the serving fit's
    validation_rows: int  # the gate fit's early-stopping rows (0 with a fixed tree count)
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


def in_season_validation_days(days: pd.Series, season: str) -> set:
    """validation_days() of `season` only; empty when they would hold fewer than MIN_VALIDATION_FILL of
    the intended slice (a cutoff early in the season: the window is mostly the previous season)."""
    chosen = {d for d in validation_days(days) if season_of(d) == season}
    intended = VALIDATION_SHARE * len(days)
    return chosen if days.isin(chosen).sum() >= MIN_VALIDATION_FILL * intended else set()


def baseline_values(rows: pd.DataFrame, default: float) -> np.ndarray:
    value = rows[BASELINE_FEATURES[0]].astype("float64")
    for column in BASELINE_FEATURES[1:]:
        value = value.fillna(rows[column].astype("float64"))
    return value.fillna(default).to_numpy()


def _baseline_default(rows: pd.DataFrame) -> float:
    """The baseline of a row with neither baseline feature: the mean label of such training rows (of
    every row when there is none)."""
    neither = rows[list(BASELINE_FEATURES)].isna().all(axis=1)
    return float(rows.loc[neither, "actual_points"].mean() if neither.any() else rows["actual_points"].mean())


def predict(model: CatBoostRegressor, rows: pd.DataFrame, feature_set: str) -> np.ndarray:
    """Predictions clamped to [0, 60], the vector always built from the feature contract, plus the
    per-player baseline the model was trained from (recorded in its metadata)."""
    x = rows[feature_columns(feature_set)].astype("float64")
    if x.empty:
        return np.empty(0)
    metadata = model.get_metadata()
    if "baseline_default" in metadata:
        x = Pool(x, baseline=baseline_values(rows, float(metadata["baseline_default"])))
    return np.clip(model.predict(x), *PREDICTION_RANGE)


def _fit(
    family: Family,
    rows: pd.DataFrame,
    params: dict,
    thread_count: int,
    validation: pd.Series | None,
    baseline_default: float | None,
) -> CatBoostRegressor:
    """baseline_default None: no per-player baseline."""
    columns = feature_columns(family.feature_set)
    model = CatBoostRegressor(
        loss_function=family.loss_function,
        verbose=False,
        allow_writing_files=False,
        thread_count=thread_count,
        **params,
    )

    def pool(part: pd.DataFrame) -> Pool:
        baseline = None if baseline_default is None else baseline_values(part, baseline_default)
        return Pool(part[columns].astype("float64"), part["actual_points"].astype("float64"), baseline=baseline)

    if validation is None:
        model.fit(pool(rows))
    else:
        model.fit(pool(rows[~validation]), eval_set=pool(rows[validation]))
    if baseline_default is not None:
        model.get_metadata()["baseline_default"] = f"{baseline_default:.6f}"
    return model


def _scored(gate_model: CatBoostRegressor, evaluation: pd.DataFrame, family: Family) -> pd.DataFrame:
    """The gate fit's predictions of the evaluation week beside the actual points, line and season average."""
    return pd.DataFrame(
        {
            "game_date": evaluation["game_date"].to_numpy(),
            "person_id": evaluation["person_id"].to_numpy(),
            "prediction": predict(gate_model, evaluation, family.feature_set),
            "actual": evaluation["actual_points"].astype("float64").to_numpy(),
            "line": evaluation["vegas_points_line"].astype("float64").to_numpy(),
            "season_avg": evaluation["points_avg_season"].astype("float64").to_numpy(),
        }
    )


def train_family_model(
    family: Family,
    labeled: pd.DataFrame,
    cutoff: dt.date,
    hyperparameters: dict | None = None,
    thread_count: int = -1,
    player_baseline: bool = PLAYER_BASELINE,
) -> TrainedModel:
    """The gate fit, evaluated on the week before the cutoff and held to the gates; then the serving
    fit through the day before the cutoff with the gate fit's tree count."""
    params = {**HYPERPARAMETERS, **(hyperparameters or {})}
    days = labeled["game_date"].dt.date
    window = training_window(days.unique(), cutoff, family.training_window_days)
    ready = labeled["is_training_ready"].astype(bool)
    gate_rows = labeled[days.isin(window.gate_train_days) & ready].sort_values(["game_date", "person_id"])
    serving_rows = labeled[days.isin(window.train_days) & ready].sort_values(["game_date", "person_id"])
    if len(gate_rows) < MIN_TRAINING_ROWS:
        raise NotEnoughData(
            f"{len(gate_rows)} training rows in {window.gate_train_days[0]}..{window.gate_train_days[-1]} "
            f"(< {MIN_TRAINING_ROWS})"
        )
    # Too few evaluation rows (the week before a season's first cutoff has no games) fails the
    # eval_rows gate: the model is registered, rejected, rather than not at all.
    evaluation = labeled[(days >= window.eval_start) & (days <= window.eval_end)].sort_values(
        ["game_date", "person_id"]
    )
    baseline_default = _baseline_default(gate_rows) if player_baseline else None

    gate_days = gate_rows["game_date"].dt.date
    is_val = gate_days.isin(in_season_validation_days(gate_days, season_of(cutoff - dt.timedelta(days=1))))
    without_stopping = {k: v for k, v in params.items() if k != "early_stopping_rounds"}
    if is_val.any():
        gate_model = _fit(family, gate_rows, params, thread_count, is_val, baseline_default)
        trees = gate_model.get_best_iteration() + 1
    else:
        trees = FIXED_ITERATIONS
        gate_model = _fit(
            family, gate_rows, {**without_stopping, "iterations": trees}, thread_count, None, baseline_default
        )
    model = _fit(family, serving_rows, {**without_stopping, "iterations": trees}, thread_count, None, baseline_default)
    scored = _scored(gate_model, evaluation, family)
    gate_results, passed = gate_rules.evaluate_gates(scored, min_eval_rows=MIN_EVAL_ROWS)
    return TrainedModel(
        family=family,
        window=window,
        model=model,
        features=feature_columns(family.feature_set),
        training_rows=len(serving_rows),
        validation_rows=int(is_val.sum()),
        evaluation=scored,
        metrics=gate_rules.metrics(scored),
        gates=gate_results,
        gates_passed=passed,
        walkforward=gate_rules.walkforward(scored),
        strengths=gate_rules.strengths(scored),
        hyperparameters={
            "loss_function": family.loss_function,
            **params,
            "trees": trees,
            "early_stopped": bool(is_val.any()),
            "baseline": list(BASELINE_FEATURES) if player_baseline else None,
            "baseline_default": None if baseline_default is None else round(baseline_default, 4),
            "gate_fit": {
                "train_start": str(window.gate_train_days[0]),
                "train_end": str(window.gate_train_days[-1]),
                "rows": len(gate_rows),
                "validation_rows": int(is_val.sum()),
            },
            "serving_fit": {
                "train_start": str(window.train_start),
                "train_end": str(window.train_end),
                "rows": len(serving_rows),
            },
        },
    )
