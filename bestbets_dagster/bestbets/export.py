"""The day's export, `signal-best-bets/{date}.json` (and `latest.json`), in the original's shape:
top level, one object per pick, the filter summary, plus the decision snapshot. Described by
`schemas/export/signal_best_bets.schema.json`."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pandas as pd

from bestbets_dagster.bestbets.results import summarize
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


TIER_RECORD_DAYS = 14


def tier_records(results: pd.DataFrame, day: dt.date, days: int = TIER_RECORD_DAYS) -> dict:
    """Per card tier (value, lean), the graded picks' record before `day`: over the `days` days before it
    and this season, each with W-L, pushes, hit rate and its 95% interval, units and ROI at the judged
    price (results.summarize)."""
    dates = pd.to_datetime(results["game_date"])
    tiers = results["tier"] if "tier" in results else pd.Series("value", index=results.index)  # earlier versions
    season = results[(dates < pd.Timestamp(day)) & (dates >= pd.Timestamp(season_start(day)))]
    recent = dates.loc[season.index] >= pd.Timestamp(day - dt.timedelta(days=days))
    return {
        name: {
            "days": days,
            "recent": summarize(season[recent & (tiers.loc[season.index] == name)]),
            "season": summarize(season[tiers.loc[season.index] == name]),
        }
        for name in ("value", "lean")
    }


def tipoffs_by_day(player_game_lines: pd.DataFrame) -> dict[dt.date, dict[int, dict]]:
    """{date: {person_id: {commence_time, is_home}}} of the lined, resolved players (player_game_lines)."""
    rows = player_game_lines.dropna(subset=["person_id"])
    out: dict[dt.date, dict[int, dict]] = {}
    for row in rows.itertuples(index=False):
        out.setdefault(pd.Timestamp(row.game_date).date(), {})[int(row.person_id)] = {
            "commence_time": pd.Timestamp(row.commence_time).isoformat(),
            "is_home": None if pd.isna(row.is_home) else bool(row.is_home),
        }
    return out


def _number(value, digits: int):
    return None if value is None or pd.isna(value) else round(float(value), digits)


def _pick(row, tipoffs: dict, model_states: dict) -> dict:
    over = row.recommendation == "OVER"
    market_side = None if pd.isna(row.market_p_over) else (row.market_p_over if over else 1.0 - row.market_p_over)
    state = model_states.get(row.source_model_family, {})
    tipoff = tipoffs.get(int(row.person_id), {})
    return {
        "rank": row.rank,
        "tier": row.tier,
        "player": row.player_name,
        "player_lookup": row.player_lookup,
        "game_id": row.game_id,
        "team": row.team_abbr,
        "opponent": row.opponent_abbr,
        "is_home": tipoff.get("is_home"),
        "tipoff": tipoff.get("commence_time"),
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
            "judged_price": _number(row.judged_price, 1),
            "break_even": _number(row.break_even, 4),
        },
        # What the other books say of the bet: their no-vig consensus at its line (bestbets.market).
        "market": {
            "line": _number(row.market_line, 1),
            "books": None if pd.isna(row.market_books) else int(row.market_books),
            "p_over": _number(row.market_p_over, 4),
            "p_win": _number(market_side, 4),
        },
        "p_win": _number(row.p_win, 4),
        "expected_value": _number(row.expected_value, 4),
        "calibration": json.loads(row.calibration_json) if isinstance(row.calibration_json, str) else None,
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
        "source_model_state": state.get("state", "unknown"),
        "source_model_state_as_of": state.get("as_of"),
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
    tipoffs: dict | None = None,
) -> dict:
    """The export document. `decision` is the snapshot dict (see pipeline.decide); predictions_of_day:
    game_date, model_family, model_id and edge of every prediction of the day; tipoffs: {person_id:
    {commence_time, is_home}} of the day's lined players."""
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
        "record_by_tier": tier_records(results_before, day),
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
        "picks": [
            _pick(r, tipoffs or {}, decision.get("model_states", {}))
            for r in picks.sort_values("rank").itertuples(index=False)
        ]
        if len(picks)
        else [],
        "picks_by_tier": {name: int((picks["tier"] == name).sum()) if len(picks) else 0 for name in ("value", "lean")},
        "min_expected_value": decision["config"]["min_expected_value"],
        "signal_health_as_of": decision.get("signal_health_as_of"),
        "serving_models": serving,
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
