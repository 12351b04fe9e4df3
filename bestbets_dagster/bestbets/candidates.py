"""Candidates: one per player-game, from every enabled family's predictions, with cross-model facts.

Each prediction is priced first (under selection "ev" every prediction, on the side its probability
favours; under "edge" the OVER/UNDER ones): its bet is shopped among the books' offers for that side
(the offer with the highest expected value), and it carries P(win) and EV there. Every probability
starts from the market (bestbets.market: the no-vig consensus of the other books at the offer's line)
and adds the family's edge as its calibration of the date weighs it (bestbets.probability; a family
without calibration rows yet is priced by the market alone). The candidate is then the prediction with
the highest EV (selection "ev") or the largest |edge| (selection "edge", the original's rule), taken
from a family whose model health is not blocked when there is one (with the model-health gate on), or
under sourcing "performance" (Phase B, bestbets.sourcing) the eligible bet with the highest value
weighted by its model's record of the day before; ties go to the family whose edge leans furthest toward
the bet's side, then to the family id, alphabetically, so the choice is stable. A player-game that only
blocked families bet on keeps its blocked candidate, which the gate filter then rejects (and audits).
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from bestbets_dagster.bestbets.config import BestBetsConfig
from bestbets_dagster.bestbets.market import MARKET_COLUMNS, with_consensus
from bestbets_dagster.bestbets.probability import Calibration, market_only, rows_by_date_and_family
from bestbets_dagster.bestbets.sourcing import provenance
from bestbets_dagster.betting import break_even, expected_value

KEY = ["game_date", "person_id"]


def _agreement(
    bets: pd.DataFrame, every: pd.DataFrame, feature_sets: dict[str, str], quantile_families: set[str], edge: float
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per player-game and direction: the models with |edge| >= `edge` in that direction; and per
    player-game, how many quantile models predicted (PASS included) and how many bet UNDER."""
    strong = bets[bets["abs_edge"] >= edge]
    agree = (
        strong.groupby([*KEY, "recommendation"])
        .agg(
            model_agreement_count=("model_family", "size"),
            agreeing_model_ids=("model_id", lambda s: sorted(s)),
            feature_set_diversity=("model_family", lambda s: len({feature_sets.get(f, f) for f in s})),
        )
        .reset_index()
    )
    counts = strong.pivot_table(
        index=KEY, columns="recommendation", values="model_family", aggfunc="size", fill_value=0
    )
    counts = counts.reindex(columns=["OVER", "UNDER"], fill_value=0).rename(
        columns={"OVER": "n_over", "UNDER": "n_under"}
    )
    quantile = every[every["model_family"].isin(quantile_families)]
    q = quantile.assign(agrees_under=(quantile["recommendation"] == "UNDER") & (quantile["abs_edge"] >= edge))
    q = q.groupby(KEY).agg(n_quantile=("model_family", "size"), n_quantile_under=("agrees_under", "sum"))
    return agree, counts.reset_index(), q.reset_index()


# The calibrations of each game date: {date: {family: Calibration}} (probability.calibrations_by_day).
Calibrations = dict[dt.date, dict[str, Calibration]]


def calibration_of(calibrations: Calibrations, day: dt.date, family: str) -> Calibration:
    """The family's calibration of the date; the market alone (the prior) without one."""
    return calibrations.get(day, {}).get(family) or market_only(family)


def p_over_by_family(rows: pd.DataFrame, calibrations: Calibrations, line: str) -> pd.Series:
    """P(over) of each row's prediction (`game_date`, `model_family`, `predicted_points`) at the line of
    the named column, given the market's P(over) there (`market_p_over`), from its family's calibration
    of its date (the market's own P where the family has none)."""
    p_over = np.full(len(rows), np.nan)
    if rows.empty:
        return pd.Series(p_over, index=rows.index)
    predicted, lines = rows["predicted_points"].to_numpy(), rows[line].to_numpy()
    market = rows["market_p_over"].to_numpy(dtype="float64", na_value=np.nan)
    for (day, family), at in rows_by_date_and_family(rows).items():
        p_over[at] = calibration_of(calibrations, day, family).p_over(predicted[at], lines[at], market[at])
    # Nothing prices a row without a market probability (no book's prices at all).
    return pd.Series(np.where(np.isnan(market), np.nan, p_over), index=rows.index)


