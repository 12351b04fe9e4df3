"""Win probabilities: P(over) of a family's prediction at any line, anchored on the market and learned
from the family's own graded history (the price, break-even and value of a bet: betting.py).

The outcome of a graded prediction (over or under its line; pushes and players who did not play
left out) is modelled as logistic in two inputs: the market's view m = logit of the no-vig consensus
P(over) of the other books at the bet's line (bestbets.market), and the family's standardized edge
z = (prediction - line) / sqrt(line):

    P(over) = 1 / (1 + exp(-(a + b z + c m)))

The market is the anchor: on four real line windows no family beat the line's MAE and the books'
no-vig consensus was calibrated within 2-3 points, so c is fixed at 1 (the market's log-odds are an
offset) and `b`, the weight the family's edge earns on top of the market, and `a`, a lean of the
market's side, are fitted by maximum a posteriori (prior 0, worth PRIOR_ROWS decided rows) on the
family's decided rows of the CALIBRATION_DAYS days before the date, so a probability never reads the
day or anything later. The weight must be earned out of sample (anchored_fit: a fit on the window's
first half has to beat the market on its second half), else a = b = 0 and the family's bets are worth
what the market says; a family with fewer than MIN_CALIBRATION_ROWS rows is priced by the market
alone too (calibration_n 0).

The free fit of (a, b, c) with m = the bet's own book's no-vig price (the family's probability before
the market anchor, `own_price_p_over`) is kept for the replay report's comparison.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from bestbets_dagster.betting import no_vig_over

CALIBRATION_DAYS = 60
MIN_CALIBRATION_ROWS = 300  # decided graded rows of the family; fewer and it gives no probability
PRIOR_ROWS = 1000  # the market's probability counts as this many decided rows
PRIOR = (0.0, 0.0, 1.0)  # (a, b, c): P(over) = the market's no-vig probability


@dataclasses.dataclass(frozen=True)
class Calibration:
    model_family: str
    a: float
    b: float
    c: float
    n: int  # decided rows fitted on; 0: the market alone (the prior)
    first_day: dt.date | None
    last_day: dt.date | None
    earned: bool = False  # the family's edge beat the market out of sample (probability.anchored_fit)

    def p_over(self, prediction, line, market_p_over) -> np.ndarray:
        x = inputs(prediction, line, market_p_over)
        return 1.0 / (1.0 + np.exp(-(self.a + x @ np.array([self.b, self.c]))))

    def as_dict(self) -> dict:
        return {
            "a": round(self.a, 6),
            "b": round(self.b, 6),
            "c": round(self.c, 6),
            "n": self.n,
            "first_day": None if self.first_day is None else f"{self.first_day}",
            "last_day": None if self.last_day is None else f"{self.last_day}",
            "earned": self.earned,
        }


def market_only(model_family: str) -> Calibration:
    """The prior: P(over) = the market's, for a family without CALIBRATION rows yet."""
    return Calibration(model_family, *PRIOR, 0, None, None)


def standardized_edge(prediction, line) -> np.ndarray:
    line = np.asarray(line, dtype="float64")
    return (np.asarray(prediction, dtype="float64") - line) / np.sqrt(np.clip(line, 1.0, None))


