"""Serving: each family's prediction for every resolved, lined player of a date.

The model is the family's serving model on the date (a promoted model, see registry.serving_model);
where the family has none, the newest model registered with a training cutoff on or before the
date predicts as a shadow, flagged as such, so a family's predictions are graded from its first
week whether or not a model has passed the gates.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

import numpy as np
import pandas as pd
from catboost import CatBoostRegressor

from bestbets_dagster.betting import recommend
from bestbets_dagster.models.families import Family, is_quantile
from bestbets_dagster.models.registry import serving_model, serving_periods
from bestbets_dagster.models.training import predict
from bestbets_dagster.tables import keyed_by_player_game

MAE_EDGE_THRESHOLD = 3.0
QUANTILE_EDGE_THRESHOLD = 4.0


def edge_threshold(family: Family) -> float:
    """3 points for MAE-type families, 4 for quantile families (the original's rev 284 rule)."""
    return QUANTILE_EDGE_THRESHOLD if is_quantile(family.loss_function) else MAE_EDGE_THRESHOLD


def model_for_date(
    registry: pd.DataFrame, family: str, day: dt.date, periods: pd.DataFrame | None = None
) -> tuple[pd.Series | None, str | None]:
    """periods: registry.serving_periods(registry), for a caller that asks for many dates."""
    promoted = serving_model(registry, family, day, periods)
    if promoted is not None:
        return promoted, "production"
    candidates = registry[(registry["model_family"] == family) & (registry["training_cutoff"] <= pd.Timestamp(day))]
    if candidates.empty:
        return None, None
    return candidates.sort_values(["training_cutoff", "created_at"]).iloc[-1], "shadow"


def confidence(quality_score: pd.Series, points_std_last_10: pd.Series) -> pd.Series:
    """The original's 75 + quality bonus + consistency bonus, on a 0-1 scale (it stored 0-100 and
    compared with 0-1 thresholds)."""
    quality_bonus = np.select([quality_score >= 90, quality_score >= 80, quality_score >= 70], [10, 7, 5], 2)
    consistency = np.select([points_std_last_10 < 4, points_std_last_10 < 6, points_std_last_10 < 8], [10, 7, 5], 2)
    return pd.Series((75 + quality_bonus + consistency) / 100.0, index=quality_score.index).clip(0, 1)


def make_predictions(
    family: Family,
    dates: list[dt.date],
    features: pd.DataFrame,
    lines: pd.DataFrame,
    registry: pd.DataFrame,
    load_model: Callable[[pd.Series], CatBoostRegressor],
    created_at: pd.Timestamp,
) -> pd.DataFrame:
    """Predictions of one family for the dates. features: player_features rows of the dates;
    lines: player_game_lines of the dates (the selected line and book, prices, consensus)."""
    lined = _lined_features(features, lines)
    frames = []
    models: dict[str, CatBoostRegressor] = {}
    unavailable: dict[str, str] = {}
    threshold = edge_threshold(family)
    registry = registry[registry["model_family"] == family.model_family]  # once, not per date
    lined_by_day = {day.date(): rows for day, rows in lined.groupby("game_date", sort=False)}
    usable_registries: dict = {}  # the registry without the unavailable models, and its serving periods
    for day in sorted(set(dates)):
        rows = lined_by_day.get(day)
        if rows is None:
            continue
        model_row, status = _loadable_model(
            registry, family.model_family, day, load_model, models, unavailable, usable_registries
        )
        if model_row is None:
            continue
        predicted = np.round(predict(models[model_row["model_id"]], rows, family.feature_set), 1)
        frames.append(_prediction_rows(family, rows, model_row, status, predicted, threshold, created_at))
    out = (
        pd.concat(frames, ignore_index=True).sort_values(["game_date", "person_id"]).reset_index(drop=True)
        if frames
        else pd.DataFrame()
    )
    out.attrs["unavailable_models"] = unavailable
    return out


def _lined_features(features: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """The feature rows of lined player-games with the selected book's line, prices and the consensus."""
    lined = keyed_by_player_game(features[features["has_prop_line"].astype(bool)])
    book = lines[lines["person_id"].notna()][
        [
            "game_date",
            "person_id",
            "selected_line",
            "selected_book",
            "selected_over_price",
            "selected_under_price",
            "consensus_line",
        ]
    ]
    return lined.merge(
        keyed_by_player_game(book).drop_duplicates(["game_date", "person_id"]),
        on=["game_date", "person_id"],
        how="inner",
    )


# A prediction row's columns copied from its feature row, and its line's from the selected book's.
PLAYER_COLUMNS = ("person_id", "player_lookup", "player_name", "team_abbr", "opponent_abbr")
LINE_COLUMNS = {
    "line_value": "selected_line",
    "line_book": "selected_book",
    "line_over_price": "selected_over_price",
    "line_under_price": "selected_under_price",
    "consensus_line": "consensus_line",
}
QUALITY_COLUMNS = ("feature_quality_score", "available_quality_score")


def _prediction_rows(family, rows, model_row, status, predicted, threshold, created_at) -> pd.DataFrame:
    """The stored rows of one day's predictions by one model."""
    # Rounded at the storage boundary first, so the stored edge is exactly prediction - line.
    edge = np.round(predicted - rows["selected_line"].to_numpy(dtype=float), 1)
    frame = pd.DataFrame(
        {
            "game_date": rows["game_date"].to_numpy(),
            "model_family": family.model_family,
            "model_id": model_row["model_id"],
            "model_status": status,
            "model_training_cutoff": model_row["training_cutoff"],
            **{column: rows[column].to_numpy() for column in PLAYER_COLUMNS},
            # Not known before tip-off in this data (no schedule feed): the lines' game id comes from
            # the game's box score, which a replay has and the live slate does not.
            "game_id": None,
            "predicted_points": predicted,
            **{column: rows[source].to_numpy() for column, source in LINE_COLUMNS.items()},
            "edge": edge,
            "edge_threshold": threshold,
            **{column: rows[column].to_numpy() for column in QUALITY_COLUMNS},
            "created_at": created_at,
        }
    )
    frame["recommendation"] = recommend(frame["edge"], threshold)
    # The full score is capped at 69 on this data (shot zones, injury report absent): the
    # confidence reads the score over the features the data can give.
    frame["confidence"] = confidence(
        frame["available_quality_score"], pd.Series(rows["points_std_last_10"].to_numpy(dtype=float))
    ).round(3)
    return frame


class ArtifactUnavailable(ValueError):
    """A registered model's bytes are missing or are not the registered ones (sha256)."""


def _loadable_model(
    registry: pd.DataFrame, family: str, day: dt.date, load_model, models: dict, unavailable: dict, usable: dict
) -> tuple[pd.Series | None, str | None]:
    """The model that serves the family on the day and whose artifact loads; a model whose artifact
    is missing or altered is never served: the next one in line (the previous serving model, or a
    shadow) serves instead, and the model is reported in `unavailable`. usable: a cache, per set of
    unavailable models, of the registry without them and its serving periods (computed once, not
    once per date)."""
    while True:
        key = frozenset(unavailable)
        if key not in usable:
            rows = registry[~registry["model_id"].isin(unavailable)]
            usable[key] = (rows, serving_periods(rows))
        rows, periods = usable[key]
        model_row, status = model_for_date(rows, family, day, periods)
        if model_row is None or model_row["model_id"] in models:
            return model_row, status
        try:
            models[model_row["model_id"]] = load_model(model_row)
            return model_row, status
        except ArtifactUnavailable as error:
            unavailable[model_row["model_id"]] = str(error)


def load_model_bytes(data: bytes) -> CatBoostRegressor:
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.cbm")
        with open(path, "wb") as fh:
            fh.write(data)
        model = CatBoostRegressor()
        model.load_model(path)
        return model
