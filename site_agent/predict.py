"""``site-agent predict``: PTV masks as NIfTI in each input's own geometry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from site_agent.console import console, emit_json, expected_errors, progress
from site_agent.local_data import site_cases
from site_agent.options import DeviceOpt, JsonOpt, ModelOpt, ThreadsOpt, choose_device
from site_agent.predict_checks import check_inputs, check_masks_free, model_contract

if TYPE_CHECKING:
    from models.data.dataset import Case

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
    image: Annotated[Path | None, typer.Option("--image", help="A single CT NIfTI to predict.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="The clinical note of --image (seed format).")] = None,
    force: ForceOpt = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace masks already in --out.")] = False,
    device: DeviceOpt = None,
    threads: ThreadsOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Segment the PTV of a dataset's cases, or of one --image with its --note (sliding window).

    Each input is checked first against what the model was built for (a 3D pelvic CT in Hounsfield
    units, at a spacing near the model's); an input that fails is refused unless --force.
    """
    with expected_errors():
        if (data is None) == (image is None):
            raise ValueError("give either --data DIR or --image FILE (with --note)")
        if image is not None and not note:
            raise ValueError("--image needs the case's clinical note in --note")
        if image is not None and not image.is_file():
            raise FileNotFoundError(f"--image {image} does not exist")
        cases = site_cases(data, labelled=False) if data is not None else [_single_case(image, note or "")]
        check_masks_free(out, [c.case_id for c in cases], overwrite)
        check_inputs(cases, model_contract(model), force=force)
        dev = choose_device(device, quiet=json_output, threads=threads)
        from models.registry import note_encoder
        from models.training.predict import predict_to_nifti
        from models.training.samples import load_samples
        from models.weights import load_model_dir
        from site_agent.local_data import default_router

        net, spec, manifest = load_model_dir(model, device=dev)
        router = router or default_router(net, manifest)
        encoder = note_encoder(spec)
        written = []
        with progress(transient=json_output) as bar:
            task = bar.add_task(f"predicting with router {router}", total=len(cases), info="")
            for case in cases:
                sample = load_samples([case], spec.contract, center=router, with_label=False)[0]
                written.append(str(predict_to_nifti(net, spec, encoder, sample, router=router, out_dir=out,
                                                    device=dev)))
                bar.update(task, advance=1, info=case.case_id)
    if json_output:
        emit_json({"router": router, "model_version": manifest.version, "written": written})
    else:
        console.print(f"[green]wrote {len(written)} masks to {out}[/]", highlight=False)


def _single_case(image: Path | None, note: str) -> Case:
    from models.data.dataset import Case

    path = Path(str(image))
    return Case(case_id=_stem(path), image=path.resolve(), label=None, organ=None, gtv=None, clinical=note)


def _stem(path: Path) -> str:
    name = path.name
    return name[:-7] if name.endswith(".nii.gz") else path.stem
