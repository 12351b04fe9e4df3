"""The asset graph states what each partition reads: every dependency with its partition mapping,
and sample partitions resolved to the upstream partitions they read (none in their future)."""

from __future__ import annotations

import datetime as dt

import pytest
from dagster import AssetKey, DagsterInstance, MultiPartitionKey

from bestbets_dagster import settings
from bestbets_dagster.defs.monitoring import REPORT_CARD_READS

# asset -> {parent: mapping}: "same" (identity or the same date), "all families of the date",
# "days D-a..D+b", "weeks ..." (a training week's days), "week of the date" or "every partition".
EXPECTED = {
    # The downloaders write the files the ingest reads.
    "odds_api_snapshots": {},
    "nba_box_scores": {},
    "player_game_logs": {"nba_box_scores": "same"},
    "team_game_logs": {"nba_box_scores": "same"},
    "prop_lines": {"player_game_logs": "days D-731..D+0", "odds_api_snapshots": "same"},
    "player_game_lines": {"prop_lines": "same", "player_game_logs": "days D-731..D+0"},
    "game_lines": {"odds_api_snapshots": "same"},
    "player_features": {
        "player_game_logs": "days D-400..D+0",
        "team_game_logs": "days D-400..D+0",
        "player_game_lines": "days D-400..D+0",
        "game_lines": "same",
    },
    "training_windows": {"player_features": "weeks W-58..W-1", "player_game_logs": "weeks W-58..W-1"},
    "family_models": {"training_windows": "same week"},
    "model_registry": {"family_models": "every partition"},
    "predictions": {
        "player_features": "same date",
        "player_game_lines": "same date",
        "family_models": "week of the date, same family",
    },
    "prediction_accuracy": {"predictions": "all families of the date", "player_game_logs": "same"},
    "pick_signal_tags": {
        "predictions": "all families of the date",
        "prediction_accuracy": "days D-400..D-1",
        "player_game_logs": "days D-400..D-1",
        "team_game_logs": "days D-400..D-1",
        "player_game_lines": "days D-400..D+0",
        "prop_lines": "days D-60..D+0",
    },
    "signal_best_bets_picks": {
        "pick_signal_tags": "days D-400..D+0",
        "prediction_accuracy": "days D-400..D-1",
        "predictions": "all families of the date",
        "signal_best_bets_picks": "days D-400..D-1",
        "signal_health_daily": "days D-14..D-1",
        "model_performance_daily": "days D-14..D-1",
        "player_game_lines": "same",
    },
    "best_bets_filter_audit": {"pick_signal_tags": "same"},
    "best_bets_decisions": {"pick_signal_tags": "same"},
    "best_bets_accuracy": {
        "signal_best_bets_picks": "same",
        "prediction_accuracy": "same",
        "prop_lines": "same",
        "player_game_lines": "same",
    },
    "signal_health_daily": {"pick_signal_tags": "days D-400..D+0", "prediction_accuracy": "days D-400..D+0"},
    "model_performance_daily": {"prediction_accuracy": "days D-400..D+0"},
    # An experiment reads the features, box scores and lines of whatever range its recipe names.
    "model_experiments": {
        "player_features": "every partition",
        "player_game_logs": "every partition",
        "player_game_lines": "every partition",
        "prop_lines": "every partition",
    },
    "monitoring_alerts": {
        "signal_health_daily": "same",
        "model_performance_daily": "same",
        "best_bets_accuracy": "days D-15..D+0",
    },
    # As of today: the newest rows of each (the view is not partitioned).
    "best_bets_config": {
        "model_registry": "every partition",
        "model_performance_daily": "every partition",
        "signal_health_daily": "every partition",
        "best_bets_filter_audit": "every partition",
    },
    # The card reads the graded picks, candidates and alerts of its week and the three before it.
    "weekly_report_card": dict.fromkeys(REPORT_CARD_READS, "weeks W-3..W+0"),
}


def _describe(mapping, child_def, parent_def) -> str:
    from dagster import (
        AllPartitionMapping,
        IdentityPartitionMapping,
        MultiPartitionMapping,
        MultiToSingleDimensionPartitionMapping,
        TimeWindowPartitionMapping,
    )

    if child_def is None or isinstance(mapping, AllPartitionMapping):
        return "every partition"
    if isinstance(mapping, TimeWindowPartitionMapping):
        if (mapping.start_offset, mapping.end_offset) == (0, 0):
            return "same"
        from bestbets_dagster.partitions import training_week_partitions

        unit, prefix = ("W", "weeks") if child_def == training_week_partitions else ("D", "days")
        return f"{prefix} {unit}{mapping.start_offset:+d}..{unit}{mapping.end_offset:+d}".replace("+-", "-")
    if isinstance(mapping, MultiToSingleDimensionPartitionMapping):
        return (
            "all families of the date"
            if parent_def.__class__.__name__ == "MultiPartitionsDefinition"
            else ("same week" if mapping.partition_dimension_name == "training_week" else "same date")
        )
    if isinstance(mapping, MultiPartitionMapping):
        return "week of the date, same family"
    if isinstance(mapping, IdentityPartitionMapping):
        return "same"
    return repr(mapping)


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    import os

    home = tmp_path_factory.mktemp("lineage")
    os.environ.setdefault("BESTBETS_HOME", str(home))
    from bestbets_dagster.definitions import build_definitions

    return build_definitions().resolve_asset_graph()


