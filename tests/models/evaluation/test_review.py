"""Review sheets: views oriented as radiologists read them, the volume in mL, and predict writing them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from models.evaluation.review import ReviewMeta, ptv_volume_ml, view_planes, write_batch_pdf, write_case_review

FIXTURES = Path(__file__).parents[2] / "fixtures" / "datasets"
SPACING = (0.8, 1.0, 2.5)


def _marked_ras() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A RAS volume with a bright marker at the patient's right, anterior and superior, and a mask on it."""
    ct = np.full((20, 16, 12), -1000.0, dtype=np.float32)
    mask = np.zeros(ct.shape, dtype=np.uint8)
    ct[15:18, 11:14, 8:10] = 1000.0  # high x = right, high y = anterior, high z = superior
    mask[15:18, 11:14, 8:10] = 1
    return ct, mask, np.diag([*SPACING, 1.0])


def _as_lps(ct: np.ndarray, mask: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same patient stored the other way round along x and y (as DICOM-derived files often are)."""
    flip = np.diag([-1.0, -1.0, 1.0, 1.0])
    flip[:2, 3] = [(ct.shape[0] - 1), (ct.shape[1] - 1)]
    return ct[::-1, ::-1].copy(), mask[::-1, ::-1].copy(), affine @ flip


def _quadrant(image: np.ndarray) -> tuple[str, str]:
    rows, cols = np.argwhere(image > 0).mean(axis=0)
    return ("top" if rows < image.shape[0] / 2 else "bottom"), ("left" if cols < image.shape[1] / 2 else "right")


def test_views_are_radiological_whatever_the_storage_order() -> None:
    ras = _marked_ras()

    planes, flipped = view_planes(*ras), view_planes(*_as_lps(*ras))

    axial, coronal, sagittal = planes
    assert _quadrant(axial.image) == ("top", "left")  # anterior up, patient's right on the image's left
    assert _quadrant(coronal.image) == ("top", "left")  # head up, patient's right on the left
    assert _quadrant(sagittal.image) == ("top", "left")  # head up, anterior on the left
    assert [p.labels for p in planes] == [("R", "L", "A", "P"), ("R", "L", "S", "I"), ("A", "P", "S", "I")]
    for a, b in zip(planes, flipped, strict=True):
        assert np.array_equal(a.image, b.image) and np.array_equal(a.outline, b.outline)


def test_aspect_follows_the_voxel_spacing() -> None:
    axial, coronal, sagittal = view_planes(*_marked_ras())

    assert axial.aspect == pytest.approx(SPACING[1] / SPACING[0])
    assert coronal.aspect == pytest.approx(SPACING[2] / SPACING[0])
    assert sagittal.aspect == pytest.approx(SPACING[2] / SPACING[1])
    assert axial.image.shape == (16, 20) and coronal.image.shape == (12, 20) and sagittal.image.shape == (12, 16)


def test_volume_in_ml_is_voxels_times_voxel_volume() -> None:
    _, mask, affine = _marked_ras()

    assert ptv_volume_ml(mask, affine) == pytest.approx(18 * 0.8 * 1.0 * 2.5 / 1000.0)


def test_png_per_case_and_a_pdf_with_a_summary_page(tmp_path: Path) -> None:
    ct, mask, affine = _marked_ras()
    empty = np.zeros_like(mask)
    reviews = [write_case_review(ct, m, affine, ReviewMeta(cid, "D", "mome_ro.tiny 0.2", "ab" * 32, note),
                                 tmp_path / f"{cid}.png")
               for cid, m, note in (("p1", mask, "<PSA> 8"), ("p2", empty, None))]

    pdf = write_batch_pdf(reviews, tmp_path / "review.pdf")

    assert all(r.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for r in reviews)
    assert reviews[0].volume_ml > 0 and reviews[1].volume_ml == 0
    assert pdf.read_bytes().count(b"/Type /Page\n") + pdf.read_bytes().count(b"/Type /Page ") == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p1.png", "p2.png", "review.pdf"]  # no temp files left


def test_mismatched_volumes_are_refused(tmp_path: Path) -> None:
    ct, mask, affine = _marked_ras()

    with pytest.raises(ValueError, match="one grid"):
        write_case_review(ct, mask[:-1], affine, ReviewMeta("p", "D", "m"), tmp_path / "p.png")


@pytest.fixture(scope="module")
def nnunet_mha(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An nnU-Net v2 .mha dataset (the fixture's own dataset.json, no notes) and an untrained tiny model."""
    from models.data.image_io import load_image, save_image
    from models.data.synthetic import generate_center
    from models.registry import create_model
    from models.weights import save_model_dir

    base = tmp_path_factory.mktemp("review")
    master = generate_center("D", 2, base / "D", seed=5, scale=0.4, spacing_override=(3.0, 3.0, 4.0))
    root = Path(shutil.copytree(FIXTURES / "nnunetv2_mha", base / "Dataset502"))
    for entry in json.loads((master / "dataset.json").read_text())["training"]:
        for key, target in (("image", f"imagesTr/{entry['id']}_0000.mha"), ("label", f"labelsTr/{entry['id']}.mha")):
            (root / target).parent.mkdir(exist_ok=True)
            save_image(load_image(master / entry[key]), root / target)
    net, spec = create_model("mome_ro.tiny", centers=("D",))
    save_model_dir(net, spec, base / "model", version="0.1")
    return root, base / "model"


def test_predict_on_an_nnunet_dataset_names_masks_like_its_labels_and_writes_review_sheets(
    nnunet_mha: tuple[Path, Path], tmp_path: Path
) -> None:
    from site_agent.cli import app

    data, model = nnunet_mha
    out = tmp_path / "pred"

    res = CliRunner().invoke(app, ["predict", "--model", str(model), "--data", str(data), "--out", str(out),
                                   "--force", "--json"])

    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    labels = sorted(p.name for p in (data / "labelsTr").iterdir())
    assert sorted(Path(w).name for w in report["written"]) == labels == sorted(
        p.name for p in out.iterdir() if p.is_file())  # nnU-Net's evaluate_folder pairs them by name
    assert sorted(Path(p).name for p in report["review"]["pngs"]) == ["d001.png", "d002.png"]
    assert (out / "review" / "review.pdf").is_file()


def test_no_review_writes_masks_only(nnunet_mha: tuple[Path, Path], tmp_path: Path) -> None:
    from site_agent.cli import app

    data, model = nnunet_mha

    res = CliRunner().invoke(app, ["predict", "--model", str(model), "--data", str(data), "--out", str(tmp_path),
                                   "--force", "--no-review", "--json"])

    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["review"] is None and not (tmp_path / "review").exists()
