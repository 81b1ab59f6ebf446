"""The one-way import rule (DESIGN §11): `server` imports `cohort`, never the reverse, and
the domain never imports gRPC — so `python -m cohort` and notebooks work without it. Only
the generated stubs under cohort/v1 (transport code kept at the package path protoc
names) may import grpc."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import importlib, pkgutil, sys
import cohort
names = [m.name for m in pkgutil.walk_packages(cohort.__path__, "cohort.")
         if not m.name.startswith("cohort.v1") and not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("grpc", "server"))
print(len(names), leaked)
sys.exit(1 if leaked else 0)
"""


def test_no_cohort_module_imports_grpc_or_server() -> None:
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    count = int(result.stdout.split()[0])
    assert count > 30  # every module was imported, not just the package
