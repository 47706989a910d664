"""Synthetic multi-center pelvic CT: anatomy in HU, center presets (scanner, clinical mix,
delineation policy) held as JSON, a writer for the dataset.json contract, domain randomisation
for training and a held-out renderer variant for robustness tests."""

from models.data.synthetic.generator import DEFAULT_FOV_MM, SyntheticCase, generate_center, synthesize_case
from models.data.synthetic.presets import CenterPreset, PresetError, available_presets, load_preset
from models.data.synthetic.randomization import DEFAULT_RANDOMIZATION, NO_RANDOMIZATION, DomainRandomization
from models.data.synthetic.variant import RENDERERS

__all__ = [
    "DEFAULT_FOV_MM",
    "DEFAULT_RANDOMIZATION",
    "NO_RANDOMIZATION",
    "RENDERERS",
    "CenterPreset",
    "DomainRandomization",
    "PresetError",
    "SyntheticCase",
    "available_presets",
    "generate_center",
    "load_preset",
    "synthesize_case",
]
