"""``site-agent predict``: PTV masks as NIfTI in each input's own geometry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from site_agent.console import console, emit_json, expected_errors, progress, results
from site_agent.local_data import site_cases
from site_agent.options import DeviceOpt, JsonOpt, ModelOpt, ThreadsOpt, check_out_free, choose_device
from site_agent.predict_checks import check_inputs, check_masks_free, model_contract

if TYPE_CHECKING:
    from models.data.dataset import Case
    from models.data.dicom.predict_io import DicomPredictionIO

ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Predict even on inputs unlike what the model was built for (not CT-like, too small a field "
                    "of view, far-off spacing); a warning is printed per input. Unreadable files are always refused.")]


def predict_command(
    model: ModelOpt,
    out: Annotated[Path, typer.Option("--out", help="Folder for the predicted masks (<case>.nii.gz).")],
    router: Annotated[
        str | None, typer.Option("--router", help="Router (center code); default: the model's own.")
    ] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Dataset folder: predict every case in it.")] = None,
    image: Annotated[Path | None, typer.Option(
        "--image", help="A single CT to predict: a NIfTI, or a DICOM series folder (or a one-file .dcm series)."),
    ] = None,
    note: Annotated[str | None, typer.Option(
        "--note", help="The clinical note of --image, as written (e.g. 'GS 4+3=7, cT2b N0 M0, iPSA 12.4'; "
                       "`site-agent parse-note` shows what is read from it). Without a note the PTV follows the "
                       "image alone and a warning says so.")] = None,
    fmt: Annotated[str, typer.Option(
        "--format", help="nifti (<case>.nii.gz), rtstruct (<case>.rtstruct.dcm: an RT Structure Set with one PTV "
                         "ROI) or seg (<case>.seg.dcm: a DICOM-SEG); the DICOM formats reference the input series, "
                         "so they need --image SERIES_DIR or --data of a dataset made by import-dicom.")] = "nifti",
    force: ForceOpt = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace masks already in --out.")] = False,
    review: Annotated[bool, typer.Option(
        "--review/--no-review", help="Write review sheets to --out/review: one PNG per case (axial, coronal and "
                                     "sagittal CT with the contour, PTV volume, router, model) and review.pdf "
                                     "of the batch, to check before importing into the planning system.")] = True,
    device: DeviceOpt = None,
    threads: ThreadsOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Segment the PTV of a dataset's cases, or of one --image with its --note (sliding window).

    Each input is checked first against what the model was built for (a 3D pelvic CT in Hounsfield
    units, at a spacing near the model's); an input that fails is refused unless --force. Models of other
    families predict every case of --data in their own output form (masks, probabilities or answers).
    """
    from models.data.dicom.predict_io import DicomPredictionIO
    from site_agent import family_commands

    with expected_errors():
        family = family_commands.family_of_model(model)
        if family_commands.is_other_family(family):
            if data is None:
                raise ValueError(f"a {family} model predicts a dataset: give --data DIR")
            check_out_free(out, overwrite)
            dev = choose_device(device, quiet=json_output, threads=threads)
            doc = family_commands.predict(model, data, out, router=router, device=dev)
    if family_commands.is_other_family(family):
        family_commands.print_or_json(doc, json_output=json_output, title="predictions")
        return

    with expected_errors(), DicomPredictionIO(fmt, image=image, data=data) as dicom:
        if (data is None) == (image is None):
            raise ValueError("give either --data DIR or --image FILE (with its --note)")
        if image is not None and not note and not json_output:
            console.print("[yellow]warning:[/] no --note: the PTV is predicted from the image alone, so its nodal "
                          "coverage cannot follow the risk group", highlight=False, soft_wrap=True)
        if image is not None and not image.exists():
            raise FileNotFoundError(f"--image {image} does not exist")
        cases = site_cases(data, labelled=False) if data is not None else [_single_case(image, note, dicom)]
        if fmt == "nifti":
            check_masks_free(out, cases, overwrite)
        dicom.check_outputs(out, [c.case_id for c in cases], overwrite)
        check_inputs(cases, model_contract(model), force=force)
        dev = choose_device(device, quiet=json_output, threads=threads)
        from models.data.image_io import with_ending_of
        from models.evaluation.review import ReviewMeta, review_case, write_batch_pdf
        from models.registry import note_encoder
        from models.training.predict import predict_to_nifti
        from models.training.samples import load_samples
        from models.weights import load_model_dir
        from site_agent.local_data import default_router

        net, spec, manifest = load_model_dir(model, device=dev)
        router = router or default_router(net, manifest)
        encoder = note_encoder(spec)
        written, reviews = [], []
        try:
            with progress(transient=json_output) as bar:
                task = bar.add_task(f"predicting with router {router}", total=len(cases), info="")
                for case in cases:
                    sample = load_samples([case], spec.contract, center=router, with_label=False)[0]
                    mask = predict_to_nifti(net, spec, encoder, sample, router=router, out_dir=dicom.mask_dir(out),
                                            device=dev)
                    mask = with_ending_of(mask, case.image) if fmt == "nifti" else mask  # CASE.mha for .mha input
                    reviews += [review_case(case.image, mask, out / "review" / f"{case.case_id}.png", ReviewMeta(
                        case.case_id, router, f"{manifest.config_name} {manifest.version}", manifest.files[0].sha256,
                        case.clinical))] if review else []
                    written.append(str(dicom.finish(case.case_id, mask, out, version=manifest.version)))
                    bar.update(task, advance=1, info=case.case_id)
        except KeyboardInterrupt:
            console.print(interrupted_line(written, len(cases), out), highlight=False, soft_wrap=True)
            raise typer.Exit(130) from None
        pdf = write_batch_pdf(reviews, out / "review" / "review.pdf") if reviews else None
    if json_output:
        emit_json({"router": router, "model_version": manifest.version, "written": written,
                   "review": {"pngs": [str(r.png) for r in reviews], "pdf": str(pdf)} if pdf else None})
    else:
        results.print(f"[green]wrote {len(written)} masks to {out}[/]", highlight=False)
        if pdf:
            results.print(f"review sheets: {pdf.parent}/<case>.png and {pdf} (check them before importing into "
                          "the planning system)", highlight=False, soft_wrap=True)


def interrupted_line(written: list[str], total: int, out: Path) -> str:
    """The one line printed on Ctrl-C: which masks are complete (each is written whole, never in part)."""
    if not written:
        return f"interrupted before the first mask: nothing was written to {out}"
    return (f"interrupted after {len(written)} of {total} cases: their masks are complete in {out} (the last is "
            f"{Path(written[-1]).name}); the batch review PDF was not written; run again with --overwrite to "
            "redo the batch")


def _single_case(image: Path | None, note: str | None, dicom: DicomPredictionIO) -> Case:
    from models.data.dataset import Case

    path = Path(str(image))
    nifti = dicom.nifti_image(_stem(path))  # a DICOM series is read (and checked) into a temp NIfTI
    return Case(case_id=_stem(path), image=(nifti or path).resolve(), label=None, organ=None, gtv=None, clinical=note)


def _stem(path: Path) -> str:
    name = path.name
    return name[:-7] if name.endswith(".nii.gz") else path.stem
