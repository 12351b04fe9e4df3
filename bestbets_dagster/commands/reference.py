"""The generated documents: docs/cli.md from the commands themselves, docs/asset-graph.md (a Mermaid
picture) from the definitions. `make docs` writes both; a test fails when either is out of date.

    python -m bestbets_dagster.commands.reference [--check]
"""

from __future__ import annotations

import sys

import click

from bestbets_dagster import settings

DOCS = settings.PROJECT_ROOT / "docs"


def _commands(command: click.Command, path: str):
    yield path, command
    for name in sorted(getattr(command, "commands", {})):
        yield from _commands(command.commands[name], f"{path} {name}")


def _option_row(param: click.Parameter) -> str:
    names = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
    kind = "flag" if getattr(param, "is_flag", False) else param.type.name.upper()
    if isinstance(param.type, click.Choice):
        kind = " \\| ".join(param.type.choices)
    default = param.default
    # No default: None, a flag's False, an empty multiple, or click's own marker for "not given".
    if default in (None, False, ()) or callable(default) or "UNSET" in str(default):
        default = ""
    text = (getattr(param, "help", "") or "").replace("|", "\\|")
    return f"| {names} | {kind} | {default} | {text} |"


def cli_reference() -> str:
    """Every command and option of `bestbets`, as Markdown."""
    from bestbets_dagster.commands.main import bestbets

    out = [
        "# The `bestbets` command",
        "",
        "Generated from the commands by `make docs` (`python -m bestbets_dagster.commands.reference`); "
        "`bestbets COMMAND --help` says the same. `--home` and `--data-dir` are taken before or after any "
        "command.",
    ]
    for path, command in _commands(bestbets, "bestbets"):
        ctx = click.Context(command, info_name=path)
        out += ["", f"## `{path}`", "", (command.help or "").strip().split("\n\n")[0].replace("\n", " "), ""]
        out += ["```", command.get_usage(ctx).replace("Usage: ", ""), "```"]
        options = [p for p in command.params if isinstance(p, click.Option)]
        arguments = [p for p in command.params if isinstance(p, click.Argument)]
        if arguments:
            out += ["", "Arguments: " + ", ".join(f"`{a.human_readable_name}`" for a in arguments)]
        if options:
            out += ["", "| option | value | default | meaning |", "|---|---|---|---|"]
            out += [_option_row(p) for p in options]
    return "\n".join(out) + "\n"


def _node(key) -> str:
    return key.to_user_string().replace("/", "__")


def asset_graph_mermaid() -> str:
    """The asset graph by group, as a Mermaid flowchart (GitHub draws it)."""
    from bestbets_dagster.definitions import build_definitions

    graph = build_definitions().resolve_asset_graph()
    keys = sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string())
    groups: dict[str, list] = {}
    for key in keys:
        groups.setdefault(graph.get(key).group_name or "default", []).append(key)
    out = [
        "# The asset graph",
        "",
        "Generated from the definitions by `make docs` (`python -m bestbets_dagster.commands.reference`): every "
        "asset by its group, an arrow from each asset to what reads it. The partition mappings of each arrow "
        "(what a partition reads) are in [architecture.md](architecture.md) and the UI.",
        "",
        "```mermaid",
        "flowchart LR",
    ]
    for group in sorted(groups):
        out.append(f"  subgraph {group}")
        out += [f"    {_node(key)}[{key.to_user_string()}]" for key in groups[group]]
        out.append("  end")
    for key in keys:
        out += [
            f"  {_node(parent)} --> {_node(key)}" for parent in sorted(graph.get(key).parent_keys) if parent in keys
        ]
    out.append("```")
    return "\n".join(out) + "\n"


GENERATED = {"cli.md": cli_reference, "asset-graph.md": asset_graph_mermaid}


def main(argv: list[str]) -> int:
    stale = []
    for name, generate in GENERATED.items():
        text, path = generate(), DOCS / name
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print(f"out of date: {', '.join(stale)}: run `make docs`", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
