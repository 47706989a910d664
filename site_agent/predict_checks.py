"""What ``site-agent predict`` checks before any work: free mask names in --out, inputs the model can use."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from site_agent.console import console, fail

if TYPE_CHECKING:
    from models.config import PreprocessingContract
    from models.data.dataset import Case


def model_contract(model: Path) -> PreprocessingContract:
    """The preprocessing contract a model directory records (its weights are not loaded)."""
    from models.registry import spec_from_config
    from models.weights import MANIFEST, WeightsError, read_manifest

    try:
        return spec_from_config(read_manifest(model).config).contract
    except (KeyError, TypeError, ValueError) as exc:
        raise WeightsError(f"{Path(model) / MANIFEST}: config is incomplete or invalid ({exc})") from None


def mask_name(case: Case) -> str:
    """The mask file ``predict`` writes for a case: ``CASE`` + the input's ending (``.nii.gz`` for DICOM input)."""
    from models.data.image_io import image_ending

    return f"{case.case_id}{image_ending(case.image) or '.nii.gz'}"


def check_masks_free(out: Path, cases: list[Case], overwrite: bool) -> None:
    """Refuse, before any work, an ``--out`` that is a file or already holds a mask this run would write."""
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {out} is a file, not a folder; choose another --out")
    taken = [name for name in map(mask_name, cases) if (out / name).exists()]
    if taken and not overwrite:
        more = f" and {len(taken) - 1} more" if len(taken) > 1 else ""
        raise FileExistsError(f"--out {out} already holds {taken[0]}{more}; pass --overwrite to replace them or "
                              "choose another --out")


def check_inputs(cases: list[Case], contract: PreprocessingContract, *, force: bool) -> None:
    """Refuse inputs the model cannot use, and (unless ``force``) those unlike what it was built for."""
    from models.data.clinical import read_note
    from models.data.input_checks import check_for_model, mask_problem

    hard, soft = [], []
    for case in cases:
        found = check_for_model(case.image, spacing=contract.spacing, axcodes=contract.axcodes)
        hard += found.hard
        soft += found.soft
        organ = mask_problem(case.organ, "organ") if case.organ and "organ" in contract.channels else None
        hard += [organ] if organ else []
        note = read_note(case.clinical)  # missing fields are read as unknown: a notice, not a refusal
        soft += [f"case {case.case_id}: {note.errors[0]}"] if note.errors else []
        if not note.errors and note.missing:
            console.print(f"[yellow]note:[/] case {escape(case.case_id)}: the clinical note gives no "
                          f"{escape(', '.join(note.missing))}; the model reads them as unknown", highlight=False,
                          soft_wrap=True)
    for sentence in soft if force else []:
        console.print(f"[yellow]warning:[/] {escape(sentence)}; predicting anyway (--force)", highlight=False,
                      soft_wrap=True)
    blocking = hard + ([] if force else [f"{s}; pass --force to predict anyway" for s in soft])
    for sentence in blocking[:-1]:
        console.print(f"[bold red]error:[/] {escape(sentence)}", highlight=False, soft_wrap=True)
    if blocking:
        raise fail(blocking[-1])
