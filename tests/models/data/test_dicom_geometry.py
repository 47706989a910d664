"""DICOM geometry against an independent ground truth: a phantom placed in patient millimetres (LPS), written
here as a CT series and an RT Structure Set straight from its definition; the imported NIfTI and the exported
contours must land on the same millimetres, whatever the patient position and the order of the files."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from models.data.dicom.rtstruct_read import read_structure_set, roi_mask
from models.data.dicom.rtstruct_write import mask_to_rtstruct
from models.data.dicom.scan import scan_tree
from models.data.dicom.seg_write import mask_to_seg
from models.data.dicom.series import read_series

CT, RTSTRUCT = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.481.3"
ROWS, COLS, SLICES = 48, 64, 12
ROW_SPACING, COL_SPACING, SLICE_STEP = 0.8, 1.1, 3.0  # PixelSpacing is (between rows, between columns)
ELLIPSOID_C, ELLIPSOID_AX = np.array([35.0, -20.0, 15.0]), np.array([14.0, 10.0, 12.0])
BOX_LO, BOX_HI = np.array([53.0, -27.0, 6.0]), np.array([61.0, -21.0, 24.0])
"""An ellipsoid off the centre, and a box beside it (+x, -y, shorter in z): the centroid is asymmetric in x, y, z."""
POSITIONS = {  # ImageOrientationPatient (row direction, column direction), LPS
    "head_first_supine": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "feet_first_supine": ((-1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
}


def inside(points: np.ndarray) -> np.ndarray:
    """Whether LPS points (n, 3) lie in the phantom."""
    ellipsoid = (((points - ELLIPSOID_C) / ELLIPSOID_AX) ** 2).sum(axis=1) <= 1.0
    box = np.all((points >= BOX_LO) & (points <= BOX_HI), axis=1)
    return ellipsoid | box


def true_centroid_and_volume() -> tuple[np.ndarray, float]:
    """The phantom's centroid (LPS mm) and volume (mm^3), analytically: ellipsoid and box are disjoint."""
    v_e, v_b = 4.0 / 3.0 * np.pi * np.prod(ELLIPSOID_AX), float(np.prod(BOX_HI - BOX_LO))
    return (ELLIPSOID_C * v_e + (BOX_LO + BOX_HI) / 2 * v_b) / (v_e + v_b), v_e + v_b


def grid(position: str) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Row and column direction cosines and every slice's ImagePositionPatient, centred on the phantom."""
    row_dir, col_dir = (np.array(v) for v in POSITIONS[position])
    normal = np.cross(row_dir, col_dir)
    centre = np.array([40.0, -20.0, 15.0])
    corner = centre - row_dir * COL_SPACING * (COLS - 1) / 2 - col_dir * ROW_SPACING * (ROWS - 1) / 2
    return row_dir, col_dir, [corner + normal * SLICE_STEP * (k - (SLICES - 1) / 2) for k in range(SLICES)]


def pixel_centres(row_dir: np.ndarray, col_dir: np.ndarray, ipp: np.ndarray) -> np.ndarray:
    """LPS centre of every pixel of one slice, (rows, cols, 3), by DICOM PS3.3 C.7.6.2.1.1."""
    r, c = np.meshgrid(np.arange(ROWS), np.arange(COLS), indexing="ij")
    return ipp + c[..., None] * COL_SPACING * row_dir + r[..., None] * ROW_SPACING * col_dir


