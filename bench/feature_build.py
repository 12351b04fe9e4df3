"""Time the feature store over every game date of 2024-25 and 2025-26 (target: under 60 s).

    .venv/bin/python bench/feature_build.py [--data-dir DIR]

Inputs are prepared first (box scores, lines, identity) and not timed; the figure is the one
vectorized pass of build_features over all dates, as a single-run backfill of player_features does.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from bestbets_dagster import settings
from bestbets_dagster.features.build import build_features
from bestbets_dagster.ingest.box_scores import load_player_game_logs, load_team_game_logs
from bestbets_dagster.ingest.lines import build_player_game_lines, build_prop_lines
from bestbets_dagster.ingest.odds import load_offers, main_lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=settings.data_dir())
    args = parser.parse_args()

    began = time.perf_counter()
    player_logs = load_player_game_logs(args.data_dir)
    team_logs = load_team_game_logs(args.data_dir)
    prop_lines, _ = build_prop_lines(main_lines(load_offers(args.data_dir)), player_logs)
    lines = build_player_game_lines(prop_lines, player_logs)
    prepared = time.perf_counter() - began

    dates = sorted(team_logs["game_date"].dt.date.unique())
    began = time.perf_counter()
    features = build_features(dates, player_logs, team_logs, lines)
    elapsed = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"inputs prepared in {prepared:.1f} s (not timed): {len(player_logs)} player rows, "
        f"{len(lines)} lined player-games"
    )
    print(f"build_features: {len(dates)} game dates {dates[0]}..{dates[-1]}, {len(features)} rows")
    print(f"feature build seconds: {elapsed:.2f} (target < 60)")
    print(f"peak memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
