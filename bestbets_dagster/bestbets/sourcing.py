"""Phase B sourcing: how much each family's bet counts when several families have an eligible bet on
one player-game, from its model's record as of the day before (model_performance_daily of D - 1).

weight = state weight (config.sourcing_state_weights; BLOCKED 0 supplies nothing) x the model's 14-day
hit rate of decided edge-3+ bets, shrunk toward the breakeven 52.4% with config.sourcing_hit_rate_prior
bets, over 52.4%. A family with no record of the day before counts as INSUFFICIENT_DATA with the
breakeven rate. Under sourcing "performance" the candidate of a player-game is the eligible bet (it
clears the selection's floor and its weight is above 0) with the highest value x weight; "best" keeps
the original's highest value. Either way every family's edge, weight and state go with the candidate.
"""

from __future__ import annotations

import json

import pandas as pd

from bestbets_dagster.bestbets.config import BestBetsConfig
from bestbets_dagster.betting import BREAKEVEN_HIT_RATE

# The newest model_performance_daily date within this many days before D is "the day before" (the
# picks' model states read the same window: bestbets.days.HEALTH_LOOKBACK_DAYS).
SOURCING_LOOKBACK_DAYS = 14
NO_RECORD_STATE = "INSUFFICIENT_DATA"


def sourcing_weights(model_states: dict, families, config: BestBetsConfig) -> dict[str, dict]:
    """{family: {state, hit_rate_14d, n_14d, weight}} for every family named or in model_states.
    model_states: pipeline.model_states_as_of() of the day (the newest model_performance_daily
    row of each family before it)."""
    state_weights = dict(config.sourcing_state_weights)
    prior = float(config.sourcing_hit_rate_prior)
    out = {}
    for family in sorted({*families, *model_states}):
        record = model_states.get(family, {})
        state = record.get("state", NO_RECORD_STATE)
        hit_rate, n = record.get("rolling_hr_14d"), int(record.get("rolling_n_14d") or 0)
        shrunk = BREAKEVEN_HIT_RATE if hit_rate is None else (hit_rate * n + BREAKEVEN_HIT_RATE * prior) / (n + prior)
        out[family] = {
            "state": state,
            "hit_rate_14d": hit_rate,
            "n_14d": n,
            "weight": round(float(state_weights.get(state, 1.0)) * shrunk / BREAKEVEN_HIT_RATE, 4),
        }
    return out


def provenance(bets: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Per player-game (`key` columns and sourcing_json): JSON of every family's bet with its edge,
    side, EV, weight and state, the record a pick carries of how it was sourced."""
    bets = bets.dropna(subset=key)
    if bets.empty:  # keep the key columns' types for the merge
        return bets[key].iloc[0:0].assign(sourcing_json=pd.Series(dtype=object))
    # One pass over plain lists: a season's range has some 400,000 bets (a per-group DataFrame walk
    # took 20 s of it).
    by_game: dict[tuple, dict] = {}
    columns = zip(
        zip(*(bets[k].tolist() for k in key)),
        bets["model_family"].tolist(),
        bets["recommendation"].tolist(),
        bets["edge"].tolist(),
        bets["expected_value"].tolist(),
        bets["sourcing_weight"].tolist(),
        bets["sourcing_state"].tolist(),
    )
    for game, family, recommendation, edge, value, weight, state in columns:
        by_game.setdefault(game, {})[family] = {
            "recommendation": recommendation,
            "edge": round(float(edge), 2),
            "expected_value": None if pd.isna(value) else round(float(value), 4),
            "weight": float(weight),
            "state": state,
        }
    rows = [(*game, json.dumps(families, sort_keys=True)) for game, families in by_game.items()]
    return pd.DataFrame(rows, columns=[*key, "sourcing_json"]).astype(bets[key].dtypes.to_dict())
