import datetime as dt
import multiprocessing

import pandas as pd
import pytest

from bestbets_dagster.resources import DuckDBWarehouse
from bestbets_dagster.tables import DataValidationError

DATE = dt.date(2025, 10, 21)


@pytest.fixture()
def warehouse(tmp_path):
    return DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))


@pytest.fixture(scope="module")
def one_day(real_player_logs):
    rows = real_player_logs[real_player_logs["game_date"] == pd.Timestamp(DATE)]
    assert len(rows) == 52  # the two opening-night games of 2025-26, DNP rows included
    return rows


def test_rewriting_a_partition_three_times_leaves_one_copy(warehouse, one_day):
    for _ in range(3):
        assert warehouse.replace_partitions("player_game_logs", one_day, DATE) == 52
    stored = warehouse.read("player_game_logs", DATE, DATE)
    assert len(stored) == 52
    assert stored["person_id"].is_unique
    assert stored.loc[stored["player_name"] == "Chet Holmgren", "points"].item() == 28


def test_a_write_that_fails_midway_leaves_the_previous_rows(warehouse, one_day, monkeypatch):
    warehouse.replace_partitions("player_game_logs", one_day, DATE)
    changed = one_day.assign(points=0)

    def fail_after_delete(self, con, spec, frame):
        # The partition's old rows are already deleted inside the transaction at this point.
        assert con.execute('SELECT count(*) FROM "player_game_logs"').fetchone()[0] == 0
        raise RuntimeError("load failed midway")

    monkeypatch.setattr(DuckDBWarehouse, "_insert_frame", fail_after_delete)
    with pytest.raises(RuntimeError, match="midway"):
        warehouse.replace_partitions("player_game_logs", changed, DATE)
    monkeypatch.undo()
    stored = warehouse.read("player_game_logs", DATE, DATE)
    assert len(stored) == 52
    assert stored["points"].sum() == one_day["points"].sum()


def test_invalid_rows_fail_before_anything_is_written(warehouse, one_day):
    warehouse.replace_partitions("player_game_logs", one_day, DATE)
    bad = one_day.copy()
    bad.loc[bad.index[3], "points"] = -4
    with pytest.raises(DataValidationError) as err:
        warehouse.replace_partitions("player_game_logs", bad, DATE)
    message = str(err.value)
    assert "player_game_logs" in message and "points" in message and "-4" in message
    assert "nothing written" in message
    assert warehouse.read("player_game_logs", DATE, DATE)["points"].min() >= 0


def test_duplicated_keys_are_rejected(warehouse, one_day):
    doubled = pd.concat([one_day, one_day.head(1)])
    with pytest.raises(DataValidationError, match="person_id"):
        warehouse.replace_partitions("player_game_logs", doubled, DATE)


def test_rows_outside_the_partition_are_rejected(warehouse, one_day):
    with pytest.raises(DataValidationError, match="outside the partition 2025-10-22"):
        warehouse.replace_partitions("player_game_logs", one_day, dt.date(2025, 10, 22))


def test_replacing_a_range_touches_only_that_range(warehouse, real_player_logs):
    week = real_player_logs[real_player_logs["game_date"].between("2025-10-21", "2025-10-27")]
    warehouse.replace_partitions("player_game_logs", week, "2025-10-21", "2025-10-27")
    middle = week[week["game_date"].between("2025-10-23", "2025-10-24")]
    warehouse.replace_partitions("player_game_logs", middle.head(10), "2025-10-23", "2025-10-24")
    stored = warehouse.read("player_game_logs", "2025-10-21", "2025-10-27")
    assert len(stored) == len(week) - len(middle) + 10


def test_parameterized_query_in_bigquery_sql(warehouse, one_day):
    warehouse.replace_partitions("player_game_logs", one_day, DATE)
    top = warehouse.query(
        "SELECT player_name, points FROM {player_game_logs} WHERE game_date = @d AND points >= @min_points "
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY team_abbr ORDER BY points DESC) = 1 ORDER BY points DESC",
        {"d": DATE, "min_points": 20},
    )
    assert top["player_name"].tolist() == [
        "Luka Dončić",
        "Alperen Sengun",
        "Shai Gilgeous-Alexander",
        "Jimmy Butler III",
    ]
    assert len(top) == 4  # the top scorer of each of the four teams


def _write_many(path: str, dates: list[str], rows_path: str) -> None:
    rows = pd.read_pickle(rows_path)
    wh = DuckDBWarehouse(path=path)
    for d in dates:
        day_rows = rows[rows["game_date"] == pd.Timestamp(d)]
        wh.replace_partitions("player_game_logs", day_rows, d)


def test_two_processes_writing_at_once_both_succeed(tmp_path, real_player_logs):
    dates = sorted(real_player_logs["game_date"].dt.strftime("%Y-%m-%d").unique())[:24]
    subset = real_player_logs[real_player_logs["game_date"].isin(pd.to_datetime(dates))]
    rows_path = tmp_path / "rows.pkl"
    subset.to_pickle(rows_path)
    db = str(tmp_path / "shared.duckdb")
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_write_many, args=(db, dates[i::2], str(rows_path))) for i in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=300)
    assert [w.exitcode for w in workers] == [0, 0]
    stored = DuckDBWarehouse(path=db).read("player_game_logs", dates[0], dates[-1])
    assert len(stored) == len(subset)


def test_family_partitions_replace_only_their_family(warehouse):
    def model(model_id, family):
        return {
            "model_id": model_id,
            "model_family": family,
            "feature_set": "v9",
            "loss_function": "MAE",
            "model_type": "catboost",
            "artifact_uri": f"file:///m/{model_id}.cbm",
            "sha256_hash": "0" * 64,
            "feature_count": 33,
            "features_json": "[]",
            "training_cutoff": "2025-11-03",
            "training_start_date": "2025-09-01",
            "training_end_date": "2025-10-26",
            "training_samples": 1000,
            "gates_passed": False,
            "status": "candidate",
            "is_production": False,
            "enabled": False,
            "created_at": pd.Timestamp("2025-11-03T12:00:00Z"),
        }

    warehouse.replace_partitions("model_registry", pd.DataFrame([model("a1", "v9_mae")]), "2025-11-03", family="v9_mae")
    warehouse.replace_partitions("model_registry", pd.DataFrame([model("b1", "v9_q43")]), "2025-11-03", family="v9_q43")
    warehouse.replace_partitions("model_registry", pd.DataFrame([model("a2", "v9_mae")]), "2025-11-03", family="v9_mae")
    stored = warehouse.read("model_registry")
    assert sorted(stored["model_id"]) == ["a2", "b1"]
    with pytest.raises(DataValidationError, match="family 'v9_q43' in a write to family 'v9_mae'"):
        warehouse.replace_partitions(
            "model_registry", pd.DataFrame([model("b2", "v9_q43")]), "2025-11-03", family="v9_mae"
        )
