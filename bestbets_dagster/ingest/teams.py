"""The 30 NBA teams: the books' full names resolved to NBA.com abbreviations by nickname."""

from __future__ import annotations

import functools

# Nicknames are unique in the league and survive relocations of the city part of the name
# ("LA Clippers" / "Los Angeles Clippers"), so they are the key.
NICKNAME_TO_ABBR: dict[str, str] = {
    "hawks": "ATL",
    "celtics": "BOS",
    "nets": "BKN",
    "hornets": "CHA",
    "bulls": "CHI",
    "cavaliers": "CLE",
    "mavericks": "DAL",
    "nuggets": "DEN",
    "pistons": "DET",
    "warriors": "GSW",
    "rockets": "HOU",
    "pacers": "IND",
    "clippers": "LAC",
    "lakers": "LAL",
    "grizzlies": "MEM",
    "heat": "MIA",
    "bucks": "MIL",
    "timberwolves": "MIN",
    "pelicans": "NOP",
    "knicks": "NYK",
    "thunder": "OKC",
    "magic": "ORL",
    "76ers": "PHI",
    "sixers": "PHI",
    "suns": "PHX",
    "trail blazers": "POR",
    "blazers": "POR",
    "kings": "SAC",
    "spurs": "SAS",
    "raptors": "TOR",
    "jazz": "UTA",
    "wizards": "WAS",
}
ABBREVIATIONS = frozenset(NICKNAME_TO_ABBR.values())


@functools.lru_cache(maxsize=None)  # every offer row names its teams: the same few dozen spellings
def team_abbr(name: str) -> str | None:
    """NBA.com abbreviation for a book's team name, or None when it is not an NBA team."""
    text = " ".join(str(name).lower().replace(".", " ").split())
    if text.upper() in ABBREVIATIONS:
        return text.upper()
    for nickname in sorted(NICKNAME_TO_ABBR, key=len, reverse=True):
        if text == nickname or text.endswith(" " + nickname):
            return NICKNAME_TO_ABBR[nickname]
    return None
