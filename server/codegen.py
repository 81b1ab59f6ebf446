"""Regenerate the committed gRPC modules from proto/cohort/v1/cohort_service.proto.

    python -m server.codegen            # writes cohort/v1/ in this checkout
    python -m server.codegen --out DIR  # writes DIR/cohort/v1/ (the no-diff test uses this)

The proto lives at proto/cohort/v1/ and is compiled with `-I proto`, so protoc names the
modules `cohort.v1.cohort_service_pb2*` and the absolute import inside the generated
`*_pb2_grpc.py` is exactly the package path `cohort.v1` (DESIGN §11, the known trap).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import google.rpc.status_pb2
import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[1]
PROTO_ROOT = ROOT / "proto"
PROTO = Path("cohort/v1/cohort_service.proto")
PACKAGE_DIR = Path("cohort/v1")
INIT_TEXT = '"""Generated gRPC code for cohort.v1 (python -m server.codegen); do not edit."""\n'


def include_paths() -> list[Path]:
    """Our protos, protobuf's well-known types (from grpc_tools) and google.rpc's (from
    googleapis-common-protos, which ships the .proto files beside its modules)."""
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    googleapis = Path(google.rpc.status_pb2.__file__).parents[2]
    return [PROTO_ROOT, well_known, googleapis]


def generate(out_root: Path) -> list[Path]:
    """Write the generated modules under `out_root`/cohort/v1 and return their paths."""
    target = out_root / PACKAGE_DIR
    target.mkdir(parents=True, exist_ok=True)
    args = ["grpc_tools.protoc", *(f"-I{path}" for path in include_paths()),
            f"--python_out={out_root}", f"--pyi_out={out_root}", f"--grpc_python_out={out_root}",
            str(PROTO_ROOT / PROTO)]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed for {PROTO}")
    (target / "__init__.py").write_text(INIT_TEXT)
    return sorted(target.glob("*.py*"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT, help="root to write cohort/v1 under")
    options = parser.parse_args(argv)
    for path in generate(options.out.resolve()):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
