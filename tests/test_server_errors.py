"""The error contract over a real channel: codes, google.rpc details, auth, limits, health."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from cohort import versions
from cohort.errors import CohortError
from cohort.v1 import cohort_service_pb2 as pb
from cohort.v1 import cohort_service_pb2_grpc as pb_grpc
from server.app import create_server, new_health, set_serving
from server.client import CohortClient
from server.errors import guard_servicer
from server.servicer import SERVICE, CohortServicer
from server.settings import Limits
from tests.server_harness import arm, at, client_for, failure, fake_version, serving, settings_for

Code = grpc.StatusCode
TOKENS = {"reader-secret-0001": "reader", "writer-secret-0002": "writer"}


@pytest.fixture
def client(tmp_path: Path):
    with client_for(tmp_path) as c:
        yield c


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "home" / "models"


def test_models_list_and_get(client: CohortClient, models_dir: Path) -> None:
    old = fake_version(models_dir, at(1), products=["b-cel", "a-cel"], diseases=["LBCL"],
                       snapshot_position=3)
    failed = fake_version(models_dir, at(2), status=versions.FAILED)
    new = fake_version(models_dir, at(3))
    assert [m.version_id for m in client.iter_models(page_size=1)] == [new.id, failed.id, old.id]
    assert client.list_models().model_version == ""
    # promotion over gRPC loads the model: test_server_predict promotes real versions
    versions.set_serving(models_dir, new.id)
    assert client.list_models().model_version == new.id
    model = client.get_model(old.id).model
    assert model.status == pb.MODEL_STATUS_READY and not model.serving
    assert list(model.known_products) == ["a-cel", "b-cel"] and model.snapshot_position == 3
    assert model.diagnostics.min_ess_bulk == 812.5 and model.diagnostics.fit_wall_seconds == 42
    assert (model.chain_count, model.warmup_count, model.draw_count) == (4, 500, 500)
    current = client.get_model()
    assert current.model.serving and current.model.version_id == new.id
    assert current.research_use_notice


@pytest.mark.parametrize("call, argument, code, field", [
    ("get_model", "v20260101T120000Z-00000000", Code.NOT_FOUND, None),
    ("get_model", "", Code.NOT_FOUND, None),  # nothing serving yet
    ("get_model", "latest", Code.INVALID_ARGUMENT, "version_id"),
    ("set_serving_model", "", Code.INVALID_ARGUMENT, "version_id"),
    ("set_serving_model", "v20260101T120000Z-00000000", Code.NOT_FOUND, None),
    ("list_models", -1, Code.INVALID_ARGUMENT, "page_size"),
])
def test_error_table(client: CohortClient, call: str, argument: object, code: Code,
                     field: str | None) -> None:
    error = failure(getattr(client, call), argument)
    assert error.code is code and error.reason == code.name
    assert [f for f, _ in error.field_violations] == ([field] if field else [])


def test_failed_version_is_never_served(client: CohortClient, models_dir: Path) -> None:
    failed = fake_version(models_dir, at(2), status=versions.FAILED)
    error = failure(client.set_serving_model, failed.id)
    assert error.code is Code.INVALID_ARGUMENT and error.field_violations[0][0] == "version_id"
    assert versions.serving_version(models_dir) is None


def test_corrupt_version_is_data_loss_without_paths(client: CohortClient, models_dir: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    version = fake_version(models_dir, at(1))
    version.file(versions.POSTERIOR).write_bytes(b"tampered")
    error = failure(client.get_model, version.id)
    assert (error.code, error.reason) == (Code.DATA_LOSS, "CORRUPT_ARTIFACT")
    assert str(models_dir) not in error.message and "checksum mismatch" in caplog.text
    [listed] = client.list_models().models
    assert listed.status == pb.MODEL_STATUS_CORRUPT and "checksum" in listed.problem


def test_queries_without_a_loaded_model_are_unavailable(client: CohortClient) -> None:
    spec = pb.CohortSpec(product=pb.Product(name="x-cel"), disease="LBCL", patient_count=10)
    for call, request in (
            (client.stub.PredictCohort, pb.PredictCohortRequest(specs=[spec])),
            (client.stub.CompareCohorts, pb.CompareCohortsRequest(spec_a=spec, spec_b=spec)),
            (client.stub.StreamVirtualPatients, pb.StreamVirtualPatientsRequest(spec=spec))):
        error = failure(call, request)
        assert (error.code, error.reason) == (Code.UNAVAILABLE, "NOT_READY")


@pytest.mark.parametrize("error", [RuntimeError("secret detail /srv/x"), CohortError("bare")])
def test_unexpected_errors_are_internal_with_log_only_traceback(
        client: CohortClient, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, error: Exception) -> None:
    def explode(_models_dir: Path) -> list:
        raise error
    monkeypatch.setattr(versions, "list_versions", explode)
    answer = failure(client.list_models)
    assert answer.code is Code.INTERNAL and "secret" not in answer.message
    assert "Traceback" in caplog.text and str(error) in caplog.text


def test_streaming_errors_are_mapped_too(tmp_path: Path) -> None:
    @guard_servicer(SERVICE)
    class Broken(CohortServicer):
        def StreamVirtualPatients(self, request, context):  # noqa: N802 - gRPC name
            yield pb.StreamVirtualPatientsResponse(model_version="v")
            raise RuntimeError("mid-stream")

    server = grpc.server(__import__("concurrent.futures").futures.ThreadPoolExecutor(2))
    pb_grpc.add_CohortServiceServicer_to_server(Broken(settings_for(tmp_path).home), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with CohortClient(f"127.0.0.1:{port}") as client:
            stream = client.stub.StreamVirtualPatients(pb.StreamVirtualPatientsRequest())
            assert next(stream).model_version == "v"
            assert failure(lambda: list(stream)).code is Code.INTERNAL
    finally:
        server.stop(None)


def test_auth_roles(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    settings = settings_for(tmp_path, tokens=TOKENS)
    with serving(settings) as port:
        target = f"127.0.0.1:{port}"
        with CohortClient(target) as anonymous, CohortClient(target, "wrong") as wrong, \
                CohortClient(target, "reader-secret-0001") as reader, \
                CohortClient(target, "writer-secret-0002") as writer:
            assert failure(anonymous.list_models).code is Code.UNAUTHENTICATED
            assert failure(wrong.list_models).code is Code.UNAUTHENTICATED
            assert failure(anonymous.stub.StreamVirtualPatients,
                           pb.StreamVirtualPatientsRequest()).code is Code.UNAUTHENTICATED
            assert anonymous.health() == health_pb2.HealthCheckResponse.NOT_SERVING
            reader.list_models()
            denied = failure(reader.submit_trial_data, "r1", arms=[arm("t-arm-1")])
            assert (denied.code, denied.reason) == (Code.PERMISSION_DENIED, "PERMISSION_DENIED")
            assert failure(reader.set_serving_model, "x").code is Code.PERMISSION_DENIED
            assert writer.submit_trial_data("r1", arms=[arm("t-arm-1")]).submission_seq == 1
            writer.list_models()
    assert "SubmitTrialData PERMISSION_DENIED" in caplog.text
    assert "secret" not in caplog.text and "wrong" not in caplog.text
    assert "secret" not in repr(settings)


def test_oversize_message_is_resource_exhausted(tmp_path: Path) -> None:
    with client_for(tmp_path, limits=Limits(max_message_bytes=64 * 1024)) as client:
        error = failure(client.submit_trial_data, "big", arms=[arm("t-arm-1", notes="x" * 70_000)])
        assert error.code is Code.RESOURCE_EXHAUSTED
        assert client.submit_trial_data("small", arms=[arm("t-arm-1")]).submission_seq == 1


def _blocking_list(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    entered, release = threading.Event(), threading.Event()

    def slow(_models_dir: Path) -> list:
        entered.set()
        release.wait(20)
        return []
    monkeypatch.setattr(versions, "list_versions", slow)
    return entered, release


def test_concurrency_limit_is_resource_exhausted(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    entered, release = _blocking_list(monkeypatch)
    with client_for(tmp_path, limits=Limits(max_concurrent_rpcs=1)) as client:
        busy = client.stub.ListModels.future(pb.ListModelsRequest(), timeout=20)
        assert entered.wait(20)
        assert failure(client.get_model).code is Code.RESOURCE_EXHAUSTED
        release.set()
        assert busy.result().research_use_notice


def test_graceful_stop_drains_in_flight_calls(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    entered, release = _blocking_list(monkeypatch)
    server, port = create_server(settings_for(tmp_path))
    server.start()
    with CohortClient(f"127.0.0.1:{port}", timeout_seconds=5) as client:
        busy = client.stub.ListModels.future(pb.ListModelsRequest(), timeout=20)
        assert entered.wait(20)
        stopped = server.stop(grace=10)
        assert failure(client.get_model).code is Code.UNAVAILABLE  # new calls refused
        release.set()
        assert busy.result().research_use_notice  # the in-flight call finished
        assert stopped.wait(10)


def test_health_and_reflection(tmp_path: Path) -> None:
    health = new_health()
    with serving(settings_for(tmp_path), health) as port, \
            CohortClient(f"127.0.0.1:{port}") as client:
        assert client.health() == health_pb2.HealthCheckResponse.NOT_SERVING
        assert client.health(SERVICE.full_name) == health_pb2.HealthCheckResponse.NOT_SERVING
        set_serving(health, True)  # what the server does once a model is loaded and warmed
        assert client.health(SERVICE.full_name) == health_pb2.HealthCheckResponse.SERVING
        database = ProtoReflectionDescriptorDatabase(client._channel)
        assert SERVICE.full_name in database.get_services()


def test_a_second_server_on_a_taken_address_is_refused(tmp_path: Path) -> None:
    """grpc's default SO_REUSEPORT would let both bind and split the traffic silently."""
    from dataclasses import replace

    from cohort.errors import Conflict

    settings = settings_for(tmp_path)
    with serving(settings) as port:
        with pytest.raises(Conflict, match=f"127.0.0.1:{port}"):
            create_server(replace(settings, address=f"127.0.0.1:{port}"))