def _per_date_and_family(rows: pd.DataFrame, values: dict[tuple[dt.date, str], object], default) -> np.ndarray:
    """values[(date, family)] of each row (`game_date`, `model_family`), `default` where none."""
    out = np.full(len(rows), default, dtype=object if isinstance(default, str) else "float64")
    for key, at in rows_by_date_and_family(rows).items():
        if key in values:
            out[at] = values[key]
    return out


def judged_price(price: pd.Series, bookmaker: pd.Series, config: BestBetsConfig) -> np.ndarray:
    """The price a bet is judged and settled at: its own, or, at a pick'em app (a book whose quoted price
    is a convention, config.nominal_price_books), the price of the per-leg break-even of the entry the
    user plays (config.pickem_entry)."""
    return np.where(bookmaker.isin(config.nominal_price_books), config.pickem_price, price).astype("float64")


def price_bets(
    bets: pd.DataFrame, offers: pd.DataFrame, calibrations: Calibrations, config: BestBetsConfig
) -> pd.DataFrame:
    """`bets` (OVER/UNDER predictions) with the shopped bet (book, line, price), the market's view of it
    (MARKET_COLUMNS: the other books' consensus at its line), its P(win), the price it is judged at and
    that price's break-even, and its EV. A pick'em app's bet is judged at the break-even of
    config.pickem_entry. Offers: ingest.lines.current_offers rows of the dates; the selected book's own
    line is always among them."""
    own = bets[[*KEY, "line_book", "line_value", "line_over_price", "line_under_price"]].rename(
        columns={
            "line_book": "bookmaker",
            "line_value": "line",
            "line_over_price": "over_price",
            "line_under_price": "under_price",
        }
    )
    books = pd.concat([offers[[*KEY, "bookmaker", "line", "over_price", "under_price"]], own], ignore_index=True)
    books = books.drop_duplicates([*KEY, "bookmaker"], keep="first").reset_index(drop=True)
    # The market's view of every offer reads every book, also those a bet may not be placed at.
    books = with_consensus(books, books, config.nominal_price_books, "bookmaker", "line", "over_price", "under_price")
    if config.shopping_books:
        books = books[books["bookmaker"].isin(config.shopping_books)]
    b = bets.reset_index(drop=True).reset_index(names="_bet")
    o = b[["_bet", *KEY, "model_family", "predicted_points", "recommendation"]].merge(books, on=KEY, how="inner")
    over = o["recommendation"] == "OVER"
    o["nominal"] = o["bookmaker"].isin(config.nominal_price_books)
    o["price"] = np.where(over, o["over_price"], o["under_price"]).astype("float64")
    o["judged_price"] = judged_price(o["price"], o["bookmaker"], config)
    p = p_over_by_family(o, calibrations, "line")
    o["p_win"] = np.where(over, p, 1.0 - p)
    o["expected_value"] = expected_value(o["p_win"], o["judged_price"])
    # Without a probability: the best line for the side (lowest for OVER, highest for UNDER), then price.
    o["_line_rank"] = np.where(over, o["line"], -o["line"])
    o = o.sort_values(
        ["_bet", "expected_value", "_line_rank", "price", "bookmaker"],
        ascending=[True, False, True, False, True],
        na_position="last",
        kind="mergesort",
    )
    best = o.drop_duplicates("_bet", keep="first").set_index("_bet")
    out = b.drop(columns="_bet")
    out["bet_book"] = best["bookmaker"].reindex(b["_bet"]).to_numpy()
    out["bet_line"] = best["line"].reindex(b["_bet"]).to_numpy()
    out["bet_price"] = best["price"].reindex(b["_bet"]).to_numpy()
    out["bet_price_is_nominal"] = best["nominal"].reindex(b["_bet"]).fillna(False).astype(bool).to_numpy()
    out["p_win"] = best["p_win"].reindex(b["_bet"]).to_numpy()
    out["judged_price"] = best["judged_price"].reindex(b["_bet"]).to_numpy()
    out["break_even"] = break_even(out["judged_price"])
    out["expected_value"] = best["expected_value"].reindex(b["_bet"]).to_numpy()
    for column in MARKET_COLUMNS:
        out[column] = best[column].reindex(b["_bet"]).to_numpy()
    fits = {(day, family): cal for day, of_day in calibrations.items() for family, cal in of_day.items()}
    out["calibration_n"] = _per_date_and_family(out, {k: c.n for k, c in fits.items()}, 0.0).astype("int64")
    # One JSON per date and family (a season's range prices some 400,000 bets).
    fitted = {
        key: json.dumps(calibration_of(calibrations, *key).as_dict(), sort_keys=True)
        for key in rows_by_date_and_family(out)
    }
    out["calibration_json"] = _per_date_and_family(out, fitted, "")
    # The selected book's line when none of the configured shopping_books quotes the player-game.
    out["bet_book"] = out["bet_book"].fillna(out["line_book"])
    out["bet_line"] = out["bet_line"].fillna(out["line_value"])
    fallback_price = np.where(out["recommendation"] == "OVER", out["line_over_price"], out["line_under_price"])
    out["bet_price"] = out["bet_price"].fillna(pd.Series(fallback_price, index=out.index).astype("float64"))
    return out


