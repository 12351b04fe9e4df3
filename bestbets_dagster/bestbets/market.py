"""The market's probability of a bet: the no-vig consensus of the other books for the same player-game.

A bet at book B on line L is priced first by what the other books say: each other book's no-vig
P(over) at its own line, moved to L with the normal approximation of the points around the line
(clv.p_over_at), and the median of those. Which books count:

- the sportsbooks (real two-sided prices) other than B, when there is one;
- otherwise the other pick'em apps (a convention price on both sides): an app sets its line where it
  expects half the players over, so it counts as P(over) = 1/2 at its line;
- otherwise B itself: its own no-vig price (1/2 for a pick'em app).

Measured on four real line windows, this consensus is calibrated within 2-3 points and no points model
beats the line's MAE: the market is where every probability starts (bestbets.probability adds what a
family knows on top of it).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from bestbets_dagster.bestbets.clv import p_over_at
from bestbets_dagster.bestbets.probability import CALIBRATION_DAYS
from bestbets_dagster.betting import book_p_over

KEY = ["game_date", "person_id"]
MARKET_COLUMNS = ["market_p_over", "market_line", "market_books"]


def consensus(targets: pd.DataFrame, offers: pd.DataFrame, nominal_books=()) -> pd.DataFrame:
    """MARKET_COLUMNS for each row of `targets` (game_date, person_id, bookmaker, line, over_price,
    under_price), indexed like it: the market's P(over) at the row's line (NaN when nothing prices it),
    the median line of the books it was read from, and how many other books that was (0: the row's own
    price). `offers`: every book's line of the player-games (ingest.lines.current_offers)."""
    if targets.empty:
        empty = {"market_p_over": "float64", "market_line": "float64", "market_books": "int64"}
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in empty.items()}, index=targets.index)
    nominal_books = list(nominal_books)
    t = targets[[*KEY, "bookmaker", "line"]].copy()
    t["game_date"] = pd.to_datetime(t["game_date"]).astype("datetime64[ns]")
    t["person_id"] = pd.to_numeric(t["person_id"]).astype("int64")
    t["_target"] = np.arange(len(t))
    o = offers[[*KEY, "bookmaker", "line", "over_price", "under_price"]].copy()
    o["game_date"] = pd.to_datetime(o["game_date"]).astype("datetime64[ns]")
    o["person_id"] = pd.to_numeric(o["person_id"]).astype("int64")
    o["sportsbook"] = ~o["bookmaker"].isin(nominal_books)
    o["q"] = book_p_over(o["over_price"], o["under_price"], ~o["sportsbook"])
    o = o.dropna(subset=["q", "line"])
    pairs = t.merge(o, on=KEY, suffixes=("", "_other"))
    pairs = pairs[pairs["bookmaker"] != pairs["bookmaker_other"]]
    # The sportsbooks when a target has one among the other books, else the other pick'em apps.
    has_sportsbook = pairs.groupby("_target")["sportsbook"].transform("any")
    pairs = pairs[pairs["sportsbook"] == has_sportsbook]
    pairs = pairs.assign(p_at=p_over_at(pairs["q"], pairs["line_other"], pairs["line"]))
    by_target = pairs.groupby("_target").agg(
        market_p_over=("p_at", "median"), market_line=("line_other", "median"), market_books=("p_at", "size")
    )
    positions = by_target.index.to_numpy()
    p_over, line, books = (np.full(len(t), np.nan) for _ in range(3))
    p_over[positions] = by_target["market_p_over"].to_numpy()
    line[positions] = by_target["market_line"].to_numpy()
    books[positions] = by_target["market_books"].to_numpy()
    alone = np.isnan(books)
    own = book_p_over(targets["over_price"], targets["under_price"], targets["bookmaker"].isin(nominal_books))
    p_over[alone] = np.asarray(own, dtype="float64")[alone]
    line[alone] = t["line"].to_numpy(dtype="float64")[alone]
    books[alone] = 0
    return pd.DataFrame(
        {"market_p_over": p_over, "market_line": line, "market_books": books.astype("int64")}, index=targets.index
    )


def with_consensus(
    rows: pd.DataFrame, offers: pd.DataFrame, nominal_books, book: str, line: str, over: str, under: str
) -> pd.DataFrame:
    """`rows` with MARKET_COLUMNS for the bet at the named book, line and price columns."""
    targets = rows[KEY].assign(
        bookmaker=rows[book], line=rows[line].astype("float64"), over_price=rows[over], under_price=rows[under]
    )
    return rows.drop(columns=[c for c in MARKET_COLUMNS if c in rows]).join(consensus(targets, offers, nominal_books))


def graded_with_market(accuracy: pd.DataFrame, offers: pd.DataFrame, nominal_books, days) -> pd.DataFrame:
    """`accuracy` with the market's P(over) of each graded prediction at its selected line (MARKET_COLUMNS)
    where the calibrations of `days` read it (the CALIBRATION_DAYS before the first); NaN before."""
    first = pd.Timestamp(min(days) - dt.timedelta(days=CALIBRATION_DAYS))
    window = pd.to_datetime(accuracy["game_date"]) >= first if len(accuracy) else pd.Series(dtype=bool)
    priced = with_consensus(
        accuracy[window],
        offers,
        nominal_books,
        "line_book",
        "line_value",
        "line_over_price",
        "line_under_price",
    )
    return pd.concat([accuracy[~window], priced]).loc[accuracy.index] if len(accuracy) else priced
