"""SubmitTrialData end to end: proto rows -> validation -> SQLite store, over a real channel."""

from __future__ import annotations

from pathlib import Path

import grpc
import pandas as pd
import pytest

from cohort.store import Store
from cohort.v1 import cohort_service_pb2 as pb
from server.client import CohortClient
from tests.server_harness import arm, client_for, failure


@pytest.fixture
def client(tmp_path: Path):
    with client_for(tmp_path) as c:
        yield c


def _store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "home" / "store.sqlite")


def _full_submission() -> dict:
    return dict(
        arms=[arm("t-arm-1"), arm("t-arm-2", flu_mg_m2_day=0.0, flu_days=0, anti_cd52=1,
                                  cell_source="allogeneic", n_gvhd_any=1),
              arm("t-arm-3", peak_median=2.5e4, peak_unit="copies/ug", tmax_median_days=9.0)],
        kinetic_strata=[pb.KineticStratumRow(arm_id="t-arm-3", stratum_kind="response",
                                             stratum="CR", response_group="responder", n=5,
                                             peak_median=4.0e4, peak_unit="copies/ug")],
        patients=[pb.PatientRow(patient_id="p1", arm_id="t-arm-1", age_years=61.0,
                                best_response="CR", crs_grade=2, neut_g3=1, peak=300.0,
                                peak_unit="cells/uL"),
                  pb.PatientRow(patient_id="p2", arm_id="t-arm-1", best_response="PD")],
        patient_kinetics=[pb.PatientKineticsRow(patient_id="p1", day=d, value=v, unit="cells/uL")
                          for d, v in ((7, 120.0), (14, 300.0), (28, 15.0))])


def test_submit_round_trip(client: CohortClient, tmp_path: Path) -> None:
    answer = client.submit_trial_data("req-1", **_full_submission())
    assert answer.submission_seq == 1 and not answer.replayed
    assert len(answer.sha256) == 64 and answer.research_use_notice
    assert answer.row_counts == pb.TableRowCounts(arm_count=3, kinetic_stratum_count=1,
                                                  patient_count=2, patient_kinetics_count=3)
    with _store(tmp_path) as store:
        [entry] = store.ledger()
        arms = store.dataset().arms.set_index("arm_id")
    assert (entry.seq, entry.sha256) == (1, answer.sha256)
    assert answer.create_time.ToDatetime().isoformat().startswith(entry.created_at[:19])
    # unset optional = unknown (NA), an explicit 0 stays 0: the two never merge
    assert pd.isna(arms.loc["t-arm-1", "benda_mg_m2_day"])
    assert arms.loc["t-arm-2", "flu_mg_m2_day"] == 0.0
    assert pd.isna(arms.loc["t-arm-1", "anti_cd52"]) and arms.loc["t-arm-2", "anti_cd52"] == 1


def test_proto_rows_hash_like_csv_text(client: CohortClient, tmp_path: Path) -> None:
    """Rows sent as typed messages store the same canonical payload as the CSV path."""
    answer = client.submit_trial_data("req-csv", arms=[arm("t-arm-9", n_efficacy=18)])
    text = {"arm_id": "t-arm-9", "trial": "TEST-1", "product": "testcel", "target": "CD19",
            "costim": "4-1BB", "cell_source": "autologous", "cell_type": "CAR-T",
            "disease": "LBCL", "flu_mg_m2_day": "30", "flu_days": "3", "cy_mg_m2_day": "500",
            "cy_days": "3", "n_treated": "20", "n_efficacy": "18", "n_orr": "12", "n_cr": "8",
            "n_crs_any": "10", "n_crs_g3": "2"}
    with Store.open(tmp_path / "csv.sqlite") as store:
        receipt = store.submit("req-csv", {"arms": pd.DataFrame([text], dtype=str)})
    assert receipt.entry.sha256 == answer.sha256


def test_same_request_id_twice_is_one_submission(client: CohortClient, tmp_path: Path) -> None:
    first = client.submit_trial_data("req-1", arms=[arm("t-arm-1")])
    again = client.submit_trial_data("req-1", arms=[arm("t-arm-1")])
    assert again.replayed and not first.replayed
    assert (again.submission_seq, again.sha256, again.create_time) == (
        first.submission_seq, first.sha256, first.create_time)
    with _store(tmp_path) as store:
        assert len(store.ledger()) == 1


def test_same_request_id_other_payload_is_already_exists(client: CohortClient,
                                                         tmp_path: Path) -> None:
    client.submit_trial_data("req-1", arms=[arm("t-arm-1")])
    error = failure(client.submit_trial_data, "req-1", arms=[arm("t-arm-1", n_cr=9)])
    assert (error.code, error.reason) == (grpc.StatusCode.ALREADY_EXISTS, "CONFLICT")
    with _store(tmp_path) as store:
        assert len(store.ledger()) == 1


def test_bad_cells_name_request_fields_and_store_nothing(client: CohortClient,
                                                         tmp_path: Path) -> None:
    arms = [arm("t-arm-1"), arm("t-arm-2", disease="Lymphoma"), arm("t-arm-3", n_cr=13)]
    patients = [pb.PatientRow(patient_id="p1", arm_id="t-arm-1", crs_grade=5)]
    error = failure(client.submit_trial_data, "req-bad", arms=arms, patients=patients)
    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")
    fields = dict(error.field_violations)
    # every bad cell at once, as 0-based paths into the request
    assert set(fields) == {"arms[1].disease", "arms[2].n_cr", "patients[0].crs_grade"}
    assert fields["arms[2].n_cr"].startswith("'13': must be <= n_orr")
    assert error.metadata["violation_count"] == "3"
    with _store(tmp_path) as store:
        assert store.ledger() == []


def test_request_level_violations(client: CohortClient) -> None:
    missing_id = failure(client.submit_trial_data, "", arms=[arm("t-arm-1")])
    assert [f for f, _ in missing_id.field_violations] == ["request_id"]
    empty = failure(client.submit_trial_data, "req-empty")
    assert empty.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in empty.field_violations] == ["tables"]


def test_thousands_of_violations_stay_within_trailer_limits(client: CohortClient) -> None:
    """Unbounded details would exceed the client's 16 KiB trailer limit and arrive as a bare
    RESOURCE_EXHAUSTED; the first violations are listed and the total counted instead."""
    arms = [arm(f"t-arm-{i}", n_cr=99, disease="?" * (5000 if i == 0 else 1))
            for i in range(600)]
    error = failure(client.submit_trial_data, "req-many", arms=arms)
    assert error.code is grpc.StatusCode.INVALID_ARGUMENT
    assert int(error.metadata["violation_count"]) >= 1200  # n_cr and disease in every row
    listed = len(error.field_violations)
    assert 10 <= listed <= 50 and f"first {listed} listed" in error.message
    assert error.field_violations[0][0] == "arms[0].disease"