def probable_side(edge: pd.Series, p_over: pd.Series) -> pd.Series:
    """OVER or UNDER by P(over) at the selected line; by the edge's sign without one (PASS at edge 0)."""
    by_edge = np.select([edge > 0, edge < 0], ["OVER", "UNDER"], "PASS")
    return pd.Series(np.where(p_over.isna(), by_edge, np.where(p_over >= 0.5, "OVER", "UNDER")), index=edge.index)


def is_value(bets: pd.DataFrame, config: BestBetsConfig) -> pd.Series:
    """EV at the shopped price of min_expected_value or more: the bet clears its price with a margin."""
    return pd.to_numeric(bets["expected_value"], errors="coerce").fillna(-np.inf) >= config.min_expected_value


def tier(bets: pd.DataFrame, config: BestBetsConfig) -> pd.Series:
    """The card's tier of each bet: value (is_value) or lean (the best the day offers, below its price)."""
    return pd.Series(np.where(is_value(bets, config), "value", "lean"), index=bets.index)


def clears_value_floor(bets: pd.DataFrame, config: BestBetsConfig) -> pd.Series:
    """A value bet by the selection's rule: EV >= min_expected_value ("ev") or |edge| >= min_edge
    ("edge"); under sourcing "performance" also a sourcing weight above 0 (a BLOCKED model supplies
    nothing). The eligibility the cross-model facts count (n_models_eligible, direction_conflict)."""
    if config.selection == "ev":
        clears = is_value(bets, config)
    else:
        clears = pd.to_numeric(bets["edge"], errors="coerce").abs() >= config.min_edge
    return clears & _supplies(bets, config)


def on_the_card(bets: pd.DataFrame, config: BestBetsConfig) -> pd.Series:
    """Whether a bet may be on the day's card: under selection "ev" every priced bet (value or lean
    tier); under "edge" |edge| >= min_edge; under sourcing "performance" a weight above 0 too."""
    if config.selection == "ev":
        priced = pd.to_numeric(bets["expected_value"], errors="coerce").notna()
    else:
        priced = pd.to_numeric(bets["edge"], errors="coerce").abs() >= config.min_edge
    return priced & _supplies(bets, config)


def _supplies(bets: pd.DataFrame, config: BestBetsConfig) -> pd.Series:
    if config.sourcing == "performance" and "sourcing_weight" in bets:
        return pd.to_numeric(bets["sourcing_weight"], errors="coerce").fillna(1.0) > 0
    return pd.Series(True, index=bets.index)


