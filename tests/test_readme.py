"""The README's two commands (and its client example) are what CI and users run; keep
them true."""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2

from cohort.spec import parse_spec
from server.client import CohortClient
from tests.conftest import TINY_FIT
from tests.server_harness import (
    failure,
    server_env,
    server_process,
    wait_listening,
    wait_logged,
    wait_serving,
)

ROOT = Path(__file__).resolve().parents[1]


def readme_command(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\s*```bash\n(.+?)\n```", text, re.S)
    assert match, f"README has no {marker}"
    return match.group(1).strip()


def test_readme_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    text = (ROOT / "README.md").read_text()
    assert text.count("<!-- main-command -->") == text.count("<!-- test-command -->") == 1
    assert "pytest" in readme_command("test-command")
    result = subprocess.run(["bash", ".ci/run", "--print"], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == readme_command("test-command")


def test_main_command_serves_and_the_client_example_answers(tmp_path: Path) -> None:
    """README (a) as a new user runs it (after its install step): `cohort serve` on a fresh
    home fits a first version with visible progress, reaches SERVING, answers the README's
    client example with rates, and exits 0 on SIGTERM. The fit is the tiny test one, which
    fails the production gate, so it is served with the explicit --serve-failed-fit."""
    program, *args = shlex.split(readme_command("main-command").split("&&")[-1].strip())
    bindir = Path(sys.executable).parent
    home = tmp_path / "home"
    tiny = {"COHORT_FIT_CHAINS": str(TINY_FIT.num_chains),
            "COHORT_FIT_WARMUP": str(TINY_FIT.num_warmup),
            "COHORT_FIT_SAMPLES": str(TINY_FIT.num_samples), "COHORT_FIT_SEED": str(TINY_FIT.seed),
            "COHORT_SERVE_FAILED_FIT": "1", "COHORT_WARM_DRAW_COUNTS": "1024"}
    client, *client_args = shlex.split(readme_command("client-command"))
    started = time.monotonic()
    process = server_process(server_env(home, **tiny), str(bindir / Path(program).name), *args)
    try:
        with CohortClient(wait_listening(process, home, timeout_s=300)) as early:
            # listening during the first fit, but not serving: minutes before it can
            assert early.health() == health_pb2.HealthCheckResponse.NOT_SERVING
            assert failure(early.predict, [parse_spec(json.loads(
                (ROOT / client_args[-1]).read_text()))]).code is grpc.StatusCode.UNAVAILABLE
            # the first fit holds the home's fit lock: a refit now would race it to the alias
            wait_logged(process, home, "no READY model version", timeout_s=300)
            refused = failure(early.start_refit, "during-first-fit")
            assert refused.code is grpc.StatusCode.ALREADY_EXISTS, refused
            assert "another fit is running on this home" in refused.message
        address = wait_serving(process, home, timeout_s=900)
        serving_s = time.monotonic() - started
        answer = subprocess.run([str(bindir / Path(client).name), *client_args], cwd=ROOT,
                                env=server_env(home) | {"COHORT_ADDRESS": address},
                                capture_output=True, text=True, timeout=300)
        process.send_signal(signal.SIGTERM)
        assert process.wait(120) == 0
    finally:
        if process.poll() is None:
            process.kill()
    log = (tmp_path / "serve.log").read_text()
    assert "fitting snapshot" in log and re.search(r"sampling\s+100/100", log)
    assert "although it FAILED the diagnostics gate (--serve-failed-fit)" in log
    assert answer.returncode == 0, answer.stderr
    orr = re.search(r"^\s*ORR\s+(0\.\d+)\s", answer.stdout, re.M)
    assert orr and 0 < float(orr.group(1)) < 1 and "Research use only" in answer.stdout
    print(f"fresh home to SERVING in {serving_s:.0f} s (tiny fit)")
