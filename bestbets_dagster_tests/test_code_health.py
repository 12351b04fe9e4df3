"""The code's own rules, run by the suite: ruff's lint and format (configured in pyproject.toml)."""

import subprocess
import sys

from bestbets_dagster_tests.conftest import run_in_project


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return run_in_project([sys.executable, "-m", "ruff", *args], None, timeout=120)


def test_ruff_finds_nothing_to_lint():
    result = _ruff("check", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]


def test_the_code_is_ruff_formatted():
    result = _ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