def logit(p) -> np.ndarray:
    """log(p / (1 - p)); 0 (a coin flip) where p is missing or 0 or 1."""
    q = np.asarray(p, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(q / (1.0 - q))
    return np.where(np.isfinite(out), out, 0.0)


def own_price_p_over(rows: pd.DataFrame, nominal_books=()) -> np.ndarray:
    """The selected book's own no-vig P(over) of graded rows (line_over_price, line_under_price); 1/2 at a
    pick'em app: the market input of a family's probability before the consensus anchor."""
    q = no_vig_over(rows["line_over_price"].astype("float64"), rows["line_under_price"].astype("float64"))
    return np.where(rows["line_book"].isin(list(nominal_books)), 0.5, q)


def inputs(prediction, line, market_p_over) -> np.ndarray:
    return np.column_stack([standardized_edge(prediction, line), logit(market_p_over)])


def fit_logistic(
    x: np.ndarray,
    outcome: np.ndarray,
    prior=PRIOR,
    prior_rows: float = PRIOR_ROWS,
    iterations: int = 50,
    offset: np.ndarray | None = None,
) -> np.ndarray:
    """Intercept and coefficients of a logistic regression (plus a fixed `offset` on the log-odds scale),
    maximum a posteriori under a Gaussian prior centred on `prior` and worth `prior_rows` observations:
    each coefficient's precision is what that many rows would give it at p = 1/2 (0.25 x prior_rows x
    mean(x_j^2)), so the prior's weight does not depend on the inputs' scale."""
    x = np.column_stack([np.ones(len(x)), x])
    offset = np.zeros(len(x)) if offset is None else np.asarray(offset, dtype="float64")
    centre = np.asarray(prior, dtype="float64")
    precision = np.diag(0.25 * prior_rows * np.maximum((x**2).mean(axis=0), 1e-6))
    w = centre.copy()
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(x @ w + offset)))
        gradient = x.T @ (outcome - p) - precision @ (w - centre)
        hessian = -(x.T * (p * (1 - p))) @ x - precision
        step = np.linalg.solve(hessian, gradient)
        w = w - step
        if np.abs(step).max() < 1e-9:
            break
    return w


def log_loss(p, outcome) -> float:
    """Mean negative log-likelihood (nats) of 0/1 outcomes under probabilities p."""
    p = np.clip(np.asarray(p, dtype="float64"), 1e-9, 1 - 1e-9)
    outcome = np.asarray(outcome, dtype="float64")
    return float(-np.mean(outcome * np.log(p) + (1 - outcome) * np.log(1 - p)))


