"""Model experiments: a feature set x loss trained on real data with the production recipe and gates,
once (a training range) or walk-forward (a model per week over a range, exactly as the replay trains
them), judged against the real selected lines; a recipe that passes is registered as a disabled family.

Walk-forward, the model of week W trains on the game days before W (models.training: the gates'
fit before W-7, judged on [W-7, W); the serving fit through W-1) and predicts the lined player-games of
[W, W+7). Each prediction is graded at the selected line and priced like a candidate: P(over) from the
experiment's own graded predictions before its date (bestbets.probability, none of the day or later),
a bet when it clears the best-bets selection rule (EV at the line's price, or |edge|), settled at that
price (a nominal-price book's at the nominal price). No stored model, prediction or grade is written:
the figures go to model_experiments only.

An experiment passes when its models pass the six gates: the one model of a single training, or at
least half of the weekly models walk-forward (a family serves a week only with a model that passed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pandas as pd

from bestbets_dagster.bestbets.candidates import clears_value_floor, judged_price, probable_side
from bestbets_dagster.bestbets.config import BestBetsConfig
from bestbets_dagster.bestbets.market import graded_with_market
from bestbets_dagster.bestbets.probability import walk_forward_probabilities
from bestbets_dagster.betting import expected_value, settle
from bestbets_dagster.ingest.lines import OFFER_COLUMNS
from bestbets_dagster.models.families import Family, check_loss, family_id
from bestbets_dagster.models.training import NotEnoughData, predict, train_family_model
from bestbets_dagster.tables import keyed_by_player_game
from bestbets_dagster.timeutil import mondays

LINE_COLUMNS = ["game_date", "person_id", "line_value", "line_book", "line_over_price", "line_under_price"]


@dataclasses.dataclass(frozen=True)
class ExperimentSpec:
    name: str
    feature_set: str
    loss_function: str
    train_start: dt.date | None = None
    train_end: dt.date | None = None
    walkforward_start: dt.date | None = None
    walkforward_end: dt.date | None = None

    @property
    def walkforward(self) -> bool:
        return self.walkforward_start is not None

    def family(self) -> Family:
        return Family(
            model_family=family_id(self.feature_set, self.loss_function),
            feature_set=self.feature_set,
            loss_function=self.loss_function,
            enabled=False,
            auto_promote=False,
            notes=f"registered by experiment {self.name}",
        )

    def check(self) -> None:
        """One-line ValueErrors for a spec that cannot run."""
        if not self.name or not self.name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"an experiment name is letters, digits, - and _; got {self.name!r}")
        family_id(self.feature_set, self.loss_function)
        check_loss(self.loss_function)
        if self.walkforward:
            if self.walkforward_end is None or self.walkforward_end < self.walkforward_start:
                raise ValueError(
                    f"walk-forward range {self.walkforward_start}..{self.walkforward_end}: the end must be on or "
                    "after the start"
                )
        elif self.train_start and self.train_end and self.train_end < self.train_start:
            raise ValueError(f"training range {self.train_start}..{self.train_end} is reversed")


@dataclasses.dataclass
class ExperimentResult:
    spec: ExperimentSpec
    row: dict  # the model_experiments row (without run_id, created_at, registered)
    weeks: pd.DataFrame
    graded: pd.DataFrame  # walk-forward: every graded prediction with its bet, if any


def _lined(labeled: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Labeled rows with the selected line and prices of their player-game (player_game_lines rows
    matched to a player; rows without a line dropped), named as in predictions."""
    own = lines[lines["person_id"].notna() & (lines["selected_line"].astype("float64") > 0)].rename(
        columns={
            "selected_line": "line_value",
            "selected_book": "line_book",
            "selected_over_price": "line_over_price",
            "selected_under_price": "line_under_price",
        }
    )[LINE_COLUMNS]
    own = keyed_by_player_game(own).drop_duplicates(["game_date", "person_id"])
    return labeled.merge(own, on=["game_date", "person_id"], how="inner")


def bets(graded: pd.DataFrame, config: BestBetsConfig) -> pd.DataFrame:
    """The graded predictions as the selection rule bets them: side, price, P(win), EV, result, units.
    graded: game_date, model_family, predicted_points, actual_points, line_value, line_book, the two
    prices, is_voided, and p_over where a calibration existed."""
    g = graded.copy()
    g["edge"] = g["predicted_points"] - g["line_value"].astype("float64")
    p_over = g["p_over"] if "p_over" in g else pd.Series(np.nan, index=g.index)
    by_edge = pd.Series(np.where(g["edge"] > 0, "OVER", "UNDER"), index=g.index)
    g["recommendation"] = probable_side(g["edge"], p_over) if config.selection == "ev" else by_edge
    over = g["recommendation"] == "OVER"
    price = pd.Series(np.where(over, g["line_over_price"], g["line_under_price"]), index=g.index).astype("float64")
    judged = pd.Series(judged_price(price, g["line_book"], config), index=g.index)
    g["p_win"] = pd.Series(np.where(over, p_over, 1.0 - p_over), index=g.index)
    g["expected_value"] = expected_value(g["p_win"], judged)
    g["is_bet"] = clears_value_floor(g, config)
    g["result"], g["units"] = settle(
        over,
        g["actual_points"].astype("float64"),
        g["line_value"].astype("float64"),
        judged,
        g["is_voided"].astype(bool),
    )
    return g


