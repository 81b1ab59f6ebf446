"""Fuzzed query requests over a real channel (DESIGN §9): generated messages, valid and
not (out-of-range numbers, NaN, unknown enum values, names the model does not know, sizes
beyond the limits), plus random bytes sent as raw requests. Every call has a deadline;
none may end UNKNOWN, INTERNAL or past its deadline, and the server must still be
SERVING and answering afterwards."""

from __future__ import annotations

import math
import random
import shutil
import string
from collections import Counter
from collections.abc import Callable, Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2

from cohort.home import Home
from cohort.v1 import cohort_service_pb2 as pb
from cohort.versions import Version
from server.app import new_health, set_serving
from server.client import CohortClient
from server.settings import Limits, Settings
from tests.server_harness import loaded_model, serving

Code = grpc.StatusCode
ANSWERS = {Code.OK, Code.INVALID_ARGUMENT, Code.RESOURCE_EXHAUSTED, Code.NOT_FOUND}
LIMITS = Limits(max_patient_count=1000, max_draw_count=1024, max_spec_count=8)
METHODS = ("PredictCohort", "CompareCohorts", "StreamVirtualPatients")
DEADLINE_S = 30.0


@pytest.fixture(scope="module")
def served(fitted_home: tuple[Home, Version], tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[CohortClient, str, tuple[str, ...]]]:
    root = tmp_path_factory.mktemp("fuzz") / "home"
    shutil.copytree(fitted_home[0].root, root)
    home, version = Home.resolve(root), fitted_home[1].id
    health = new_health()
    model = loaded_model(home, version, on_change=lambda ready: set_serving(health, ready))
    products = tuple(model.current().engine.catalogue.index.products)
    settings = Settings(home=home, address="127.0.0.1:0", limits=LIMITS)
    with serving(settings, health, model=model) as port, \
            CohortClient(f"127.0.0.1:{port}", timeout_seconds=DEADLINE_S) as client:
        assert client.health() == health_pb2.HealthCheckResponse.SERVING
        yield client, version, products


