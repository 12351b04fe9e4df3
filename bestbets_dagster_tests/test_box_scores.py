import gzip
import shutil

import pandas as pd
import pytest

from bestbets_dagster.ingest.box_scores import dnp_reason, load_player_game_logs, parse_minutes, read_player_file
from bestbets_dagster.ingest.errors import IngestError
from bestbets_dagster.ingest.names import player_lookup


def _row(logs, name, date):
    hit = logs[(logs["player_name"] == name) & (logs["game_date"] == pd.Timestamp(date))]
    assert len(hit) == 1, (name, date)
    return hit.iloc[0]


def test_real_rows_are_parsed(real_player_logs):
    chet = _row(real_player_logs, "Chet Holmgren", "2025-10-21")
    assert chet["minutes"] == pytest.approx(38.5)  # "38:30"
    assert (chet["points"], chet["starter"], chet["game_id"], chet["is_dnp"]) == (28, True, "0022500001", False)
    assert chet["player_lookup"] == "chetholmgren"
    luka = _row(real_player_logs, "Luka Dončić", "2025-10-21")
    assert (luka["player_lookup"], luka["points"], luka["team_abbr"], luka["is_home"]) == (
        "lukadoncic",
        43,
        "LAL",
        True,
    )


def test_dnp_rows_are_kept_with_their_reason(real_player_logs):
    opening_night = real_player_logs[real_player_logs["game_date"] == pd.Timestamp("2025-10-21")]
    dnp = opening_night[opening_night["is_dnp"]]
    assert len(dnp) > 0
    assert dnp["minutes"].isna().all()
    assert set(dnp["dnp_reason"]) <= {"Coach's Decision", "Injury/Illness", "Rest", "Personal", "Not With Team"}
    assert (opening_night.loc[~opening_night["is_dnp"], "minutes"] > 0).all()


def test_minutes_rounded_to_sixty_seconds_parse(real_player_logs):
    # The 2024-25 file has "38:60" on line 148: NBA.com's rounding, not an error.
    assert parse_minutes("38:60") == 39.0
    assert parse_minutes("PT36M12.00S") == pytest.approx(36.2)
    assert parse_minutes("") is None
    with pytest.raises(ValueError):
        parse_minutes("38:75")


@pytest.mark.parametrize(
    "comment, reason",
    [
        ("DNP - Coach's Decision", "Coach's Decision"),
        ("DND - Injury/Illness", "Injury/Illness"),
        ("NWT-Return to Competition Reconditioning", "Return to Competition Reconditioning"),
        ("DND_LEAGUE_SUSPENSION", "League Suspension"),
        (None, None),
    ],
)
def test_dnp_reason(comment, reason):
    assert dnp_reason(comment) == reason


@pytest.mark.parametrize(
    "name, lookup",
    [
        ("Jimmy Butler III", "jimmybutler"),
        ("Shai Gilgeous-Alexander", "shaigilgeousalexander"),
        ("P.J. Washington", "pjwashington"),
        ("PJ Washington", "pjwashington"),
        ("De'Aaron Fox", "deaaronfox"),
        ("Nikola Jokić", "nikolajokic"),
        ("Kristaps Porziņģis", "kristapsporzingis"),
        ("Jaren Jackson Jr.", "jarenjackson"),
        ("Vince Williams Jr.", "vincewilliams"),
    ],
)
def test_player_lookup(name, lookup):
    assert player_lookup(name) == lookup


@pytest.fixture()
def sample_csv(tmp_path, data_dir):
    """The first 40 real rows of the 2025-26 file as a CSV we can break."""
    with gzip.open(data_dir / "box_scores" / "player_game_logs_2025-26.csv.gz", "rt") as fh:
        lines = [next(fh) for _ in range(41)]
    path = tmp_path / "box_scores" / "player_game_logs_2025-26.csv"
    path.parent.mkdir()
    path.write_text("".join(lines))
    return path


def test_a_missing_column_is_named_with_the_file(sample_csv):
    df = pd.read_csv(sample_csv, dtype=str).drop(columns=["points"])
    df.to_csv(sample_csv, index=False)
    with pytest.raises(IngestError, match=r"player_game_logs_2025-26.csv: missing required column\(s\) \['points'\]"):
        read_player_file(sample_csv)


def test_a_value_that_is_not_a_number_names_file_and_line(sample_csv):
    df = pd.read_csv(sample_csv, dtype=str)
    df.loc[6, "points"] = "twelve"
    df.to_csv(sample_csv, index=False)
    with pytest.raises(
        IngestError, match=r"player_game_logs_2025-26.csv, line 8: column points is not a number: 'twelve'"
    ):
        read_player_file(sample_csv)


def test_bad_minutes_name_file_and_line(sample_csv):
    df = pd.read_csv(sample_csv, dtype=str)
    df.loc[0, "minutes"] = "45:15:00"
    df.to_csv(sample_csv, index=False)
    with pytest.raises(IngestError, match=r"line 2: minutes is not 'mm:ss': '45:15:00'"):
        read_player_file(sample_csv)


def test_a_duplicated_row_names_both_lines(sample_csv):
    df = pd.read_csv(sample_csv, dtype=str)
    pd.concat([df, df.iloc[[3]]]).to_csv(sample_csv, index=False)
    with pytest.raises(IngestError, match=r"duplicated player-game .*line 5, line 42"):
        read_player_file(sample_csv)


def test_the_same_game_in_two_files_is_an_error(sample_csv):
    shutil.copy(sample_csv, sample_csv.with_name("player_game_logs_2025-10-21.csv"))
    with pytest.raises(IngestError, match="appears in two files"):
        load_player_game_logs(sample_csv.parent.parent)


def test_parquet_and_daily_files_are_read(sample_csv):
    df = pd.read_csv(sample_csv, dtype=str)
    daily = sample_csv.with_name("2025-10-21.parquet")
    df.to_parquet(daily)
    sample_csv.unlink()
    logs = load_player_game_logs(sample_csv.parent.parent)
    assert len(logs) == 40 and logs["game_id"].iloc[0] == "0022500001"


def test_a_player_in_two_games_is_named_at_the_first_of_his_rows_in_the_file():
    """The row at line 4938 comes first in the file, whatever the labels' text order ("line 20794" sorts before
    "line 4938")."""
    from pathlib import Path

    from bestbets_dagster.ingest.box_scores import _check_one_game_a_day

    rows = pd.DataFrame(
        {
            "game_date": pd.to_datetime(["2025-11-15", "2025-11-15"]),
            "person_id": [1628378, 1628378],
            "game_id": ["0022500228", "0022500229"],
            "player_name": ["Evan Mobley", "Evan Mobley"],
            "_row": ["line 4938", "line 20794"],
        }
    )
    with pytest.raises(
        IngestError,
        match=r"x.csv, line 4938: Evan Mobley plays two games on 2025-11-15: "
        r"0022500228 and 0022500229 \(the other at line 20794\)",
    ):
        _check_one_game_a_day(rows, Path("x.csv"))