def _week_row(week: dt.date, g: pd.DataFrame, gates_passed: bool | None) -> dict:
    played = g[~g["is_voided"]]
    error = (played["predicted_points"] - played["actual_points"]).abs()
    line_error = (played["line_value"].astype("float64") - played["actual_points"]).abs()
    placed = g[g["is_bet"]]
    wins, losses = int((placed["result"] == "WIN").sum()), int((placed["result"] == "LOSS").sum())
    return {
        "week": f"{week}",
        "n": len(played),
        "mae": round(float(error.mean()), 3) if len(played) else None,
        "line_mae": round(float(line_error.mean()), 3) if len(played) else None,
        "bias": round(float((played["predicted_points"] - played["line_value"].astype("float64")).mean()), 3)
        if len(played)
        else None,
        "n_bets": len(placed),
        "wins": wins,
        "losses": losses,
        "hit_rate": round(100.0 * wins / (wins + losses), 1) if wins + losses else None,
        "units": round(float(placed["units"].sum()), 2),
        "gates_passed": gates_passed,
    }


def _as_graded(rows: pd.DataFrame, predictions: np.ndarray, family: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "game_date": rows["game_date"].to_numpy(),
            "person_id": rows["person_id"].to_numpy(),
            "model_family": family,
            "predicted_points": predictions,
            "actual_points": rows["actual_points"].astype("float64").to_numpy(),
            "line_value": rows["line_value"].astype("float64").to_numpy(),
            "line_book": rows["line_book"].to_numpy(),
            "line_over_price": rows["line_over_price"].astype("float64").to_numpy(),
            "line_under_price": rows["line_under_price"].astype("float64").to_numpy(),
            # Labeled rows are players who played: none is voided.
            "is_voided": False,
        }
    )


def _priced(graded: pd.DataFrame, offers: pd.DataFrame | None, config: BestBetsConfig) -> pd.DataFrame:
    """The graded predictions with the market's P(over) and the walk-forward P(over) of each."""
    if not len(graded):
        return graded
    days_graded = sorted(pd.to_datetime(graded["game_date"]).dt.date.unique())
    graded = graded_with_market(
        graded,
        offers if offers is not None else pd.DataFrame(columns=OFFER_COLUMNS),
        config.nominal_price_books,
        days_graded[:1],
    )
    priced = walk_forward_probabilities(graded, days_graded)
    return graded.merge(priced[["game_date", "person_id", "p_over"]], on=["game_date", "person_id"], how="left")


def run_experiment(
    spec: ExperimentSpec,
    labeled: pd.DataFrame,
    lines: pd.DataFrame,
    config: BestBetsConfig,
    progress=None,
    thread_count: int = -1,
    offers: pd.DataFrame | None = None,
) -> ExperimentResult:
    """labeled: models.training.labeled_rows of every day the experiment reads (training look-back
    through the last day); lines: player_game_lines of the walk-forward range (selected line, prices);
    offers: every book's lines of that range (ingest.lines.current_offers), the market each bet is
    priced from (bestbets.market; without them, each bet's own book's price)."""
    spec.check()
    family = spec.family()
    if not spec.walkforward:
        return _single(spec, family, labeled, thread_count)
    weeks = mondays(spec.walkforward_start, spec.walkforward_end)
    days = labeled["game_date"].dt.date
    graded_weeks, week_models = [], []
    for done, week in enumerate(weeks, 1):
        through = min(week + dt.timedelta(days=6), spec.walkforward_end)
        start = max(week, spec.walkforward_start)
        try:
            trained = train_family_model(family, labeled[days < week], week, thread_count=thread_count)
        except NotEnoughData:
            week_models.append((week, None))  # the week's row says "no model"
            continue
        target = _lined(labeled[(days >= start) & (days <= through)], lines)
        graded_weeks.append(_as_graded(target, predict(trained.model, target, family.feature_set), family.model_family))
        week_models.append((week, trained))
        if progress:
            progress(done, len(weeks), f"week {week}")
    graded = pd.concat(graded_weeks, ignore_index=True) if graded_weeks else _as_graded(labeled.iloc[0:0], [], "")
    graded = bets(_priced(graded, offers, config), config)
    week_of = pd.to_datetime(graded["game_date"]).dt.to_period("W-SUN").dt.start_time.dt.date
    rows = [
        _week_row(week, graded[week_of == week], trained.gates_passed if trained else None)
        for week, trained in week_models
    ]
    trained_models = [t for _, t in week_models if t is not None]
    n_passing = sum(t.gates_passed for t in trained_models)
    passed = bool(trained_models) and n_passing * 2 >= len(trained_models)
    verdict = (
        f"{n_passing} of {len(trained_models)} weekly models passed the six gates "
        f"({'at least' if passed else 'fewer than'} half)"
        if trained_models
        else "no week had enough rows to train a model"
    )
    last = trained_models[-1] if trained_models else None
    summary = _week_row(spec.walkforward_end, graded, None)
    return ExperimentResult(
        spec,
        {
            **_spec_columns(spec, family, "walkforward"),
            "n_models": len(trained_models),
            "n_models_passing_gates": n_passing,
            "n_rows": summary["n"],
            "mae": summary["mae"],
            "line_mae": summary["line_mae"],
            "bias": summary["bias"],
            "selection": config.selection,
            "n_bets": summary["n_bets"],
            "hit_rate": summary["hit_rate"],
            "units": summary["units"],
            "passed": passed,
            "verdict": verdict,
            "weeks_json": json.dumps(rows),
            "gates_json": json.dumps(last.gates if last else [], default=str),
        },
        pd.DataFrame(rows),
        graded,
    )


