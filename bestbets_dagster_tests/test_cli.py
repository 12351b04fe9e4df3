"""The `bestbets` command as a user meets it: options in any position, help on every option, clear
refusals of a reversed range or an unknown family."""

import argparse

import pytest

from bestbets_dagster.cli import build_parser, main
from bestbets_dagster_tests.conftest import run_cli


def _parsers(parser: argparse.ArgumentParser):
    """The parser and every sub-parser below it."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _parsers(child)


@pytest.mark.parametrize(
    "argv",
    [
        ["--home", "H", "--data-dir", "D", "family", "list"],
        ["family", "--home", "H", "list", "--data-dir", "D"],
        ["family", "list", "--home", "H", "--data-dir", "D"],
        ["registry", "list", "--data-dir", "D", "--family", "v9_mae", "--home", "H"],
        ["--data-dir", "D", "replay", "--start", "2025-11-01", "--end", "2025-11-02", "--home", "H"],
    ],
)
def test_home_and_data_dir_are_taken_in_any_position(argv):
    args = build_parser().parse_args(argv)
    assert (args.home, args.data_dir) == ("H", "D")


def test_without_home_the_environment_decides():
    args = build_parser().parse_args(["family", "list"])
    assert args.home is None and args.data_dir is None


def test_every_option_of_every_command_has_help():
    missing = [
        f"{parser.prog} {action.option_strings or action.dest}"
        for parser in _parsers(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert missing == []


def test_a_reversed_date_range_is_refused_before_anything_runs(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["replay", "--start", "2025-11-05", "--end", "2025-11-01"])
    assert exit_.value.code == 2
    assert "the date range is reversed: --start 2025-11-05 is after --end 2025-11-01" in capsys.readouterr().err


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
