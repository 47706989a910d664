"""Device choice. NVML is faked at the module edge (``sys.modules['pynvml']``)."""

from __future__ import annotations

import sys
import types

import pytest
import torch

from models import device as dev
from models.device import DeviceChoice, GpuInfo, gpu_inventory, pick_device

GIB = 1 << 30


class NVMLError(Exception):
    pass


class NVMLLibraryNotFound(NVMLError):
    pass


def fake_nvml(gpus, *, init_fails=False, util_fails=()):
    """A pynvml stand-in; ``gpus`` is a list of (name, free GiB, total GiB, util %)."""
    m = types.ModuleType("pynvml")
    m.NVMLError = NVMLError
    m.calls = {"init": 0, "shutdown": 0}

    def nvmlInit():
        if init_fails:
            raise NVMLLibraryNotFound("NVML Shared Library Not Found")
        m.calls["init"] += 1

    def nvmlShutdown():
        m.calls["shutdown"] += 1

    def handle(i):
        if not 0 <= i < len(gpus):
            raise NVMLError("Invalid Argument")
        return i

    def util(h):
        if h in util_fails:
            raise NVMLError("Not Supported")
        return types.SimpleNamespace(gpu=gpus[h][3], memory=0)

    m.nvmlInit = nvmlInit
    m.nvmlShutdown = nvmlShutdown
    m.nvmlDeviceGetCount = lambda: len(gpus)
    m.nvmlDeviceGetHandleByIndex = handle
    m.nvmlDeviceGetName = lambda h: gpus[h][0]
    m.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(
        free=int(gpus[h][1] * GIB), total=int(gpus[h][2] * GIB), used=0
    )
    m.nvmlDeviceGetUtilizationRates = util
    return m


THREE = [
    ("NVIDIA A100-SXM4-80GB", 10.0, 80.0, 95),
    (b"NVIDIA H100 80GB HBM3", 70.0, 80.0, 3),  # old nvidia-ml-py returns bytes
    ("NVIDIA L4", 20.5, 22.5, 40),
]


