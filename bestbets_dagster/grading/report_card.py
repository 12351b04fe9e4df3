"""The weekly report card: how the system's bets did in a week and the weeks before it, cut by
the card's tier (value, lean), direction, player tier, family, signal and |edge|, with the week's alerts.

Two sets of bets are graded: the best bets (best_bets_accuracy, at their shopped line and price) and
every candidate (pick_signal_tags: one bet per lined player-game, the side and book the candidate
chose, settled at its bet line and judged price - a pick'em app's at the entry's break-even), so a
week with few picks still says how the models and signals did. Plain pandas; the weekly asset and
`bestbets report-card` show it, and the replay's HTML report has a section of it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from bestbets_dagster.bestbets.candidates import tier as card_tier
from bestbets_dagster.bestbets.clv import describe_clv, summarize_clv
from bestbets_dagster.bestbets.config import BestBetsConfig
from bestbets_dagster.bestbets.history import graded_candidates
from bestbets_dagster.betting import settle, tier_of, wilson_interval
from bestbets_dagster.grading.report import EDGE_BUCKETS

WEEKS_SHOWN = 4  # the week and the three before it
SIGNAL_COUNTS = (
    "(each bet counts once for every signal it carries, settled at its shopped line and price; `bestbets "
    "signal-backtest` counts every candidate at the selected book's line instead)"
)
# card: the pick's tier on the day's card (value: EV at or above min_expected_value; lean: below);
# tier: the player's, by his line (betting.LINE_TIERS).
DIMENSIONS = ("card", "direction", "tier", "family", "signal", "edge")


def tier(line: pd.Series) -> pd.Series:
    return pd.Series(tier_of(line), index=line.index)


def _bets(
    frame: pd.DataFrame, result: pd.Series, units: pd.Series, line: pd.Series, signals, card: pd.Series
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "game_date": pd.to_datetime(frame["game_date"]),
            "card": card,
            "week": pd.to_datetime(frame["game_date"]).dt.to_period("W-SUN").dt.start_time.dt.date,
            "direction": frame["recommendation"],
            "tier": tier(line),
            "family": frame["source_model_family"],
            "signals": signals,
            "edge": pd.cut(frame["edge"].astype(float).abs(), list(EDGE_BUCKETS), right=False).astype(str),
            "result": result,
            "units": units,
        }
    ).reset_index(drop=True)


def candidate_bets(tags: pd.DataFrame, accuracy: pd.DataFrame, config: BestBetsConfig) -> pd.DataFrame:
    """Every graded candidate as a bet at its shopped line and price (see the module's docstring)."""
    graded = graded_candidates(tags, accuracy)
    if graded.empty:
        empty = pd.Series(dtype=object)
        return _bets(graded.assign(edge=[]), empty, pd.Series(dtype=float), graded["line_value"], [], empty)
    price = graded["bet_price"].astype("float64")
    if "judged_price" in graded:  # candidates of earlier versions: their quoted price
        price = graded["judged_price"].astype("float64").fillna(price)
    result, units = settle(
        graded["recommendation"] == "OVER",
        graded["actual_points"].astype("float64"),
        graded["bet_line"].astype("float64"),
        price,
        graded["is_voided"].astype(bool) | graded["actual_points"].isna(),
    )
    return _bets(
        graded, result, units, graded["line_value"], [list(t) for t in graded["signal_tags"]], card_tier(graded, config)
    )


def pick_bets(results: pd.DataFrame, picks: pd.DataFrame) -> pd.DataFrame:
    """The graded best bets (best_bets_accuracy) with their signals (signal_best_bets_picks)."""
    if results.empty:
        return _bets(results, results["result"], results["units"], results["bet_line"], [], results["tier"])
    key = ["game_date", "person_id"]
    tags = picks.assign(game_date=pd.to_datetime(picks["game_date"]))[[*key, "signal_tags"]]
    joined = results.assign(game_date=pd.to_datetime(results["game_date"])).merge(tags, on=key, how="left")
    signals = [list(t) if isinstance(t, (list, np.ndarray)) else [] for t in joined["signal_tags"]]
    return _bets(joined, joined["result"], joined["units"].astype(float), joined["bet_line"], signals, joined["tier"])


def _record(bets: pd.DataFrame) -> dict:
    wins, losses = int((bets["result"] == "WIN").sum()), int((bets["result"] == "LOSS").sum())
    low, high = wilson_interval(wins, wins + losses)
    return {
        "n": wins + losses,
        "wins": wins,
        "losses": losses,
        "hit_rate": round(wins / (wins + losses), 4) if wins + losses else None,
        "hit_rate_low": None if low is None else round(low, 4),
        "hit_rate_high": None if high is None else round(high, 4),
        "units": round(float(np.nansum(bets["units"])), 2),
    }


def _by(bets: pd.DataFrame, dimension: str) -> pd.DataFrame:
    if dimension == "signal":
        return bets.explode("signals").dropna(subset=["signals"]).rename(columns={"signals": "group"})
    return bets.assign(group=bets[dimension])


def card_rows(bets: pd.DataFrame, weeks: list[dt.date]) -> dict[str, list[dict]]:
    """{dimension: rows}; a row is one group with its record in each week (week over week) and in all."""
    out = {}
    for dimension in DIMENSIONS:
        grouped = _by(bets, dimension)
        rows = []
        for group, g in sorted(grouped.groupby("group"), key=lambda kv: str(kv[0])):
            rows.append(
                {
                    "group": str(group),
                    "weeks": {str(week): _record(g[g["week"] == week]) for week in weeks},
                    "all": _record(g),
                }
            )
        out[dimension] = rows
    return out


def report_card(
    week: dt.date,
    candidates: pd.DataFrame,
    picks: pd.DataFrame,
    alerts: pd.DataFrame,
    weeks_shown: int = WEEKS_SHOWN,
    graded_picks: pd.DataFrame | None = None,
) -> dict:
    """The card of the week starting on Monday `week`, beside the weeks_shown - 1 before it (graded_picks:
    best_bets_accuracy rows, for the week's closing line value)."""
    weeks = [week - dt.timedelta(weeks=k) for k in range(weeks_shown - 1, -1, -1)]
    in_weeks = lambda bets: bets[bets["week"].isin(weeks)]  # noqa: E731
    in_week = lambda rows: rows[pd.to_datetime(rows["game_date"]).dt.date.between(week, week + dt.timedelta(days=6))]  # noqa: E731
    this_week = in_week(alerts)
    graded = graded_picks if graded_picks is not None else pd.DataFrame(columns=["game_date", "clv_status"])
    return {
        "week": str(week),
        "weeks": [str(w) for w in weeks],
        "best_bets": {
            "total": _record(in_weeks(picks)[in_weeks(picks)["week"] == week]),
            "clv": summarize_clv(in_week(graded)),
            **card_rows(in_weeks(picks), weeks),
        },
        "candidates": {
            "total": _record(in_weeks(candidates)[in_weeks(candidates)["week"] == week]),
            **card_rows(in_weeks(candidates), weeks),
        },
        "alerts": [
            {k: str(v) for k, v in row.items()}
            for row in this_week.sort_values(["game_date", "severity"])[
                ["game_date", "severity", "alert_type", "subject", "message"]
            ].to_dict("records")
        ],
    }


def record_cell(record: dict) -> str:
    """One record as text: W-L, hit rate with its 95% interval, and units ("-" without a decided bet)."""
    if not record["n"]:
        return "-"
    interval = ""
    if record.get("hit_rate_low") is not None:
        interval = f" (95% {100 * record['hit_rate_low']:.0f}-{100 * record['hit_rate_high']:.0f}%)"
    return f"{record['wins']}-{record['losses']} {100 * record['hit_rate']:.0f}%{interval} {record['units']:+.1f}u"


def format_report_card(card: dict) -> str:
    """The card as Markdown: per set of bets and dimension, a row per group, a column per week."""
    out = [f"# Report card, week of {card['week']}"]
    for name, title in (("best_bets", "Best bets"), ("candidates", "Every candidate (one bet per lined player-game)")):
        total = card[name]["total"]
        out.append(f"## {title}\nthis week: {record_cell(total)} ({total['n']} decided)")
        if "clv" in card[name]:
            out.append(f"closing line value this week: {describe_clv(card[name]['clv'])}")
        for dimension in DIMENSIONS:
            rows = card[name][dimension]
            header = "| " + dimension + " | " + " | ".join(card["weeks"]) + " | all |"
            lines = [header, "|" + "---|" * (len(card["weeks"]) + 2)]
            for row in rows:
                cells = [record_cell(row["weeks"][w]) for w in card["weeks"]] + [record_cell(row["all"])]
                lines.append(f"| {row['group']} | " + " | ".join(cells) + " |")
            counted = f"\n{SIGNAL_COUNTS}\n" if dimension == "signal" else ""
            out.append(f"### by {dimension}{counted}\n" + ("\n".join(lines) if rows else "(no bets)"))
    alerts = card["alerts"]
    out.append(
        "## Alerts of the week\n"
        + (
            "\n".join(f"- {a['game_date'][:10]} {a['severity']} {a['alert_type']}: {a['message']}" for a in alerts)
            or "none"
        )
    )
    return "\n\n".join(out)


def report_card_from_warehouse(warehouse, config: BestBetsConfig, week: dt.date, weeks_shown: int = WEEKS_SHOWN):
    """The card of the week starting on Monday `week` from the stored tables (`warehouse`: anything with
    the Warehouse's read)."""
    return report_cards_from_warehouse(warehouse, config, week, week, weeks_shown)[week]


def report_cards_from_warehouse(
    warehouse, config: BestBetsConfig, first_week: dt.date, last_week: dt.date, weeks_shown: int = WEEKS_SHOWN
) -> dict[dt.date, dict]:
    """{Monday: card} of every week of [first_week, last_week], from one read of each table (a season's
    cards are one pass, not one read per week)."""
    first, last = first_week - dt.timedelta(weeks=weeks_shown - 1), last_week + dt.timedelta(days=6)
    candidates = candidate_bets(
        warehouse.read("pick_signal_tags", first, last), warehouse.read("prediction_accuracy", first, last), config
    )
    graded = warehouse.read("best_bets_accuracy", first, last)
    picks = pick_bets(graded, warehouse.read("signal_best_bets_picks", first, last))
    alerts = warehouse.read("monitoring_alerts", first_week, last)
    weeks = [first_week + dt.timedelta(weeks=k) for k in range((last_week - first_week).days // 7 + 1)]
    return {week: report_card(week, candidates, picks, alerts, weeks_shown, graded) for week in weeks}
