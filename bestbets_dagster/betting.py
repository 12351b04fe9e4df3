"""The betting math every package shares: American prices, payouts, break-evens, the no-vig probability
of a book's two prices, expected value, pick'em entries, settling a bet, the Wilson interval of a hit
rate, a model's recommendation from its edge, and the player tiers.

The lowest domain module: it imports nothing of this project, and everything that prices, settles,
grades or monitors a bet imports it (tests/test_import_graph.py states the allowed directions).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def payout(price) -> np.ndarray:
    """Units won per unit staked at an American price (+150 pays 1.5, -120 pays 0.833); NaN for a
    missing or zero price."""
    p = np.asarray(price, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        won = np.where(p > 0, p / 100.0, 100.0 / np.abs(p))
    return np.where(np.isfinite(p) & (p != 0), won, np.nan)


def break_even(price) -> np.ndarray:
    """The win probability an American price charges for (its implied probability): 1 / (1 + payout)."""
    return 1.0 / (1.0 + payout(price))


# The hit rate, in percent, that breaks even at the standard -110 (52.4): the bar of the original's
# gates, signal regimes and family weights.
BREAKEVEN_HIT_RATE = round(100 * float(break_even(-110)), 1)


def no_vig_over(over_price, under_price) -> np.ndarray:
    """A book's no-vig P(over) from its two American prices (NaN where one is missing)."""
    over_implied, under_implied = break_even(over_price), break_even(under_price)
    return over_implied / (over_implied + under_implied)


def book_p_over(over_price, under_price, nominal) -> np.ndarray:
    """A book's own no-vig P(over) at its line: from its two prices, 1/2 at a pick'em app (nominal)."""
    return np.where(np.asarray(nominal, dtype=bool), 0.5, no_vig_over(over_price, under_price))


def price_of(p_win) -> np.ndarray:
    """The American price whose break-even is p_win (-100 p / (1 - p) from 1/2 up, else 100 (1 - p) / p)."""
    p = np.asarray(p_win, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p >= 0.5, -100.0 * p / (1.0 - p), 100.0 * (1.0 - p) / p)


def expected_value(p_win, price) -> np.ndarray:
    """Units expected per unit staked: P(win) x payout - (1 - P(win)), pushes aside."""
    p_win = np.asarray(p_win, dtype="float64")
    return p_win * payout(price) - (1.0 - p_win)


# Pick'em entries: {legs right: multiple of the stake paid} of the common PrizePicks / Underdog entry
# types (power: every leg right; flex: a smaller multiple for one or two legs wrong).
PICKEM_ENTRIES: dict[str, dict[int, float]] = {
    "power_2": {2: 3.0},
    "power_3": {3: 5.0},
    "power_4": {4: 10.0},
    "power_5": {5: 20.0},
    "power_6": {6: 37.5},
    "flex_3": {3: 2.25, 2: 1.25},
    "flex_4": {4: 5.0, 3: 1.5},
    "flex_5": {5: 10.0, 4: 2.0, 3: 0.4},
    "flex_6": {6: 25.0, 5: 2.0, 4: 0.4},
}


def entry_break_even(entry: str) -> float:
    """The per-leg win probability at which a pick'em entry returns its stake (legs independent and
    equally likely): e.g. power_2 (3x for 2 of 2) sqrt(1/3) = 57.7%, flex_5 54.2%."""
    payouts = PICKEM_ENTRIES[entry]
    legs = max(payouts)

    def returned(p: float) -> float:
        return sum(math.comb(legs, k) * p**k * (1 - p) ** (legs - k) * m for k, m in payouts.items())

    low, high = 0.0, 1.0  # returned(p) grows with p: bisection
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if returned(mid) < 1.0 else (low, mid)
    return (low + high) / 2


def settle(over: pd.Series, actual: pd.Series, line: pd.Series, price: pd.Series, void: pd.Series):
    """(result, units) of bets on a side at a line and an American price: VOID (did not play), PUSH,
    WIN (the price's payout) or LOSS (-1). A win at a missing price has no units."""
    result = pd.Series(
        np.select([void, actual == line, (actual > line) == over], ["VOID", "PUSH", "WIN"], "LOSS"), index=over.index
    )
    win_units = pd.Series(payout(price.astype("float64")), index=over.index)
    units = pd.Series(np.select([result == "WIN", result == "LOSS"], [win_units, -1.0], 0.0), index=over.index)
    return result, units.where(~((result == "WIN") & win_units.isna()))


def wilson_interval(wins: int, n: int, z: float = 1.96) -> tuple[float, float] | tuple[None, None]:
    """95% Wilson score interval of a hit rate (None on no bets)."""
    if n == 0:
        return None, None
    p = wins / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def recommend(edge: pd.Series, threshold: float) -> pd.Series:
    """OVER at an edge of +threshold or more, UNDER at -threshold or less, else PASS."""
    return pd.Series(np.select([edge >= threshold, edge <= -threshold], ["OVER", "UNDER"], "PASS"), index=edge.index)


# Player tiers, (floor, name) from the top. By the night's points line, the original's direction x line
# tier: star 25+, starter 18-25, role 12-18, bench under 12. Its model gate 5 tiers by the season's
# scoring average instead (stars 25+, starters 15-25, role 5-15, bench under 5).
LINE_TIERS = ((25.0, "star"), (18.0, "starter"), (12.0, "role"), (-math.inf, "bench"))
SEASON_AVERAGE_TIERS = ((25.0, "stars"), (15.0, "starters"), (5.0, "role"), (-math.inf, "bench"))


def tier_of(values, tiers=LINE_TIERS) -> np.ndarray:
    """The tier name of each value (None where the value is missing)."""
    v = np.asarray(values, dtype="float64")
    return np.select([v >= floor for floor, _ in tiers], [name for _, name in tiers], None)