def anchored_fit(z, m, over, when, end, window_days: int, min_rows: int) -> tuple[float, float, bool]:
    """(a, b, earned) of P(over) = 1 / (1 + exp(-(a + b z + m))) on a family's calibration window: the
    market's log-odds m as a fixed offset, a and b shrunk toward 0 (the market alone). The family's
    edge must earn its weight out of sample: a fit on the window's first half has to beat the market's
    log loss on its second half, else (0, 0): the market's P unchanged. On four real line windows the
    free fit lost to the market out of sample (it reads noise as signal); the gate keeps what it adds
    honest."""
    half = end - np.timedelta64(window_days // 2, "D")
    earlier, later = when < half, when >= half
    if earlier.sum() < min_rows // 2 or later.sum() < min_rows // 2:
        return 0.0, 0.0, False
    a, b = fit_logistic(z[earlier, None], over[earlier], prior=(0.0, 0.0), offset=m[earlier])
    held_out = 1.0 / (1.0 + np.exp(-(a + b * z[later] + m[later])))
    if log_loss(held_out, over[later]) >= log_loss(1.0 / (1.0 + np.exp(-m[later])), over[later]):
        return 0.0, 0.0, False
    a, b = fit_logistic(z[:, None], over, prior=(0.0, 0.0), offset=m)
    return float(a), float(b), True


def decided_rows(graded: pd.DataFrame) -> pd.DataFrame:
    """Graded predictions whose player played and whose actual points are not on the line."""
    played = graded[~graded["is_voided"].astype(bool) & graded["actual_points"].notna()]
    actual = played["actual_points"].astype("float64")
    line = played["line_value"].astype("float64")
    return played[(actual != line) & line.notna() & (line > 0)]


def calibrations(
    accuracy: pd.DataFrame, day: dt.date, days: int = CALIBRATION_DAYS, min_rows: int = MIN_CALIBRATION_ROWS
) -> dict[str, Calibration]:
    """{family: Calibration} from the graded rows of [day - days, day) (with their `market_p_over`);
    families with fewer than `min_rows` decided rows there are left out (the market prices them)."""
    return calibrations_by_day(accuracy, [day], days, min_rows)[day]


def calibrations_by_day(
    accuracy: pd.DataFrame,
    days: list[dt.date],
    window_days: int = CALIBRATION_DAYS,
    min_rows: int = MIN_CALIBRATION_ROWS,
    anchored: bool = True,
) -> dict[dt.date, dict[str, Calibration]]:
    """{day: calibrations(accuracy, day)} of many days from one pass: the decided rows and their
    inputs split by family once, each day's window a mask over them (the same rows in the same
    order as a day alone, so the same fits). anchored: the market as a fixed offset with the family's
    weight earned out of sample (anchored_fit); False: a, b and c all free (the family's probability
    before the anchor, which the replay report compares with)."""
    out: dict[dt.date, dict[str, Calibration]] = {day: {} for day in days}
    if accuracy.empty:
        return out
    for family, g in decided_rows(accuracy).groupby("model_family"):
        when = pd.to_datetime(g["game_date"]).to_numpy(dtype="datetime64[ns]")
        x = inputs(g["predicted_points"], g["line_value"], g["market_p_over"])
        z, m = x[:, 0], x[:, 1]
        over = (g["actual_points"].astype("float64") > g["line_value"].astype("float64")).to_numpy(dtype="float64")
        for day in days:
            end = np.datetime64(pd.Timestamp(day), "ns")
            window = (when < end) & (when >= end - np.timedelta64(window_days, "D"))
            n = int(window.sum())
            if n < min_rows:
                continue
            if anchored:
                a, b, earned = anchored_fit(
                    z[window], m[window], over[window], when[window], end, window_days, min_rows
                )
                c = 1.0
            else:
                (a, b, c), earned = fit_logistic(x[window], over[window]), True
            first, last = (pd.Timestamp(d).date() for d in (when[window].min(), when[window].max()))
            out[day][family] = Calibration(family, float(a), float(b), float(c), n, first, last, earned)
    return out


def rows_by_date_and_family(rows: pd.DataFrame) -> dict[tuple[dt.date, str], np.ndarray]:
    """{(game date, family): positions of its rows}, in row order: the rows one calibration prices."""
    groups = rows.groupby([pd.to_datetime(rows["game_date"]), rows["model_family"]], sort=False).indices
    return {(day.date(), family): positions for (day, family), positions in groups.items()}


def walk_forward_probabilities(
    accuracy: pd.DataFrame, days: list[dt.date], with_weights: bool = False, anchored: bool = True
) -> pd.DataFrame:
    """Every graded prediction of `days` (with its `market_p_over`) with its P(over) at its own line from
    the calibration of its date (fitted on earlier rows only): the rows of the report's calibration
    table, by date and then family. Families without a calibration on a date are left out of it.
    with_weights: also the calibration's a, b, c on each row; anchored: see calibrations_by_day."""
    by_day = calibrations_by_day(accuracy, days, anchored=anchored)
    extra = {"calibration_a": [], "calibration_b": [], "calibration_c": [], "calibration_earned": []}
    extra = extra if with_weights else {}
    if accuracy.empty:
        return accuracy.iloc[0:0].assign(p_over=[], calibration_n=[], **extra)
    of_day_and_family = rows_by_date_and_family(accuracy)
    predicted, line, market = (
        accuracy[c].to_numpy(dtype="float64", na_value=np.nan)
        for c in ("predicted_points", "line_value", "market_p_over")
    )
    positions, p_over, sizes, weights = [], [], [], []
    for day in days:
        for family, cal in by_day[day].items():
            at = of_day_and_family.get((day, family))
            if at is not None:
                positions.append(at)
                p_over.append(cal.p_over(predicted[at], line[at], market[at]))
                sizes.append(np.full(len(at), cal.n, dtype="int64"))
                weights.append(np.tile([cal.a, cal.b, cal.c, float(cal.earned)], (len(at), 1)))
    if not positions:
        return accuracy.iloc[0:0].assign(p_over=[], calibration_n=[], **extra)
    priced = accuracy.iloc[np.concatenate(positions)].reset_index(drop=True)
    priced = priced.assign(p_over=np.concatenate(p_over), calibration_n=np.concatenate(sizes))
    if with_weights:
        w = np.concatenate(weights)
        priced = priced.assign(
            calibration_a=w[:, 0], calibration_b=w[:, 1], calibration_c=w[:, 2], calibration_earned=w[:, 3] > 0
        )
    return priced
