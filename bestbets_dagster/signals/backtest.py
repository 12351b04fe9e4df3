"""Signal backtest: hit rate and N per signal, per direction and per window, on graded candidates,
with the original's promotion rule (HR >= 60%, N >= 20, no collapse in the last window)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from bestbets_dagster.betting import BREAKEVEN_HIT_RATE
from bestbets_dagster.signals.registry import PROTOTYPE_TAGS, REGISTERED_TAGS

PROMOTE_HIT_RATE = 60.0
PROMOTE_MIN_N = 20
# The last window "collapses" below break-even at -110 once it has a few decided picks.
COLLAPSE_HIT_RATE = BREAKEVEN_HIT_RATE
COLLAPSE_MIN_N = 5


def _rate(rows: pd.DataFrame) -> dict:
    n = len(rows)
    wins = int(rows["prediction_correct"].astype(bool).sum()) if n else 0
    return {"n": n, "wins": wins, "hit_rate": round(100.0 * wins / n, 1) if n else None}


def windows(start: dt.date, end: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    out, first = [], start
    while first <= end:
        last = min(end, first + dt.timedelta(days=days - 1))
        out.append((first, last))
        first = last + dt.timedelta(days=1)
    return out


def signal_backtest(
    graded: pd.DataFrame, start: dt.date, end: dt.date, signal: str | None = None, window_days: int = 14
) -> list[dict]:
    """graded: pick_signal_tags rows joined to their source model's grading (graded_candidates)."""
    known = (*REGISTERED_TAGS, *PROTOTYPE_TAGS)
    if signal is not None and signal not in known:
        raise ValueError(f"unknown signal {signal!r}; known: {', '.join(known)}")
    d = graded[graded["prediction_correct"].notna()].copy()
    d["game_date"] = pd.to_datetime(d["game_date"])
    d = d[(d["game_date"] >= pd.Timestamp(start)) & (d["game_date"] <= pd.Timestamp(end))]
    d["all_tags"] = [list(a) + list(b) for a, b in zip(d["signal_tags"], d["prototype_signal_tags"])]
    spans = windows(start, end, window_days)
    out = []
    for tag in [signal] if signal else known:
        rows = d[[tag in tags for tags in d["all_tags"]]]
        by_window = []
        for first, last in spans:
            w = rows[(rows["game_date"] >= pd.Timestamp(first)) & (rows["game_date"] <= pd.Timestamp(last))]
            by_window.append({"start": str(first), "end": str(last), **_rate(w)})
        overall = _rate(rows)
        last_window = by_window[-1] if by_window else {"n": 0, "hit_rate": None}
        collapsed = last_window["n"] >= COLLAPSE_MIN_N and last_window["hit_rate"] < COLLAPSE_HIT_RATE
        promote = (
            overall["n"] >= PROMOTE_MIN_N
            and overall["hit_rate"] is not None
            and overall["hit_rate"] >= PROMOTE_HIT_RATE
            and not collapsed
        )
        out.append(
            {
                "signal": tag,
                "registered": tag in REGISTERED_TAGS,
                **overall,
                "by_direction": {k: _rate(rows[rows["recommendation"] == k]) for k in ("OVER", "UNDER")},
                "windows": by_window,
                "last_window_collapsed": bool(collapsed),
                "meets_promotion_rule": bool(promote),
            }
        )
    return out


def format_backtest(results: list[dict]) -> str:
    head = f"{'signal':22} {'N':>5} {'HR':>6} {'OVER':>12} {'UNDER':>12}  windows (HR/N)  promote"
    counts = (
        "counts: every candidate with the signal (pick_signal_tags, one per lined player-game, picked or not), "
        "decided at the selected book's line on the candidate's side; pushes and voids out. The report card's "
        "signal rows count other bets: the best bets, and the candidates settled at their shopped line and price."
    )
    lines = [counts, head, "-" * len(head)]

    def fmt(r) -> str:
        return "-" if r["hit_rate"] is None else f"{r['hit_rate']:.1f}"

    for r in results:
        over, under = r["by_direction"]["OVER"], r["by_direction"]["UNDER"]
        spans = " ".join(f"{fmt(w)}/{w['n']}" for w in r["windows"])
        name = r["signal"] + ("" if r["registered"] else " *")
        lines.append(
            f"{name:22} {r['n']:>5} {fmt(r):>6} {fmt(over) + '/' + str(over['n']):>12} "
            f"{fmt(under) + '/' + str(under['n']):>12}  {spans}  {'yes' if r['meets_promotion_rule'] else 'no'}"
        )
    lines.append("* unregistered prototype")
    return "\n".join(lines)
