import datetime as dt

import pandas as pd
import pytest

from bestbets_dagster.ingest.identity import Candidate, _candidates, _Roster, resolve_name
from bestbets_dagster.ingest.names import name_tokens, player_lookup
from bestbets_dagster.timeutil import season_of

SGA = 1628983


@pytest.fixture(scope="module")
def okc_hou(real_player_logs):
    """Everyone who appeared for OKC or HOU in 2025-26, as the matcher sees them on opening night."""
    logs = real_player_logs[
        (real_player_logs["season"] == "2025-26") & real_player_logs["team_abbr"].isin(["OKC", "HOU"])
    ]
    return _candidates(_Roster.of(logs), dt.date(2025, 10, 21), "0022500001")


@pytest.mark.parametrize(
    "book_name, method",
    [
        ("Shai Gilgeous-Alexander", "exact"),
        ("SHAI GILGEOUS ALEXANDER", "exact"),
        ("Shai Gilgeous-Alexander Jr.", "exact"),
        ("Gilgeous-Alexander Shai", "token_set"),  # reversed "Last First"
        ("Gilgeous-Alexander, Shai", "token_set"),
        ("S. Gilgeous-Alexander", "first_last"),  # "F. Last"
        ("Gilgeous-Alexander S.", "first_last"),  # "Last F."
        ("Shai Kamiah Gilgeous-Alexander", "first_last"),  # a middle name
    ],
)
def test_name_forms_resolve_to_the_same_person(okc_hou, book_name, method):
    res = resolve_name(book_name, okc_hou)
    assert (res.status, res.person_id, res.method) == ("resolved", SGA, method)


def test_accents_and_short_first_names(okc_hou):
    assert resolve_name("Alperen Şengün", okc_hou).candidate.player_name == "Alperen Sengun"
    caruso = resolve_name("Alexander Caruso", okc_hou)  # the formal name of "Alex Caruso"
    assert (caruso.status, caruso.candidate.player_name, caruso.method) == ("resolved", "Alex Caruso", "first_last")
    kd = resolve_name("K. Durant", okc_hou)
    assert kd.candidate.player_name == "Kevin Durant" and kd.candidate.team_abbr == "HOU"


def test_two_players_with_one_surname_are_told_apart_or_reported(okc_hou):
    jalen = resolve_name("Jalen Williams", okc_hou)
    jaylin = resolve_name("Jaylin Williams", okc_hou)
    assert jalen.status == jaylin.status == "resolved" and jalen.person_id != jaylin.person_id
    # Only Jaylin has a row in the opening-night box score (Jalen was out): that evidence decides.
    initial = resolve_name("J. Williams", okc_hou)
    assert (initial.candidate.player_name, initial.method) == ("Jaylin Williams", "first_last+in_game")


def test_an_initial_shared_by_two_teammates_is_ambiguous_before_the_box_score(real_player_logs):
    logs = real_player_logs[
        (real_player_logs["season"] == "2025-26") & real_player_logs["team_abbr"].isin(["OKC", "HOU"])
    ]
    todays_slate = _candidates(_Roster.of(logs), dt.date(2025, 12, 1), game_id=None)  # no box score yet
    initial = resolve_name("J. Williams", todays_slate)
    assert initial.status == "ambiguous" and initial.person_id is None
    assert {"Jalen Williams", "Jaylin Williams"} <= set(initial.tied)


def test_unknown_players_stay_unresolved(okc_hou):
    assert resolve_name("LeBron James", okc_hou).status == "unresolved"  # not on either roster
    assert resolve_name("Zzyzx Quux", okc_hou).status == "unresolved"


def _candidate(person_id, name, in_game=True):
    return Candidate(person_id, name, name_tokens(name), player_lookup(name), "XXX", in_game)


@pytest.mark.parametrize(
    "book_name, roster_name",
    [
        ("Mike Conley", "Michael Conley"),  # common nickname, not a prefix
        ("Bill Walton", "William Walton"),
        ("Nic Claxton", "Nicolas Claxton"),  # a short form is a prefix
        ("Bones Hyland", "Nah'Shon Hyland"),  # a true nickname from the alias table
        ("Moe Wagner", "Moritz Wagner"),
        ("David Jones", "David Jones Garcia"),  # part of a compound surname
        ("Wagner Moritz", "Moritz Wagner"),
    ],
)
def test_nicknames_and_compound_names(book_name, roster_name):
    roster = [
        _candidate(1, roster_name),
        _candidate(2, "Franz Wagner"),
        _candidate(3, "Jalen Hyland"),
        _candidate(4, "Tre Jones"),
    ]
    res = resolve_name(book_name, roster)
    assert (res.status, res.person_id) == ("resolved", 1), res


def test_a_tie_is_broken_only_by_who_is_in_the_game():
    roster = [_candidate(1, "Marcus Morris", in_game=True), _candidate(2, "Markieff Morris", in_game=False)]
    res = resolve_name("M. Morris", roster)
    assert (res.status, res.person_id, res.method) == ("resolved", 1, "first_last+in_game")
    both_out = [_candidate(1, "Marcus Morris", in_game=False), _candidate(2, "Markieff Morris", in_game=False)]
    assert resolve_name("M. Morris", both_out).status == "ambiguous"


def test_season_of():
    assert season_of(dt.date(2025, 10, 21)) == "2025-26"
    assert season_of(dt.date(2026, 2, 9)) == "2025-26"
    assert season_of(dt.date(2025, 4, 13)) == "2024-25"


def test_a_traded_player_belongs_to_the_team_he_played_for_nearest_the_date():
    logs = pd.DataFrame(
        {
            "person_id": [7, 7, 7],
            "player_name": ["Traded Guy"] * 3,
            "player_lookup": ["tradedguy"] * 3,
            "team_abbr": ["AAA", "AAA", "BBB"],
            "game_date": pd.to_datetime(["2025-11-01", "2025-12-01", "2026-01-10"]),
            "game_id": ["g1", "g2", "g3"],
        }
    )
    assert _candidates(_Roster.of(logs), dt.date(2025, 12, 20), None)[0].team_abbr == "AAA"
    assert _candidates(_Roster.of(logs), dt.date(2026, 1, 15), None)[0].team_abbr == "BBB"
    assert _candidates(_Roster.of(logs), dt.date(2025, 10, 25), None)[0].team_abbr == "AAA"