def test_every_dependency_and_its_mapping(graph):
    found = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        found[key.to_user_string()] = {
            parent.to_user_string(): _describe(
                graph.get_partition_mapping(key, parent), node.partitions_def, graph.get(parent).partitions_def
            )
            for parent in node.parent_keys
        }
    assert found == EXPECTED


def _upstream(graph, child: str, parent: str, partition, instance) -> list[str]:
    child_node, parent_node = graph.get(AssetKey(child)), graph.get(AssetKey(parent))
    subset = child_node.partitions_def.empty_subset().with_partition_keys([str(partition)])
    result = graph.get_partition_mapping(
        AssetKey(child), AssetKey(parent)
    ).get_upstream_mapped_partitions_result_for_partitions(
        subset,
        child_node.partitions_def,
        parent_node.partitions_def,
        current_time=dt.datetime(2026, 1, 1),
        dynamic_partitions_store=instance,
    )
    return sorted(result.partitions_subset.get_partition_keys())


@pytest.fixture(scope="module")
def instance():
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("model_family", ["v9_mae", "v9_q43"])
        yield instance


def test_the_picks_of_a_day_read_the_health_stored_before_it(graph, instance):
    health = _upstream(graph, "signal_best_bets_picks", "signal_health_daily", "2025-11-18", instance)
    assert health[-1] == "2025-11-17" and health[0] == "2025-11-04"
    states = _upstream(graph, "signal_best_bets_picks", "model_performance_daily", "2025-11-18", instance)
    assert states == health
    graded = _upstream(graph, "signal_best_bets_picks", "prediction_accuracy", "2025-11-18", instance)
    assert max(graded) == "2025-11-17"
    earlier = _upstream(graph, "signal_best_bets_picks", "signal_best_bets_picks", "2025-11-18", instance)
    assert max(earlier) == "2025-11-17"  # its own earlier days only


def test_the_tags_of_a_day_read_box_scores_and_grading_before_it(graph, instance):
    for parent in ("prediction_accuracy", "player_game_logs", "team_game_logs"):
        assert max(_upstream(graph, "pick_signal_tags", parent, "2025-11-18", instance)) == "2025-11-17", parent
    assert max(_upstream(graph, "pick_signal_tags", "player_game_lines", "2025-11-18", instance)) == "2025-11-18"
    families = _upstream(graph, "pick_signal_tags", "predictions", "2025-11-18", instance)
    assert families == ["2025-11-18|v9_mae", "2025-11-18|v9_q43"]


def test_a_weeks_model_reads_nothing_on_or_after_its_week(graph, instance):
    key = MultiPartitionKey({"training_week": "2025-12-01", "model_family": "v9_mae"})
    assert _upstream(graph, "family_models", "training_windows", key, instance) == ["2025-12-01"]
    days = _upstream(graph, "training_windows", "player_features", "2025-12-01", instance)
    # Trained on game days before 2025-11-24 and evaluated on the week 2025-11-24..30 against its lines.
    # 58 weeks back, or from the first game-date partition where the data starts later.
    first = max(str(dt.date(2025, 12, 1) - dt.timedelta(weeks=58)), settings.partition_start())
    assert days[-1] == "2025-11-30" and days[0] == first
    assert _upstream(graph, "training_windows", "player_game_logs", "2025-12-01", instance) == days


def test_a_weeks_report_card_reads_that_week_and_the_three_before(graph, instance):
    days = _upstream(graph, "weekly_report_card", "prediction_accuracy", "2025-11-24", instance)
    assert (days[0], days[-1], len(days)) == ("2025-11-03", "2025-11-30", 28)


def test_a_dates_predictions_use_the_model_of_its_week(graph, instance):
    key = MultiPartitionKey({"game_date": "2025-12-03", "model_family": "v9_q43"})
    assert _upstream(graph, "predictions", "family_models", key, instance) == ["v9_q43|2025-12-01"]
    assert _upstream(graph, "prediction_accuracy", "predictions", "2025-12-03", instance) == [
        "2025-12-03|v9_mae",
        "2025-12-03|v9_q43",
    ]


def test_monitoring_of_a_day_reads_that_day_and_before(graph, instance):
    for parent in ("pick_signal_tags", "prediction_accuracy"):
        assert max(_upstream(graph, "signal_health_daily", parent, "2025-11-17", instance)) == "2025-11-17"