@pytest.fixture
def cuda(monkeypatch):
    """Pretend CUDA works with ``n`` devices; returns a setter."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)

    def set_count(n):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: n)

    return set_count


# --- this CPU machine ---------------------------------------------------------------


def test_real_machine_without_cuda_picks_cpu_with_reason():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    choice = pick_device()
    assert choice.torch_device == "cpu"
    assert not choice.is_cuda
    assert choice.description.startswith("cpu (") and choice.description.endswith(")")
    assert len(choice.description) > len("cpu ()")


def test_real_requesting_cuda_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match=r"'cuda' was requested but CUDA is not available"):
        pick_device("cuda")
    with pytest.raises(ValueError, match="use 'cpu'"):
        pick_device("cuda:0")


def test_real_gpu_inventory_never_raises():
    inv = gpu_inventory()
    assert isinstance(inv, list)
    assert all(isinstance(g, GpuInfo) for g in inv)


# --- reasons for the CPU ----------------------------------------------------------------


def test_cpu_reason_cpu_only_torch_build(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", None)
    assert pick_device() == DeviceChoice("cpu", "cpu (CUDA not available in this torch build)")


def test_cpu_reason_no_driver(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml([], init_fails=True))
    assert pick_device().description == "cpu (no NVIDIA driver found)"


def test_cpu_reason_hidden_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(THREE))
    assert "CUDA_VISIBLE_DEVICES is empty" in pick_device().description


# --- explicit requests --------------------------------------------------------------------


def test_request_cpu_and_unknown_names(monkeypatch):
    assert pick_device("cpu") == DeviceChoice("cpu", "cpu (requested)")
    assert pick_device(" CPU ").torch_device == "cpu"
    for bad in ("gpu", "cuda:", "cuda:x", "cpu:0", "mps", "cuda:-1"):
        with pytest.raises(ValueError, match="use 'cpu', 'cuda' or 'cuda:N'"):
            pick_device(bad)


def test_request_cuda_index_out_of_range(cuda, monkeypatch):
    cuda(2)
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(THREE[:2]))
    with pytest.raises(ValueError, match=r"only 2 CUDA device\(s\) are visible \(cuda:0 to cuda:1\)"):
        pick_device("cuda:2")


def test_request_cuda_index_describes_that_gpu(cuda, monkeypatch):
    cuda(3)
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(THREE))
    choice = pick_device("cuda:2")
    assert choice == DeviceChoice("cuda:2", "cuda:2 NVIDIA L4 (20.5 GiB free of 22.5 GiB)")
    assert choice.is_cuda


def test_request_bare_cuda_takes_the_freest_gpu(cuda, monkeypatch):
    cuda(3)
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(THREE))
    assert pick_device("CUDA").torch_device == "cuda:1"


# --- automatic choice with NVML ------------------------------------------------------------


def test_auto_picks_most_free_memory(cuda, monkeypatch):
    cuda(3)
    nvml = fake_nvml(THREE)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    choice = pick_device()
    assert choice == DeviceChoice("cuda:1", "cuda:1 NVIDIA H100 80GB HBM3 (70.0 GiB free of 80.0 GiB)")
    assert nvml.calls["init"] == nvml.calls["shutdown"] == 1


def test_auto_maps_nvml_index_through_cuda_visible_devices(cuda, monkeypatch):
    # torch sees NVML GPUs 2 and 0 as cuda:0 and cuda:1; the H100 (NVML 1) is hidden.
    cuda(2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,0")
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(THREE))
    assert pick_device() == DeviceChoice("cuda:0", "cuda:0 NVIDIA L4 (20.5 GiB free of 22.5 GiB)")
    assert pick_device("cuda:1").description == ("cuda:1 NVIDIA A100-SXM4-80GB (10.0 GiB free of 80.0 GiB)")


def test_ties_go_to_the_lowest_index(cuda, monkeypatch):
    cuda(3)
    same = [("G0", 5.0, 8.0, 0), ("G1", 7.0, 8.0, 0), ("G2", 7.0, 8.0, 0)]
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(same))
    assert pick_device().torch_device == "cuda:1"


def fake_torch_memory(monkeypatch, free_gib):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda i: (int(free_gib[i] * GIB), int(40 * GIB)))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: f"Torch GPU {i}")


def test_falls_back_to_torch_when_nvml_fails(cuda, monkeypatch):
    cuda(3)
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(THREE, init_fails=True))
    fake_torch_memory(monkeypatch, [1.0, 2.0, 30.0])
    assert pick_device() == DeviceChoice("cuda:2", "cuda:2 Torch GPU 2 (30.0 GiB free of 40.0 GiB)")


def test_falls_back_to_torch_for_uuid_visible_devices(cuda, monkeypatch):
    cuda(2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-3f2a,GPU-77c1")
    nvml = fake_nvml(THREE)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    fake_torch_memory(monkeypatch, [12.0, 3.0])
    assert pick_device().torch_device == "cuda:0"
    assert nvml.calls["init"] == 0  # NVML indices cannot be mapped: not asked


def test_falls_back_to_torch_when_nvml_index_is_missing(cuda, monkeypatch):
    cuda(2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,7")  # NVML has no GPU 7
    nvml = fake_nvml(THREE)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    fake_torch_memory(monkeypatch, [1.0, 9.0])
    assert pick_device().torch_device == "cuda:1"
    assert nvml.calls["init"] == nvml.calls["shutdown"]


# --- inventory ----------------------------------------------------------------------------


def test_gpu_inventory_lists_every_nvml_gpu(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")  # inventory is machine-wide
    nvml = fake_nvml(THREE, util_fails={2})
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    inv = gpu_inventory()
    assert inv == [
        GpuInfo(0, "NVIDIA A100-SXM4-80GB", 10 * GIB, 80 * GIB, 95),
        GpuInfo(1, "NVIDIA H100 80GB HBM3", 70 * GIB, 80 * GIB, 3),
        GpuInfo(2, "NVIDIA L4", int(20.5 * GIB), int(22.5 * GIB), None),
    ]
    assert nvml.calls["init"] == nvml.calls["shutdown"] == 1


def test_gpu_inventory_without_driver_or_module(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(THREE, init_fails=True))
    assert gpu_inventory() == []
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml -> ImportError
    assert gpu_inventory() == []
    assert dev._import_pynvml() is None
