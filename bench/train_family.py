"""Time training one family over its 42-game-day window of real data (target: under 60 s).

    .venv/bin/python bench/train_family.py [--cutoff 2025-12-01] [--family v12_noveg_mae] [--data-dir DIR]

Inputs (box scores, lines, features) are prepared first and not timed; the figure is one call of
train_family_model with the original's hyperparameters (1000 iterations, early stopping 50),
evaluation and gates included. With no --family, every seed family is timed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from bestbets_dagster import settings
from bestbets_dagster.features.build import build_features
from bestbets_dagster.ingest.box_scores import load_player_game_logs, load_team_game_logs
from bestbets_dagster.ingest.lines import build_player_game_lines, build_prop_lines
from bestbets_dagster.ingest.odds import load_offers, main_lines
from bestbets_dagster.models.families import SEED_FAMILIES
from bestbets_dagster.models.training import labeled_rows, train_family_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=settings.data_dir())
    parser.add_argument("--cutoff", type=dt.date.fromisoformat, default=dt.date(2025, 12, 1))
    parser.add_argument("--family")
    args = parser.parse_args()

    player_logs = load_player_game_logs(args.data_dir)
    team_logs = load_team_game_logs(args.data_dir)
    prop_lines, _ = build_prop_lines(main_lines(load_offers(args.data_dir)), player_logs)
    lines = build_player_game_lines(prop_lines, player_logs)
    dates = sorted(d for d in team_logs["game_date"].dt.date.unique() if d < args.cutoff)
    labeled = labeled_rows(build_features(dates, player_logs, team_logs, lines), player_logs)

    families = [f for f in SEED_FAMILIES if args.family in (None, f.model_family)]
    for family in families:
        began = time.perf_counter()
        trained = train_family_model(family, labeled, args.cutoff)
        elapsed = time.perf_counter() - began
        w, m = trained.window, trained.metrics
        print(
            f"{family.model_family:<14} train seconds {elapsed:5.2f} (target < 60) | "
            f"window {w.train_start}..{w.train_end} "
            f"({len(w.train_days)} game days, {trained.training_rows}+{trained.validation_rows} rows) | "
            f"eval {w.eval_start}..{w.eval_end}: MAE on lined rows {m['mae_lined']} vs line MAE {m['line_mae']}, "
            f"HR3 {m['hit_rate_edge3']} (N {m['n_edge3']}), gates {'passed' if trained.gates_passed else 'failed'}"
        )


if __name__ == "__main__":
    main()
