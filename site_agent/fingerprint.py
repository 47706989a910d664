"""``site-agent fingerprint``: the site's aggregate fingerprint (scanner, spacing, clinical mix).

Only aggregates: scanner tags, median voxel spacing and slice thickness from NIfTI headers
(no voxel data is read), NCCN risk-group and treatment-intent shares and the case count.
No case id, note or per-patient value is part of it. It is sent only with ``--send``; the
hub takes a site's fingerprint in ``POST /v1/recommendations`` (storing a center's
fingerprint is an operator action), so ``--send`` asks for a recommendation and shows it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from models.data.clinical import ClinicalNote, RiskGroup, intermediate_unfavourable, nccn_risk_group, read_note
from models.data.dataset import load_dataset
from protocols.fingerprint import ClinicalMix, NccnRiskGroup, ScannerInfo, SiteFingerprint, TreatmentIntent
from protocols.hub_api import RecommendationRequest, RecommendationResponse
from site_agent.config import WorkdirOpt, load_config, resolve_workdir, site_token
from site_agent.console import console, emit_json, expected_errors
from site_agent.hub_client import HubClient
from site_agent.options import DataOpt, JsonOpt

SIDECAR = "scanner.json"
_INTENTS = {"definitive": TreatmentIntent.DEFINITIVE, "postoperative": TreatmentIntent.ADJUVANT,
            "adjuvant": TreatmentIntent.ADJUVANT, "salvage": TreatmentIntent.SALVAGE,
            "palliative": TreatmentIntent.PALLIATIVE}


@dataclass
class FingerprintResult:
    fingerprint: SiteFingerprint
    notes_not_parsed: int
    intents_unknown: int
    risk_unknown: int = 0  # usable notes whose fields cannot decide the risk group (the wire has no 'unknown')


def nccn_group(note: ClinicalNote) -> NccnRiskGroup | None:
    """The wire risk group, ``None`` when the note's fields cannot decide it; the note's intermediate group
    is split (NCCN: unfavourable = grade group 3 or two or more of T2b-c, grade group 2-3, PSA 10-20)."""
    group = nccn_risk_group(note)
    if group is RiskGroup.UNKNOWN:
        return None
    if group is not RiskGroup.INTERMEDIATE:
        return NccnRiskGroup(group.value)
    unfavourable = intermediate_unfavourable(note)
    if unfavourable is None:
        return None
    return NccnRiskGroup.UNFAVORABLE_INTERMEDIATE if unfavourable else NccnRiskGroup.FAVORABLE_INTERMEDIATE


def _shares(counts: Counter) -> dict:
    total = sum(counts.values())
    return {k: round(v / total, 4) for k, v in sorted(counts.items())} if total else {}


def _scanner(data: Path, dataset_scanner: dict | None) -> ScannerInfo | None:
    sidecar = data / SIDECAR
    tags = json.loads(sidecar.read_text()) if sidecar.is_file() else dataset_scanner
    if not tags or not tags.get("manufacturer"):
        return None
    try:
        return ScannerInfo(**{k: tags.get(k) for k in ("manufacturer", "model", "kvp", "filter")})
    except ValueError as exc:
        raise ValueError(f"{sidecar if sidecar.is_file() else data / 'dataset.json'}: scanner tags are invalid "
                         f"({exc.errors()[0]['msg'] if hasattr(exc, 'errors') else exc})") from None


def _spacing_ras(path: Path) -> tuple[float, float, float]:
    """Voxel spacing along the canonical (RAS) axes, from the header alone."""
    import nibabel as nib

    from models.data.image_io import load_image

    img = load_image(path)  # NIfTI (header only), .mha or .nrrd
    zooms = img.header.get_zooms()[:3]
    ornt = nib.orientations.io_orientation(img.affine)
    out = [0.0, 0.0, 0.0]
    for axis, (ras_axis, _) in enumerate(ornt):
        out[int(ras_axis)] = float(zooms[axis])
    return out[0], out[1], out[2]


def compute_fingerprint(data: Path) -> FingerprintResult:
    """Aggregate fingerprint of the dataset folder ``data``."""
    import numpy as np

    ds = load_dataset(data)
    if not ds.cases:
        raise ValueError(f"{data}: the dataset has no cases to fingerprint")
    spacings = np.array([_spacing_ras(c.image) for c in ds.cases])
    risks, intents, bad, unknown = Counter(), Counter(), 0, 0
    for case in ds.cases:
        reading = read_note(case.clinical)
        group = nccn_group(reading.note) if reading.usable else None
        if group is not None:
            risks[group.value] += 1
        bad, unknown = bad + (not reading.usable), unknown + (reading.usable and group is None)
        if case.intent and case.intent.lower() in _INTENTS:
            intents[_INTENTS[case.intent.lower()].value] += 1
    median = tuple(round(float(v), 3) for v in np.median(spacings, axis=0))
    fp = SiteFingerprint(scanner=_scanner(Path(data), ds.scanner), voxel_spacing_mm=median,
                         slice_thickness_mm=median[2],
                         clinical_mix=ClinicalMix(risk_groups=_shares(risks), treatment_intent=_shares(intents)),
                         case_count=len(ds.cases))
    return FingerprintResult(fp, bad, len(ds.cases) - sum(intents.values()), unknown)


def show_recommendation(rec: RecommendationResponse, local_best: str | None = None) -> None:
    table = Table(title=f"hub recommendation for {rec.model_version} (evidence: "
                        f"{', '.join(e.value for e in rec.evidence_used) or 'none'})")
    for col in ("rank", "router", "score", "why"):
        table.add_column(col, overflow="fold")
    for r in rec.routers:
        mark = " (local best)" if r.center == local_best else ""
        table.add_row(str(r.rank), f"{r.center}{mark}", f"{r.score:.3f}", "; ".join(r.reasons))
    console.print(table)
    for note in rec.notes:
        console.print(f"note: {note}", highlight=False)


def fingerprint_command(
    data: DataOpt,
    send: Annotated[bool, typer.Option("--send", help="Send the fingerprint to the hub (as a recommendation "
                                                      "request) and show the routers it recommends.")] = False,
    workdir: WorkdirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Compute the site's aggregate fingerprint (never per-patient data); print it; send only with --send."""
    with expected_errors():
        result = compute_fingerprint(data)
        rec = None
        if send:
            config = load_config(resolve_workdir(workdir))
            with HubClient(config.hub_url, site_token(config)) as client:
                rec = client.recommend(RecommendationRequest(fingerprint=result.fingerprint))
    fp = result.fingerprint.model_dump(mode="json")
    if json_output:
        emit_json({"fingerprint": fp, "sent": send,
                   "recommendation": rec.model_dump(mode="json") if rec else None,
                   "left_out": {"notes_missing_or_unusable": result.notes_not_parsed,
                                "risk_group_unknown": result.risk_unknown,
                                "intent_unknown": result.intents_unknown}})
        return
    console.print_json(json.dumps(fp))
    if result.notes_not_parsed or result.intents_unknown or result.risk_unknown:
        console.print(f"left out of the shares: {result.notes_not_parsed} missing or unusable notes, "
                      f"{result.risk_unknown} notes whose risk group is unknown, "
                      f"{result.intents_unknown} cases without a known intent", highlight=False)
    if rec is None:
        console.print("nothing was sent; pass --send to ask the hub which routers fit this fingerprint",
                      highlight=False)
    else:
        show_recommendation(rec)
