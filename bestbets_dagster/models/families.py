"""Model families: `{feature_set}_{loss}` ids, the seed families and the family table.

The `model_family` table is the single source of truth for which families exist and which are
enabled; the enabled ones are the `model_family` dynamic partitions. Adding a family is one row.
"""

from __future__ import annotations

import dataclasses
import re

import pandas as pd

from bestbets_dagster.features.contract import FEATURE_SETS

_QUANTILE = re.compile(r"^Quantile:alpha=(0?\.\d+)$")


def loss_suffix(loss_function: str) -> str:
    """'MAE' -> 'mae'; 'Quantile:alpha=0.43' -> 'q43'; 'Huber:delta=5' -> 'huber'."""
    match = _QUANTILE.match(loss_function)
    if match:
        return "q" + f"{float(match.group(1)):.2f}"[2:]
    return loss_function.split(":", 1)[0].lower()


def quantile_alpha(loss_function: str) -> float | None:
    match = _QUANTILE.match(loss_function)
    return float(match.group(1)) if match else None


def family_id(feature_set: str, loss_function: str) -> str:
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {feature_set!r}; known: {sorted(FEATURE_SETS)}")
    return f"{feature_set}_{loss_suffix(loss_function)}"


def check_loss(loss_function: str) -> None:
    """Raise a one-line ValueError for a loss a family cannot train with: a Quantile alpha outside
    (0, 1), or a loss CatBoost's regressor refuses (CatBoost itself is asked, on three rows)."""
    from catboost import CatBoostError, CatBoostRegressor

    if loss_function.split(":", 1)[0].strip().lower() == "quantile":
        alpha = quantile_alpha(loss_function)
        if alpha is None or not 0 < alpha < 1:
            raise ValueError(
                f"a Quantile loss needs an alpha in (0, 1), written Quantile:alpha=0.43; got {loss_function!r}"
            )
    try:
        model = CatBoostRegressor(
            loss_function=loss_function, iterations=1, verbose=False, allow_writing_files=False, thread_count=1
        ).fit([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0])
    except (CatBoostError, ValueError, TypeError) as error:
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        raise ValueError(f"CatBoost cannot train a regressor with the loss {loss_function!r}: {reason}") from None
    # A multi-output loss (MultiQuantile, MultiRMSE, ...) trains on one target but predicts several
    # numbers per row: a family predicts one, so every retrain would fail later.
    outputs = model.predict([[1.0]]).shape
    if len(outputs) > 1 and outputs[-1] != 1:
        raise ValueError(
            f"the loss {loss_function!r} predicts {outputs[-1]} numbers per row; a family predicts one (points)"
        )


def is_quantile(loss_function: str) -> bool:
    return quantile_alpha(loss_function) is not None


@dataclasses.dataclass(frozen=True)
class Family:
    model_family: str
    feature_set: str
    loss_function: str
    training_window_days: int = 42
    retrain_cadence_days: int = 7
    enabled: bool = True
    auto_promote: bool = True
    auto_retrain: bool = True
    notes: str | None = None

    def __post_init__(self):
        for name in ("training_window_days", "retrain_cadence_days"):
            value = getattr(self, name)
            if int(value) < 1:
                raise ValueError(f"{name} must be 1 day or more, got {value}")

    @property
    def quantile_alpha(self) -> float | None:
        return quantile_alpha(self.loss_function)

    @classmethod
    def from_row(cls, row) -> "Family":
        return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls)})


def new_family(feature_set: str, loss_function: str, **options) -> Family:
    return Family(
        model_family=family_id(feature_set, loss_function),
        feature_set=feature_set,
        loss_function=loss_function,
        **options,
    )


SEED_FAMILIES: tuple[Family, ...] = (
    new_family("v9", "MAE"),
    new_family("v9", "Quantile:alpha=0.43"),
    new_family("v9", "Quantile:alpha=0.45"),
    new_family("v12_noveg", "MAE"),
    new_family("v12_noveg", "Quantile:alpha=0.43"),
    new_family("v12_noveg", "Quantile:alpha=0.45"),
    new_family("v12", "MAE", enabled=False, notes="with the vegas features; off as in the original"),
    new_family("v9", "Huber:delta=5", enabled=False, notes="an experiment in the original (rev 245-252)"),
)


def families_frame(families, updated_at: pd.Timestamp) -> pd.DataFrame:
    rows = []
    for fam in families:
        row = dataclasses.asdict(fam)
        row["quantile_alpha"] = fam.quantile_alpha
        row["updated_at"] = updated_at
        rows.append(row)
    return pd.DataFrame(rows)


class NoFamilies(ValueError):
    """The family table is empty in a warehouse that has trained models: it is not re-seeded."""


def load_families(warehouse) -> list[Family]:
    """The family table. A new warehouse (no family, no model yet) is seeded with the original's
    families; an emptied table in a warehouse with models is an error, never re-seeded, because the
    seed would re-enable families an operator disabled."""
    table = warehouse.read("model_family")
    if table.empty:
        trained = warehouse.read("model_registry", columns=["model_id"])
        if len(trained):
            raise NoFamilies(
                f"the model_family table is empty while model_registry holds {len(trained)} models: the families "
                "are not re-seeded over an operator's choices; add them back with `bestbets family add`"
            )
        warehouse.replace_table("model_family", families_frame(SEED_FAMILIES, pd.Timestamp.now(tz="UTC")))
        table = warehouse.read("model_family")
    return [Family.from_row(r) for _, r in table.iterrows()]


def save_families(warehouse, families: list[Family]) -> None:
    ids = [f.model_family for f in families]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate family ids in {ids}")
    warehouse.replace_table("model_family", families_frame(families, pd.Timestamp.now(tz="UTC")))


def enabled_family_ids(warehouse) -> list[str]:
    return sorted(f.model_family for f in load_families(warehouse) if f.enabled)
