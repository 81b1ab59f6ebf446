"""The cohort service: thin methods that convert, call the domain and convert back.

Queries run on the engine `ServingModel` serves (server/serving.py): each call takes the
(version, engine) pair once, so its answer is tagged with the version that computed it,
even while SetServingModel or a refit swaps versions. Long work (many specs, streams)
checks between chunks whether the call is still active, so a passed deadline or a
cancelled call frees its thread. Refits run in the domain's RefitWorker
(cohort/refit.py). Errors are mapped by `guard_servicer`.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from cohort import RESEARCH_USE_NOTICE, versions
from cohort.errors import Interrupted, InvalidArgument, NotFound, Violation
from cohort.home import Home
from cohort.refit import RefitWorker
from cohort.store import Store
from cohort.v1 import cohort_service_pb2 as pb
from cohort.v1 import cohort_service_pb2_grpc as pb_grpc
from server import convert, predictions
from server.errors import guard_servicer
from server.serving import ServingModel
from server.settings import Limits

SERVICE = pb.DESCRIPTOR.services_by_name["CohortService"]


def _still_active(context: grpc.ServicerContext) -> None:
    if not context.is_active():
        raise Interrupted("the call was cancelled or its deadline passed")


@guard_servicer(SERVICE)
class CohortServicer(pb_grpc.CohortServiceServicer):
    def __init__(self, home: Home, refits: RefitWorker | None = None,
                 model: ServingModel | None = None, limits: Limits | None = None):
        self._home = home
        self._model = model or ServingModel(home)  # nothing served until the app swaps
        # production refit defaults unless the application chose others
        self._refits = refits or RefitWorker(home, on_promoted=self._model.swap_to)
        self._limits = limits or Limits()

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
        version = self._model.swap_to(request.version_id)  # loaded and warmed, then served
        return pb.SetServingModelResponse(
            model_version=version.id, research_use_notice=RESEARCH_USE_NOTICE,
            model=convert.model_message(version, serving=True), previous_version_id=previous)

    def StartRefit(self, request: pb.StartRefitRequest,
                   context: grpc.ServicerContext) -> pb.StartRefitResponse:
        serving = self._serving()
        operation = self._refits.start(convert.refit_request(request))
        return pb.StartRefitResponse(model_version=serving, research_use_notice=RESEARCH_USE_NOTICE,
                                     operation=convert.operation_message(operation))

    def GetOperation(self, request: pb.GetOperationRequest,
                     context: grpc.ServicerContext) -> pb.GetOperationResponse:
        operation = self._refits.get(request.operation_id)
        return pb.GetOperationResponse(
            model_version=self._serving(), research_use_notice=RESEARCH_USE_NOTICE,
            operation=convert.operation_message(operation))

    def WatchOperation(self, request: pb.WatchOperationRequest,
                       context: grpc.ServicerContext) -> Iterator[pb.WatchOperationResponse]:
        # a cancelled call or a passed deadline wakes the watch, which then sees is_active()
        # false and ends: no thread stays parked on an abandoned stream
        context.add_callback(self._refits.wake)
        for operation in self._refits.watch(request.operation_id, context.is_active):
            yield pb.WatchOperationResponse(
                model_version=self._serving(), research_use_notice=RESEARCH_USE_NOTICE,
                operation=convert.operation_message(operation))

    def PredictCohort(self, request: pb.PredictCohortRequest,
                      context: grpc.ServicerContext) -> pb.PredictCohortResponse:
        queries = predictions.predict_queries(request, self._limits)
        served = self._model.engine_for(request.model_version)
        predictions.check_against(served.engine, queries)
        answers = []
        for query in queries:
            _still_active(context)
            answers.append(predictions.prediction_message(served.engine.predict(query.spec),
                                                          query))
        return pb.PredictCohortResponse(model_version=served.version_id,
                                        research_use_notice=RESEARCH_USE_NOTICE,
                                        predictions=answers)

    def CompareCohorts(self, request: pb.CompareCohortsRequest,
                       context: grpc.ServicerContext) -> pb.CompareCohortsResponse:
        a, b = predictions.compare_queries(request, self._limits)
        served = self._model.engine_for(request.model_version)
        predictions.check_against(served.engine, (a, b))
        comparison = served.engine.compare(a.spec, b.spec)
        return pb.CompareCohortsResponse(model_version=served.version_id,
                                         research_use_notice=RESEARCH_USE_NOTICE,
                                         **predictions.comparison_fields(comparison, a, b))

    def StreamVirtualPatients(self, request: pb.StreamVirtualPatientsRequest,
                              context: grpc.ServicerContext
                              ) -> Iterator[pb.StreamVirtualPatientsResponse]:
        query, size = predictions.stream_query(request, self._limits)
        served = self._model.engine_for(request.model_version)
        predictions.check_against(served.engine, (query,))
        for batch in served.engine.patients(query.spec):
            for message in predictions.patient_messages(batch, size, query.spec.kinetic_unit):
                _still_active(context)
                message.model_version = served.version_id
                message.research_use_notice = RESEARCH_USE_NOTICE
                yield message
