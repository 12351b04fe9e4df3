"""Player-name normalization shared by the box scores and every book."""

from __future__ import annotations

import functools
import re
import unicodedata

import pandas as pd

GENERATIONAL_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v"})
_NON_ALNUM = re.compile(r"[^a-z0-9\s]")
# Hyphens, slashes and periods separate tokens; apostrophes join them (De'Aaron -> deaaron).
_SEPARATORS = re.compile(r"[-/.,_]")


def strip_accents(text: str) -> str:
    # Letters that NFKD does not decompose into base + accent.
    text = text.translate(str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ß": "ss"}))
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


@functools.lru_cache(maxsize=None)  # rosters and books repeat a few thousand names all season
def name_tokens(name: str) -> tuple[str, ...]:
    """Lower-case ASCII tokens without punctuation or generational suffixes.

    "Nikola Jokić" -> (nikola, jokic); "Jaren Jackson Jr." -> (jaren, jackson);
    "Shai Gilgeous-Alexander" -> (shai, gilgeous, alexander); "P.J. Washington" -> (p, j, washington).
    """
    text = strip_accents(str(name)).lower()
    text = _SEPARATORS.sub(" ", text)
    text = _NON_ALNUM.sub("", text)
    tokens = [t for t in text.split() if t]
    # Only trailing suffixes are suffixes ("V" can be a first initial).
    while len(tokens) > 2 and tokens[-1] in GENERATIONAL_SUFFIXES:
        tokens.pop()
    if len(tokens) == 2 and tokens[-1] in GENERATIONAL_SUFFIXES - {"v"}:
        tokens.pop()
    return tuple(_merge_initials(tokens))


def _merge_initials(tokens: list[str]) -> list[str]:
    """Join runs of single letters: (p, j, washington) -> (pj, washington), as "PJ Washington" writes it."""
    merged: list[str] = []
    run = ""
    for token in tokens:
        if len(token) == 1:
            run += token
            continue
        if run:
            merged.append(run)
            run = ""
        merged.append(token)
    if run:
        merged.append(run)
    return merged


def player_lookup(name: str) -> str:
    """The original's player key: normalized tokens joined without spaces ("lebronjames")."""
    return "".join(name_tokens(name))


def names_before(
    keys: pd.DataFrame, player_logs: pd.DataFrame, columns: tuple[str, ...] = ("player_name",)
) -> pd.DataFrame:
    """For each (game_date, person_id) row of `keys`, the `columns` of the player's latest box score
    before that date (NULL for a player without one, or without a person_id). A later respelling must
    not reach an earlier date: the row would depend on where a run's date range ends."""
    out = pd.DataFrame({c: pd.Series(None, index=keys.index, dtype=object) for c in columns})
    resolved = keys[keys["person_id"].notna()]
    if resolved.empty or player_logs.empty:
        return out
    left = pd.DataFrame(
        {
            "person_id": resolved["person_id"].astype("int64").to_numpy(),
            "game_date": pd.to_datetime(resolved["game_date"]).astype("datetime64[ns]").to_numpy(),
            "_row": resolved.index,
        }
    ).sort_values("game_date", kind="mergesort")
    right = player_logs[["person_id", "game_date", *columns]].dropna(subset=["person_id"])
    right = right.assign(
        person_id=right["person_id"].astype("int64"),
        game_date=pd.to_datetime(right["game_date"]).astype("datetime64[ns]"),
    ).sort_values("game_date", kind="mergesort")
    merged = pd.merge_asof(left, right, on="game_date", by="person_id", allow_exact_matches=False)
    out.loc[merged["_row"].to_numpy(), list(columns)] = merged[list(columns)].to_numpy()
    return out
