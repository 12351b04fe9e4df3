"""Closing line value: how a pick's line and price at the decision compare with where the market
closed (each book's last snapshot before tip-off).

- in points: the same book's closing line against the bet's, on the bet's side (an OVER bought at 22.5
  that closed at 23.5 is +1);
- in probability: the no-vig consensus of the sportsbooks at close that the bet wins, at the bet's own
  line, minus the probability the bet's price charged for (its break-even). Positive: the bet was worth
  more than its price by the market's final word. A book whose closing line differs from the bet's is
  moved to the bet's line with a normal approximation of the points around the line, standard deviation
  POINTS_SD_PER_ROOT_LINE x sqrt(line) (measured on real lines: 1.78 on the 2025-26 sportsbook window,
  1.76 on the 2024-25 pick'em window, flat across line tiers).

A pick's CLV is measurable only when its book was seen again after the decision, before tip-off. On
data with one snapshot a day the decision reads the closing snapshot itself: CLV is then "not
measurable" (NULL with the reason), never 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from bestbets_dagster.betting import break_even, no_vig_over
from bestbets_dagster.ingest.lines import decision_cutoffs

POINTS_SD_PER_ROOT_LINE = 1.75
CLV_COLUMNS = [
    "closing_line",
    "closing_price",
    "closing_snapshot_time",
    "closing_consensus_line",
    "closing_no_vig_p",
    "clv_points",
    "clv_probability",
    "clv_status",
]
MEASURED = "measured"


def p_over_at(p_over, line, target_line) -> np.ndarray:
    """P(points over target_line) given P(over line), the points normal around the line's level."""
    line = np.asarray(line, dtype="float64")
    sd = POINTS_SD_PER_ROOT_LINE * np.sqrt(np.clip(line, 1.0, None))
    z = norm.ppf(np.clip(np.asarray(p_over, dtype="float64"), 1e-6, 1 - 1e-6))
    return norm.cdf(z - (np.asarray(target_line, dtype="float64") - line) / sd)


def closing_line_value(
    picks: pd.DataFrame, closing: pd.DataFrame, decision_times: dict, nominal_books=()
) -> pd.DataFrame:
    """CLV_COLUMNS for each pick (game_date, person_id, recommendation, bet_book, bet_line, price), from
    `closing` (ingest.lines.closing_lines of the picks' dates) and each date's decision time ({date:
    timestamp or None}). nominal_books: pick'em apps, whose one convention price says nothing of the
    market; they are left out of the consensus."""
    out = pd.DataFrame(index=picks.index, columns=CLV_COLUMNS, dtype=object)
    if picks.empty:
        return out
    key = ["game_date", "person_id"]
    p = picks.assign(
        game_date=pd.to_datetime(picks["game_date"]).astype("datetime64[ns]"),
        person_id=picks["person_id"].astype("int64"),
    )
    close = closing.assign(game_date=pd.to_datetime(closing["game_date"]).astype("datetime64[ns]"))
    own = (
        p[[*key, "bet_book"]]
        .merge(close.rename(columns={"bookmaker": "bet_book"}), on=[*key, "bet_book"], how="left")
        .set_index(p.index)
    )
    over = p["recommendation"] == "OVER"
    out["closing_line"] = own["line"].astype("float64")
    out["closing_price"] = np.where(over, own["over_price"], own["under_price"])
    out["closing_snapshot_time"] = own["snapshot_time"]

    priced = close[~close["bookmaker"].isin(list(nominal_books)) & ~close["outlier"].astype(bool)]
    priced = priced.assign(p_over=no_vig_over(priced["over_price"], priced["under_price"])).dropna(subset=["p_over"])
    books = p[[*key, "bet_line"]].reset_index().merge(priced, on=key, how="left")
    books["p_over_at_bet"] = p_over_at(books["p_over"], books["line"], books["bet_line"].astype("float64"))
    consensus = books.groupby("index").agg(
        closing_consensus_line=("line", "median"), p_over=("p_over_at_bet", "median")
    )
    consensus = consensus.reindex(p.index)
    out["closing_consensus_line"] = consensus["closing_consensus_line"]
    p_side = consensus["p_over"].where(over, 1.0 - consensus["p_over"])
    out["closing_no_vig_p"] = p_side
    sign = np.where(over, 1.0, -1.0)
    clv_points = sign * (out["closing_line"].astype("float64") - p["bet_line"].astype("float64"))
    clv_probability = p_side - break_even(pd.to_numeric(p["price"]))

    cutoff = decision_cutoffs(p["game_date"], decision_times)
    closed_at = pd.to_datetime(own["snapshot_time"], utc=True)
    status = np.select(
        [
            cutoff.isna(),
            closed_at.isna(),
            closed_at <= cutoff,
            p_side.isna(),
        ],
        [
            "not measurable: no decision time, the decision read the last snapshot before tip-off",
            "not measurable: the book took the line down before the close",
            "not measurable: no snapshot of the book after the decision",
            "not measurable: no sportsbook priced the player at the close",
        ],
        MEASURED,
    )
    out["clv_status"] = status
    measured = status == MEASURED
    out["clv_points"] = clv_points.where(measured)
    out["clv_probability"] = clv_probability.where(measured)
    return out