def _single(spec: ExperimentSpec, family: Family, labeled: pd.DataFrame, thread_count: int) -> ExperimentResult:
    """One model trained on [train_start, train_end] (its last 7 days are the gates' week); without a
    start, the family's usual window of game days before the end."""
    days = labeled["game_date"].dt.date
    end = spec.train_end or days.max()
    rows = labeled[(days <= end) & (days >= spec.train_start if spec.train_start else True)]
    n_days = int(rows["game_date"].dt.date.nunique())
    if spec.train_start:
        family = dataclasses.replace(family, training_window_days=max(n_days, 1))
    trained = train_family_model(family, rows, end + dt.timedelta(days=1), thread_count=thread_count)
    m = trained.metrics
    verdict = (
        "its model passed the six gates"
        if trained.gates_passed
        else ("its model failed the gates: " + ", ".join(g["gate"] for g in trained.gates if g["status"] != "passed"))
    )
    week = {
        "week": f"{trained.window.eval_start}",
        "n": m["n_lined"],
        "mae": m["mae_lined"],
        "line_mae": m["line_mae"],
        "bias": m["bias_vs_line"],
        "n_bets": m["n_edge3"],
        "wins": None,
        "losses": None,
        "hit_rate": m["hit_rate_edge3"],
        "units": None,
        "gates_passed": trained.gates_passed,
    }
    return ExperimentResult(
        spec,
        {
            **_spec_columns(spec, family, "single"),
            "train_start": trained.window.train_start,
            "train_end": trained.window.train_end,
            "n_models": 1,
            "n_models_passing_gates": int(trained.gates_passed),
            "n_rows": m["n_lined"],
            "mae": m["mae_lined"],
            "line_mae": m["line_mae"],
            "bias": m["bias_vs_line"],
            "selection": "gates' edge 3+",
            "n_bets": m["n_edge3"],
            "hit_rate": m["hit_rate_edge3"],
            "units": None,
            "passed": trained.gates_passed,
            "verdict": verdict,
            "weeks_json": json.dumps([week]),
            "gates_json": json.dumps(trained.gates, default=str),
        },
        pd.DataFrame([week]),
        pd.DataFrame(),
    )


def _spec_columns(spec: ExperimentSpec, family: Family, mode: str) -> dict:
    return {
        "experiment_name": spec.name,
        "model_family": family.model_family,
        "feature_set": spec.feature_set,
        "loss_function": spec.loss_function,
        "mode": mode,
        "train_start": spec.train_start,
        "train_end": spec.train_end,
        "walkforward_start": spec.walkforward_start,
        "walkforward_end": spec.walkforward_end,
    }


def register_if_passed(result: ExperimentResult, families: list[Family]) -> tuple[list[Family], bool, str]:
    """(families, registered, note): the family table with the experiment's family added, disabled,
    when it passed and no family has its id."""
    family = result.spec.family()
    if not result.row["passed"]:
        return families, False, "not registered: it did not pass"
    if any(f.model_family == family.model_family for f in families):
        return families, False, f"not registered: {family.model_family} is already a family"
    return [*families, family], True, f"registered {family.model_family} (disabled)"


def format_weeks(weeks: pd.DataFrame) -> str:
    """The weekly table the command prints."""
    head = f"{'week':<11}{'n':>6}{'MAE':>8}{'line MAE':>9}{'bias':>7}{'bets':>6}{'W-L':>8}{'HR':>7}{'units':>8}  gates"
    lines = [head]
    for r in weeks.to_dict("records"):

        def num(value, fmt):
            return format(value, fmt) if value is not None and not pd.isna(value) else "-"

        record = f"{r['wins']}-{r['losses']}" if r.get("wins") is not None else "-"
        gates = {True: "passed", False: "failed", None: "no model"}[r["gates_passed"]]
        lines.append(
            f"{r['week']:<11}{r['n']:>6}{num(r['mae'], '.3f'):>8}{num(r['line_mae'], '.3f'):>9}"
            f"{num(r['bias'], '+.2f'):>7}{r['n_bets']:>6}{record:>8}{num(r['hit_rate'], '.1f'):>7}"
            f"{num(r['units'], '+.2f'):>8}  {gates}"
        )
    return "\n".join(lines)
