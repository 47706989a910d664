"""Machine description recorded with every benchmark result."""

from __future__ import annotations

import os
import platform

import torch


def machine_info() -> dict:
    """CPU, cores, torch threads and the machine's load when the benchmark ran (a busy machine is slower)."""
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()],
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
