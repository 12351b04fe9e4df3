"""The code's own rules, run by the suite: ruff's lint and format (configured in pyproject.toml), and the
sizes that keep the shell thin and a function readable."""

import ast
import re
import subprocess
import sys
from pathlib import Path

from bestbets_dagster_tests.conftest import run_in_project


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return run_in_project([sys.executable, "-m", "ruff", *args], None, timeout=120)


def test_ruff_finds_nothing_to_lint():
    result = _ruff("check", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]


def test_the_code_is_ruff_formatted():
    result = _ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]


PACKAGE = Path(__file__).resolve().parent.parent / "bestbets_dagster"


def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def test_no_command_module_is_over_300_lines():
    long = {p.name: n for p in (PACKAGE / "commands").glob("*.py") if (n := len(p.read_text().splitlines())) > 300}
    assert long == {}


def test_no_function_outside_the_features_is_over_80_lines():
    long = [
        f"{path.relative_to(PACKAGE)}:{node.name} {node.end_lineno - node.lineno + 1} lines"
        for path in PACKAGE.rglob("*.py")
        if "features" not in path.relative_to(PACKAGE).parts
        for node in _functions(path)
        if node.end_lineno - node.lineno + 1 > 80
    ]
    assert long == []


def test_an_asset_body_in_defs_is_under_60_lines():
    """The Dagster layer is thin: an asset, sensor or schedule reads, calls the domain, writes, reports."""
    decorated = ("asset", "multi_asset", "table_asset", "sensor", "schedule", "asset_check")
    long = [
        f"{path.name}:{node.name} {node.end_lineno - node.body[0].lineno + 1} lines"
        for path in (PACKAGE / "defs").glob("*.py")
        for node in _functions(path)
        if any(ast.unparse(d).split("(")[0].split(".")[-1] in decorated for d in node.decorator_list)
        and node.end_lineno - node.body[0].lineno + 1 >= 60
    ]
    assert long == []


def test_the_generated_documents_are_up_to_date(capsys):
    """docs/cli.md and docs/asset-graph.md say what the commands and the definitions are (`make docs`)."""
    from bestbets_dagster.commands import reference

    assert reference.main(["--check"]) == 0, capsys.readouterr().err
    assert "## `bestbets picks`" in (reference.DOCS / "cli.md").read_text()
    assert "signal_best_bets_picks --> best_bets_accuracy" in (reference.DOCS / "asset-graph.md").read_text()


def test_the_readme_is_short_and_every_document_it_names_exists():
    readme = (PACKAGE.parent / "README.md").read_text()
    assert len(readme.splitlines()) < 250
    named = set(re.findall(r"\]\((docs/[\w./-]+)\)", readme))
    assert {"docs/cli.md", "docs/architecture.md", "docs/daily-cycle.md", "docs/failure-modes.md"} <= named
    assert [name for name in named if not (PACKAGE.parent / name).exists()] == []