def write_phantom(folder: Path, position: str, reverse_files: bool) -> dict[str, object]:
    """The phantom as a CT series (200 HU inside, 0 outside) and its RT Structure Set, from the definition."""
    row_dir, col_dir, positions = grid(position)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    order = list(range(SLICES))[::-1] if reverse_files else list(range(SLICES))
    sop_at_z: dict[float, str] = {}
    ct_dir = folder / "ct"
    ct_dir.mkdir(parents=True)
    for n, k in enumerate(order):
        ds = _base(CT, study, "CT")
        ds.SeriesInstanceUID, ds.FrameOfReferenceUID, ds.InstanceNumber = series, frame, n + 1
        ds.ImagePositionPatient = [float(v) for v in positions[k]]
        ds.ImageOrientationPatient = [*map(float, row_dir), *map(float, col_dir)]
        ds.PixelSpacing, ds.SliceThickness = [ROW_SPACING, COL_SPACING], SLICE_STEP
        ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = ROWS, COLS, 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        hu = np.where(inside(pixel_centres(row_dir, col_dir, positions[k]).reshape(-1, 3)), 200, 0)
        ds.PixelData = (hu.reshape(ROWS, COLS) + 1024).astype(np.int16).tobytes()
        ds.save_as(ct_dir / f"IM{n:03d}.dcm", enforce_file_format=True)
        sop_at_z[round(float(positions[k][2]), 3)] = ds.SOPInstanceUID
    rs = _base(RTSTRUCT, study, "RTSTRUCT")
    rs.SeriesInstanceUID = generate_uid()
    roi = Dataset()
    roi.ROINumber, roi.ROIName, roi.ReferencedFrameOfReferenceUID = 1, "PTV 7800", frame
    rs.StructureSetROISequence = Sequence([roi])
    rc = Dataset()
    rc.ReferencedROINumber, rc.ContourSequence = 1, Sequence(_phantom_contours(positions))
    rs.ROIContourSequence = Sequence([rc])
    ref = Dataset()
    ref.FrameOfReferenceUID = frame
    rs.ReferencedFrameOfReferenceSequence = Sequence([ref])
    rs.save_as(folder / "rs.dcm", enforce_file_format=True)
    return {"ct": ct_dir, "rtstruct": folder / "rs.dcm", "frame": frame, "sop_at_z": sop_at_z}


def _base(sop_class: str, study: str, modality: str) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = sop_class, generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.StudyInstanceUID, ds.PatientID, ds.PatientName = modality, study, "PHANTOM", "PHANTOM^"
    return ds


