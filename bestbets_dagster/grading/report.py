"""Figures of a replay, recomputed from the graded rows (so a test can recount them)."""

from __future__ import annotations

import pandas as pd


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
    header = f"{'family':<15}{'N':>6}{'MAE':>8}{'line MAE':>10}{'bias':>8}{'HR 3+':>8}{'N 3+':>6}{'HR 5+':>8}{'N 5+':>6}"
    lines = [header, "-" * len(header)]

    def pct(v):
        return "   n/a" if v is None else f"{100 * v:6.1f}%"

    for family, f in families.items():
        lines.append(
            f"{family:<15}{f['n_graded']:>6}{f['mae'] or float('nan'):>8.3f}{f['line_mae'] or float('nan'):>10.3f}"
            f"{f['bias'] or float('nan'):>8.2f}{pct(f['hit_rate_edge3']):>8}{f['n_edge3']:>6}{pct(f['hit_rate_edge5']):>8}{f['n_edge5']:>6}"
        )
    return "\n".join(lines)
