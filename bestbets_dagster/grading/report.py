"""Figures of a replay, recomputed from the graded rows (so a test can recount them)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bestbets_dagster.bestbets.probability import (
    decided_rows,
    log_loss,
    own_price_p_over,
    walk_forward_probabilities,
)
from bestbets_dagster.bestbets.results import summarize
from bestbets_dagster.betting import settle


def family_figures(graded: pd.DataFrame) -> dict:
    """Per family: graded rows (played, not voided), MAE next to the selected line's MAE on the same
    rows, bias (mean prediction - actual), and hit rates at |edge| >= 3 and 5, pushes and voids excluded."""
    out = {}
    for family, rows in sorted(graded.groupby("model_family"), key=lambda kv: kv[0]):
        played = rows[~rows["is_voided"].astype(bool)]
        pred = played["predicted_points"].astype(float)
        actual = played["actual_points"].astype(float)
        line = played["line_value"].astype(float)
        figures = {
            "n_graded": int(len(played)),
            "mae": round(float((pred - actual).abs().mean()), 3) if len(played) else None,
            "line_mae": round(float((line - actual).abs().mean()), 3) if len(played) else None,
            "bias": round(float((pred - actual).mean()), 3) if len(played) else None,
        }
        edge = pred - line
        decided = played[(actual != line)]
        for threshold in (3, 5):
            bets = decided[edge.loc[decided.index].abs() >= threshold]
            won = (bets["actual_points"].astype(float) > bets["line_value"].astype(float)) == (
                bets["predicted_points"].astype(float) > bets["line_value"].astype(float)
            )
            figures[f"n_edge{threshold}"] = int(len(bets))
            figures[f"hit_rate_edge{threshold}"] = round(float(won.mean()), 4) if len(bets) else None
        figures["models"] = sorted(rows["model_id"].unique().tolist())
        figures["shadow_share"] = round(float((rows["model_status"] == "shadow").mean()), 4)
        out[family] = figures
    return out


def format_table(families: dict) -> str:
    header = (
        f"{'family':<15}{'N':>6}{'MAE':>8}{'line MAE':>10}{'bias':>8}{'HR 3+':>8}{'N 3+':>6}{'HR 5+':>8}{'N 5+':>6}"
    )
    lines = [header, "-" * len(header)]

    def pct(v):
        return "   n/a" if v is None else f"{100 * v:6.1f}%"

    for family, f in families.items():
        lines.append(
            f"{family:<15}{f['n_graded']:>6}{f['mae'] or float('nan'):>8.3f}{f['line_mae'] or float('nan'):>10.3f}"
            f"{f['bias'] or float('nan'):>8.2f}{pct(f['hit_rate_edge3']):>8}{f['n_edge3']:>6}"
            f"{pct(f['hit_rate_edge5']):>8}{f['n_edge5']:>6}"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Probabilities, buckets, weeks and the line-shrunk forecast (the replay report's tables)

P_BUCKETS = (0.0, 0.5, 0.525, 0.55, 0.6, 1.0)
EDGE_BUCKETS = (0.0, 1.0, 3.0, 5.0, float("inf"))
SHRINK_GRID = tuple(k / 20 for k in range(21))


def side_bets(priced: pd.DataFrame) -> pd.DataFrame:
    """Every priced, decided graded prediction as a bet on its edge's side at the selected book's line
    and price: p_side (P of that side), won, units."""
    rows = decided_rows(priced)
    edge = rows["predicted_points"].astype(float) - rows["line_value"].astype(float)
    over = edge > 0
    price = pd.Series(np.where(over, rows["line_over_price"], rows["line_under_price"]), index=rows.index)
    result, units = settle(
        over,
        rows["actual_points"].astype(float),
        rows["line_value"].astype(float),
        pd.to_numeric(price),
        pd.Series(False, index=rows.index),  # decided rows: played, not on the line
    )
    won = result == "WIN"
    return pd.DataFrame(
        {
            "model_family": rows["model_family"],
            "game_date": pd.to_datetime(rows["game_date"]),
            "p_side": np.where(over, rows["p_over"], 1 - rows["p_over"]),
            "abs_edge": edge.abs(),
            "won": won,
            "units": units,
        }
    )


CALIBRATION_MIN_N = 100  # a bin with fewer decided rows is shown but not judged


def _calibration_row(g: pd.DataFrame) -> dict:
    """The figures of one bin of decided rows."""
    realized = float((g["actual_points"].astype(float) > g["line_value"].astype(float)).mean())
    predicted = float(g["p_over"].mean())
    return {
        "n": int(len(g)),
        # The six families predict the same player-games: a bin's rows are not independent draws,
        # so its distinct player-games say how much evidence it holds.
        "player_games": int(len(g[["game_date", "player_lookup"]].drop_duplicates())),
        "predicted": round(predicted, 4),
        "realized": round(realized, 4),
        "gap_points": round(100 * (realized - predicted), 2),
    }


def calibration_table(priced: pd.DataFrame) -> list[dict]:
    """The reliability table: predicted P(over) against the realized over rate in each tenth of the
    probability scale ([0, 0.1), ..., [0.9, 1]) that holds a decided row, with n. A bin's gap is
    judged (`judged`) where n >= CALIBRATION_MIN_N: fixed bins at the tails hold a handful of rows."""
    rows = decided_rows(priced)
    if rows.empty:
        return []
    tenth = np.minimum(np.floor(rows["p_over"].astype(float) * 10), 9).astype(int)
    out = []
    for t, g in rows.groupby(tenth):
        figures = _calibration_row(g)
        out.append(
            {"bin": f"[{t / 10:.1f}, {(t + 1) / 10:.1f})", **figures, "judged": figures["n"] >= CALIBRATION_MIN_N}
        )
    return out


def calibration_by_quantile(priced: pd.DataFrame) -> list[dict]:
    """Predicted P(over) against the realized over rate by equal-count decile of P: the finer view
    (the P of a family that knows little beyond the book spans a few points around 1/2)."""
    rows = decided_rows(priced)
    if len(rows) < 10:
        return []
    decile = pd.qcut(rows["p_over"].rank(method="first"), 10, labels=False)
    return [
        {
            "decile": int(d) + 1,
            "p_low": round(float(g["p_over"].min()), 4),
            "p_high": round(float(g["p_over"].max()), 4),
            **_calibration_row(g),
        }
        for d, g in rows.groupby(decile)
    ]


def calibration_verdict(table: list[dict]) -> dict:
    """The largest |gap| over the judged bins of the reliability table."""
    judged = [r for r in table if r["judged"]]
    return {
        "min_n": CALIBRATION_MIN_N,
        "bins_judged": len(judged),
        "rows_judged": sum(r["n"] for r in judged),
        "max_abs_gap_points": max((abs(r["gap_points"]) for r in judged), default=None),
    }


def _bucketed(bets: pd.DataFrame, column: str, edges: tuple) -> list[dict]:
    labels = pd.cut(bets[column], list(edges), right=False)
    out = []
    for interval, g in bets.groupby(labels, observed=True):
        units = float(np.nansum(g["units"]))
        out.append(
            {
                "bucket": f"[{interval.left:g}, {interval.right:g})",
                "n": int(len(g)),
                "hit_rate": round(float(g["won"].mean()), 4),
                "units": round(units, 2),
                "roi": round(units / len(g), 4),
            }
        )
    return out


def bucket_tables(priced: pd.DataFrame) -> dict:
    """Hit rate and ROI (at the selected book's price) of every family's bet on its edge's side, by
    P(win) bucket and by |edge| bucket."""
    bets = side_bets(priced)
    return {"by_p_win": _bucketed(bets, "p_side", P_BUCKETS), "by_abs_edge": _bucketed(bets, "abs_edge", EDGE_BUCKETS)}


def shrunk_mae(graded: pd.DataFrame) -> dict:
    """Per family: the MAE of line + k (prediction - line), k chosen walk-forward (each week's k
    minimizes the MAE of the family's earlier weeks in the rows, on a 0.05 grid), beside the model's
    and the line's MAE on the same rows (weeks after the first)."""
    out = {}
    played = graded[~graded["is_voided"].astype(bool) & graded["actual_points"].notna()]
    for family, rows in sorted(played.groupby("model_family"), key=lambda kv: kv[0]):
        week = pd.to_datetime(rows["game_date"]).dt.to_period("W-SUN")
        weeks = week.array.asi8  # the weeks' ordinals: a vectorized comparison
        pred, line, actual = (
            rows[c].astype(float).to_numpy() for c in ("predicted_points", "line_value", "actual_points")
        )
        errors, model_errors, line_errors, ks = [], [], [], {}
        for period in sorted(week.unique())[1:]:
            earlier, this = weeks < period.ordinal, weeks == period.ordinal
            k = min(
                SHRINK_GRID,
                key=lambda k: float(
                    np.abs(line[earlier] + k * (pred[earlier] - line[earlier]) - actual[earlier]).mean()
                ),
            )
            ks[str(period.start_time.date())] = k
            errors.append(np.abs(line[this] + k * (pred[this] - line[this]) - actual[this]))
            model_errors.append(np.abs(pred[this] - actual[this]))
            line_errors.append(np.abs(line[this] - actual[this]))
        if errors:
            out[family] = {
                "n": int(sum(len(e) for e in errors)),
                "mae_shrunk": round(float(np.concatenate(errors).mean()), 3),
                "mae_model": round(float(np.concatenate(model_errors).mean()), 3),
                "mae_line": round(float(np.concatenate(line_errors).mean()), 3),
                "k_by_week": ks,
            }
    return out


def weekly_rows(graded: pd.DataFrame, pick_results: pd.DataFrame) -> list[dict]:
    """Per week (Monday): each family's MAE beside the line's, and the best bets' record and units."""
    played = graded[~graded["is_voided"].astype(bool) & graded["actual_points"].notna()]
    week = pd.to_datetime(played["game_date"]).dt.to_period("W-SUN")
    pick_week = pd.to_datetime(pick_results["game_date"]).dt.to_period("W-SUN") if len(pick_results) else None
    out = []
    for period in sorted(week.unique()):
        rows = played[week == period]
        actual, line = rows["actual_points"].astype(float), rows["line_value"].astype(float)
        mae = {
            f: round(float((g["predicted_points"].astype(float) - g["actual_points"].astype(float)).abs().mean()), 3)
            for f, g in rows.groupby("model_family")
        }
        picks = pick_results[pick_week == period] if pick_week is not None else pick_results
        out.append(
            {
                "week_start": str(period.start_time.date()),
                "line_mae": round(float((line - actual).abs().groupby(rows["model_family"]).mean().mean()), 3),
                "mae": mae,
                "best_bets": summarize(picks),
            }
        )
    return out


def format_calibration(table: list[dict], verdict: dict) -> str:
    lines = [f"{'P bin':<12}{'n':>7}{'p-games':>8}{'predicted':>11}{'realized':>10}{'gap':>7}"]
    unjudged = f"  (n < {verdict['min_n']})"
    for r in table:
        lines.append(
            f"{r['bin']:<12}{r['n']:>7}{r['player_games']:>8}{100 * r['predicted']:>10.1f}%"
            f"{100 * r['realized']:>9.1f}%{r['gap_points']:>+7.1f}{'' if r['judged'] else unjudged}"
        )
    gap = verdict["max_abs_gap_points"]
    judged = "n/a" if gap is None else f"{gap:.1f} points over {verdict['bins_judged']} bins"
    lines.append(f"largest |gap| where n >= {verdict['min_n']}: {judged} ({verdict['rows_judged']} rows)")
    return "\n".join(lines)


def format_calibration_by_quantile(table: list[dict]) -> str:
    lines = [f"{'decile':>6}{'n':>7}{'p-games':>8}{'P range':>16}{'predicted':>11}{'realized':>10}{'gap':>7}"]
    for r in table:
        lines.append(
            f"{r['decile']:>6}{r['n']:>7}{r['player_games']:>8}{r['p_low']:>8.3f}-{r['p_high']:<7.3f}"
            f"{100 * r['predicted']:>10.1f}%{100 * r['realized']:>9.1f}%{r['gap_points']:>+7.1f}"
        )
    return "\n".join(lines)


def format_buckets(rows: list[dict], title: str) -> str:
    return f"{title}: " + "; ".join(
        f"{r['bucket']} n {r['n']} HR {100 * r['hit_rate']:.1f}% ROI {100 * r['roi']:+.1f}%" for r in rows
    )


def format_weeks(weeks: list[dict]) -> str:
    """One line per week: the line's MAE, the best family MAE, and the best bets' record and units."""
    lines = [f"{'week':<11}{'line MAE':>9}{'best MAE':>9}  {'best family':<15}{'picks':>6}{'W-L':>8}{'units':>8}"]
    for w in weeks:
        family, mae = min(w["mae"].items(), key=lambda kv: kv[1]) if w["mae"] else ("-", float("nan"))
        b = w["best_bets"]
        lines.append(
            f"{w['week_start']:<11}{w['line_mae']:>9.3f}{mae:>9.3f}  {family:<15}{b['n_picks']:>6}"
            f"{str(b['wins']) + '-' + str(b['losses']):>8}{b['units']:>+8.2f}"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The market anchor: how the market's P, each family's P before the anchor and the combined P score

# A family "adds nothing" when the combined P does not lower the market's log loss by this much: a
# thousandth of a nat is about what one noisy weight costs or gains on a few thousand rows.
ADDS_NOTHING_LOG_LOSS = 0.001


def brier(p: np.ndarray, outcome: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype="float64") - outcome) ** 2))


