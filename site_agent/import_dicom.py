"""``site-agent import-dicom``: CT series and RT Structure Sets into a dataset folder (the data contract)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from site_agent.console import console, emit_json, expected_errors, fail, progress, results
from site_agent.options import JsonOpt

CtOpt = Annotated[Path, typer.Option(
    "--ct", help="A CT series folder (or a one-file series), or a folder of patients: every folder under it that "
                 "holds CT images becomes one case, with the RT Structure Set found beside or under it.")]
RtstructOpt = Annotated[Path | None, typer.Option(
    "--rtstruct", help="The RT Structure Set of a single --ct series; without it, structure sets are looked for in "
                       "the --ct tree. A series without one is imported for prediction only.")]
RoiOpt = Annotated[list[str] | None, typer.Option(
    "--roi", help="Which ROI is which target, as TARGET=ROI_NAME (targets: PTV, prostate, GTV); a bare ROI_NAME "
                  "is the PTV. Repeat for several targets. Without it, names are matched against a synonym table.")]
RoiTableOpt = Annotated[Path | None, typer.Option(
    "--roi-table", help='Your center\'s ROI names: JSON like {"PTV": ["PTV_78Gy"], "prostate": ["Prostata"]} or '
                        "CSV rows target,roi_name. Tried before the built-in synonyms; case, spaces, '_' and '-' "
                        "are ignored.")]


def import_dicom_command(
    ct: CtOpt,
    out: Annotated[Path, typer.Option("--out", help="The dataset folder to create or append to (its dataset.json "
                                                    "keeps every existing entry).")],
    rtstruct: RtstructOpt = None,
    roi: RoiOpt = None,
    roi_table: RoiTableOpt = None,
    note: Annotated[str, typer.Option("--note", help="The clinical note (seed format) given to every imported case; "
                                                     "edit dataset.json for per-patient notes.")] = "",
    center: Annotated[str | None, typer.Option("--center", help="The center code recorded in a new dataset.json "
                                                                "and used as the case id prefix.")] = None,
    json_output: JsonOpt = False,
) -> None:
    """Turn DICOM CT series (and their RT Structure Sets) into NIfTI cases of the data contract.

    Each series is checked first (one series per folder, no missing slices, uniform spacing, no gantry tilt,
    pixel data a decoder here can read); a refused series is named with the reason and the others still import.
    Already imported series (same Series Instance UID) are skipped, so a rerun only adds what is new.
    """
    with expected_errors():
        summary = _run_import(ct, out, rtstruct, roi or [], roi_table, note, center, quiet=json_output)
    if json_output:
        emit_json(summary)
    else:
        _print_summary(summary)
    if summary["failed"]:
        raise fail(f"{len(summary['failed'])} of {len(summary['failed']) + len(summary['imported'])} series could "
                   "not be imported (reasons above); fix them and run the same command again", code=1)
    if not note and summary["imported"]:
        console.print("[yellow]warning:[/] the imported cases have no clinical note; fill in 'clinical' in "
                      f"{escape(str(out / 'dataset.json'))} before training or predicting", highlight=False)


def _run_import(ct: Path, out: Path, rtstruct: Path | None, roi: list[str], roi_table: Path | None, note: str,
                center: str | None, *, quiet: bool) -> dict[str, Any]:
    from models.data.dicom import DicomError
    from models.data.dicom.dataset_file import case_ids, next_case_id, open_dataset_doc, write_dataset_doc
    from models.data.dicom.importer import RoiChoice, import_job
    from models.data.dicom.match import plan_jobs
    from models.data.dicom.roi_names import load_roi_table, parse_roi_options
    from models.data.dicom.sources import read_sources, write_sources

    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {out} is a file, not a folder; choose another --out")
    rois = RoiChoice(parse_roi_options(roi), load_roi_table(roi_table) if roi_table else {})
    jobs = plan_jobs(ct, rtstruct)
    doc = open_dataset_doc(out, center)
    sources = read_sources(out)
    known = {str(s.get("series_uid")): cid for cid, s in sources.items() if cid in case_ids(doc)}
    prefix = (center or str(doc.get("center") or "case")).lower()
    summary: dict[str, Any] = {"dataset": str(out), "imported": [], "skipped": [], "failed": []}
    with progress(transient=quiet) as bar:
        task = bar.add_task("importing DICOM series", total=len(jobs), info="")
        for job in jobs:
            uid = str(job.ct[0][1].get("SeriesInstanceUID", ""))
            if uid in known:
                summary["skipped"].append({"case_id": known[uid], "series_folder": str(job.folder)})
            else:
                try:
                    case = import_job(job, out, next_case_id(doc, prefix), rois=rois, note=note)
                except DicomError as exc:
                    if len(jobs) == 1:
                        raise
                    summary["failed"].append({"series_folder": str(job.folder), "error": str(exc)})
                else:
                    doc[case.split].append(case.entry)
                    sources[case.case_id] = case.source
                    known[uid] = case.case_id
                    summary["imported"].append({"case_id": case.case_id, "split": case.split,
                                                "series_folder": str(job.folder), "rois": case.source["rois"]})
            bar.update(task, advance=1, info=job.folder.name)
    if summary["imported"]:
        write_dataset_doc(out, doc)  # first: a case counts as imported only once dataset.json lists it
        write_sources(out, sources)
    return summary


def _print_summary(summary: dict[str, Any]) -> None:
    for failure in summary["failed"]:
        console.print(f"[bold red]error:[/] {escape(failure['error'])}", highlight=False, soft_wrap=True)
    if summary["imported"]:
        table = Table(title=f"imported into {summary['dataset']}")
        for column in ("case", "split", "series folder", "ROIs used"):
            table.add_column(column)
        for case in summary["imported"]:
            rois = ", ".join(f"{t}={n}" for t, n in case["rois"].items()) or "none (prediction only)"
            table.add_row(case["case_id"], case["split"], escape(case["series_folder"]), escape(rois))
        results.print(table)
    for skipped in summary["skipped"]:
        console.print(f"skipped {escape(skipped['series_folder'])}: already imported as {skipped['case_id']}",
                      highlight=False)
