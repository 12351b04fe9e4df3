"""The `bestbets` command as a user meets it: options in any position, help on every option, clear
refusals of a reversed range or an unknown family."""

import os

import click
import pytest

from bestbets_dagster.commands.main import bestbets, main
from bestbets_dagster_tests.conftest import run_cli


class _Stopped(Exception):
    pass


def _commands(command: click.Command, path: str = "bestbets"):
    """(path, command) of the group and every command below it."""
    yield path, command
    for name, child in getattr(command, "commands", {}).items():
        yield from _commands(child, f"{path} {name}")


@pytest.mark.parametrize(
    "argv",
    [
        ["--home", "H", "--data-dir", "D", "family", "list"],
        ["family", "--home", "H", "list", "--data-dir", "D"],
        ["family", "list", "--home", "H", "--data-dir", "D"],
        ["registry", "list", "--data-dir", "D", "--family", "v9_mae", "--home", "H"],
        ["--data-dir", "D", "replay", "--start", "2025-11-01", "--end", "2025-11-02", "--home", "H", "--help"],
    ],
)
def test_home_and_data_dir_are_taken_in_any_position(argv, tmp_path, monkeypatch):
    """Each is applied to the environment as soon as it is read, before the command imports anything."""
    monkeypatch.chdir(tmp_path)
    for name in ("BESTBETS_HOME", "DAGSTER_HOME", "BESTBETS_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)

    def stop():
        raise _Stopped

    # The commands stop at their first look at the warehouse (replay: at --help).
    monkeypatch.setattr("bestbets_dagster.commands.models.warehouse", stop)
    try:
        bestbets.main(args=argv, prog_name="bestbets", standalone_mode=False)
    except _Stopped:
        pass
    assert (os.environ["BESTBETS_HOME"], os.environ["BESTBETS_DATA_DIR"]) == (str(tmp_path / "H"), str(tmp_path / "D"))
    assert os.environ["DAGSTER_HOME"] == str(tmp_path / "H" / "dagster")


def test_every_option_of_every_command_has_help():
    missing = [
        f"{path} {param.opts}"
        for path, command in _commands(bestbets)
        for param in command.params
        if isinstance(param, click.Option) and not param.help
    ]
    assert missing == []
    assert all(command.help for _, command in _commands(bestbets))


def test_a_reversed_date_range_is_refused_before_anything_runs(capsys):
    assert main(["replay", "--start", "2025-11-05", "--end", "2025-11-01"]) == 2
    assert "the date range is reversed: --start 2025-11-05 is after --end 2025-11-01" in capsys.readouterr().err
    # In either order on the command line.
    assert main(["replay", "--end", "2025-11-01", "--start", "2025-11-05"]) == 2
    assert "the date range is reversed" in capsys.readouterr().err


def test_the_registry_of_an_unknown_family_is_an_error(tmp_path):
    result = run_cli(tmp_path / "home", "registry", "list", "--family", "nosuch")
    assert result.returncode == 1
    assert "unknown family nosuch; known: v12_mae, v12_noveg_mae" in result.stderr
    listed = run_cli(tmp_path / "home", "registry", "list", "--family", "v9_mae")
    assert listed.returncode == 0 and "(none)" in listed.stdout


def test_replay_progress_names_the_stage_and_estimates_what_is_left(monkeypatch):
    import io

    from bestbets_dagster import replay

    clock = iter([0.0, 0.0, 10.0, 10.0, 40.0, 70.0])  # began; stage 1; stage 1 ends, stage 2 starts; two steps
    monkeypatch.setattr(replay.time, "monotonic", lambda: next(clock))
    out = io.StringIO()
    progress = replay.Progress(2, out)
    progress.stage("ingest")
    progress.stage("train 3 families")
    progress.step(1, 3, "v9_mae trained")
    progress.step(2, 3, "v9_q43 trained")
    assert out.getvalue().splitlines() == [
        "[1/2] ingest (0 s so far)",
        "[2/2] train 3 families (10 s so far)",
        "  [#######.............] 1/3 v9_mae trained: 30 s, about 60 s left",
        "  [#############.......] 2/3 v9_q43 trained: 60 s, about 30 s left",
    ]
    assert progress.seconds == {"ingest": 10.0}  # the finished stages' wall time, for the report
