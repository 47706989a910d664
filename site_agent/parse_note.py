"""``site-agent parse-note``: show what a clinical note says, field by field, before it is used."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from site_agent.console import console, emit_json, expected_errors, results
from site_agent.options import JsonOpt

__all__ = ["parse_note_command", "read_note_input"]

_MAX_BYTES = 100_000


def read_note_input(text: str | None, file: Path | None) -> str:
    """The note from the TEXT argument or from ``--file`` (exactly one of them)."""
    if (text is None) == (file is None):
        raise ValueError("give the note either as TEXT or with --file FILE, not both and not neither")
    if file is None:
        return text or ""
    if not file.is_file():
        raise FileNotFoundError(f"--file {file} does not exist or is not a file")
    if file.stat().st_size > _MAX_BYTES:
        raise ValueError(f"--file {file} is larger than {_MAX_BYTES // 1000} kB; a clinical note is a few lines")
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"--file {file} is not UTF-8 text") from None


def parse_note_command(
    text: Annotated[str | None, typer.Argument(
        help="The note, in quotes, e.g. \"GS 4+3=7, cT2b N0 M0, iPSA 12.4 ng/mL, 71 yo\".", show_default=False)] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", help="Read the note from this UTF-8 text file instead of TEXT.", show_default=False)] = None,
    json_output: JsonOpt = False,
) -> None:
    """Show what a clinical note says, field by field: the value read, the text it came from, and any problem.

    Notes are read the way clinicians write them: Gleason 3+4=7 or GS 7 (4+3), ISUP grade groups
    (GG3, ISUP 2), clinical and pathological stages (cT2a, pT3b pN0, ypT2, cN1, M1b), PSA 12.4 ng/mL,
    iPSA <4, PSA >100 or PSA 0,8, ages such as 71 yo, 64 y/o, aged 71 or 71-year-old, and the seed
    format (<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11.6). The risk
    group is NCCN's, decided from the fields present, and 'unknown' when they cannot decide it.
    Nothing leaves this machine. Exits 0 when the note can be used, even with fields missing; exits 1
    when it is empty, contradicts itself (two different PSA values, Gleason patterns that do not add
    up, a grade group that is not the Gleason score's) or has digits other than 0-9.
    """
    from models.data.clinical import FIELDS, read_note

    with expected_errors():
        note = read_note_input(text, file)
    reading = read_note(note)
    if json_output:
        emit_json(reading.to_json())
    elif not reading.empty:
        table = Table(title="clinical note")
        for column in ("field", "value", "from the text", "problems"):
            table.add_column(column, overflow="fold")
        for name, result in reading.fields.items():
            value = "missing" if result.value is None else f"{result.qualifier or ''}{result.value}"
            table.add_row(FIELDS[name], escape(value), escape(result.source or ""), escape("; ".join(result.problems)))
        results.print(table)
    for sentence in reading.warnings:
        console.print(f"[yellow]warning:[/] {escape(sentence)}", highlight=False, soft_wrap=True)
    if reading.empty:
        console.print("[bold red]error:[/] the note is empty; give its text as TEXT or with --file", highlight=False)
    for sentence in reading.errors:
        console.print(f"[bold red]error:[/] {escape(sentence)}", highlight=False, soft_wrap=True)
    if not reading.usable:
        raise typer.Exit(1)
