"""What a benchmark ran on: the machine, library versions, and the devices JAX sees.

The device probe runs in the worker process (it initialises JAX backends); the rest is
read without importing any measured library.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from cohort.versions import code_version, installed_version, library_versions

GPU_PLATFORMS = ("cuda", "rocm", "oneapi", "gpu")


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def machine() -> dict[str, Any]:
    """Host facts, with the load average: other work on the machine skews every figure."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"host": platform.node(), "os": platform.platform(),
            "python": platform.python_version(), "cpu_model": _cpu_model(),
            "cpu_count": os.cpu_count() or 0, "memory_bytes": _memory_bytes(),
            "load_average_1m_at_start": None if load is None else load[0]}


def versions() -> dict[str, str | None]:
    return {**code_version(), **library_versions(), "grpcio": installed_version("grpcio")}


def probe_devices() -> dict[str, Any]:
    """{"cpu": ..., "gpu": ...}: each kind's JAX platform name, device kind and count, or
    why it is absent. Initialises JAX: call it in a throwaway process."""
    from jax.extend.backend import backends

    found: dict[str, Any] = {}
    errors = []
    try:
        clients = backends()
    except RuntimeError as error:  # e.g. JAX_PLATFORMS names a platform that is not there
        clients, errors = {}, [str(error)]
    for name, client in clients.items():
        devices = client.devices()
        kind = "gpu" if name in GPU_PLATFORMS else name
        found.setdefault(kind, {"status": "available", "platform": name,
                                "kind": devices[0].device_kind, "count": len(devices)})
    limit = os.environ.get("JAX_PLATFORMS")
    reason = "JAX sees no such device" + (f" (JAX_PLATFORMS={limit})" if limit else "")
    for kind in ("cpu", "gpu"):
        found.setdefault(kind, {"status": "not available",
                                "reason": "; ".join([reason, *errors])})
    return found