def build_candidates(
    predictions: pd.DataFrame,
    family_health: pd.DataFrame,
    feature_sets: dict[str, str],
    quantile_families: set[str],
    config: BestBetsConfig,
    offers: pd.DataFrame | None = None,
    calibrations: Calibrations | None = None,
    sourcing: dict[dt.date, dict[str, dict]] | None = None,
) -> pd.DataFrame:
    """Candidates of the predictions' dates with the source prediction, P(over) at its selected line,
    its priced bet (book, line, price, P(win), EV, calibration_n) plus n_models_eligible,
    champion_edge, direction_conflict, model agreement, the consensus bonus, and how it was sourced
    (sourcing_weight, sourcing_json: every family's bet with its weight and state). Every date is
    decided on its own rows (the facts are per player-game); calibrations: each date's
    (probability.calibrations_by_day); sourcing: each date's sourcing.sourcing_weights() (a date
    without: every family at weight 1, state unknown)."""
    every = predictions.reset_index(drop=True)  # one label per row: the market columns join by label
    every["game_date"] = pd.to_datetime(every["game_date"]).astype("datetime64[ns]")
    every["person_id"] = every["person_id"].astype("int64")
    every["edge"] = every["edge"].astype("float64")
    every["abs_edge"] = every["edge"].abs()
    calibrations = calibrations or {}
    if offers is None:
        offers = pd.DataFrame(columns=[*KEY, "bookmaker", "line", "over_price", "under_price"])
    selected = with_consensus(
        every, offers, config.nominal_price_books, "line_book", "line_value", "line_over_price", "line_under_price"
    )
    every["p_over"] = p_over_by_family(selected, calibrations, "line_value")
    if config.selection == "ev":
        # Every prediction is a possible bet: on the side its probability favours (the edge's side
        # where nothing prices it), whatever the size of its edge.
        every["recommendation"] = probable_side(every["edge"], every["p_over"])
    p = every[every["recommendation"].isin(["OVER", "UNDER"])].copy()
    p = _with_health_and_sourcing(price_bets(p, offers, calibrations, config), family_health, sourcing or {})
    facts, champion = _eligible_facts(p[clears_value_floor(p, config)], config)
    agree, counts, quantile = _agreement(p, every, feature_sets, quantile_families, config.agreement_edge)
    c = _best_bet_of_each_player_game(p, config)
    c = c.merge(provenance(p, KEY), on=KEY, how="left")
    c = c.merge(facts[[*KEY, "n_models_eligible", "direction_conflict"]], on=KEY, how="left")
    c = c.merge(champion, on=KEY, how="left")
    c = (
        c.merge(agree, on=[*KEY, "recommendation"], how="left")
        .merge(counts, on=KEY, how="left")
        .merge(quantile, on=KEY, how="left")
    )
    return _with_consensus_bonus(c)


def _with_health_and_sourcing(p: pd.DataFrame, family_health: pd.DataFrame, sourcing: dict) -> pd.DataFrame:
    """Each bet's family health of its date, and its family's sourcing weight and state."""
    health = family_health.assign(game_date=pd.to_datetime(family_health["game_date"]).astype("datetime64[ns]"))
    p = p.merge(
        health[["game_date", "model_family", "hr_7d", "status"]].rename(
            columns={"hr_7d": "model_health_hr_7d", "status": "model_health_status"}
        ),
        on=["game_date", "model_family"],
        how="left",
    )
    p["model_health_status"] = p["model_health_status"].fillna("unknown")
    weights = {(day, f): s["weight"] for day, of_day in sourcing.items() for f, s in of_day.items()}
    states = {(day, f): s["state"] for day, of_day in sourcing.items() for f, s in of_day.items()}
    p["sourcing_weight"] = _per_date_and_family(p, weights, 1.0)
    p["sourcing_state"] = _per_date_and_family(p, states, "unknown")
    return p


