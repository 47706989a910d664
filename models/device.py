"""Which torch device to run on, and what GPUs the machine has.

``pick_device()`` takes the GPU with the most free memory (NVIDIA NVML, through the
``pynvml`` module of nvidia-ml-py) or the CPU, and says why in one line.
``gpu_inventory()`` lists the GPUs NVML sees, for a ``doctor`` command; it never raises.

NVML numbers GPUs in PCI bus order over the whole machine; torch numbers the GPUs that
``CUDA_VISIBLE_DEVICES`` leaves visible. When that variable is a list of integers, torch
index ``i`` is NVML index ``CUDA_VISIBLE_DEVICES[i]``; unset, the two are taken to agree
(CUDA's default FASTEST_FIRST order equals PCI order on machines with one GPU model; set
``CUDA_DEVICE_ORDER=PCI_BUS_ID`` on mixed machines). When the variable holds UUIDs or MIG
names, or NVML fails, free memory comes from ``torch.cuda.mem_get_info`` instead.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["DeviceChoice", "GpuInfo", "gpu_inventory", "pick_device"]

_GIB = float(1 << 30)


@dataclass(frozen=True)
class DeviceChoice:
    """A torch device string ('cpu', 'cuda:1') and one line saying what it is or why."""

    torch_device: str
    description: str

    @property
    def is_cuda(self) -> bool:
        return self.torch_device.startswith("cuda")


@dataclass(frozen=True)
class GpuInfo:
    """One GPU as NVML sees it; ``index`` is the NVML (PCI order, machine-wide) index."""

    index: int
    name: str
    free_bytes: int
    total_bytes: int
    utilization_percent: int | None


def _import_pynvml() -> Any | None:
    try:
        import pynvml  # nvidia-ml-py
    except ImportError:
        return None
    return pynvml


def _decode(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _nvml_query(pynvml: Any, nvml_index: int) -> GpuInfo:
    handle = pynvml.nvmlDeviceGetHandleByIndex(nvml_index)
    mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
    try:
        util: int | None = int(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
    except pynvml.NVMLError:  # e.g. MIG instances do not report utilisation
        util = None
    return GpuInfo(
        index=nvml_index,
        name=_decode(pynvml.nvmlDeviceGetName(handle)),
        free_bytes=int(mem.free),
        total_bytes=int(mem.total),
        utilization_percent=util,
    )


def gpu_inventory() -> list[GpuInfo]:
    """Every GPU NVML reports, by NVML index; ``[]`` without a driver, never an exception."""
    pynvml = _import_pynvml()
    if pynvml is None:
        return []
    try:
        pynvml.nvmlInit()
    except Exception:  # NVMLError_LibraryNotFound, _DriverNotLoaded, ...
        return []
    try:
        return [_nvml_query(pynvml, i) for i in range(int(pynvml.nvmlDeviceGetCount()))]
    except Exception:
        return []
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()


def _visible_nvml_indices(n_torch: int) -> list[int] | None:
    """NVML index of each torch CUDA index, or None when it cannot be told from the env."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is None:
        return list(range(n_torch))
    entries = [e.strip() for e in env.split(",") if e.strip()]
    if not all(re.fullmatch(r"\d+", e) for e in entries):
        return None  # UUIDs ("GPU-...") or MIG names: no integer mapping
    indices = [int(e) for e in entries]
    if len(indices) < n_torch:
        return None
    return indices[:n_torch]


def _cuda_candidates(only: int | None = None) -> list[tuple[int, str, int, int]]:
    """(torch index, name, free bytes, total bytes) of each visible CUDA device.

    ``only`` restricts the query to one torch index (the torch fallback opens a CUDA
    context on every device it asks, so ask only the one needed).
    """
    n = torch.cuda.device_count()
    wanted = range(n) if only is None else [only]
    mapping = _visible_nvml_indices(n)
    pynvml = _import_pynvml()
    if mapping is not None and pynvml is not None:
        try:
            pynvml.nvmlInit()
        except Exception:
            pass
        else:
            try:
                out = []
                for torch_idx in wanted:
                    info = _nvml_query(pynvml, mapping[torch_idx])
                    out.append((torch_idx, info.name, info.free_bytes, info.total_bytes))
                return out
            except Exception:
                pass  # fall through to torch
            finally:
                with contextlib.suppress(Exception):
                    pynvml.nvmlShutdown()
    out = []
    for i in wanted:
        free, total = torch.cuda.mem_get_info(i)
        out.append((i, torch.cuda.get_device_name(i), int(free), int(total)))
    return out


