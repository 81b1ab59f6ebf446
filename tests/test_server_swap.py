"""Serving-version swap under load (DESIGN §9): client threads keep calling PredictCohort
while another thread promotes two READY versions back and forth. No call may fail, and
each answer must be exactly what its tagged version computes."""

from __future__ import annotations

import threading

import grpc

from cohort import versions
from cohort.home import Home
from cohort.v1 import cohort_service_pb2 as pb
from cohort.versions import Version
from server.client import CohortClient
from server.settings import Settings
from tests.server_harness import at, derived_version, loaded_model, serving

CLIENTS, CALLS = 4, 200
REQUEST = pb.PredictCohortRequest(specs=[pb.CohortSpec(
    product=pb.Product(name="axicabtagene ciloleucel (axi-cel)"), disease="LBCL",
    patient_count=30, draw_count=64, seed=11)])


def test_swap_under_load_fails_no_request(home_copy: tuple[Home, Version]) -> None:
    home = home_copy[0]
    first = versions.load_version(home.models_dir, home_copy[1].id)
    second = derived_version(home.models_dir, first, at(2)).id  # same shapes, other answers
    model = loaded_model(home, first.id)
    with serving(Settings(home=home, address="127.0.0.1:0"), model=model) as port, \
            CohortClient(f"127.0.0.1:{port}", timeout_seconds=60) as client:
        expected = {v: client.stub.PredictCohort(pb.PredictCohortRequest(
            specs=REQUEST.specs, model_version=v), timeout=120).predictions
            for v in (first.id, second)}
        assert expected[first.id] != expected[second]
        failures: list[BaseException] = []
        tags: list[str] = []
        done = threading.Event()

        def ask() -> None:
            for _ in range(CALLS):
                try:
                    reply = client.stub.PredictCohort(REQUEST, timeout=60)
                except grpc.RpcError as error:
                    failures.append(error)
                    continue
                tags.append(reply.model_version)
                if reply.predictions != expected[reply.model_version]:
                    failures.append(AssertionError(f"answer is not {reply.model_version}'s"))

        swaps = []

        def swap() -> None:
            while not done.is_set():
                target = second if len(swaps) % 2 == 0 else first.id
                try:
                    swaps.append(client.set_serving_model(target).model_version)
                except grpc.RpcError as error:
                    failures.append(error)
                done.wait(0.05)

        workers = [threading.Thread(target=ask) for _ in range(CLIENTS)]
        swapper = threading.Thread(target=swap)
        for thread in (*workers, swapper):
            thread.start()
        for thread in workers:
            thread.join(600)
        done.set()
        swapper.join(120)
    assert failures == []
    assert len(tags) == CLIENTS * CALLS and set(tags) == {first.id, second}
    assert len(swaps) >= 4
    assert versions.serving_version(home.models_dir) == model.current().version_id == swaps[-1]
