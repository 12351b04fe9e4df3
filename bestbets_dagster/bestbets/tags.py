"""pick_signal_tags: every signal evaluated on every candidate of a date, with the matched combo and
the filter inputs, so the aggregator needs nothing else of the date to decide (and can replay it)."""

from __future__ import annotations

import json

import pandas as pd

from bestbets_dagster import tables
from bestbets_dagster.bestbets.config import ALGORITHM_VERSION
from bestbets_dagster.signals.combos import match_combos
from bestbets_dagster.signals.registry import (
    PROTOTYPE_TAGS,
    REGISTERED_TAGS,
    evaluate_signals,
    fired_tags,
)

LINE_COLUMNS = {"line_std": "multi_book_line_std", "n_books": "n_books", "is_home": "is_home"}


def tag_candidates(
    candidates: pd.DataFrame, context: pd.DataFrame, lines: pd.DataFrame, evaluated_at: pd.Timestamp
) -> pd.DataFrame:
    """candidates (from build_candidates), their signal context (same index) and the date's
    player_game_lines (for the books' spread and count, and home/away)."""
    if candidates.empty:
        return pd.DataFrame()
    c = pd.concat([candidates, context], axis=1)
    book = lines[lines["person_id"].notna()][["game_date", "person_id", *LINE_COLUMNS]].rename(columns=LINE_COLUMNS)
    book = book.assign(
        game_date=pd.to_datetime(book["game_date"]).astype("datetime64[ns]"),
        person_id=book["person_id"].astype("int64"),
    ).drop_duplicates(["game_date", "person_id"])
    c = c.merge(book, on=["game_date", "person_id"], how="left").set_axis(c.index)
    fired = evaluate_signals(c)
    c["signal_tags"] = fired_tags(fired, REGISTERED_TAGS)
    c["prototype_signal_tags"] = fired_tags(fired, PROTOTYPE_TAGS)
    c["signal_count"] = c["signal_tags"].map(len).astype("int64")
    c["signal_strengths"] = [
        json.dumps({tag: round(float(fired.at[i, f"strength:{tag}"]), 4) for tag in tags}, sort_keys=True)
        for i, tags in zip(c.index, c["signal_tags"])
    ]
    combos = match_combos(c["signal_tags"], c["recommendation"])
    c = pd.concat([c, combos], axis=1)
    c["algorithm_version"] = ALGORITHM_VERSION
    c["evaluated_at"] = evaluated_at
    return tables.project("pick_signal_tags", c.reset_index(drop=True))
