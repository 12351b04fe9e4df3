"""player_features through Dagster: a range in one run, a single date from the warehouse's history."""

import pandas as pd
import pytest
from dagster import DagsterInstance, materialize

from bestbets_dagster.defs import feature_assets
from bestbets_dagster.defs.partition_range import range_tags

# Tests that share the session's warehouse fixtures run on one xdist worker.
pytestmark = pytest.mark.xdist_group("warehouse")


def _materialize(warehouse, tags=None, partition_key=None):
    return materialize(
        feature_assets,
        instance=DagsterInstance.ephemeral(),
        resources={"warehouse": warehouse},
        tags=tags,
        partition_key=partition_key,
    )


def test_a_range_in_one_run_equals_dates_one_at_a_time(ingested):
    warehouse, _ = ingested
    ranged = _materialize(warehouse, tags=range_tags("2025-11-01", "2025-11-30"))
    assert ranged.success
    assert len(ranged.get_step_success_events()) == 1  # one step for 30 dates
    month = warehouse.read("player_features", "2025-11-01", "2025-11-30")
    assert month["game_date"].nunique() == 29  # every day of November 2025 but Thanksgiving
    one_day = month[month["game_date"] == pd.Timestamp("2025-11-15")].reset_index(drop=True)

    single = _materialize(warehouse, partition_key="2025-11-15")
    assert single.success
    pd.testing.assert_frame_equal(warehouse.read("player_features", "2025-11-15", "2025-11-15"), one_day)
    assert len(warehouse.read("player_features", "2025-11-01", "2025-11-30")) == len(month)

    meta = {k: v.value for k, v in single.asset_materializations_for_node("player_features")[0].metadata.items()}
    assert meta["dagster/row_count"] == len(one_day)
    assert sum(meta["quality_tier_histogram"].values()) == len(one_day)
    assert "| pct_paint | 100.0% |" in meta["nan_share_per_feature"]
    assert "| points_avg_last_5 | 0.0% |" in meta["nan_share_per_feature"]
    lined = warehouse.read("player_game_lines", "2025-11-15", "2025-11-15")
    assert meta["lined_rows"] == int(one_day["has_prop_line"].sum()) == lined["person_id"].notna().sum() == 64
