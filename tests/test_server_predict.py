"""PredictCohort, CompareCohorts, StreamVirtualPatients and SetServingModel end to end:
a real server on loopback serving the tiny fitted version (conftest), real stubs. The
answers must equal the engine's own, tagged with the version that computed them."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import numpy as np
import pytest

from cohort import RESEARCH_USE_NOTICE, versions
from cohort.home import Home
from cohort.spec import CohortSpec, parse_spec
from cohort.v1 import cohort_service_pb2 as pb
from cohort.versions import Version
from server import predictions
from server.app import create_server
from server.client import CohortClient
from server.serving import ServingModel
from server.settings import Limits, Settings
from tests.server_harness import at, derived_version, failure, loaded_model, serving

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
LIMITS = Limits(max_patient_count=5000, max_draw_count=2048, max_spec_count=200)
Code = grpc.StatusCode


def example(name: str, **changes: object) -> CohortSpec:
    raw = json.loads((EXAMPLES / name).read_text())
    return parse_spec(raw | {"draw_count": 64} | changes)


@pytest.fixture(scope="module")
def home(fitted_home: tuple[Home, Version], tmp_path_factory: pytest.TempPathFactory) -> Home:
    root = tmp_path_factory.mktemp("predict") / "home"
    shutil.copytree(fitted_home[0].root, root)
    return Home.resolve(root)


@pytest.fixture(scope="module")
def version(fitted_home: tuple[Home, Version]) -> str:
    return fitted_home[1].id


@pytest.fixture(scope="module")
def model(home: Home, version: str) -> ServingModel:
    return loaded_model(home, version)


@pytest.fixture(scope="module")
def client(home: Home, model: ServingModel) -> Iterator[CohortClient]:
    settings = Settings(home=home, address="127.0.0.1:0", limits=LIMITS)
    with serving(settings, model=model) as port, \
            CohortClient(f"127.0.0.1:{port}", timeout_seconds=60) as c:
        yield c


@pytest.fixture(scope="module")
def other(home: Home, version: str) -> str:
    """A second READY version: the same posterior draws in reverse order (other answers)."""
    base = versions.load_version(home.models_dir, version)
    return derived_version(home.models_dir, base, at(2)).id


def test_predict_equals_the_engine_and_names_its_version(client: CohortClient,
                                                         model: ServingModel,
                                                         version: str) -> None:
    specs = [example("allo_cd19_lbcl.json"), example("axicel_lbcl.json", seed=7)]
    answer = client.predict(specs)
    assert (answer.model_version, answer.notice) == (version, RESEARCH_USE_NOTICE)
    engine = model.current().engine
    assert list(answer.value) == [engine.predict(spec) for spec in specs]


def _raw_spec(**fields: object) -> pb.CohortSpec:
    base = dict(product=pb.Product(name="axicabtagene ciloleucel (axi-cel)"), disease="LBCL",
                patient_count=40, draw_count=64, seed=3)
    return pb.CohortSpec(**(base | fields))


def test_unset_ld_means_not_given_and_outcomes_are_chosen(client: CohortClient) -> None:
    zeros = pb.LymphodepletionRegimen(flu_mg_m2_day=0, flu_days=0, cy_mg_m2_day=0, cy_days=0,
                                      benda_mg_m2_day=0, benda_days=0, anti_cd52=False)
    given = pb.LymphodepletionRegimen(flu_mg_m2_day=30, flu_days=3, cy_mg_m2_day=500, cy_days=3)
    joint = pb.JointOutcome(label="ORR without CRS>=3", present=[pb.OUTCOME_ORR],
                            absent=[pb.OUTCOME_CRS_G3])
    chosen = dict(outcomes=[pb.OUTCOME_CRS_G3, pb.OUTCOME_ORR], joint_outcomes=[joint],
                  count_thresholds=[10])
    reply = client.stub.PredictCohort(pb.PredictCohortRequest(specs=[
        _raw_spec(label="unset", **chosen), _raw_spec(label="zeros", ld=zeros, **chosen),
        _raw_spec(label="given", ld=given, **chosen)]), timeout=60)
    unset, zero, flu_cy = reply.predictions
    assert [p.label for p in reply.predictions] == ["unset", "zeros", "given"]
    assert [o.outcome for o in unset.outcomes] == [pb.OUTCOME_CRS_G3, pb.OUTCOME_ORR]
    assert unset.joint_outcomes[0].joint_outcome.label == "ORR without CRS>=3"
    assert unset.outcomes[1].count_probabilities[0].at_least_patient_count == 10
    assert (unset.patient_count, unset.draw_count, unset.seed, unset.new_trial) == (40, 64, 3, True)
    assert unset.outcomes == zero.outcomes and unset.kinetics == zero.kinetics
    assert unset.outcomes != flu_cy.outcomes  # LD enters the model
    assert len(unset.kinetics.population_median_peak_quantiles) == 5


def test_compare_equals_the_engine(client: CohortClient, model: ServingModel) -> None:
    a, b = example("allo_cd19_lbcl.json"), example("allo_cd19_lbcl_benda.json")
    answer = client.compare(a, b)
    assert answer.value == model.current().engine.compare(a, b)
    same = client.compare(a, a).value
    assert all(c.difference_mean == 0 and c.prob_greater == 0 for c in same.contrasts)


def test_stream_equals_the_engine_in_bounded_batches(client: CohortClient,
                                                     model: ServingModel, version: str) -> None:
    spec = example("allo_cd19_lbcl.json", patient_count=10, count_thresholds=[])
    answers = list(client.stream_patients(spec, batch_patient_count=100, timeout_seconds=60))
    assert {a.model_version for a in answers} == {version}
    assert max(len(a.value.draw) for a in answers) == 100
    expected = list(model.current().engine.patients(spec))
    for field in expected[0]._fields:
        got = np.concatenate([getattr(a.value, field) for a in answers])
        np.testing.assert_array_equal(got, np.concatenate([getattr(b, field) for b in expected]))
    assert len(got) == 64 * 10


def test_model_version_selects_a_ready_version(client: CohortClient, other: str,
                                               version: str, home: Home) -> None:
    spec = example("axicel_lbcl.json")
    serving_answer, other_answer = client.predict([spec]), client.predict([spec], other)
    assert (serving_answer.model_version, other_answer.model_version) == (version, other)
    assert serving_answer.value != other_answer.value
    failed = derived_version(home.models_dir, versions.load_version(home.models_dir, version),
                             at(3), reverse=False, status=versions.FAILED)
    for version_id, code in (("v20260101T120000Z-00000000", Code.NOT_FOUND),
                             ("latest", Code.INVALID_ARGUMENT),
                             (failed.id, Code.INVALID_ARGUMENT)):
        error = failure(client.predict, [spec], version_id)
        assert error.code is code
        assert [f for f, _ in error.field_violations] == (
            ["model_version"] if code is Code.INVALID_ARGUMENT else [])


def test_set_serving_model_swaps_the_served_engine(client: CohortClient, other: str,
                                                   version: str, home: Home) -> None:
    spec = example("axicel_lbcl.json")
    expected = client.predict([spec], other).value
    try:
        reply = client.set_serving_model(other)
        assert (reply.model_version, reply.previous_version_id) == (other, version)
        assert versions.serving_version(home.models_dir) == other
        answer = client.predict([spec])
        assert (answer.model_version, answer.value) == (other, expected)
    finally:
        client.set_serving_model(version)
    assert client.predict([spec]).model_version == version


def _predict(**fields: object) -> pb.PredictCohortRequest:
    return pb.PredictCohortRequest(specs=[_raw_spec(), _raw_spec(**fields)])


@pytest.mark.parametrize("request_, code, fields", [
    (_predict(ld=pb.LymphodepletionRegimen(flu_mg_m2_day=500, flu_days=3)),
     Code.INVALID_ARGUMENT, ["specs[1].ld.flu_mg_m2_day"]),
    (_predict(ld=pb.LymphodepletionRegimen(cy_mg_m2_day=300)), Code.INVALID_ARGUMENT,
     ["specs[1].ld.cy_days"]),
    (_predict(product=pb.Product(name="no-such-cel")), Code.INVALID_ARGUMENT,
     ["specs[1].product.name"]),
    (_predict(product=pb.Product(cell_type=pb.CELL_TYPE_CAR_T, target="CD19", cell_source=9)),
     Code.INVALID_ARGUMENT, ["specs[1].product.cell_source"]),
    (_predict(product=pb.Product(cell_type=pb.CELL_TYPE_CAR_NK, target="NOPE")),
     Code.INVALID_ARGUMENT, ["specs[1].product.target"]),
    (_predict(disease="LBCLX", patient_count=0), Code.INVALID_ARGUMENT,
     ["specs[1].disease", "specs[1].patient_count"]),
    (_predict(quantiles=[0.5, 1.5], count_thresholds=[-1]), Code.INVALID_ARGUMENT,
     ["specs[1].count_thresholds", "specs[1].quantiles"]),
    (_predict(seed=2**40, kinetic_unit=7), Code.INVALID_ARGUMENT,
     ["specs[1].kinetic_unit", "specs[1].seed"]),
    (_predict(outcomes=[pb.OUTCOME_ORR, 42],
              joint_outcomes=[pb.JointOutcome(present=[pb.OUTCOME_NEUT_G3])],
              covariates=pb.PatientCovariates(ldh_high_fraction=2.0)),
     Code.INVALID_ARGUMENT, ["specs[1].covariates.ldh_high_fraction",
                             "specs[1].joint_outcomes[0]", "specs[1].outcomes[1]"]),
    (pb.PredictCohortRequest(), Code.INVALID_ARGUMENT, ["specs"]),
    (_predict(patient_count=200_000), Code.INVALID_ARGUMENT, ["specs[1].patient_count"]),
    (_predict(patient_count=5001, draw_count=4096), Code.RESOURCE_EXHAUSTED,
     ["specs[1].draw_count", "specs[1].patient_count"]),
    (pb.PredictCohortRequest(specs=[_raw_spec()] * 201), Code.RESOURCE_EXHAUSTED, ["specs"]),
])
def test_predict_error_contract(client: CohortClient, request_: pb.PredictCohortRequest,
                                code: Code, fields: list[str]) -> None:
    error = failure(client.stub.PredictCohort, request_, timeout=60)
    assert error.code is code
    assert sorted(f for f, _ in error.field_violations) == fields
    assert all(description for _, description in error.field_violations)


def test_compare_and_stream_error_contract(client: CohortClient) -> None:
    mismatch = pb.CompareCohortsRequest(spec_a=_raw_spec(), spec_b=_raw_spec(seed=4))
    error = failure(client.stub.CompareCohorts, mismatch, timeout=60)
    assert (error.code, [f for f, _ in error.field_violations]) == (
        Code.INVALID_ARGUMENT, ["spec_b.seed"])
    missing = pb.CompareCohortsRequest(spec_a=_raw_spec(disease=""))
    assert {f for f, _ in failure(client.stub.CompareCohorts, missing).field_violations} == {
        "spec_a.disease", "spec_b.disease", "spec_b.patient_count", "spec_b.product"}
    for request_, code, field in (
            (pb.StreamVirtualPatientsRequest(spec=_raw_spec(patient_count=0)),
             Code.INVALID_ARGUMENT, "spec.patient_count"),
            (pb.StreamVirtualPatientsRequest(spec=_raw_spec(), batch_patient_count=-1),
             Code.INVALID_ARGUMENT, "batch_patient_count"),
            (pb.StreamVirtualPatientsRequest(spec=_raw_spec(), batch_patient_count=10**7),
             Code.RESOURCE_EXHAUSTED, "batch_patient_count")):
        error = failure(client.stub.StreamVirtualPatients, request_, timeout=60)
        assert (error.code, [f for f, _ in error.field_violations]) == (code, [field])


def test_oversize_request_is_resource_exhausted(home: Home, model: ServingModel) -> None:
    settings = Settings(home=home, address="127.0.0.1:0",
                        limits=Limits(max_message_bytes=4096))
    with serving(settings, model=model) as port, CohortClient(f"127.0.0.1:{port}") as client:
        big = pb.PredictCohortRequest(specs=[_raw_spec(label="x" * 5000)])
        assert failure(client.stub.PredictCohort, big).code is Code.RESOURCE_EXHAUSTED
        assert client.stub.PredictCohort(pb.PredictCohortRequest(specs=[_raw_spec()]))


def test_deadline_is_prompt_and_frees_the_server(home: Home, model: ServingModel) -> None:
    """A sweep far longer than its deadline: the client gets DEADLINE_EXCEEDED on time, and
    the server stops between specs (with one RPC slot, a still-running sweep would make the
    next call RESOURCE_EXHAUSTED)."""
    settings = Settings(home=home, address="127.0.0.1:0",
                        limits=replace(LIMITS, max_concurrent_rpcs=1))
    sweep = pb.PredictCohortRequest(specs=[_raw_spec(draw_count=1000, seed=s)
                                           for s in range(200)])
    with serving(settings, model=model) as port, CohortClient(f"127.0.0.1:{port}") as client:
        started = time.perf_counter()
        error = failure(client.stub.PredictCohort, sweep, timeout=0.5)
        assert error.code is Code.DEADLINE_EXCEEDED
        assert time.perf_counter() - started < 2.0
        deadline = time.monotonic() + 5.0  # the spec in progress finishes, then it stops
        while True:
            try:
                reply = client.stub.PredictCohort(pb.PredictCohortRequest(specs=[_raw_spec()]),
                                                  timeout=30)
                break
            except grpc.RpcError as busy:
                assert busy.code() is Code.RESOURCE_EXHAUSTED and time.monotonic() < deadline
                time.sleep(0.2)
        assert reply.predictions


def test_graceful_stop_completes_an_in_flight_prediction(home: Home, model: ServingModel,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    entered, release = threading.Event(), threading.Event()
    answer = predictions.prediction_message

    def slow(*args: object) -> pb.CohortPrediction:
        entered.set()
        release.wait(30)
        return answer(*args)

    monkeypatch.setattr(predictions, "prediction_message", slow)
    server, port = create_server(Settings(home=home, address="127.0.0.1:0"), model=model)
    server.start()
    with CohortClient(f"127.0.0.1:{port}", timeout_seconds=10) as client:
        busy = client.stub.PredictCohort.future(pb.PredictCohortRequest(specs=[_raw_spec()]),
                                                timeout=60)
        assert entered.wait(30)
        stopped = server.stop(grace=30)
        assert failure(client.stub.PredictCohort,
                       pb.PredictCohortRequest(specs=[_raw_spec()])).code is Code.UNAVAILABLE
        release.set()
        reply = busy.result()
        assert reply.predictions[0].outcomes and reply.research_use_notice
        assert stopped.wait(30)
