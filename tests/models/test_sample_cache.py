"""Preprocessed cases are computed once per process and recomputed when their files change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

import models.training.samples as samples_module
from models.data.dataset import load_dataset
from models.data.synthetic import generate_center
from models.registry import get_spec


@pytest.fixture()
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    original = samples_module.load_case_arrays

    def counting(case, contract, with_label=True):
        calls.append(case.case_id)
        return original(case, contract, with_label=with_label)

    monkeypatch.setattr(samples_module, "load_case_arrays", counting)
    monkeypatch.setattr(samples_module, "_cache", type(samples_module._cache)())
    return calls


def test_a_case_is_preprocessed_once_and_again_after_its_file_changes(tmp_path: Path, counted: list[str]) -> None:
    data = generate_center("E", 2, tmp_path / "E", seed=1, scale=0.25)
    cases = load_dataset(data).training
    contract = get_spec("mome_ro.tiny").contract
    first = samples_module.load_samples(cases, contract, center="E")
    again = samples_module.load_samples(cases, contract, center="D")
    assert counted == ["e001", "e002"]
    assert [s.center for s in again] == ["D", "D"] and [s.center for s in first] == ["E", "E"]
    assert torch.equal(first[0].image, again[0].image)
    stat = cases[0].image.stat()
    os.utime(cases[0].image, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    samples_module.load_samples(cases, contract, center="E")
    assert counted == ["e001", "e002", "e001"]
    samples_module.load_samples(cases[:1], contract, center="E", with_label=False)
    assert counted[-1] == "e001" and len(counted) == 4