def summarize_clv(results: pd.DataFrame) -> dict:
    """n measured of n picks, mean CLV in points and probability, share of measured picks that beat the
    close; {"measurable": False, "why": ...} when none could be measured."""
    n = len(results)
    if n == 0 or "clv_status" not in results.columns:
        return {"n_picks": n, "measurable": False, "why": "no picks"}
    measured = results[results["clv_status"] == MEASURED]
    if measured.empty:
        reasons = results["clv_status"].value_counts()
        return {
            "n_picks": n,
            "n_measured": 0,
            "measurable": False,
            "why": str(reasons.index[0]).removeprefix("not measurable: "),
        }
    probability = measured["clv_probability"].astype(float)
    return {
        "n_picks": n,
        "n_measured": len(measured),
        "measurable": True,
        "clv_points": round(float(measured["clv_points"].astype(float).mean()), 3),
        "clv_probability": round(float(probability.mean()), 4),
        "beat_close_share": round(float((probability > 0).mean()), 4),
    }


def describe_clv(summary: dict) -> str:
    """One line for a screen: the figure with its n, or why it is not measurable."""
    if not summary.get("measurable"):
        return f"CLV not measurable: {summary.get('why')}"
    return (
        f"CLV {summary['clv_probability'] * 100:+.1f} points of probability, {summary['clv_points']:+.2f} line points "
        f"(mean of {summary['n_measured']} measured of {summary['n_picks']} picks; "
        f"{summary['beat_close_share']:.0%} beat the close)"
    )


# Monitoring: the picks' closing line value over a rolling window, judged once enough picks are measured.
CLV_WINDOW_DAYS = 14
CLV_MIN_MEASURED = 5


def rolling_clv(results: pd.DataFrame, days: list) -> pd.DataFrame:
    """Per day D: the mean CLV (probability) and count of the measured picks of (D - 14 days, D]."""
    rows = []
    measured = results[results["clv_status"] == MEASURED] if len(results) else results
    dates = pd.to_datetime(measured["game_date"]).dt.date if len(measured) else pd.Series(dtype=object)
    for day in days:
        window = (
            measured[(dates > day - pd.Timedelta(days=CLV_WINDOW_DAYS)) & (dates <= day)] if len(measured) else measured
        )
        rows.append(
            {
                "game_date": day,
                "n_measured": len(window),
                "clv_probability": float(window["clv_probability"].astype(float).mean()) if len(window) else None,
            }
        )
    return pd.DataFrame(rows)


def clv_alerts(results: pd.DataFrame, days: list, created_at: pd.Timestamp) -> pd.DataFrame:
    """A WARN on the day the picks' 14-day CLV turns negative (given 5+ measured picks): the market closed
    against them on average, the one early sign of a selection that does not beat its prices."""
    previous = [days[0] - pd.Timedelta(days=1), *days] if days else []
    rolled = rolling_clv(results, previous)
    judged = rolled["clv_probability"].where(rolled["n_measured"] >= CLV_MIN_MEASURED)
    negative = judged < 0
    turned = negative & ~negative.shift(1, fill_value=False)
    rows = []
    for i in np.flatnonzero(turned.to_numpy()):
        if i == 0:
            continue  # the day before the range only says whether the first day turned
        row = rolled.iloc[i]
        rows.append(
            {
                "game_date": pd.Timestamp(row["game_date"]),
                "alert_type": "clv_negative",
                "subject": "best_bets",
                "severity": "WARN",
                "message": (
                    f"the picks' {CLV_WINDOW_DAYS}-day closing line value turned negative: "
                    f"{row['clv_probability'] * 100:+.1f} points of probability over "
                    f"{int(row['n_measured'])} measured picks"
                ),
                "created_at": created_at,
            }
        )
    return pd.DataFrame(rows, columns=["game_date", "alert_type", "subject", "severity", "message", "created_at"])
