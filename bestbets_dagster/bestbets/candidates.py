"""Candidates: one per player-game, from every enabled family's predictions, with cross-model facts.

The candidate is the OVER/UNDER prediction with the largest |edge|, taken from a family whose model
health is not blocked when there is one (with the model-health gate on); ties go to the family id,
alphabetically, so the choice is stable. A player-game that only blocked families bet on keeps its
blocked candidate, which the gate filter then rejects (and audits).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bestbets_dagster.bestbets.config import BestBetsConfig

KEY = ["game_date", "person_id"]


def _agreement(bets: pd.DataFrame, every: pd.DataFrame, feature_sets: dict[str, str], quantile_families: set[str],
               edge: float) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per player-game and direction: the models with |edge| >= `edge` in that direction; and per
    player-game, how many quantile models predicted (PASS included) and how many bet UNDER."""
    strong = bets[bets["abs_edge"] >= edge]
    agree = strong.groupby([*KEY, "recommendation"]).agg(
        model_agreement_count=("model_family", "size"),
        agreeing_model_ids=("model_id", lambda s: sorted(s)),
        feature_set_diversity=("model_family", lambda s: len({feature_sets.get(f, f) for f in s})),
    ).reset_index()
    counts = strong.pivot_table(index=KEY, columns="recommendation", values="model_family", aggfunc="size", fill_value=0)
    counts = counts.reindex(columns=["OVER", "UNDER"], fill_value=0).rename(columns={"OVER": "n_over", "UNDER": "n_under"})
    quantile = every[every["model_family"].isin(quantile_families)]
    q = quantile.assign(agrees_under=(quantile["recommendation"] == "UNDER") & (quantile["abs_edge"] >= edge))
    q = q.groupby(KEY).agg(n_quantile=("model_family", "size"), n_quantile_under=("agrees_under", "sum"))
    return agree, counts.reset_index(), q.reset_index()


def build_candidates(
    predictions: pd.DataFrame,
    family_health: pd.DataFrame,
    feature_sets: dict[str, str],
    quantile_families: set[str],
    config: BestBetsConfig,
) -> pd.DataFrame:
    """Candidates with the source prediction plus n_models_eligible, champion_edge,
    direction_conflict, model agreement and the consensus bonus."""
    every = predictions.copy()
    every["game_date"] = pd.to_datetime(every["game_date"]).astype("datetime64[ns]")
    every["person_id"] = every["person_id"].astype("int64")
    every["edge"] = every["edge"].astype("float64")
    every["abs_edge"] = every["edge"].abs()
    p = every[every["recommendation"].isin(["OVER", "UNDER"])].copy()
    health = family_health.assign(game_date=pd.to_datetime(family_health["game_date"]).astype("datetime64[ns]"))
    p = p.merge(health[["game_date", "model_family", "hr_7d", "status"]].rename(
        columns={"hr_7d": "model_health_hr_7d", "status": "model_health_status"}), on=["game_date", "model_family"], how="left")
    p["model_health_status"] = p["model_health_status"].fillna("unknown")

    eligible = p[p["abs_edge"] >= config.min_edge]
    facts = eligible.groupby(KEY).agg(
        n_models_eligible=("model_family", "size"),
        any_over=("recommendation", lambda s: bool((s == "OVER").any())),
        any_under=("recommendation", lambda s: bool((s == "UNDER").any())),
    ).reset_index()
    facts["direction_conflict"] = facts["any_over"] & facts["any_under"]
    champion = eligible[eligible["model_family"] == config.champion_family][[*KEY, "edge"]].rename(columns={"edge": "champion_edge"})
    agree, counts, quantile = _agreement(p, every, feature_sets, quantile_families, config.agreement_edge)

    p["_blocked"] = (p["model_health_status"] == "blocked") & config.model_health_gate
    best = p.sort_values([*KEY, "_blocked", "abs_edge", "model_family"], ascending=[True, True, True, False, True],
                         kind="mergesort")
    c = best.drop_duplicates(KEY, keep="first").reset_index(drop=True)
    c = c.merge(facts[[*KEY, "n_models_eligible", "direction_conflict"]], on=KEY, how="left")
    c = c.merge(champion, on=KEY, how="left")
    c = c.merge(agree, on=[*KEY, "recommendation"], how="left").merge(counts, on=KEY, how="left").merge(quantile, on=KEY, how="left")
    c["n_models_eligible"] = c["n_models_eligible"].fillna(0).astype("int64")
    c["direction_conflict"] = c["direction_conflict"].astype("boolean").fillna(False).astype(bool)
    c["model_agreement_count"] = c["model_agreement_count"].fillna(0).astype("int64")
    c["feature_set_diversity"] = c["feature_set_diversity"].fillna(0).astype("int64")
    c["agreeing_model_ids"] = [ids if isinstance(ids, list) else [] for ids in c["agreeing_model_ids"]]
    n_over, n_under = c["n_over"].fillna(0), c["n_under"].fillna(0)
    majority = np.where(n_over >= n_under, "OVER", "UNDER")
    n_quantile, n_quantile_under = c["n_quantile"].fillna(0), c["n_quantile_under"].fillna(0)
    c["quantile_consensus_under"] = (n_quantile >= 2) & (n_quantile_under == n_quantile)
    with_majority = c["recommendation"] == majority
    bonus = np.where(c["model_agreement_count"] >= 3, 0.05 * (c["model_agreement_count"] - 2), 0.0)
    bonus = bonus + np.where((majority == "UNDER") & c["quantile_consensus_under"], 0.10, 0.0)
    c["consensus_bonus"] = np.where(with_majority, np.minimum(bonus, 0.15), 0.0).round(4)
    c = c.rename(columns={"model_id": "source_model_id", "model_family": "source_model_family",
                          "model_status": "source_model_status"})
    return c.drop(columns=["n_over", "n_under", "n_quantile", "n_quantile_under", "_blocked"])
