"""The replay's HTML report: one self-contained page (plots embedded as PNG) that says in a minute
whether the system made money, where, and why. Plain pandas and matplotlib, no Dagster: the replay
reads the tables and hands them over (ReplayTables), and a test recounts the figures from the same
tables.

Every hit rate is shown with its n and a 95% Wilson interval: on a few hundred bets a 55% hit rate
is not yet distinguishable from the 52.4% that -110 needs."""

from __future__ import annotations

import base64
import dataclasses
import html
import io

import numpy as np
import pandas as pd
from matplotlib.dates import DateFormatter
from matplotlib.figure import Figure

from bestbets_dagster.bestbets.clv import describe_clv
from bestbets_dagster.betting import wilson_interval
from bestbets_dagster.grading.report import EDGE_BUCKETS, P_BUCKETS, side_bets
from bestbets_dagster.grading.report_card import DIMENSIONS, record_cell

STATE_ORDER = ["HEALTHY", "WATCH", "DEGRADING", "BLOCKED", "INSUFFICIENT_DATA"]
STATE_COLOURS = {
    "HEALTHY": "#2e7d32",
    "WATCH": "#f9a825",
    "DEGRADING": "#ef6c00",
    "BLOCKED": "#c62828",
    "INSUFFICIENT_DATA": "#bdbdbd",
}
EDGE_BET_THRESHOLD = 3.0  # the families' own bets in the units plot: |edge| >= 3 (the monitoring's)
PICK_COLUMNS = [
    "game_date",
    "rank",
    "player_name",
    "recommendation",
    "source_model_family",
    "edge",
    "bet_book",
    "bet_line",
    "price",
    "p_win",
    "actual_points",
    "result",
    "units",
    "selected_result",
    "selected_units",
]


@dataclasses.dataclass(frozen=True)
class ReplayTables:
    """The stored rows of a replay window the report is drawn from."""

    graded: pd.DataFrame  # prediction_accuracy of the replayed families
    priced: pd.DataFrame  # the same with the walk-forward p_over (probability.walk_forward_probabilities)
    pick_results: pd.DataFrame  # best_bets_accuracy
    performance: pd.DataFrame  # model_performance_daily
    signals: list[dict]  # signals.backtest.signal_backtest over the window
    report_card: dict  # grading.report_card.report_card of the window's last week


def hit_rate_rows(bets: pd.DataFrame, by: pd.Series) -> pd.DataFrame:
    """Per group of `by`: n decided bets, wins, hit rate with its 95% interval, units and ROI."""
    rows = []
    for key, g in bets.groupby(by, observed=True, sort=True):
        wins, n = int(g["won"].sum()), len(g)
        low, high = wilson_interval(wins, n)
        units = float(np.nansum(g["units"]))
        rows.append(
            {
                "group": str(key),
                "n": n,
                "wins": wins,
                "hit_rate": wins / n,
                "low": low,
                "high": high,
                "units": units,
                "roi": units / n,
            }
        )
    return pd.DataFrame(rows, columns=["group", "n", "wins", "hit_rate", "low", "high", "units", "roi"])


def decided_picks(pick_results: pd.DataFrame, result_column: str = "result", units_column: str = "units"):
    """The graded picks that won or lost (pushes and voids out) as bets: won, units, recommendation."""
    decided = pick_results[pick_results[result_column].isin(["WIN", "LOSS"])]
    return pd.DataFrame(
        {
            "game_date": pd.to_datetime(decided["game_date"]),
            "won": decided[result_column] == "WIN",
            "units": decided[units_column].astype(float),
            "recommendation": decided["recommendation"],
            "source_model_family": decided["source_model_family"],
        }
    )