def _scores(rows: pd.DataFrame) -> dict:
    over = (rows["actual_points"].astype(float) > rows["line_value"].astype(float)).to_numpy(dtype="float64")
    out = {"n": int(len(rows)), "player_games": int(len(rows[["game_date", "person_id"]].drop_duplicates()))}
    for name, column in (("market", "market_p_over"), ("family", "p_family"), ("combined", "p_over")):
        p = rows[column].to_numpy(dtype="float64")
        out[f"log_loss_{name}"] = round(log_loss(p, over), 5)
        out[f"brier_{name}"] = round(brier(p, over), 5)
    return out


def market_comparison(graded: pd.DataFrame, days, nominal_books=()) -> dict:
    """Walk-forward over `days`, on the decided graded predictions that both fits price: the log loss and
    Brier score of the market's P (`market_p_over`, bestbets.market), of each family's P before the
    anchor (its edge on top of its own book's price) and of the combined P (its edge on top of the
    market), with the weights the combined fit gives the family's edge (b) and the market (c), and in
    words whether the family adds anything beyond the market. graded: prediction_accuracy rows from
    CALIBRATION_DAYS before the first day, with MARKET_COLUMNS."""
    rows = graded.reset_index(drop=True).assign(_row=lambda f: np.arange(len(f)))
    combined = walk_forward_probabilities(rows, list(days), with_weights=True)
    before = walk_forward_probabilities(
        rows.assign(market_p_over=own_price_p_over(rows, nominal_books)), list(days), anchored=False
    )
    both = decided_rows(combined).merge(
        before[["_row", "p_over"]].rename(columns={"p_over": "p_family"}), on="_row", how="inner"
    )
    both = both[both["market_p_over"].notna()]
    if both.empty:
        return {"all": None, "families": {}}
    families = {}
    for family, rows_of in both.groupby("model_family"):
        figures = _scores(rows_of)
        b, c = float(rows_of["calibration_b"].mean()), float(rows_of["calibration_c"].mean())
        earned = float(rows_of["calibration_earned"].mean())
        gain = figures["log_loss_market"] - figures["log_loss_combined"]
        figures.update(
            weight_edge=round(b, 4),
            weight_market=round(c, 4),
            earned_share=round(earned, 4),
            log_loss_gain=round(gain, 5),
            adds_nothing=bool(gain < ADDS_NOTHING_LOG_LOSS),
            verdict=(
                f"adds nothing beyond the market: its edge earned a weight out of sample on {earned:.0%} of the "
                f"rows (mean weight {b:+.3f}), the combined P scores {figures['log_loss_combined']:.4f} against "
                f"the market's {figures['log_loss_market']:.4f}"
                if gain < ADDS_NOTHING_LOG_LOSS
                else f"adds {gain:.4f} nats per bet beyond the market (its edge weighed on {earned:.0%} of the rows, "
                f"mean weight {b:+.3f})"
            ),
        )
        families[family] = figures
    return {"all": _scores(both), "families": families}


def format_market_comparison(comparison: dict) -> str:
    """The printed table: per family the three log losses and Brier scores and the fit's weights."""
    if not comparison["all"]:
        return "P(over) against the market: no decided prediction both fits price"
    header = (
        f"{'family':<15}{'N':>6}{'LL market':>11}{'LL family':>11}{'LL comb.':>10}"
        f"{'Brier mkt':>11}{'Brier fam':>11}{'Brier comb':>11}{'w edge':>8}{'earned':>8}"
    )
    lines = [header, "-" * len(header)]
    for family, f in {**comparison["families"], "all": comparison["all"]}.items():
        weights = f"{f['weight_edge']:>+8.3f}{f['earned_share']:>8.0%}" if "weight_edge" in f else ""
        lines.append(
            f"{family:<15}{f['n']:>6}{f['log_loss_market']:>11.4f}{f['log_loss_family']:>11.4f}"
            f"{f['log_loss_combined']:>10.4f}{f['brier_market']:>11.4f}{f['brier_family']:>11.4f}"
            f"{f['brier_combined']:>11.4f}{weights}"
        )
    lines.extend(f"  {family}: {f['verdict']}" for family, f in comparison["families"].items())
    return "\n".join(lines)
