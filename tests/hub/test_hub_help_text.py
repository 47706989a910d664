"""Every `hub` command and option explains itself in sentences (capital first, full stop last), like site-agent."""

from __future__ import annotations

import click
import typer

from hub.cli import app


def _walk(command: click.Command, path: str):
    yield path, "command", command.help or command.short_help or ""
    for param in command.params:
        if isinstance(param, click.Option | click.Argument) and param.name != "help":
            yield path, "/".join(getattr(param, "opts", [param.name])), getattr(param, "help", None) or ""
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _walk(sub, f"{path} {name}")


def test_every_help_text_is_a_sentence() -> None:
    root = typer.main.get_command(app)
    fragments = []
    for path, what, text in _walk(root, "hub"):
        if what.startswith("--install") or what.startswith("--show-completion"):
            continue
        first_line = text.strip().split("\n\n")[0].strip()
        if not first_line or not first_line[0].isupper() or first_line.rstrip(")`'\"")[-1:] not in ".?!:":
            fragments.append(f"{path} {what}: {first_line!r}")
    assert fragments == []
