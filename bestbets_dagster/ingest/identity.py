"""Player identity: a book's player name -> NBA.com person_id.

Matching is restricted to the players who have appeared (box-score rows, DNP rows included) for
either of the event's two teams that season; a name not found there is tried against the two teams'
players of the previous season (early in a season, or a player back from a long injury, has no
appearance yet). On a roster of about 35 names a general matcher is
safe, so the rules are general, tried in order; the first rule that leaves exactly one candidate
decides. Where a rule leaves several, the candidates with a box-score row in that very game are
preferred; if still several, the name is reported ambiguous, never guessed.

1. exact      the normalized names are equal (accents, punctuation, Jr./III removed)
2. alias      a true nickname from the small alias table (Bub Carrington = Carlton Carrington)
3. token_set  the same tokens in another order ("Gilgeous-Alexander Shai")
4. first_last same surname and a compatible first name: an initial ("S. Gilgeous-Alexander"),
              a prefix ("Nic" / "Nicolas", "Herb" / "Herbert"), a common nickname ("Mike" /
              "Michael"), with middle names ignored on either side
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from typing import Iterable

import numpy as np
import pandas as pd

from bestbets_dagster.ingest.names import name_tokens, player_lookup
from bestbets_dagster.timeutil import season_of

# Common English first-name nicknames that are not prefixes of the formal name.
FIRST_NAME_GROUPS: tuple[frozenset[str], ...] = tuple(
    frozenset(g)
    for g in (
        {"william", "will", "bill", "billy", "willie", "liam"},
        {"robert", "rob", "bob", "bobby", "robbie", "bert"},
        {"michael", "mike", "mikey", "mikal"},
        {"james", "jim", "jimmy", "jamie"},
        {"anthony", "tony"},
        {"david", "dave", "davey"},
        {"richard", "rick", "ricky", "rich", "dick"},
        {"lawrence", "larry"},
        {"john", "jack", "johnny", "jon"},
        {"samuel", "sam", "sammy"},
        {"zachary", "zach", "zack", "zak"},
        {"jacob", "jake"},
        {"charles", "charlie", "chuck"},
        {"edward", "ed", "eddie", "ted", "teddy"},
        {"joseph", "joe", "joey"},
        {"thomas", "tom", "tommy"},
        {"nicholas", "nicolas", "nick", "nic", "nico"},
        {"alexander", "alex", "alec", "sasha"},
        {"patrick", "pat"},
        {"kenneth", "ken", "kenny"},
        {"daniel", "dan", "danny"},
        {"matthew", "matt"},
        {"christopher", "chris"},
        {"gregory", "greg"},
        {"jeffrey", "jeffery", "jeff"},
        {"timothy", "tim"},
        {"benjamin", "ben"},
        {"nathaniel", "nathan", "nate"},
        {"moritz", "moe"},
        {"mohamed", "mohammed", "muhammad", "mo"},
        {"cameron", "cam"},
        {"ronald", "ron", "ronnie"},
        {"herbert", "herb"},
        {"vincent", "vince"},
    )
)

# True nicknames that no rule derives, as (formal, nickname) player_lookups.
PLAYER_ALIASES: tuple[tuple[str, str], ...] = (
    ("carltoncarrington", "bubcarrington"),
    ("nahshonhyland", "boneshyland"),
    ("kenyonmartin", "kjmartin"),
    ("gregoryjackson", "ggjackson"),
    ("sviatoslavmykhailiuk", "svimykhailiuk"),
    ("wendellmoore", "wendellmoorejr"),
)


def _alias_map() -> dict[str, frozenset[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    for formal, nick in PLAYER_ALIASES:
        group = {formal, nick} | groups[formal] | groups[nick]
        for member in group:
            groups[member] = group
    return {k: frozenset(v) for k, v in groups.items()}


_ALIASES = _alias_map()
_NICKNAMES: dict[str, frozenset[str]] = {}
for _group in FIRST_NAME_GROUPS:
    for _name in _group:
        _NICKNAMES[_name] = _NICKNAMES.get(_name, frozenset()) | _group


@dataclasses.dataclass(frozen=True)
class Candidate:
    person_id: int
    player_name: str
    tokens: tuple[str, ...]
    lookup: str
    team_abbr: str
    in_game: bool


@dataclasses.dataclass(frozen=True)
class Resolution:
    status: str  # resolved | unresolved | ambiguous
    person_id: int | None = None
    method: str | None = None
    candidate: Candidate | None = None
    tied: tuple[str, ...] = ()


def first_names_compatible(a: str, b: str) -> bool:
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    if long.startswith(short):  # an initial ("s") or a short form ("nic", "herb", "vince")
        return True
    return b in _NICKNAMES.get(a, frozenset())


def _surnames_compatible(book: tuple[str, ...], cand: tuple[str, ...]) -> bool:
    if not book or not cand:
        return False
    if book[-1] == cand[-1]:
        return True
    # Compound surnames written in part ("David Jones" for "David Jones Garcia") or middle names.
    b, c = set(book), set(cand)
    return b <= c or c <= b


def _first_last(tokens: tuple[str, ...], candidates: Iterable[Candidate]) -> list[Candidate]:
    if len(tokens) < 2:
        return []
    orders = {tokens, tokens[-1:] + tokens[:-1]}  # "First Last" and "Last First"
    found = []
    for cand in candidates:
        if len(cand.tokens) < 2:
            continue
        for order in orders:
            if first_names_compatible(order[0], cand.tokens[0]) and _surnames_compatible(order[1:], cand.tokens[1:]):
                found.append(cand)
                break
    return found


def resolve_name(book_name: str, candidates: list[Candidate]) -> Resolution:
    tokens = name_tokens(book_name)
    lookup = "".join(tokens)
    aliases = _ALIASES.get(lookup, frozenset())
    sorted_tokens = sorted(tokens)
    rules = (
        ("exact", lambda c: c.lookup == lookup),
        ("alias", lambda c: c.lookup in aliases),
        ("token_set", lambda c: sorted(c.tokens) == sorted_tokens),
    )
    for method, rule in rules:
        found = [c for c in candidates if rule(c)]
        if found:
            return _decide(found, method)
    found = _first_last(tokens, candidates)
    if found:
        return _decide(found, "first_last")
    return Resolution(status="unresolved")


def _decide(found: list[Candidate], method: str) -> Resolution:
    if len({c.person_id for c in found}) == 1:
        return Resolution("resolved", found[0].person_id, method, found[0])
    playing = [c for c in found if c.in_game]
    if len({c.person_id for c in playing}) == 1:
        return Resolution("resolved", playing[0].person_id, f"{method}+in_game", playing[0])
    return Resolution("ambiguous", method=method, tied=tuple(sorted(c.player_name for c in found)))


def event_games(player_logs: pd.DataFrame) -> pd.DataFrame:
    """(game_date, home_team_abbr, away_team_abbr) -> game_id from the box scores."""
    home = player_logs[player_logs["is_home"]].drop_duplicates(["game_date", "game_id"])
    return home.rename(columns={"team_abbr": "home_team_abbr", "opp": "away_team_abbr"})[
        ["game_date", "home_team_abbr", "away_team_abbr", "game_id"]
    ].drop_duplicates(["game_date", "home_team_abbr", "away_team_abbr"])


def resolve_events(lines: pd.DataFrame, player_logs: pd.DataFrame) -> pd.DataFrame:
    """Resolve every distinct (event, book player name) of `lines` against the box-score rosters.

    `lines` needs game_date, event_id, home_team_abbr, away_team_abbr, book_player_name;
    `player_logs` is player_game_logs for the seasons involved. Returns one row per (event_id,
    book_player_name) with game_id, person_id, team_abbr, player_lookup, player_name, match_status,
    match_method, ambiguous_with.
    """
    logs = player_logs.copy()
    logs["game_date"] = pd.to_datetime(logs["game_date"]).astype("datetime64[ns]")
    games = event_games(logs)
    events = (
        lines[["game_date", "event_id", "home_team_abbr", "away_team_abbr"]]
        .drop_duplicates("event_id")
        .assign(game_date=lambda d: pd.to_datetime(d["game_date"]))
        .merge(games, on=["game_date", "home_team_abbr", "away_team_abbr"], how="left")
    )
    names_by_event = lines.groupby("event_id")["book_player_name"].unique()
    rosters = {key: _Roster.of(grp) for key, grp in logs.groupby(["season", "team_abbr"])}
    results = []
    for event in events.itertuples(index=False):
        day = event.game_date.date()
        teams = (event.home_team_abbr, event.away_team_abbr)
        season = season_of(day)
        prior = season_of(dt.date(day.year - 1, day.month, min(day.day, 28)))
        # Appearances up to the game's date only, so a date resolves the same alone or in any range.
        roster = _Roster.joined([rosters.get((season, t)) for t in teams])
        candidates = _candidates(roster.through(event.game_date), day, event.game_id)
        prior_candidates = None  # last season's rosters, read only for a name this season's do not resolve
        for book_name in names_by_event[event.event_id]:
            res = resolve_name(book_name, candidates)
            if res.status == "unresolved":
                if prior_candidates is None:
                    prior_roster = _Roster.joined([rosters.get((prior, t)) for t in teams])
                    prior_candidates = _candidates(prior_roster, day, None)
                res = resolve_name(book_name, prior_candidates)
                if res.status == "resolved":
                    res = dataclasses.replace(res, method=f"{res.method}+prior_season")
            cand = res.candidate
            results.append(
                {
                    "event_id": event.event_id,
                    "book_player_name": book_name,
                    "game_id": event.game_id if isinstance(event.game_id, str) else None,
                    "match_status": res.status,
                    "match_method": res.method if res.status == "resolved" else None,
                    "person_id": res.person_id,
                    "team_abbr": cand.team_abbr if cand else None,
                    "player_lookup": cand.lookup if cand else player_lookup(book_name),
                    "player_name": cand.player_name if cand else book_name,
                    "ambiguous_with": " | ".join(res.tied) if res.tied else None,
                }
            )
    out = pd.DataFrame(
        results,
        columns=[
            "event_id",
            "book_player_name",
            "game_id",
            "match_status",
            "match_method",
            "person_id",
            "team_abbr",
            "player_lookup",
            "player_name",
            "ambiguous_with",
        ],
    )
    out["person_id"] = out["person_id"].astype("Int64")
    return out


@dataclasses.dataclass(frozen=True)
class _Roster:
    """Box-score appearances as plain arrays (an event's roster is two teams' rows, joined and cut at
    its date some 10,000 times in a season's ingest: arrays, not DataFrames)."""

    game_date: np.ndarray  # datetime64[ns]
    person_id: np.ndarray  # int64
    game_id: np.ndarray
    player_name: np.ndarray
    player_lookup: np.ndarray
    team_abbr: np.ndarray

    @classmethod
    def of(cls, rows: pd.DataFrame) -> _Roster:
        return cls(
            rows["game_date"].to_numpy(dtype="datetime64[ns]"),
            rows["person_id"].to_numpy(dtype="int64"),
            # A missing game id as None: None == "0022500001" is False, where pd.NA would stay NA.
            rows["game_id"].astype(object).where(rows["game_id"].notna(), None).to_numpy(),
            *(rows[c].to_numpy(dtype=object) for c in ("player_name", "player_lookup", "team_abbr")),
        )

    @classmethod
    def joined(cls, rosters: list[_Roster | None]) -> _Roster:
        parts = [r for r in rosters if r is not None]
        if not parts:
            return _EMPTY_ROSTER
        return cls(*(np.concatenate([getattr(r, f.name) for r in parts]) for f in dataclasses.fields(cls)))

    def through(self, day: pd.Timestamp) -> _Roster:
        keep = self.game_date <= np.datetime64(day, "ns")
        return _Roster(*(getattr(self, f.name)[keep] for f in dataclasses.fields(self)))


_EMPTY_ROSTER = _Roster(
    np.array([], dtype="datetime64[ns]"), np.array([], dtype="int64"), *(np.array([], dtype=object) for _ in range(4))
)


def _candidates(roster: _Roster, day: dt.date, game_id) -> list[Candidate]:
    """Every player of `roster` (appearances for the event's two teams) once, by person_id."""
    if not len(roster.person_id):
        return []
    distance = (roster.game_date - np.datetime64(day, "D")) // np.timedelta64(1, "D")
    person = roster.person_id
    # A player traded between the two teams belongs to the team of his appearance nearest the date,
    # preferring appearances on or before it.
    order = np.lexsort((np.abs(distance), distance > 0, person))
    ordered = person[order]
    nearest = order[np.r_[True, ordered[1:] != ordered[:-1]]]
    in_game = set(person[roster.game_id == game_id]) if isinstance(game_id, str) else set()
    names, lookups, teams = roster.player_name[nearest], roster.player_lookup[nearest], roster.team_abbr[nearest]
    return [
        Candidate(
            person_id=int(pid),
            player_name=name,
            tokens=name_tokens(name),
            lookup=lookup,
            team_abbr=team,
            in_game=int(pid) in in_game,
        )
        for pid, name, lookup, team in zip(person[nearest], names, lookups, teams)
    ]
