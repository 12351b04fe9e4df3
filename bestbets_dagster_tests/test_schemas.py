import json

import pandas as pd
import pytest

from bestbets_dagster import tables

_BIGQUERY_TO_PANDAS = {
    "STRING": "string[python]",
    "JSON": "string[python]",
    "INT64": "Int64",
    "FLOAT64": "float64",
    "NUMERIC": "float64",
    "BOOL": "boolean",
    "DATE": "datetime64[ns]",
    "TIMESTAMP": "datetime64[ns, UTC]",
}


@pytest.mark.parametrize("name", sorted(tables.all_tables()))
def test_committed_bigquery_schema_is_the_generated_one(name):
    committed = json.loads((tables.BIGQUERY_SCHEMAS_DIR / f"{name}.json").read_text())
    assert committed == tables.table(name).bigquery_schema(), "run `make schemas` and commit the result"


@pytest.mark.parametrize("name", sorted(tables.all_tables()))
def test_pandera_model_agrees_with_bigquery_schema(name):
    bigquery = json.loads((tables.BIGQUERY_SCHEMAS_DIR / f"{name}.json").read_text())
    schema = tables.pandera_model(name).to_schema()
    assert list(schema.columns) == [f["name"] for f in bigquery]
    for field in bigquery:
        column = schema.columns[field["name"]]
        assert column.nullable == (field["mode"] != "REQUIRED"), field["name"]
        if field["mode"] != "REPEATED":
            assert str(column.dtype) == _BIGQUERY_TO_PANDAS[field["type"]], field["name"]
    assert schema.unique == list(tables.table(name).primary_key)


def test_every_bigquery_schema_file_has_a_definition():
    on_disk = {p.stem for p in tables.BIGQUERY_SCHEMAS_DIR.glob("*.json")}
    assert on_disk == set(tables.all_tables())


def test_numeric_values_are_rounded_at_the_schema_scale():
    column = tables.table("player_game_lines").column("consensus_line")
    rounded = tables.coerce_column(column, pd.Series([5.600000000000001, 22.45, 0.05]))
    assert rounded.tolist() == [5.6, 22.4, 0.0]  # 22.45 is 22.4499.. in binary


def test_validation_error_names_the_row_and_the_check(real_player_logs):
    rows = real_player_logs.head(5).copy()
    rows.loc[rows.index[2], "minutes"] = 95.0
    with pytest.raises(tables.DataValidationError) as err:
        tables.validate("player_game_logs", rows, source="box_scores/x.csv")
    message = str(err.value)
    assert "from box_scores/x.csv" in message
    assert "minutes" in message and "less_than_or_equal_to(80)" in message and "row 2" in message


def test_a_bound_across_columns_is_in_the_definition_and_refused_at_every_write(real_player_logs):
    """Shots made never exceed shots attempted: the table definition says so (`at_most_column`), the
    readers check it row by row (the reliability corpus) and every write refuses a row that breaks it."""
    assert ("field_goals_made", "field_goals_attempted") in tables.column_bounds("player_game_logs")
    assert ("three_pointers_made", "field_goals_made") in tables.column_bounds("player_game_logs")
    rows = real_player_logs.head(5).copy()
    rows.loc[rows.index[1], "three_pointers_made"] = rows.loc[rows.index[1], "three_pointers_attempted"] + 1
    with pytest.raises(tables.DataValidationError) as err:
        tables.validate("player_game_logs", rows)
    assert "1 schema failure(s)" in str(err.value)
    assert "three_pointers_made <= three_pointers_attempted failed (" in str(err.value) and "row 1" in str(err.value)


def test_duckdb_ddl_has_every_column_with_its_type():
    ddl = tables.table("prop_lines").duckdb_ddl()
    assert '"line" DECIMAL(4,1) NOT NULL' in ddl
    assert '"person_id" BIGINT,' in ddl