def _phantom_contours(positions: list[np.ndarray]) -> list[Dataset]:
    """Per slice: the ellipse section (72 points) and the box section, as closed planar contours in LPS mm."""
    contours = []
    for ipp in positions:
        z = float(ipp[2])
        polygons = []
        scale = 1.0 - ((z - ELLIPSOID_C[2]) / ELLIPSOID_AX[2]) ** 2
        if scale > 0:
            t = np.linspace(0, 2 * np.pi, 72, endpoint=False)
            a, b = ELLIPSOID_AX[:2] * np.sqrt(scale)
            polygons.append(np.c_[ELLIPSOID_C[0] + a * np.cos(t), ELLIPSOID_C[1] + b * np.sin(t)])
        if BOX_LO[2] <= z <= BOX_HI[2]:
            (x0, y0), (x1, y1) = BOX_LO[:2], BOX_HI[:2]
            polygons.append(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
        for poly in polygons:
            item = Dataset()
            item.ContourGeometricType, item.NumberOfContourPoints = "CLOSED_PLANAR", len(poly)
            item.ContourData = [f"{v:.4f}" for v in np.c_[poly, np.full(len(poly), z)].ravel()]
            contours.append(item)
    return contours


def lps_of_voxels(img: nib.Nifti1Image, mask: np.ndarray) -> np.ndarray:
    """LPS mm of the mask's voxels, through the NIfTI (RAS) affine."""
    ijk = np.argwhere(mask)
    ras = (img.affine @ np.c_[ijk, np.ones(len(ijk))].T)[:3].T
    return ras * [-1, -1, 1]


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * np.logical_and(a, b).sum() / (a.sum() + b.sum())


def contour_centroid_and_volume(rtstruct: Dataset) -> tuple[np.ndarray, float]:
    """Area-weighted centroid and volume (area x slice step) of axial contours, by the shoelace formula."""
    total, moment = 0.0, np.zeros(3)
    for item in rtstruct.ROIContourSequence[0].ContourSequence:
        p = np.asarray(item.ContourData, dtype=float).reshape(-1, 3)
        x, y, xn, yn = p[:, 0], p[:, 1], np.roll(p[:, 0], -1), np.roll(p[:, 1], -1)
        cross = x * yn - xn * y
        area = cross.sum() / 2
        cx, cy = ((x + xn) * cross).sum() / (6 * area), ((y + yn) * cross).sum() / (6 * area)
        total += abs(area)
        moment += abs(area) * np.array([cx, cy, p[0, 2]])
    return moment / total, total * SLICE_STEP


@pytest.fixture(params=[(p, r) for p in POSITIONS for r in (False, True)],
                ids=lambda v: f"{v[0]}-{'files_reversed' if v[1] else 'files_in_order'}")
def phantom(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, object]:
    return write_phantom(tmp_path, *request.param)


def imported(phantom: dict[str, object]):
    scan = scan_tree(phantom["ct"])[0]
    series = read_series(scan.folder, scan.ct)
    mask = roi_mask(read_structure_set(phantom["rtstruct"]), "PTV 7800", series)
    label = nib.Nifti1Image(mask.transpose(2, 1, 0).astype(np.uint8), series.affine_ras)
    return series, mask, series.to_nifti(), label


def test_imported_image_and_label_land_on_the_phantoms_millimetres(phantom: dict[str, object]) -> None:
    _, _, image, label = imported(phantom)
    truth_centroid, truth_volume = true_centroid_and_volume()
    body = np.asarray(image.dataobj) > 100
    drawn = np.asarray(label.dataobj) > 0
    voxel = abs(np.linalg.det(image.affine[:3, :3]))
    assert np.allclose(voxel, ROW_SPACING * COL_SPACING * SLICE_STEP)
    assert np.linalg.norm(lps_of_voxels(image, body).mean(axis=0) - truth_centroid) < 1.0
    assert np.linalg.norm(lps_of_voxels(label, drawn).mean(axis=0) - truth_centroid) < 1.0
    assert dice(drawn, body) >= 0.95
    assert abs(drawn.sum() * voxel - truth_volume) / truth_volume < 0.1


def test_exported_contours_land_on_the_phantom_and_reference_its_slices(phantom: dict[str, object]) -> None:
    series, mask, _, _ = imported(phantom)
    rtstruct = pydicom.dcmread(pydicom.filebase.DicomBytesIO(_to_bytes(mask_to_rtstruct(mask, series))))
    centroid, volume = contour_centroid_and_volume(rtstruct)
    truth_centroid, truth_volume = true_centroid_and_volume()
    assert np.linalg.norm(centroid - truth_centroid) < 1.0
    assert abs(volume - truth_volume) / truth_volume < 0.1
    assert rtstruct.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID == phantom["frame"]
    assert rtstruct.RTROIObservationsSequence[0].RTROIInterpretedType == "PTV"
    for item in rtstruct.ROIContourSequence[0].ContourSequence:
        z = round(float(item.ContourData[2]), 3)
        assert item.ContourImageSequence[0].ReferencedSOPInstanceUID == phantom["sop_at_z"][z]
    assert dice(roi_mask(rtstruct, "PTV_MoME", series), mask) >= 0.99


def test_exported_seg_lands_on_the_phantom(phantom: dict[str, object]) -> None:
    import highdicom as hd

    series, mask, _, _ = imported(phantom)
    seg = hd.seg.Segmentation.from_dataset(
        pydicom.dcmread(pydicom.filebase.DicomBytesIO(_to_bytes(mask_to_seg(mask, series)))))
    volume = seg.get_volume()
    ijk = np.argwhere(np.asarray(volume.array).squeeze() > 0)
    lps = (volume.affine @ np.c_[ijk, np.ones(len(ijk))].T)[:3].T
    assert np.linalg.norm(lps.mean(axis=0) - true_centroid_and_volume()[0]) < 1.0
    assert {str(i.ReferencedSOPInstanceUID) for i in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence} \
        == set(phantom["sop_at_z"].values())


def _to_bytes(ds: Dataset) -> bytes:
    buffer = pydicom.filebase.DicomBytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
