"""Prediction to NIfTI in each input's own geometry: ``site-agent predict``."""

from __future__ import annotations

from pathlib import Path

from models.data.preprocessing import write_prediction
from models.networks.mome_ro import MomeRoNet
from models.registry import ModelSpec
from models.training.inference import predict_logits, to_mask
from models.training.loop import text_for
from models.training.samples import Sample


def predict_to_nifti(
    model: MomeRoNet, spec: ModelSpec, encoder, sample: Sample, *, router: str, out_dir: Path,
    device: str = "cpu",
) -> Path:
    """Segment one sample with ``router`` and write ``<case_id>.nii.gz`` with the input's affine and shape."""
    model.eval()
    text, mask = text_for(model, encoder, [sample], device)
    logits = predict_logits(model, sample.image[None].to(device), text, mask, router, spec.contract.patch_size)
    return write_prediction(to_mask(logits).cpu().numpy(), sample.case.image,
                            Path(out_dir) / f"{sample.case_id}.nii.gz", mask_affine=sample.affine)
