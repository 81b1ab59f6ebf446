"""The committed generated code matches the proto, and the proto keeps its conventions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf.descriptor import FieldDescriptor

from cohort.contract import TABLES
from cohort.v1 import cohort_service_pb2 as pb
from server import codegen

COMMITTED = codegen.ROOT / codegen.PACKAGE_DIR
ROWS = {"arms": pb.ArmRow, "kinetic_strata": pb.KineticStratumRow, "patients": pb.PatientRow,
        "patient_kinetics": pb.PatientKineticsRow}
KINDS = {"text": {FieldDescriptor.TYPE_STRING},
         "int": {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64},
         "float": {FieldDescriptor.TYPE_DOUBLE}}


def test_regeneration_gives_no_diff(tmp_path: Path) -> None:
    generated = codegen.generate(tmp_path)
    names = sorted(p.name for p in generated)
    assert names == sorted(p.name for p in COMMITTED.iterdir() if p.suffix in (".py", ".pyi"))
    for path in generated:
        assert path.read_bytes() == (COMMITTED / path.name).read_bytes(), (
            f"{path.name} is stale: run python -m server.codegen")


def test_generated_import_is_the_package_path() -> None:
    text = (COMMITTED / "cohort_service_pb2_grpc.py").read_text()
    assert "from cohort.v1 import cohort_service_pb2 as" in text


@pytest.mark.parametrize("table", sorted(TABLES))
def test_row_messages_mirror_the_contract(table: str) -> None:
    fields = ROWS[table].DESCRIPTOR.fields
    assert [f.name for f in fields] == list(TABLES[table].names)
    for field, column in zip(fields, TABLES[table].columns, strict=True):
        assert field.type in KINDS[column.kind], field.name
        # a number that may be unknown must be able to say so (unset != 0)
        assert field.has_presence == (column.kind != "text"), field.name


def test_every_response_carries_version_and_notice() -> None:
    for method in pb.DESCRIPTOR.services_by_name["CohortService"].methods:
        fields = method.output_type.fields_by_name
        assert {"model_version", "research_use_notice"} <= set(fields), method.name
        assert method.input_type.name == f"{method.name}Request"
        assert method.output_type.name == f"{method.name}Response"


def test_enums_start_unspecified() -> None:
    for enum in pb.DESCRIPTOR.enum_types_by_name.values():
        zero = enum.values_by_number[0].name
        assert zero.endswith("_UNSPECIFIED"), enum.name


def test_optional_where_unknown_differs_from_zero() -> None:
    regimen = pb.LymphodepletionRegimen.DESCRIPTOR.fields
    assert all(f.has_presence for f in regimen)
    spec = pb.CohortSpec()
    assert not spec.HasField("new_trial")  # unset means true: the honest default


def test_domain_package_never_imports_grpc() -> None:
    code = ("import sys, cohort.store, cohort.snapshot, cohort.versions, cohort.validation, "
            "cohort.refit; sys.exit('grpc' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
