"""Win probabilities and expected value: P(over) of a family's prediction at any line, learned from
the family's own graded history, and the value of a bet at a price.

The outcome of a graded prediction (over or under its line; pushes and players who did not play
left out) is modelled as logistic in two inputs: the standardized edge z = (prediction - line) /
sqrt(line), and the book's own view m = logit of its no-vig P(over) from the two prices:

    P(over) = 1 / (1 + exp(-(a + b z + c m)))

that is, the actual points lie around the prediction with a logistic residual whose spread grows
with the square root of the player's level (points are count-like), the centre may sit off the
prediction (a biased family: `a`), and the price the book asks says something too (`c`): without
it, a model that knows no more than the book picks exactly the plus-money sides the book has
priced to lose. (a, b, c) are fitted by maximum a posteriori on the family's decided rows of the
CALIBRATION_DAYS days before the date, so a probability never reads the day or anything later. The
prior is the book: (0, 0, 1), worth PRIOR_ROWS decided rows, so a family with a few days of history
says what the book says rather than what a noisy fit of its first days says (an early-season fit on
300 rows read a biased model's misses as a reason to bet against its own edge). A family whose edge
carries no information keeps b near 0 and the book's probability: no bet is then worth its price,
which is the point. A book without real prices (a pick'em app quoting one convention price on both
sides) gives m = 0.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

CALIBRATION_DAYS = 60
MIN_CALIBRATION_ROWS = 300  # decided graded rows of the family; fewer and it gives no probability
PRIOR_ROWS = 1000  # the book's probability counts as this many decided rows
PRIOR = (0.0, 0.0, 1.0)  # (a, b, c): P(over) = the book's no-vig probability


@dataclasses.dataclass(frozen=True)
class Calibration:
    model_family: str
    a: float
    b: float
    c: float
    n: int
    first_day: dt.date
    last_day: dt.date

    def p_over(self, prediction, line, over_price, under_price) -> np.ndarray:
        x = inputs(prediction, line, over_price, under_price)
        return 1.0 / (1.0 + np.exp(-(self.a + x @ np.array([self.b, self.c]))))


def standardized_edge(prediction, line) -> np.ndarray:
    line = np.asarray(line, dtype="float64")
    return (np.asarray(prediction, dtype="float64") - line) / np.sqrt(np.clip(line, 1.0, None))


def break_even(price) -> np.ndarray:
    """The win probability an American price charges for (its implied probability): 1 / (1 + payout)."""
    return 1.0 / (1.0 + payout(price))


def no_vig_over(over_price, under_price) -> np.ndarray:
    """A book's no-vig P(over) from its two American prices (NaN where one is missing)."""
    over_implied, under_implied = break_even(over_price), break_even(under_price)
    return over_implied / (over_implied + under_implied)


def market_logit(over_price, under_price) -> np.ndarray:
    """logit of the book's no-vig P(over) from its two American prices; 0 where a price is missing."""
    q = no_vig_over(over_price, under_price)
    with np.errstate(divide="ignore", invalid="ignore"):
        logit = np.log(q / (1.0 - q))
    return np.where(np.isfinite(logit), logit, 0.0)


def inputs(prediction, line, over_price, under_price) -> np.ndarray:
    return np.column_stack([standardized_edge(prediction, line), market_logit(over_price, under_price)])


def fit_logistic(
    x: np.ndarray, outcome: np.ndarray, prior=PRIOR, prior_rows: float = PRIOR_ROWS, iterations: int = 50
) -> np.ndarray:
    """Intercept and coefficients of a logistic regression, maximum a posteriori under a Gaussian
    prior centred on `prior` and worth `prior_rows` observations: each coefficient's precision is
    what that many rows would give it at p = 1/2 (0.25 x prior_rows x mean(x_j^2)), so the prior's
    weight does not depend on the inputs' scale."""
    x = np.column_stack([np.ones(len(x)), x])
    centre = np.asarray(prior, dtype="float64")
    precision = np.diag(0.25 * prior_rows * np.maximum((x**2).mean(axis=0), 1e-6))
    w = centre.copy()
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-x @ w))
        gradient = x.T @ (outcome - p) - precision @ (w - centre)
        hessian = -(x.T * (p * (1 - p))) @ x - precision
        step = np.linalg.solve(hessian, gradient)
        w = w - step
        if np.abs(step).max() < 1e-9:
            break
    return w