def _eligible_facts(eligible: pd.DataFrame, config: BestBetsConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per player-game, of the bets that clear the value floor: how many families, whether they
    disagree on the side; and the champion family's edge."""
    facts = (
        eligible.groupby(KEY)
        .agg(
            n_models_eligible=("model_family", "size"),
            any_over=("recommendation", lambda s: bool((s == "OVER").any())),
            any_under=("recommendation", lambda s: bool((s == "UNDER").any())),
        )
        .reset_index()
    )
    # astype: an empty group-by (no bet clears the floor on the day) gives untyped columns.
    facts["direction_conflict"] = facts["any_over"].astype(bool) & facts["any_under"].astype(bool)
    champion = eligible[eligible["model_family"] == config.champion_family][[*KEY, "edge"]].rename(
        columns={"edge": "champion_edge"}
    )
    return facts, champion


def _best_bet_of_each_player_game(p: pd.DataFrame, config: BestBetsConfig) -> pd.DataFrame:
    """The one bet each player-game puts forward: not blocked, eligible, highest value."""
    p["_blocked"] = (p["model_health_status"] == "blocked") & config.model_health_gate
    value = p["expected_value"] if config.selection == "ev" else p["abs_edge"]
    if config.sourcing == "performance":
        # Phase B: among the eligible bets (above the floor, weight above 0) the highest weighted
        # value; a player-game without one keeps its best unweighted bet, which the floor rejects.
        p["_ineligible"] = ~on_the_card(p, config)
        p["_rank"] = np.where(p["_ineligible"], value, value * p["sourcing_weight"])
    else:
        p["_ineligible"] = False
        p["_rank"] = value
    # Equal values (every family priced by the market alone gives every family the same EV) go to the
    # family whose edge leans furthest toward the bet's side, then to the family id.
    p["_edge_for_side"] = np.where(p["recommendation"] == "OVER", p["edge"], -p["edge"])
    best = p.sort_values(
        [*KEY, "_blocked", "_ineligible", "_rank", "_edge_for_side", "model_family"],
        ascending=[True, True, True, True, False, False, True],
        na_position="last",
        kind="mergesort",
    )
    return best.drop_duplicates(KEY, keep="first").reset_index(drop=True)


def _with_consensus_bonus(c: pd.DataFrame) -> pd.DataFrame:
    """The agreement counts filled, the quantile families' UNDER consensus and the consensus bonus."""
    # to_numeric: a count no row had (an empty group-by on a date without agreement) comes as object NaN.
    for count in ("n_models_eligible", "model_agreement_count", "feature_set_diversity"):
        c[count] = pd.to_numeric(c[count]).fillna(0).astype("int64")
    c["direction_conflict"] = c["direction_conflict"].astype("boolean").fillna(False).astype(bool)
    c["agreeing_model_ids"] = [ids if isinstance(ids, list) else [] for ids in c["agreeing_model_ids"]]
    n_over, n_under = c["n_over"].fillna(0), c["n_under"].fillna(0)
    majority = np.where(n_over >= n_under, "OVER", "UNDER")
    n_quantile, n_quantile_under = c["n_quantile"].fillna(0), c["n_quantile_under"].fillna(0)
    c["quantile_consensus_under"] = (n_quantile >= 2) & (n_quantile_under == n_quantile)
    with_majority = c["recommendation"] == majority
    bonus = np.where(c["model_agreement_count"] >= 3, 0.05 * (c["model_agreement_count"] - 2), 0.0)
    bonus = bonus + np.where((majority == "UNDER") & c["quantile_consensus_under"], 0.10, 0.0)
    c["consensus_bonus"] = np.where(with_majority, np.minimum(bonus, 0.15), 0.0).round(4)
    c = c.rename(
        columns={
            "model_id": "source_model_id",
            "model_family": "source_model_family",
            "model_status": "source_model_status",
        }
    )
    return c.drop(
        columns=[
            "n_over",
            "n_under",
            "n_quantile",
            "n_quantile_under",
            "_blocked",
            "_ineligible",
            "_rank",
            "_edge_for_side",
        ]
    )
