"""The ``site-agent`` command line: wires Typer to the typed functions of each command module."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from site_agent.demo import demo_command
from site_agent.doctor import doctor_command
from site_agent.evaluate import evaluate_command
from site_agent.families_cli import ask_command, explain_command, families_command
from site_agent.federate_cli import federate_command
from site_agent.finetune import finetune_command
from site_agent.fingerprint import fingerprint_command
from site_agent.import_dicom import import_dicom_command
from site_agent.init import init_command
from site_agent.parse_note import parse_note_command
from site_agent.predict import predict_command
from site_agent.pull import pull_command
from site_agent.push import push_command
from site_agent.select_router import select_router_command
from site_agent.synth import synth_command
from site_agent.train import train_command
from site_agent.verify import verify_command

app = typer.Typer(
    name="site-agent",
    help=(
        "Adapt hub models to this hospital's practice without moving patient data.\n\n"
        "Typical flow: verify your data, select-router (zero-shot), finetune --center D from 1-3 cases, "
        "evaluate, predict. Only router and expert weights ever leave the site."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version_callback(value: bool) -> None:
    if value:
        try:
            typer.echo(f"site-agent {version('mome-hub')}")
        except PackageNotFoundError:
            typer.echo("site-agent (not installed)")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True,
                                               help="Print the version and exit.")] = False,
) -> None:
    """Site agent of MoME Hub."""


app.command("families")(families_command)
app.command("synth")(synth_command)
app.command("verify")(verify_command)
app.command("parse-note")(parse_note_command)
app.command("import-dicom")(import_dicom_command)
app.command("train")(train_command)
app.command("select-router")(select_router_command)
app.command("finetune")(finetune_command)
app.command("evaluate")(evaluate_command)
app.command("predict")(predict_command)
app.command("explain")(explain_command)
app.command("ask")(ask_command)
app.command("demo")(demo_command)
app.command("federate")(federate_command)
app.command("init")(init_command)
app.command("doctor")(doctor_command)
app.command("pull")(pull_command)
app.command("fingerprint")(fingerprint_command)
app.command("push")(push_command)
