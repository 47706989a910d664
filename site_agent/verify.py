"""`site-agent verify`: check a local dataset folder against the contract before any work."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from site_agent.console import console, emit_json, expected_errors, results

__all__ = ["CONTRACT", "verify", "verify_command"]

CONTRACT = """\
The dataset contract (README, "Data contract"): a folder with a dataset.json in the Medical
Segmentation Decathlon / nnU-Net style, e.g.
  {"name": "CenterD", "center": "D", "modality": {"0": "CT"}, "labels": {"0": "background", "1": "PTV"},
   "training": [{"image": "imagesTr/d001.nii.gz", "label": "labelsTr/d001.nii.gz",
                 "organ": "organsTr/d001.nii.gz", "gtv": "gtvTr/d001.nii.gz",
                 "clinical": "<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11.6"}],
   "test": []}
Paths are relative to the folder; images are 3D CT in HU (.nii.gz, .nii, .mha or .nrrd, any
orientation and spacing); labels, organ and gtv masks are 0/1 on the image's grid; organ and gtv
are optional. MSD and nnU-Net v2 dataset.json files are read as they are (nnU-Net: imagesTr/CASE_0000
with labelsTr/CASE); notes missing from "clinical" come from clinical.csv or clinical.json beside it."""


def verify(data: Path) -> dict[str, Any]:
    """Verify ``data``; returns ``{"data", "cases", "layout", "notes", "ok", "problems": [{"case_id", "message"}]}``."""
    from models.data.dataset import DatasetError, load_dataset
    from models.data.verify import verify_dataset

    data = Path(data)
    if not data.is_dir():
        raise FileNotFoundError(f"data folder {data} does not exist")
    family = declared_family(data)
    if family != "mome_ro":
        return verify_family(data, family)
    problems = verify_dataset(data)
    from models.data.dataset import LAYOUTS

    try:
        ds = load_dataset(data)
        cases, layout, notes = len(ds.cases), LAYOUTS[ds.layout], ds.notes.describe()
    except DatasetError:
        cases, layout, notes = 0, None, None
    return {"data": str(data.resolve()), "cases": cases, "layout": layout, "notes": notes,
            "ok": all(p.warning for p in problems),
            "problems": [{"case_id": p.case_id, "message": p.message, "line": str(p), "warning": p.warning}
                         for p in problems]}


def declared_family(data: Path) -> str:
    """The ``family`` a dataset.json declares (synthetic sets of other families do); MoME-RO's otherwise."""
    import json

    try:
        doc = json.loads((Path(data) / "dataset.json").read_text())
    except (OSError, ValueError):
        return "mome_ro"  # the MoME-RO verifier names the unreadable file
    family = doc.get("family") if isinstance(doc, dict) else None
    return family if isinstance(family, str) and family else "mome_ro"


def verify_family(data: Path, family: str) -> dict[str, Any]:
    """Verify a dataset of another family with its runner's loader (which reads and checks every case)."""
    from models.families import get_family

    fam = get_family(family)
    try:
        cases = fam.load_runner().load_dataset(data)
        problems = []
    except (ValueError, FileNotFoundError, OSError) as exc:
        cases, problems = [], [{"case_id": None, "message": str(exc), "line": f"{data}: {exc}", "warning": False}]
    return {"data": str(data.resolve()), "cases": len(cases), "layout": f"{family} dataset ({fam.data_contract})",
            "notes": "no notes (not used by this family)", "ok": not problems, "problems": problems}


def verify_command(
    data: Annotated[Path, typer.Option("--data", help="Dataset folder holding a dataset.json.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
) -> None:
    """Check every case of a dataset (files, NIfTI headers, every voxel, labels, notes); exit 1 on problems.

    The dataset is a folder with a dataset.json (MSD / nnU-Net style): one entry per case with
    "image", "label", optional "organ" and "gtv" paths relative to the folder, and the clinical
    note in "clinical" (e.g. "<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69
    <PSA> 11.6"). MSD and nnU-Net v2 datasets are read as they are, notes then coming from
    clinical.csv or clinical.json beside dataset.json; the layout found and where the notes came
    from are printed first. On problems the contract is printed in full.
    """
    with expected_errors():
        report = verify(data)
    if json_output:
        emit_json(report)
    else:
        if report["layout"]:  # which layout was read and where the notes came from (or that there are none)
            console.print(f"{report['data']}: {report['layout']}; {report['notes']}", highlight=False, markup=False)
        for problem in report["problems"]:
            typer.echo(problem["line"])
        warned = sum(p["warning"] for p in report["problems"])
        if report["ok"]:
            results.print(f"[green]{report['data']}: {report['cases']} cases, no problems[/]"
                          + (f" ({warned} warning(s))" if warned else ""), highlight=False)
        else:
            console.print(f"[red]{len(report['problems']) - warned} problem(s) in {report['data']}[/]",
                          highlight=False)
            console.print(CONTRACT, highlight=False, markup=False)
    if not report["ok"]:
        raise typer.Exit(1)
