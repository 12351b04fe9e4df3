"""The day's export, `signal-best-bets/{date}.json` (and `latest.json`), in the original's shape:
top level, one object per pick, the filter summary, plus the decision snapshot. Described by
`schemas/export/signal_best_bets.schema.json`."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pandas as pd

from bestbets_dagster.timeutil import monday_of, season_of, season_start

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "export" / "signal_best_bets.schema.json"
DATED_CACHE_CONTROL = "public, max-age=300"
LATEST_CACHE_CONTROL = "public, max-age=60"


def export_key(day: dt.date) -> str:
    return f"signal-best-bets/{day:%Y-%m-%d}.json"


LATEST_KEY = "signal-best-bets/latest.json"


def _clean(value):
    """JSON-safe: NaN/NA -> None, numpy scalars -> Python, arrays -> lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist() if hasattr(value, "tolist") else value
        if isinstance(value, list):
            return [_clean(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (pd.Timestamp, dt.date)):
        return value.isoformat()
    return value


def _wl(results: pd.DataFrame) -> dict:
    wins, losses = int((results["result"] == "WIN").sum()), int((results["result"] == "LOSS").sum())
    return {"wins": wins, "losses": losses, "pct": round(100.0 * wins / (wins + losses), 1) if wins + losses else None}


def record(results: pd.DataFrame, day: dt.date) -> dict:
    """Best-bets W-L before `day`: this season, this calendar month, this week (from Monday)."""
    r = results[pd.to_datetime(results["game_date"]) < pd.Timestamp(day)] if len(results) else results
    if r.empty:
        empty = {"wins": 0, "losses": 0, "pct": None}
        return {"season": empty, "month": empty, "week": empty}
    dates = pd.to_datetime(r["game_date"])
    monday = pd.Timestamp(monday_of(day))
    return {
        "season": _wl(r[dates >= pd.Timestamp(season_start(day))]),  # the results are all before `day`
        "month": _wl(r[(dates.dt.year == day.year) & (dates.dt.month == day.month)]),
        "week": _wl(r[dates >= monday]),
    }


def _pick(row) -> dict:
    return {
        "rank": row.rank,
        "player": row.player_name,
        "player_lookup": row.player_lookup,
        "game_id": row.game_id,
        "team": row.team_abbr,
        "opponent": row.opponent_abbr,
        "prediction": row.predicted_points,
        "line": row.line_value,
        "direction": row.recommendation,
        "edge": row.edge,
        "confidence": row.confidence,
        "book": row.line_book,
        "price": row.line_over_price if row.recommendation == "OVER" else row.line_under_price,
        # Where to place it: the best offer for the side among the books (line shopping).
        "bet": {
            "book": row.bet_book,
            "line": row.bet_line,
            "price": row.bet_price,
            "price_is_nominal": bool(row.bet_price_is_nominal),
        },
        "p_win": None if pd.isna(row.p_win) else round(float(row.p_win), 4),
        "expected_value": None if pd.isna(row.expected_value) else round(float(row.expected_value), 4),
        "signals": list(row.signal_tags),
        "signal_count": row.signal_count,
        "composite_score": row.composite_score,
        "health_multiplier": row.health_multiplier,
        "matched_combo_id": row.matched_combo_id,
        "combo_classification": row.combo_classification,
        "combo_hit_rate": row.combo_hit_rate,
        "warnings": list(row.warning_tags),
        "angles": list(row.pick_angles),
        "model_agreement": row.model_agreement_count,
        "agreeing_models": list(row.agreeing_model_ids),
        "feature_diversity": row.feature_set_diversity,
        "consensus_bonus": row.consensus_bonus,
        "quantile_under_consensus": row.quantile_consensus_under,
        # The original's per-model subsets do not exist here: a pick qualifies for none.
        "qualifying_subsets": [],
        "qualifying_subset_count": 0,
        "algorithm_version": row.algorithm_version,
        "source_model": row.source_model_id,
        "source_model_family": row.source_model_family,
        "n_models_eligible": row.n_models_eligible,
        "champion_edge": row.champion_edge,
        "direction_conflict": row.direction_conflict,
        "actual": None,
        "result": None,
    }


def build_export(
    day: dt.date,
    picks: pd.DataFrame,
    decision: dict,
    results_before: pd.DataFrame,
    predictions_of_day: pd.DataFrame,
    generated_at: pd.Timestamp,
) -> dict:
    """The export document. `decision` is the snapshot dict (see pipeline.decide); predictions_of_day:
    game_date, model_family, model_id and edge of every prediction of the day."""
    champion = decision["config"]["champion_family"]
    serving = (
        predictions_of_day.drop_duplicates("model_family").set_index("model_family")["model_id"].to_dict()
        if len(predictions_of_day)
        else {}
    )
    champion_model = serving.get(champion)
    unknown = {"status": "unknown", "hit_rate_7d": None, "graded_count": 0}
    champion_health = decision["model_health"].get(champion, unknown)
    edges = pd.to_numeric(predictions_of_day["edge"]).abs() if len(predictions_of_day) else pd.Series(dtype=float)
    blacklist = decision["blacklist"]
    blocked = {f: h for f, h in decision["model_health"].items() if h["status"] == "blocked" and f in serving}
    gated = decision["filter_summary"]["rejected"].get("model_health_gate", 0)
    doc = {
        "date": f"{day:%Y-%m-%d}",
        "generated_at": generated_at.isoformat(),
        "season": season_of(day),
        "algorithm_version": decision["algorithm_version"],
        "config_version": decision["config_version"],
        "min_signal_count": decision["config"]["min_signal_count"],
        "record": record(results_before, day),
        "model_health": {"family": champion, "model_id": champion_model, **champion_health},
        "model_health_by_family": decision["model_health"],
        "health_gate_active": bool(gated),
        "health_gate_reason": (
            f"{gated} candidates only from blocked families (7-day edge-3+ HR below 52.4%): "
            + ", ".join(f"{f} {h['hit_rate_7d']}%" for f, h in sorted(blocked.items()))
            if gated
            else None
        ),
        "signal_health": {
            tag: {k: h[k] for k in ("hr_7d", "hr_season", "regime", "status", "is_model_dependent", "multiplier")}
            for tag, h in decision["signal_health"].items()
        },
        "player_blacklist": {
            "count": len(blacklist["players"]),
            "evaluated": blacklist["evaluated"],
            "hr_threshold": decision["config"]["blacklist_max_hit_rate"],
            "min_picks": decision["config"]["blacklist_min_picks"],
            "players": [p["player_lookup"] for p in blacklist["players"][:10]],
        },
        "direction_health": decision["direction_health"],
        "filter_summary": decision["filter_summary"],
        "edge_distribution": {
            "total_predictions": len(edges),
            "max_edge": round(float(edges.max()), 1) if len(edges) else None,
            "edge_3_plus": int((edges >= 3).sum()),
            "edge_5_plus": int((edges >= 5).sum()),
            "edge_7_plus": int((edges >= 7).sum()),
        },
        "picks": [_pick(r) for r in picks.sort_values("rank").itertuples(index=False)] if len(picks) else [],
        "total_picks": len(picks),
        "signals_evaluated": [t for t in decision["registered_signals"] if t != "model_health"],
        "decision": {k: decision[k] for k in ("config", "signal_health", "model_health", "blacklist")},
        "lines": decision.get("lines") or {"decision_time": None, "lines_as_of": None},
    }
    return _clean(doc)


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def dumps(doc: dict) -> bytes:
    return json.dumps(doc, indent=1, sort_keys=False, allow_nan=False).encode()
