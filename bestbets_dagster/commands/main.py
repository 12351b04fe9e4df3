"""The `bestbets` command. Every command runs the assets through Dagster on the local instance
($DAGSTER_HOME, default $BESTBETS_HOME/dagster), so its runs and lineage show in the Dagster UI.

Project modules are imported inside the commands, after --home and --data-dir are applied: the
settings are read when the definitions are built."""

from __future__ import annotations

import os
import subprocess
import sys

import click

from bestbets_dagster import settings
from bestbets_dagster.commands.build import build
from bestbets_dagster.commands.experiment import experiment
from bestbets_dagster.commands.fetch import fetch
from bestbets_dagster.commands.models import family, registry, retrain
from bestbets_dagster.commands.options import SETTING, TIME_OF_DAY, date_range, home_options
from bestbets_dagster.commands.session import cli_run_tags, user_errors, writing_home
from bestbets_dagster.commands.views import config, picks, report_card, signal_backtest

# The command being run, for the one-line error (`bestbets build: error: ...`).
_running: dict[str, str] = {"command": "bestbets"}


@click.group(help=__doc__, context_settings={"help_option_names": ["-h", "--help"]})
@home_options
@click.pass_context
def bestbets(ctx: click.Context) -> None:
    _running["command"] = ctx.invoked_subcommand or "bestbets"
    settings.ensure_dagster_home()


@bestbets.command(help="the whole graph walk-forward over a date range, then a report")
@home_options
@date_range(required=True)
@click.option("--families", help="comma-separated families (default: every enabled family)")
@click.option(
    "--selection",
    type=click.Choice(["ev", "edge"]),
    help="the best bets' selection rule for this replay (default: the configured one, ev); edge is the "
    "original's largest-|edge| rule",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    type=SETTING,
    help="a best-bets setting for this replay, its value as JSON (repeatable), e.g. --set sourcing=performance "
    'or --set \'signal_profiles=[["*", "point", "UNDER", 0]]\'; `bestbets config` lists the settings',
)
@click.option(
    "--decision-time",
    type=TIME_OF_DAY,
    help="decide every date at this time, HH:MM US Eastern, on the snapshots taken by then (as the daily slate "
    "would have); default: each date's stored decision, else the latest snapshot before tip-off",
)
@click.option(
    "--picks-only",
    is_flag=True,
    help="keep this home's models, predictions and grading of the range (an earlier replay's) and rerun only the "
    "candidates, monitoring and picks: another best-bets setting in a minute",
)
def replay(start, end, families, selection, overrides, decision_time, picks_only) -> int:
    from bestbets_dagster.replay import format_report, run_replay

    with writing_home("replay"):
        report = run_replay(
            start,
            end,
            [f.strip() for f in families.split(",") if f.strip()] if families else None,
            selection=selection,
            run_tags=cli_run_tags(),
            settings_overrides=dict(overrides),
            picks_only=picks_only,
            decision_time_of_day=decision_time,
        )
    print(format_report(report, report["files"]["json"]))
    return 0


@bestbets.command(help="open the Dagster UI on this project's instance")
@home_options
@click.option("--port", type=int, default=3000, help="the UI's port (default 3000)")
def dev(port: int) -> int:
    # The interpreter running this command, so the venv need not be activated.
    command = [sys.executable, "-m", "dagster", "dev", "-w", str(settings.PROJECT_ROOT / "workspace.yaml")]
    command += ["-p", str(port)]
    print(f"DAGSTER_HOME={os.environ['DAGSTER_HOME']} {' '.join(command)}")
    return subprocess.call(command, cwd=settings.PROJECT_ROOT)


for _command in (build, family, retrain, registry, experiment, signal_backtest, config, picks, report_card, fetch):
    bestbets.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    """The console script: the command's exit status. A usage error exits 2 with click's message; a
    refusal (SystemExit with a message) 1; a bad input or an unusable warehouse 1 with the cause in one
    line (Dagster's log above it keeps the trace)."""
    try:
        status = bestbets.main(args=argv, prog_name="bestbets", standalone_mode=False)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Abort:
        print("Aborted!", file=sys.stderr)
        return 1
    except user_errors() as error:
        print(f"bestbets {_running['command']}: error: {error}", file=sys.stderr)
        return 1
    return status if isinstance(status, int) else 0