def decided_rows(graded: pd.DataFrame) -> pd.DataFrame:
    """Graded predictions whose player played and whose actual points are not on the line."""
    played = graded[~graded["is_voided"].astype(bool) & graded["actual_points"].notna()]
    actual = played["actual_points"].astype("float64")
    line = played["line_value"].astype("float64")
    return played[(actual != line) & line.notna() & (line > 0)]


def calibrations(
    accuracy: pd.DataFrame, day: dt.date, days: int = CALIBRATION_DAYS, min_rows: int = MIN_CALIBRATION_ROWS
) -> dict[str, Calibration]:
    """{family: Calibration} from the graded rows of [day - days, day); families with fewer than
    `min_rows` decided rows there are left out."""
    return calibrations_by_day(accuracy, [day], days, min_rows)[day]


def calibrations_by_day(
    accuracy: pd.DataFrame,
    days: list[dt.date],
    window_days: int = CALIBRATION_DAYS,
    min_rows: int = MIN_CALIBRATION_ROWS,
) -> dict[dt.date, dict[str, Calibration]]:
    """{day: calibrations(accuracy, day)} of many days from one pass: the decided rows and their
    inputs split by family once, each day's window a mask over them (the same rows in the same
    order as a day alone, so the same fits)."""
    out: dict[dt.date, dict[str, Calibration]] = {day: {} for day in days}
    if accuracy.empty:
        return out
    for family, g in decided_rows(accuracy).groupby("model_family"):
        when = pd.to_datetime(g["game_date"]).to_numpy(dtype="datetime64[ns]")
        x = inputs(g["predicted_points"], g["line_value"], g["line_over_price"], g["line_under_price"])
        over = (g["actual_points"].astype("float64") > g["line_value"].astype("float64")).to_numpy(dtype="float64")
        for day in days:
            end = np.datetime64(pd.Timestamp(day), "ns")
            window = (when < end) & (when >= end - np.timedelta64(window_days, "D"))
            n = int(window.sum())
            if n < min_rows:
                continue
            a, b, c = fit_logistic(x[window], over[window])
            first, last = (pd.Timestamp(d).date() for d in (when[window].min(), when[window].max()))
            out[day][family] = Calibration(family, float(a), float(b), float(c), n, first, last)
    return out


def payout(price) -> np.ndarray:
    """Units won per unit staked at an American price (NaN for a missing or zero price)."""
    p = np.asarray(price, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        won = np.where(p > 0, p / 100.0, 100.0 / np.abs(p))
    return np.where(np.isfinite(p) & (p != 0), won, np.nan)


def expected_value(p_win, price) -> np.ndarray:
    """Units expected per unit staked: P(win) x payout - (1 - P(win)), pushes aside."""
    p_win = np.asarray(p_win, dtype="float64")
    return p_win * payout(price) - (1.0 - p_win)


def rows_by_date_and_family(rows: pd.DataFrame) -> dict[tuple[dt.date, str], np.ndarray]:
    """{(game date, family): positions of its rows}, in row order: the rows one calibration prices."""
    groups = rows.groupby([pd.to_datetime(rows["game_date"]), rows["model_family"]], sort=False).indices
    return {(day.date(), family): positions for (day, family), positions in groups.items()}


def walk_forward_probabilities(accuracy: pd.DataFrame, days: list[dt.date]) -> pd.DataFrame:
    """Every graded prediction of `days` with its P(over) at its own line from the calibration of
    its date (fitted on earlier rows only): the rows of the report's calibration table, by date and
    then family."""
    by_day = calibrations_by_day(accuracy, days)
    if accuracy.empty:
        return accuracy.iloc[0:0].assign(p_over=[], calibration_n=[])
    of_day_and_family = rows_by_date_and_family(accuracy)
    predicted, line, over, under = (
        accuracy[c].to_numpy(dtype="float64", na_value=np.nan)
        for c in ("predicted_points", "line_value", "line_over_price", "line_under_price")
    )
    positions, p_over, sizes = [], [], []
    for day in days:
        for family, cal in by_day[day].items():
            at = of_day_and_family.get((day, family))
            if at is not None:
                positions.append(at)
                p_over.append(cal.p_over(predicted[at], line[at], over[at], under[at]))
                sizes.append(np.full(len(at), cal.n, dtype="int64"))
    if not positions:
        return accuracy.iloc[0:0].assign(p_over=[], calibration_n=[])
    priced = accuracy.iloc[np.concatenate(positions)].reset_index(drop=True)
    return priced.assign(p_over=np.concatenate(p_over), calibration_n=np.concatenate(sizes))
