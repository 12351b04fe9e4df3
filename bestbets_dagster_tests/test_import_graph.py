"""The allowed directions of imports between the packages, read from the source (every import, the ones
inside functions too).

The domain is plain Python over pandas, lowest first: a domain package imports only those before it and
never Dagster. The shell (Dagster definitions, resources, the CLI's commands) imports the domain, and the
domain never imports the shell."""

from __future__ import annotations

import ast
import collections
import sys
from pathlib import Path

import pytest

import bestbets_dagster

PACKAGE = Path(bestbets_dagster.__file__).parent

# Lowest first. betting: prices, payouts, settlement, tiers; monitoring: signal and model health.
DOMAIN = (
    "settings",
    "timeutil",
    "tables",
    "betting",
    "ingest",
    "acquisition",
    "features",
    "signals",
    "models",
    "monitoring",
    "bestbets",
    "grading",
    "experiments",
)
# The shell, each allowed to import the domain and the shell packages listed for it.
SHELL = {
    "home_lock": {"settings"},
    "partitions": set(),
    "instance_storage": set(),
    "resources": {"home_lock"},
    "defs": {"resources", "partitions", "home_lock", "instance_storage"},
    "definitions": {"defs"},
    "replay": {"definitions", "defs", "resources", "partitions", "home_lock", "instance_storage"},
    "commands": {"definitions", "defs", "resources", "partitions", "home_lock", "instance_storage", "replay"},
    "__init__": set(),
}


def _top(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "bestbets_dagster" and len(parts) > 1 else None


def imports_by_package() -> dict[str, dict[str, list[str]]]:
    """{package: {imported package or 'dagster': [the importing files]}}, between different packages."""
    found: dict[str, dict[str, list[str]]] = collections.defaultdict(lambda: collections.defaultdict(list))
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        package = relative.parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                target = "dagster" if name.split(".")[0].startswith("dagster") else _top(name)
                if target and target != package:
                    found[package][target].append(str(relative))
    return found


def test_every_package_has_a_place_in_the_graph():
    packages = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in PACKAGE.rglob("*.py")}
    assert packages - set(DOMAIN) - set(SHELL) == set()


@pytest.mark.parametrize("package", DOMAIN)
def test_a_domain_package_imports_only_lower_ones_and_never_dagster(package):
    allowed = set(DOMAIN[: DOMAIN.index(package)])
    imported = imports_by_package()[package]
    wrong = {target: files for target, files in imported.items() if target not in allowed}
    assert wrong == {}, f"{package} may import only {sorted(allowed)}"


@pytest.mark.parametrize("package", sorted(SHELL))
def test_a_shell_package_imports_the_domain_and_the_shell_below_it(package):
    allowed = set(DOMAIN) | SHELL[package] | {"dagster"}
    imported = imports_by_package()[package]
    wrong = {target: files for target, files in imported.items() if target not in allowed}
    assert wrong == {}


def test_the_graph_test_sees_an_import_that_goes_the_wrong_way(tmp_path, monkeypatch):
    """The reader finds imports inside functions too: a betting module importing the picks is caught."""
    (tmp_path / "betting.py").write_text("def f():\n    from bestbets_dagster.bestbets.config import X\n")
    (tmp_path / "bestbets").mkdir()
    (tmp_path / "bestbets" / "config.py").write_text("import dagster\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path)
    found = imports_by_package()
    assert dict(found["betting"]) == {"bestbets": ["betting.py"]}
    assert dict(found["bestbets"]) == {"dagster": ["bestbets/config.py"]}
