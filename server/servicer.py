"""The cohort service: thin methods that convert, call the domain and convert back.

PredictCohort, CompareCohorts, StreamVirtualPatients, StartRefit, GetOperation and
WatchOperation are inherited from the generated base class and answer UNIMPLEMENTED until
the predictive engine and the refit worker exist. Errors are mapped by `guard_servicer`.
"""

from __future__ import annotations

import grpc

from cohort import RESEARCH_USE_NOTICE, versions
from cohort.errors import InvalidArgument, NotFound, Violation
from cohort.home import Home
from cohort.store import Store
from cohort.v1 import cohort_service_pb2 as pb
from cohort.v1 import cohort_service_pb2_grpc as pb_grpc
from server import convert
from server.errors import guard_servicer

SERVICE = pb.DESCRIPTOR.services_by_name["CohortService"]


@guard_servicer(SERVICE)
class CohortServicer(pb_grpc.CohortServiceServicer):
    def __init__(self, home: Home):
        self._home = home

    def _serving(self) -> str:
        """The version the serving alias names; empty before the first promotion."""
        return versions.serving_version(self._home.models_dir) or ""

    def SubmitTrialData(self, request: pb.SubmitTrialDataRequest,
                        context: grpc.ServicerContext) -> pb.SubmitTrialDataResponse:
        serving = self._serving()  # read first: an unreadable alias must not follow a write
        # one connection per call: submissions are rare, and SQLite serialises writers
        # across threads, processes and replicas alike
        with Store.open(self._home.store_path) as store:
            receipt = store.submit(request.request_id, convert.submission_tables(request))
        return convert.submission_response(receipt, serving)

    def ListModels(self, request: pb.ListModelsRequest,
                   context: grpc.ServicerContext) -> pb.ListModelsResponse:
        summaries = versions.list_versions(self._home.models_dir)
        chosen, token = convert.page(summaries, request.page_size, request.page_token)
        return pb.ListModelsResponse(
            model_version=self._serving(), research_use_notice=RESEARCH_USE_NOTICE,
            models=[convert.summary_message(s) for s in chosen], next_page_token=token)

    def GetModel(self, request: pb.GetModelRequest,
                 context: grpc.ServicerContext) -> pb.GetModelResponse:
        serving = self._serving()
        version_id = request.version_id or serving
        if not version_id:
            raise NotFound("no model version is being served yet; name one (ListModels)")
        version = versions.load_version(self._home.models_dir, version_id)
        return pb.GetModelResponse(
            model_version=serving, research_use_notice=RESEARCH_USE_NOTICE,
            model=convert.model_message(version, version.id == serving))

    def SetServingModel(self, request: pb.SetServingModelRequest,
                        context: grpc.ServicerContext) -> pb.SetServingModelResponse:
        if not request.version_id:
            raise InvalidArgument([Violation("version_id", "", "required (empty is not allowed)")])
        previous = self._serving()
        version = versions.set_serving(self._home.models_dir, request.version_id)
        return pb.SetServingModelResponse(
            model_version=version.id, research_use_notice=RESEARCH_USE_NOTICE,
            model=convert.model_message(version, serving=True), previous_version_id=previous)