# ------------------------------------------------------------------------------------------ plots


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def units_figure(pick_results: pd.DataFrame, side: pd.DataFrame) -> str:
    """Cumulative units by day: the best bets (shopped line and selected book), and each family's own
    bets at |edge| >= 3 on its edge's side at the selected book's price."""
    fig = Figure(figsize=(11, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    for column, label in (("units", "best bets, shopped line"), ("selected_units", "best bets, selected book")):
        if len(pick_results):
            daily = pick_results.groupby(pd.to_datetime(pick_results["game_date"]))[column].sum().cumsum()
            left.step(daily.index, daily.values, where="post", label=label)
    left.axhline(0, color="grey", linewidth=0.8)
    left.set_title("best bets: cumulative units at real prices" if len(pick_results) else "no best bets")
    if len(pick_results):
        left.legend(loc="best", fontsize=8)
    bets = side[side["abs_edge"] >= EDGE_BET_THRESHOLD]
    for family, g in bets.groupby("model_family"):
        daily = g.groupby("game_date")["units"].sum().cumsum()
        right.plot(daily.index, daily.values, label=family)
    right.axhline(0, color="grey", linewidth=0.8)
    right.set_title(f"each family's bets at |edge| >= {EDGE_BET_THRESHOLD:g}: cumulative units")
    if len(bets):
        right.legend(loc="best", fontsize=7)
    window = pd.to_datetime(side["game_date"]) if len(side) else pd.to_datetime(pick_results["game_date"])
    for axis in (left, right):
        if len(window):
            axis.set_xlim(window.min() - pd.Timedelta(days=1), window.max() + pd.Timedelta(days=1))
        axis.xaxis.set_major_formatter(DateFormatter("%b %d"))
        axis.tick_params(axis="x", labelrotation=30, labelsize=8)
    return _png(fig)


def hit_rate_figure(panels: list[tuple[str, pd.DataFrame]]) -> str:
    """Hit rate with its 95% interval and n per group, one panel per grouping; the dashed line is the
    52.4% that a -110 price needs."""
    fig = Figure(figsize=(4 * len(panels), 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for axis, (title, rows) in zip(axes, panels):
        if len(rows):
            x = np.arange(len(rows))
            rate = rows["hit_rate"].to_numpy() * 100
            err = np.vstack([rate - rows["low"].to_numpy() * 100, rows["high"].to_numpy() * 100 - rate])
            axis.errorbar(x, rate, yerr=err, fmt="o", capsize=4)
            for i, n in zip(x, rows["n"]):
                axis.annotate(f"n {n}", (i, 30), ha="center", fontsize=7)
            axis.set_xticks(x, rows["group"], rotation=20, fontsize=8)
        axis.axhline(52.38, color="grey", linestyle="--", linewidth=0.8)
        axis.set_ylim(25, 80)
        axis.set_title(title, fontsize=9)
        axis.set_ylabel("hit rate %")
    return _png(fig)


def predicted_vs_actual_figure(graded: pd.DataFrame) -> str:
    """Per family: mean actual points by bin of predicted points (bins of 2.5), against y = x."""
    played = graded[~graded["is_voided"].astype(bool) & graded["actual_points"].notna()]
    families = sorted(played["model_family"].unique())
    fig = Figure(figsize=(11, 3.2 * max(1, int(np.ceil(len(families) / 3)))), layout="constrained")
    axes = np.atleast_1d(fig.subplots(max(1, int(np.ceil(len(families) / 3))), 3)).ravel()
    for axis, family in zip(axes, families):
        g = played[played["model_family"] == family]
        predicted = g["predicted_points"].astype(float)
        binned = g.groupby((predicted / 2.5).round() * 2.5)["actual_points"].agg(["mean", "size"])
        binned = binned[binned["size"] >= 20]
        axis.plot(binned.index, binned["mean"], "o-", markersize=3, label="mean actual")
        top = float(max(predicted.max(), 1))
        axis.plot([0, top], [0, top], color="grey", linewidth=0.8, label="y = x")
        axis.set_title(family, fontsize=9)
        axis.set_xlabel("predicted points", fontsize=8)
        axis.set_ylabel("actual points", fontsize=8)
    for axis in axes[len(families) :]:
        axis.set_visible(False)
    return _png(fig)


def weekly_mae_figure(weekly: pd.DataFrame) -> str:
    """MAE per family per week beside the selected line's MAE on the same rows."""
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    axis = fig.subplots()
    for family, g in weekly.groupby("model_family"):
        axis.plot(g["week"], g["mae"], marker="o", markersize=3, label=family)
    line = weekly.groupby("week")["line_mae"].mean()
    axis.plot(line.index, line.values, color="black", linewidth=2, label="the line")
    axis.set_title("MAE per week (lower is better)")
    axis.legend(loc="best", fontsize=7)
    axis.tick_params(axis="x", labelrotation=30, labelsize=8)
    return _png(fig)


def signals_figure(signals: list[dict]) -> str:
    """Hit rate of the candidates each signal tagged over the window, with n and the 95% interval."""
    rows = [s for s in signals if s["n"]]
    fig = Figure(figsize=(11, 0.3 * max(len(rows), 4) + 1), layout="constrained")
    axis = fig.subplots()
    for i, s in enumerate(rows):
        low, high = wilson_interval(s["wins"], s["n"])
        rate = s["hit_rate"]  # in percent, as the backtest gives it
        axis.errorbar(rate, i, xerr=[[rate - 100 * low], [100 * high - rate]], fmt="o", capsize=3)
        axis.annotate(f"n {s['n']}", (101, i), va="center", fontsize=7, annotation_clip=False)
    axis.set_yticks(range(len(rows)), [s["signal"] + ("" if s["registered"] else " (prototype)") for s in rows])
    axis.axvline(52.38, color="grey", linestyle="--", linewidth=0.8)
    axis.set_xlim(0, 100)
    axis.set_xlabel("hit rate %")
    axis.set_title("signals: hit rate of the candidates each one tagged")
    return _png(fig)


def model_states_figure(performance: pd.DataFrame) -> str:
    """Each family's serving-model state by day (the monitoring's state machine)."""
    fig = Figure(figsize=(11, 0.45 * max(performance["model_family"].nunique(), 3) + 1.2), layout="constrained")
    axis = fig.subplots()
    if len(performance):
        days = pd.to_datetime(performance["game_date"])
        families = sorted(performance["model_family"].unique())
        for state in STATE_ORDER:
            rows = performance[performance["state"] == state]
            axis.scatter(
                pd.to_datetime(rows["game_date"]),
                [families.index(f) for f in rows["model_family"]],
                marker="s",
                s=40,
                color=STATE_COLOURS[state],
                label=state,
            )
        axis.set_yticks(range(len(families)), families, fontsize=8)
        axis.set_xlim(days.min() - pd.Timedelta(days=1), days.max() + pd.Timedelta(days=1))
        axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=5, fontsize=7)
    axis.set_title("model state by day")
    axis.tick_params(axis="x", labelrotation=30, labelsize=8)
    return _png(fig)


def report_card_png(card: dict) -> str:
    """The report card's picture (base64 PNG): week-over-week hit rate of every candidate by direction
    and by player tier, with the best bets' record per week."""
    fig = Figure(figsize=(11, 3.6), layout="constrained")
    axes = fig.subplots(1, 3)
    for axis, dimension in zip(axes[:2], ("direction", "tier")):
        for row in card["candidates"][dimension]:
            rates = [row["weeks"][w]["hit_rate"] for w in card["weeks"]]
            axis.plot(card["weeks"], [None if r is None else 100 * r for r in rates], marker="o", label=row["group"])
        axis.axhline(52.38, color="grey", linestyle="--", linewidth=0.8)
        axis.set_title(f"every candidate by {dimension}: hit rate %", fontsize=9)
        if card["candidates"][dimension]:  # a week before the first candidate has nothing to label
            axis.legend(fontsize=7)
    picks = [sum(r["weeks"][w]["units"] for r in card["best_bets"]["direction"]) for w in card["weeks"]]
    axes[2].bar(card["weeks"], picks, color=["#2e7d32" if u >= 0 else "#c62828" for u in picks])
    axes[2].set_title("best bets: units per week", fontsize=9)
    for axis in axes:
        axis.tick_params(axis="x", labelrotation=30, labelsize=7)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return base64.b64encode(buffer.getvalue()).decode()


# ------------------------------------------------------------------------------------------ page


def weekly_mae(graded: pd.DataFrame) -> pd.DataFrame:
    """Per family and week (Monday): MAE of the family and of the selected line on the same rows."""
    played = graded[~graded["is_voided"].astype(bool) & graded["actual_points"].notna()]
    week = pd.to_datetime(played["game_date"]).dt.to_period("W-SUN").dt.start_time
    actual = played["actual_points"].astype(float)
    return (
        pd.DataFrame(
            {
                "model_family": played["model_family"],
                "week": week,
                "model_error": (played["predicted_points"].astype(float) - actual).abs(),
                "line_error": (played["line_value"].astype(float) - actual).abs(),
            }
        )
        .groupby(["model_family", "week"], as_index=False)
        .agg(mae=("model_error", "mean"), line_mae=("line_error", "mean"), n=("model_error", "size"))
    )


def _table(frame: pd.DataFrame, table_id: str, formats: dict | None = None) -> str:
    formats = formats or {}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row):
            text = "" if value is None or (np.ndim(value) == 0 and pd.isna(value)) else value
            if text != "" and column in formats:
                text = formats[column](value)
            cells.append(f"<td>{html.escape(str(text))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table id={table_id}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _buckets(values: pd.Series, edges: tuple) -> pd.Series:
    return pd.cut(values, list(edges), right=False)


def _pct(value) -> str:
    """A share as a percentage: one decimal, more where one would round to 0.0% or 100.0% a share that is
    neither (a 99.98% match rate is not 100%)."""
    if value is None:
        return "n/a"
    text = f"{100 * value:.1f}%"
    return f"{100 * value:.2f}%" if text in ("100.0%", "0.0%") and value not in (0, 1) else text


def _interval(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows.assign(
        hit_rate=[f"{100 * r:.1f}%" for r in rows["hit_rate"]],
        interval=[f"{100 * lo:.1f}-{100 * hi:.1f}%" for lo, hi in zip(rows["low"], rows["high"])],
        units=rows["units"].astype(float).round(2),
        roi=[f"{100 * r:+.1f}%" for r in rows["roi"]],
    )
    return out[["group", "n", "wins", "hit_rate", "interval", "units", "roi"]]


def headline(report: dict) -> str:
    """The verdict in words: made money or not, at which line, on how many picks, and how sure."""
    bets = report["best_bets"]
    decided = bets["wins"] + bets["losses"]
    low, high = wilson_interval(bets["wins"], decided)
    nominal = " (units at the pick'em apps' nominal price)" if bets.get("nominal_price_share") else ""
    if not bets["n_picks"]:
        verdict = "No best bet was made: no candidate cleared the selection rule."
    else:
        verdict = (
            f"The best bets {'made' if bets['units'] > 0 else 'lost'} {abs(bets['units']):.2f} units on "
            f"{bets['n_picks']} picks{nominal}: {bets['wins']}-{bets['losses']} ({bets['pushes']} pushes, "
            f"{bets['voids']} voids), hit rate {_pct(bets['hit_rate'])} (95% interval "
            f"{_pct(low)}-{_pct(high)}), ROI {_pct(bets['roi'])} at the shopped line; at the selected book's "
            f"line {bets['at_selected_book']['wins']}-{bets['at_selected_book']['losses']}, "
            f"{bets['at_selected_book']['units']:+.2f} units."
        )
    families = report["families"]
    best = min(families.items(), key=lambda kv: kv[1]["mae"] or np.inf) if families else None
    models = (
        f" The closest family, {best[0]}, has MAE {best[1]['mae']:.3f} against the line's {best[1]['line_mae']:.3f}"
        f" on the same {best[1]['n_graded']} player-games."
        if best
        else ""
    )
    return verdict + models


def report_card_html(card: dict) -> str:
    """The report card's section: its picture, then a table per set of bets and dimension."""
    parts = [f'<img alt="" src="data:image/png;base64,{report_card_png(card)}">']
    for name, title in (("best_bets", "best bets"), ("candidates", "every candidate")):
        for dimension in DIMENSIONS:
            rows = [
                {
                    dimension: row["group"],
                    **{w: record_cell(row["weeks"][w]) for w in card["weeks"]},
                    "all": record_cell(row["all"]),
                }
                for row in card[name][dimension]
            ]
            if rows:
                table = _table(pd.DataFrame(rows), f"card_{name}_{dimension}")
                parts.append(f"<h3>{title} by {dimension}</h3>{table}")
    alerts = _table(pd.DataFrame(card["alerts"]), "card_alerts") if card["alerts"] else "<p>none</p>"
    parts.append(f"<h3>alerts of the week</h3>{alerts}")
    return "".join(parts)


def replay_html(report: dict, tables: ReplayTables) -> str:
    """The whole page."""
    side = side_bets(tables.priced)
    picks = decided_picks(tables.pick_results)
    panels = [  # (title, table id, rows)
        ("every family's bet by |edge|", "by_abs_edge", hit_rate_rows(side, _buckets(side["abs_edge"], EDGE_BUCKETS))),
        ("every family's bet by P(win)", "by_p_win", hit_rate_rows(side, _buckets(side["p_side"], P_BUCKETS))),
        ("best bets by direction", "by_direction", hit_rate_rows(picks, picks["recommendation"])),
    ]
    calibration = pd.DataFrame(report["calibration"])
    by_quantile = pd.DataFrame(report["calibration_by_quantile"])
    check = report["calibration_check"]
    largest_gap = "n/a" if check["max_abs_gap_points"] is None else check["max_abs_gap_points"]
    families = pd.DataFrame.from_dict(report["families"], orient="index").rename_axis("family").reset_index()
    family_columns = ["family", "n_graded", "mae", "line_mae", "bias", "hit_rate_edge3", "n_edge3"]
    pick_rows = tables.pick_results.sort_values(["game_date", "rank"])[PICK_COLUMNS].astype({"game_date": str})
    sections = [
        f"<h1>Replay {report['start']}..{report['end']}</h1>",
        f"<p class=verdict>{html.escape(headline(report))}</p>",
        f"<p>Selection rule: {html.escape(report['best_bets']['selection'])}; data: "
        f"{html.escape(report['data_dir'])}; match rate {_pct(report['ingest']['match_rate'])}.</p>",
        "<h2>Units over time</h2>",
        units_figure(tables.pick_results, side),
        "<h2>Hit rate with n and 95% intervals</h2>",
        "<p>The dashed line is the 52.4% a -110 price needs. An interval that spans it has not shown an edge.</p>",
        hit_rate_figure([(title, rows) for title, _, rows in panels]),
        *[f"<h3>{html.escape(title)}</h3>" + _table(_interval(rows), table_id) for title, table_id, rows in panels],
        "<h3>best bets by source family</h3>",
        _table(_interval(hit_rate_rows(picks, picks["source_model_family"])), "by_family"),
        "<h3>Closing line value</h3>",
        f"<p id=clv>{html.escape(describe_clv(report['best_bets'].get('clv', {})))}. CLV compares each pick's "
        "line and price at the decision with where its book and the sportsbooks' no-vig consensus closed (the "
        "last snapshot before tip-off); it needs a snapshot after the decision.</p>",
        "<h2>The models against the line</h2>",
        _table(families[family_columns] if len(families) else families, "families", {"hit_rate_edge3": _pct}),
        weekly_mae_figure(weekly_mae(tables.graded)),
        predicted_vs_actual_figure(tables.graded),
        "<h2>Calibration of P(over)</h2>",
        "<p>Every family's walk-forward P(over) against how often the player went over, by tenth of P; a bin"
        f" is judged where n >= {check['min_n']} (largest |gap| there: {largest_gap}"
        " points). The rows of a bin are not independent:"
        " the families predict the same player-games, counted in the player_games column.</p>",
        _table(calibration, "calibration", {"predicted": _pct, "realized": _pct}),
        "<h3>by equal-count decile of P</h3>",
        _table(by_quantile, "calibration_by_quantile", {"predicted": _pct, "realized": _pct}),
        "<h2>Signals</h2>",
        signals_figure(tables.signals),
        "<h2>Model states</h2>",
        model_states_figure(tables.performance),
        f"<h2>Report card, week of {html.escape(tables.report_card['week'])}</h2>",
        report_card_html(tables.report_card),
        "<h2>Every pick</h2>",
        _table(pick_rows, "picks", {"p_win": lambda v: f"{v:.3f}"}),
    ]
    style = (
        "body{font-family:sans-serif;max-width:1150px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;font-size:13px;margin:0.5em 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        ".verdict{font-size:1.15em;background:#f3f6fa;padding:0.8em;border-left:4px solid #1565c0}"
        "img{max-width:100%}"
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Replay {report['start']}..{report['end']}"
        f"</title><style>{style}</style></head><body>{''.join(sections)}</body></html>\n"
    )