class Fuzzer:
    """Random query messages: a valid spec, then (mostly) a few fields broken at random.
    Valid sizes stay within compiled shapes (64 and 1024 draws, up to 64 streamed
    patients) so that every valid call is answered well within its deadline."""

    def __init__(self, rng: random.Random, products: tuple[str, ...], version: str):
        self.rng, self.products, self.version = rng, products, version

    def pick(self, *options: object) -> object:
        return self.rng.choice(options)

    def text(self, size: int = 12) -> str:
        return "".join(self.rng.choice(string.printable) for _ in range(self.rng.randrange(size)))

    def valid(self, streamed: bool) -> pb.CohortSpec:
        r = self.rng
        n = self.pick(1, 10, 64) if streamed else r.randrange(1, 1001)
        spec = pb.CohortSpec(
            label=self.text(), disease=self.pick("LBCL", "B-ALL", "FL"), patient_count=n,
            draw_count=self.pick(1, 17, 64) if streamed else self.pick(0, 17, 64, 1000),
            kinetic_unit=r.randrange(3),
            product=self.pick(pb.Product(name=self.pick(*self.products)),
                              pb.Product(cell_type=pb.CELL_TYPE_CAR_T, target="CD19",
                                         cell_source=r.randrange(4), costim=r.randrange(4))),
            ld=self.pick(pb.LymphodepletionRegimen(),
                         pb.LymphodepletionRegimen(flu_mg_m2_day=30, flu_days=3,
                                                   cy_mg_m2_day=r.uniform(0.1, 3000), cy_days=3),
                         pb.LymphodepletionRegimen(benda_mg_m2_day=90, benda_days=2,
                                                   anti_cd52=True)),
            count_thresholds=[r.randrange(n + 1) for _ in range(r.randrange(3))],
            outcomes=[r.randrange(1, 9) for _ in range(r.randrange(3))])
        if r.random() < 0.5:
            spec.seed = r.randrange(2**31)
        if r.random() < 0.5:
            spec.new_trial = r.random() < 0.5
        if r.random() < 0.3:
            spec.quantiles.extend(sorted(r.uniform(0.01, 0.99) for _ in range(r.randrange(1, 5))))
        if r.random() < 0.3:
            spec.joint_outcomes.add(present=[self.pick(pb.OUTCOME_ORR, pb.OUTCOME_CR)],
                                    absent=[pb.OUTCOME_CRS_G3])
        return spec

    def break_one(self, spec: pb.CohortSpec) -> None:
        r, bad = self.rng, (-1.0, 1e9, math.nan, math.inf, -math.inf)
        choice = r.randrange(12)
        if choice == 0:
            spec.product.name = self.pick("no-such-cel", " ", self.text(40))
        elif choice == 1:
            spec.product.CopyFrom(pb.Product(
                cell_source=r.randrange(4, 9), cell_type=r.randrange(4), costim=r.randrange(9),
                target=self.pick("", "NOPE")))
        elif choice == 2:
            setattr(spec.ld, self.pick("flu_mg_m2_day", "cy_mg_m2_day", "benda_mg_m2_day"),
                    self.pick(*bad))
        elif choice == 3:
            setattr(spec.ld, self.pick("flu_days", "cy_days", "benda_days"), self.pick(-1, 15, 2))
        elif choice == 4:
            spec.disease = self.pick("", "XYZ", "lbcl", self.text())
        elif choice == 5:
            spec.patient_count = self.pick(0, -3, 1001, 10**6, 2**31 - 1)
        elif choice == 6:
            spec.draw_count = self.pick(-5, 1025, 20_001, 2**31 - 1)
        elif choice == 7:
            spec.seed = self.pick(2**31, 2**64 - 1)
        elif choice == 8:
            spec.quantiles.extend([self.pick(0.0, 1.0, *bad)])
        elif choice == 9:
            spec.count_thresholds.extend([self.pick(-1, 10**6)])
        elif choice == 10:
            spec.outcomes.extend([self.pick(0, 9, 99)])
            spec.kinetic_unit = self.pick(0, 3, 77)
        else:
            spec.joint_outcomes.add(present=[r.randrange(10)], absent=[r.randrange(10)])
            spec.covariates.ldh_high_fraction = self.pick(1.5, -0.1, math.nan)

    def spec(self, streamed: bool = False) -> pb.CohortSpec:
        spec = self.valid(streamed)
        if self.rng.random() < 0.5:
            for _ in range(self.rng.randrange(1, 4)):
                self.break_one(spec)
        return spec

    def model_version(self) -> str:
        return str(self.pick(*[""] * 6, self.version, "latest", "v20260101T120000Z-00000000"))

    def request(self, method: str) -> object:
        r = self.rng
        if method == "PredictCohort":
            count = self.pick(1, 1, 2, 3, 0, 9)
            return pb.PredictCohortRequest(specs=[self.spec() for _ in range(count)],
                                           model_version=self.model_version())
        if method == "CompareCohorts":
            a, b = self.spec(), self.spec()
            if r.random() < 0.7:  # B shares A's random numbers, as the contract asks
                b.ClearField("seed")
                b.ClearField("new_trial")
                b.draw_count = 0
            return pb.CompareCohortsRequest(spec_a=a, spec_b=b, model_version=self.model_version())
        return pb.StreamVirtualPatientsRequest(
            spec=self.spec(streamed=True), model_version=self.model_version(),
            batch_patient_count=self.pick(0, 0, 7, 100, -1, 10**7))


def _code(call: Callable[[], object]) -> Code:
    try:
        result = call()
        if hasattr(result, "__next__"):
            for _ in result:
                pass
    except grpc.RpcError as error:
        return error.code()
    return Code.OK


def test_fuzzed_requests_get_clear_answers(served: tuple[CohortClient, str, tuple[str, ...]]
                                           ) -> None:
    client, version, products = served
    fuzzer = Fuzzer(random.Random(20261122), products, version)
    stubs = {m: getattr(client.stub, m) for m in METHODS}
    codes: Counter[tuple[str, Code]] = Counter()
    for i in range(330):
        method = METHODS[i % 3]
        codes[method, _code(lambda: stubs[method](fuzzer.request(method),  # noqa: B023
                                                  timeout=DEADLINE_S))] += 1
    channel = client._channel  # raw bytes: no serializer on the way out or back
    for i in range(120):
        method = METHODS[i % 3]
        kind = channel.unary_stream if method == "StreamVirtualPatients" else channel.unary_unary
        call = kind(f"/cohort.v1.CohortService/{method}", request_serializer=None,
                    response_deserializer=None)
        payload = bytes(fuzzer.rng.randrange(256) for _ in range(fuzzer.rng.randrange(200)))
        codes[f"{method} bytes", _code(lambda: call(payload, timeout=DEADLINE_S))] += 1  # noqa: B023
    assert {code for _, code in codes} <= ANSWERS, codes
    assert sum(codes.values()) == 450
    for method in METHODS:  # both kinds of answer came up for every method
        assert codes[method, Code.OK] and codes[method, Code.INVALID_ARGUMENT], codes
    assert client.health() == health_pb2.HealthCheckResponse.SERVING
    reply = client.stub.PredictCohort(pb.PredictCohortRequest(specs=[pb.CohortSpec(
        product=pb.Product(name=products[0]), disease="LBCL", patient_count=10, draw_count=64)]))
    assert reply.model_version == version and reply.predictions