def _describe(idx: int, name: str, free: int, total: int) -> str:
    return f"cuda:{idx} {name} ({free / _GIB:.1f} GiB free of {total / _GIB:.1f} GiB)"


def _cpu_reason() -> str:
    """Why CUDA cannot be used, as a short phrase."""
    if torch.version.cuda is None:
        return "CUDA not available in this torch build"
    if (
        os.environ.get("CUDA_VISIBLE_DEVICES", None) is not None
        and not os.environ["CUDA_VISIBLE_DEVICES"].strip()
    ):
        return "CUDA_VISIBLE_DEVICES is empty, so no GPU is visible"
    pynvml = _import_pynvml()
    if pynvml is not None:
        try:
            pynvml.nvmlInit()
        except Exception:
            return "no NVIDIA driver found"
        try:
            count = int(pynvml.nvmlDeviceGetCount())
        except Exception:
            count = -1
        finally:
            with contextlib.suppress(Exception):
                pynvml.nvmlShutdown()
        if count == 0:
            return "the NVIDIA driver reports no GPU"
    return "CUDA is not available to torch"


def _pick_best() -> DeviceChoice:
    candidates = _cuda_candidates()
    if not candidates:
        return DeviceChoice("cpu", "cpu (no CUDA device visible)")
    # Most free memory wins; ties go to the lowest index.
    idx, name, free, total = max(candidates, key=lambda c: (c[2], -c[0]))
    return DeviceChoice(f"cuda:{idx}", _describe(idx, name, free, total))


_REQUEST = re.compile(r"^(cpu|cuda)(?::(\d+))?$")


def pick_device(requested: str | None = None) -> DeviceChoice:
    """The device to run on.

    ``requested`` may be ``'cpu'``, ``'cuda'`` (the visible GPU with the most free memory)
    or ``'cuda:N'`` (torch index N); it is checked and a ValueError says what is wrong.
    ``None`` picks the GPU with the most free memory when CUDA is available, else the CPU,
    with the reason in ``description``.
    """
    if requested is None:
        if torch.cuda.is_available():
            return _pick_best()
        return DeviceChoice("cpu", f"cpu ({_cpu_reason()})")

    text = str(requested).strip().lower()
    m = _REQUEST.match(text)
    if m is None or (m.group(1) == "cpu" and m.group(2) is not None):
        raise ValueError(f"Unknown device {requested!r}: use 'cpu', 'cuda' or 'cuda:N' (N = GPU index).")
    if m.group(1) == "cpu":
        return DeviceChoice("cpu", "cpu (requested)")
    if not torch.cuda.is_available():
        raise ValueError(
            f"Device {requested!r} was requested but CUDA is not available "
            f"({_cpu_reason()}); use 'cpu' or leave the device unset."
        )
    if m.group(2) is None:
        return _pick_best()
    idx = int(m.group(2))
    n = torch.cuda.device_count()
    if idx >= n:
        visible = "none" if n == 0 else ("cuda:0" if n == 1 else f"cuda:0 to cuda:{n - 1}")
        raise ValueError(
            f"Device {requested!r} was requested but only {n} CUDA device(s) are visible ({visible})."
        )
    try:
        ((_, name, free, total),) = _cuda_candidates(only=idx)
    except Exception:  # the device is valid; only its description failed
        return DeviceChoice(f"cuda:{idx}", f"cuda:{idx} (requested)")
    return DeviceChoice(f"cuda:{idx}", _describe(idx, name, free, total))


def default_thread_count() -> int:
    """Cores not already busy by the 1-minute load average, at least 1.

    On a busy 2-core machine two OpenMP threads made a 3-shot fine-tune take 968 s against
    182 s with one: threads that wait for a core cost more than they give.
    """
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:  # not available on this platform
        busy = 0.0
    return max(1, min(cores, int(cores - busy + 0.5)))


def set_torch_threads(threads: int | None = None) -> int:
    """Set torch's intra-op CPU threads (``None``: ``default_thread_count()``); returns the number set."""
    n = default_thread_count() if threads is None else threads
    if n < 1:
        raise ValueError(f"threads must be at least 1, got {n}")
    torch.set_num_threads(n)
    return n
