"""`cohort serve` and `cohort client ...`: the client commands against an in-process server,
the start-up policy (which version a fresh or half-set-up home serves), and `cohort serve`
as a real process: SERVING on a fitted home, a graceful SIGTERM, exit code 0."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from cohort import RESEARCH_USE_NOTICE, operations, versions
from cohort.cli import EXIT_INVALID
from cohort.contract import TABLES
from cohort.home import Home
from cohort.v1 import cohort_service_pb2 as pb
from cohort.versions import Version
from server import cli, startup
from server.client import CohortClient
from server.serving import ServingModel
from server.settings import Settings
from tests.server_harness import (
    TEST_WARM,
    at,
    derived_version,
    loaded_model,
    server_env,
    server_process,
    serving,
    wait_serving,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def home(fitted_home: tuple[Home, Version], tmp_path_factory: pytest.TempPathFactory) -> Home:
    root = tmp_path_factory.mktemp("cli") / "home"
    shutil.copytree(fitted_home[0].root, root)
    return Home.resolve(root)


@pytest.fixture(scope="module")
def address(home: Home, fitted_home: tuple[Home, Version]) -> Iterator[str]:
    model = loaded_model(home, fitted_home[1].id)
    with serving(Settings(home=home, address="127.0.0.1:0"), model=model) as port:
        yield f"127.0.0.1:{port}"


def client(address: str, *argv: str) -> int:
    return cli.main(["client", "--address", address, *argv])


def test_client_predict_prints_the_local_tables(address: str, fitted_home: tuple[Home, Version],
                                                capsys: pytest.CaptureFixture) -> None:
    spec, other = EXAMPLES / "allo_cd19_lbcl.json", EXAMPLES / "allo_cd19_lbcl_cy300.json"
    assert client(address, "predict", str(spec), str(other)) == 0
    out = capsys.readouterr().out
    assert f"model version {fitted_home[1].id}" in out and out.rstrip().endswith(
        RESEARCH_USE_NOTICE)
    assert out.count("CRS grade >=3") == 2 and "P(count>=15)" in out
    assert client(address, "predict", str(spec), "--compare", str(other)) == 0
    assert "P(A>B)" in capsys.readouterr().out
    assert client(address, "predict", str(spec), "--json") == 0
    [prediction] = json.loads(capsys.readouterr().out)["result"]
    assert 0 < prediction["outcomes"][0]["rate_mean"] < 1


def test_client_errors_name_the_field(address: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"product": {"name": "no-such-cel"}, "disease": "LBCL",
                               "patient_count": 10}))
    assert client(address, "predict", str(bad)) == EXIT_INVALID
    assert "specs[0].product.name" in capsys.readouterr().err
    assert cli.main(["client", "--address", "127.0.0.1:1", "--timeout", "5", "models"]) == 1
    assert "UNAVAILABLE" in capsys.readouterr().err


def _arms_csv(path: Path, **cells: str) -> Path:
    row = dict.fromkeys(TABLES["arms"].names, "") | dict(
        arm_id="cli-arm-1", trial="CLI-1", product="clicel", target="CD19", costim="4-1BB",
        cell_source="autologous", cell_type="CAR-T", disease="LBCL", flu_mg_m2_day="30",
        flu_days="3", cy_mg_m2_day="500", cy_days="3", n_treated="20", n_orr="12", n_cr="8")
    pd.DataFrame([row | cells]).to_csv(path, index=False)
    return path


def test_client_submit_models_promote_and_simulate(address: str, home: Home, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    arms = _arms_csv(tmp_path / "arms.csv")
    assert client(address, "submit", str(arms), "--request-id", "cli-1") == 0
    assert "stored: submission 1" in capsys.readouterr().out
    assert client(address, "submit", str(arms), "--request-id", "cli-1") == 0
    assert "already stored" in capsys.readouterr().out
    wrong = _arms_csv(tmp_path / "wrong_arms.csv", n_cr="13", n_treated="x")
    assert client(address, "submit", str(wrong), "--request-id", "cli-2") == 2
    assert "n_treated" in capsys.readouterr().err  # text in a number column: said locally
    wrong = _arms_csv(tmp_path / "wrong_arms.csv", n_cr="13")
    assert client(address, "submit", str(wrong), "--request-id", "cli-2") == 2
    assert "arms[0].n_cr" in capsys.readouterr().err  # a rule the server checks

    serving_id = versions.serving_version(home.models_dir)
    other = derived_version(home.models_dir, versions.load_version(home.models_dir, serving_id),
                            at(5)).id
    assert client(address, "models") == 0
    listed = capsys.readouterr().out
    assert re.search(rf"{serving_id}\s+READY\s+\*", listed) and other in listed
    try:
        assert client(address, "promote", other) == 0
        assert f"{other} is now serving (was {serving_id})" in capsys.readouterr().out
    finally:
        assert client(address, "promote", serving_id) == 0

    spec = tmp_path / "spec.json"
    raw = json.loads((EXAMPLES / "allo_cd19_lbcl.json").read_text())
    spec.write_text(json.dumps(raw | {"draw_count": 64, "patient_count": 10,
                                      "count_thresholds": []}))
    out = tmp_path / "patients.parquet"
    assert client(address, "simulate", str(spec), "--out", str(out), "--batch", "100") == 0
    assert pq.read_table(out).num_rows == 640 and serving_id in capsys.readouterr().out


def test_start_up_policy(home_copy: tuple[Home, Version], monkeypatch: pytest.MonkeyPatch,
                         caplog: pytest.LogCaptureFixture) -> None:
    """No alias: the newest READY version is promoted. Nothing READY: a first fit, served
    only if it passes the gate — or, FAILED, only with --serve-failed-fit (unpromoted)."""
    home = home_copy[0]
    ready = versions.load_version(home.models_dir, home_copy[1].id)  # the copy's, not the original
    (home.models_dir / versions.SERVING).unlink()
    settings = Settings(home=home, address="127.0.0.1:0")
    model = ServingModel(home, TEST_WARM)
    assert startup.start_serving(settings, model)
    assert model.current().version_id == ready.id == versions.serving_version(home.models_dir)

    failed = derived_version(home.models_dir, ready, at(1), reverse=False,
                             status=versions.FAILED)
    shutil.rmtree(ready.path)
    (home.models_dir / versions.SERVING).unlink()
    monkeypatch.setattr(startup, "_first_fit", lambda _settings: failed)
    model = ServingModel(home, TEST_WARM)
    assert not startup.start_serving(settings, model) and not model.ready
    assert "FAILED the diagnostics gate" in caplog.text
    loud = Settings(home=home, address="127.0.0.1:0", serve_failed_fit=True)
    assert startup.start_serving(loud, model)
    assert model.current().version_id == failed.id
    assert versions.serving_version(home.models_dir) is None  # a FAILED one is never promoted


def test_start_up_waits_for_a_running_fit_and_serves_what_it_promoted(
        home_copy: tuple[Home, Version], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """A fresh home whose fit lock another fit holds (`cohort fit`, another server's
    refit): the server waits for it, then serves the version it promoted — no second fit."""
    home = home_copy[0]
    ready = versions.load_version(home.models_dir, home_copy[1].id)
    (home.models_dir / versions.SERVING).unlink()
    parked = home.root / "parked"
    ready.path.rename(parked)  # nothing READY yet: the other fit is still running
    monkeypatch.setattr(startup, "_first_fit",
                        lambda _settings: pytest.fail("fitted beside a running fit"))
    elsewhere = operations.FitLock(operations.open_dir(home.operations_dir))
    assert elsewhere.acquire()
    model, outcome = ServingModel(home, TEST_WARM), []
    settings = Settings(home=home, address="127.0.0.1:0")
    starting = threading.Thread(
        target=lambda: outcome.append(startup.start_serving(settings, model)))
    try:
        starting.start()
        deadline = time.monotonic() + 60
        while "waiting for it" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "another fit is running on this home" in caplog.text
        parked.rename(ready.path)  # the other fit writes its version and promotes it
        versions.set_serving(home.models_dir, ready.id)
    finally:
        elsewhere.release()
    starting.join(300)
    assert outcome == [True] and model.current().version_id == ready.id


def test_serve_process_serves_then_drains_on_sigterm(home_copy: tuple[Home, Version]) -> None:
    home, version = home_copy
    env = server_env(home.root, COHORT_WARM_DRAW_COUNTS="1024", COHORT_GRACE_SECONDS="120")
    process = server_process(env, sys.executable, "-m", "server")  # = cohort serve
    try:
        address = wait_serving(process, home.root, timeout_s=300)
        sweep = pb.PredictCohortRequest(specs=[pb.CohortSpec(
            product=pb.Product(name="axicabtagene ciloleucel (axi-cel)"), disease="LBCL",
            patient_count=30, draw_count=1000, seed=seed) for seed in range(150)])
        with CohortClient(address, timeout_seconds=300) as c:
            in_flight = c.stub.PredictCohort.future(sweep, timeout=300)
            time.sleep(0.5)
            os.kill(process.pid, signal.SIGTERM)
            reply = in_flight.result()  # the draining server completes it
        assert reply.model_version == version.id and len(reply.predictions) == 150
        assert process.wait(120) == 0
    finally:
        if process.poll() is None:
            process.kill()
    log = (home.root.parent / "serve.log").read_text()
    assert "shutting down" in log and "PredictCohort OK" in log
