"""Synthetic multi-center pelvic CT: anatomy in HU, center presets (scanner, clinical mix,
delineation policy) held as JSON, and a writer for the dataset.json contract."""

from models.data.synthetic.generator import DEFAULT_FOV_MM, SyntheticCase, generate_center, synthesize_case
from models.data.synthetic.presets import CenterPreset, PresetError, available_presets, load_preset

__all__ = [
    "DEFAULT_FOV_MM",
    "CenterPreset",
    "PresetError",
    "SyntheticCase",
    "available_presets",
    "generate_center",
    "load_preset",
    "synthesize_case",
]
