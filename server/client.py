"""A small typed client for the cohort service.

    with CohortClient("localhost:50051", token="...") as client:
        answer = client.predict([parse_spec({...})])   # domain specs in, domain answers out
        print(answer.model_version, answer.value[0].outcomes[0].rate_mean)
        models = client.list_models().models

Errors surface as grpc.RpcError; `error_details` unpacks their google.rpc details.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Generic, NamedTuple, TypeVar

import grpc
import pandas as pd
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from cohort.engine import Comparison, PatientBatch, Prediction
from cohort.spec import CohortSpec
from cohort.v1 import cohort_service_pb2 as pb
from cohort.v1 import cohort_service_pb2_grpc as pb_grpc
from server import answers, convert

ServingStatus = health_pb2.HealthCheckResponse.ServingStatus
T = TypeVar("T")


class Answer(NamedTuple, Generic[T]):
    """A query's result with the model version that computed it and the research notice."""

    model_version: str
    notice: str
    value: T


@dataclass(frozen=True)
class ErrorDetails:
    """What a failed call said: code, message, ErrorInfo reason and field violations."""

    code: grpc.StatusCode
    message: str
    reason: str
    field_violations: tuple[tuple[str, str], ...]  # (field path, description)
    metadata: dict[str, str]


def error_details(error: grpc.RpcError) -> ErrorDetails:
    """Unpack a failed call's google.rpc.Status (empty reason/violations when absent)."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]  # RpcError is a Call
    reason, metadata, violations = "", {}, []
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations += [(v.field, v.description) for v in bad.field_violations]
    return ErrorDetails(error.code(), error.details() or "", reason, tuple(violations), metadata)


class CohortClient:
    """One channel to one server. TLS when `root_certificates` is given (PEM bytes; add
    `private_key` and `certificate_chain` for mTLS); the token is sent as a bearer header."""

    def __init__(self, target: str, token: str | None = None,
                 root_certificates: bytes | None = None, private_key: bytes | None = None,
                 certificate_chain: bytes | None = None, timeout_seconds: float = 30.0,
                 max_message_bytes: int = 16 * 1024 * 1024):
        options = [("grpc.max_send_message_length", max_message_bytes),
                   ("grpc.max_receive_message_length", max_message_bytes)]
        if root_certificates is None and certificate_chain is None:
            self._channel = grpc.insecure_channel(target, options=options)
        else:
            credentials = grpc.ssl_channel_credentials(root_certificates, private_key,
                                                       certificate_chain)
            self._channel = grpc.secure_channel(target, credentials, options=options)
        # plain metadata rather than call credentials: those refuse insecure channels,
        # and a token on localhost without TLS is a legitimate development setup
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._timeout = timeout_seconds
        self.stub = pb_grpc.CohortServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    def __enter__(self) -> CohortClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def health(self, service: str = "") -> ServingStatus:
        """SERVING, NOT_SERVING or SERVICE_UNKNOWN (health needs no token)."""
        request = health_pb2.HealthCheckRequest(service=service)
        return self._health.Check(request, timeout=self._timeout).status

    def submit_trial_data(self, request_id: str, arms: Iterable[pb.ArmRow] = (),
                          kinetic_strata: Iterable[pb.KineticStratumRow] = (),
                          patients: Iterable[pb.PatientRow] = (),
                          patient_kinetics: Iterable[pb.PatientKineticsRow] = ()
                          ) -> pb.SubmitTrialDataResponse:
        request = pb.SubmitTrialDataRequest(
            request_id=request_id, arms=arms, kinetic_strata=kinetic_strata,
            patients=patients, patient_kinetics=patient_kinetics)
        return self.stub.SubmitTrialData(request, timeout=self._timeout,
                                         metadata=self._metadata)

    def list_models(self, page_size: int = 0, page_token: str = "") -> pb.ListModelsResponse:
        request = pb.ListModelsRequest(page_size=page_size, page_token=page_token)
        return self.stub.ListModels(request, timeout=self._timeout, metadata=self._metadata)

    def iter_models(self, page_size: int = 0) -> Iterator[pb.Model]:
        """Every version, newest first, across pages."""
        token = ""
        while True:
            page = self.list_models(page_size, token)
            yield from page.models
            if not (token := page.next_page_token):
                return

    def get_model(self, version_id: str = "") -> pb.GetModelResponse:
        """One version; the serving one when `version_id` is empty."""
        return self.stub.GetModel(pb.GetModelRequest(version_id=version_id),
                                  timeout=self._timeout, metadata=self._metadata)

    def set_serving_model(self, version_id: str) -> pb.SetServingModelResponse:
        """Promote or roll back: point the serving alias at `version_id`."""
        return self.stub.SetServingModel(pb.SetServingModelRequest(version_id=version_id),
                                         timeout=self._timeout, metadata=self._metadata)

    def start_refit(self, request_id: str = "", *, ledger_position: int | None = None,
                    warm_start: bool | None = None, seed: int | None = None,
                    chain_count: int = 0, warmup_count: int = 0, draw_count: int = 0,
                    promote: bool | None = None) -> pb.StartRefitResponse:
        """Start a refit, or join the running one / the one `request_id` started; returns
        at once. None and 0 leave the server's defaults (latest data, warm start, promote
        a version that passes the gate)."""
        request = pb.StartRefitRequest(request_id=request_id, chain_count=chain_count,
                                       warmup_count=warmup_count, draw_count=draw_count)
        for name, value in (("ledger_position", ledger_position), ("warm_start", warm_start),
                            ("seed", seed), ("promote", promote)):
            if value is not None:
                setattr(request, name, value)
        return self.stub.StartRefit(request, timeout=self._timeout, metadata=self._metadata)

    def get_operation(self, operation_id: str) -> pb.GetOperationResponse:
        return self.stub.GetOperation(pb.GetOperationRequest(operation_id=operation_id),
                                      timeout=self._timeout, metadata=self._metadata)

    def watch_operation(self, operation_id: str, timeout_seconds: float | None = None
                        ) -> Iterator[pb.WatchOperationResponse]:
        """The operation's state now and after every change, until done. A refit takes
        minutes, so there is no deadline unless `timeout_seconds` sets one."""
        return self.stub.WatchOperation(pb.WatchOperationRequest(operation_id=operation_id),
                                        timeout=timeout_seconds, metadata=self._metadata)

    def predict(self, specs: Sequence[CohortSpec], model_version: str = ""
                ) -> Answer[tuple[Prediction, ...]]:
        """One prediction per spec (every outcome and joint outcome), in order."""
        request = pb.PredictCohortRequest(specs=[answers.spec_message(s) for s in specs],
                                          model_version=model_version)
        reply = self.stub.PredictCohort(request, timeout=self._timeout, metadata=self._metadata)
        return Answer(reply.model_version, reply.research_use_notice,
                      tuple(answers.prediction(p, s)
                            for p, s in zip(reply.predictions, specs, strict=True)))

    def compare(self, a: CohortSpec, b: CohortSpec, model_version: str = ""
                ) -> Answer[Comparison]:
        """Paired contrasts A - B; B runs with A's seed, draws and quantiles."""
        b = replace(b, seed=a.seed, draw_count=a.draw_count, new_trial=a.new_trial,
                    quantiles=a.quantiles)
        request = pb.CompareCohortsRequest(spec_a=answers.spec_message(a),
                                           spec_b=answers.spec_message(b),
                                           model_version=model_version)
        reply = self.stub.CompareCohorts(request, timeout=self._timeout, metadata=self._metadata)
        return Answer(reply.model_version, reply.research_use_notice,
                      answers.comparison(reply, a, b))

    def stream_patients(self, spec: CohortSpec, batch_patient_count: int = 0,
                        model_version: str = "", timeout_seconds: float | None = None
                        ) -> Iterator[Answer[PatientBatch]]:
        """draw_count x patient_count virtual patients in batches. A big stream outlasts
        the default deadline, so there is none unless `timeout_seconds` sets one."""
        request = pb.StreamVirtualPatientsRequest(
            spec=answers.spec_message(spec), batch_patient_count=batch_patient_count,
            model_version=model_version)
        for reply in self.stub.StreamVirtualPatients(request, timeout=timeout_seconds,
                                                     metadata=self._metadata):
            yield Answer(reply.model_version, reply.research_use_notice,
                         answers.patient_batch(reply))

    def submit(self, request_id: str, tables: Mapping[str, pd.DataFrame]
               ) -> pb.SubmitTrialDataResponse:
        """Raw contract tables (cohort.readers.read_tables) as one all-or-nothing submission."""
        request = convert.submission_request(request_id, tables)
        return self.stub.SubmitTrialData(request, timeout=self._timeout,
                                         metadata=self._metadata)
