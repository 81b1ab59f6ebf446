"""Real (tiny) NUTS fits of an eight-schools model through fit_to_version, and warm starts.

The gate is relaxed explicitly here: 2 chains x 300 draws cannot reach ESS 400.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import arviz as az
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest

from cohort import versions, warmstart
from cohort.diagnostics import Gate
from cohort.errors import InvalidArgument
from cohort.fit import FitConfig, FitResult, Progress, choose_chain_method, fit_to_version
from cohort.versions import FAILED, POSTERIOR, READY, Version

Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
TINY = FitConfig(num_chains=2, num_warmup=300, num_samples=300, seed=1, chunk_size=50,
                 warm_start_warmup=100)
RELAXED = Gate(max_rhat=1.05, min_ess_bulk=100, min_ess_tail=100)


def eight_schools(sigma: np.ndarray, y: np.ndarray | None = None) -> None:
    mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    tau = numpyro.sample("tau", dist.HalfCauchy(5.0))
    with numpyro.plate("school", sigma.shape[0]):
        eta = numpyro.sample("eta", dist.Normal(0.0, 1.0))  # non-centred
        theta = numpyro.deterministic("theta", mu + tau * eta)
        numpyro.sample("y", dist.Normal(theta, sigma), obs=y)


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Version, FitResult, list]:
    models_dir = tmp_path_factory.mktemp("models")
    events: list[Progress] = []
    version, result = fit_to_version(models_dir, eight_schools, {"sigma": SIGMA, "y": Y}, TINY,
                                     snapshot_hash="abc123", on_progress=events.append,
                                     gate=RELAXED)
    return models_dir, version, result, events


def test_progress_is_monotone_and_ends_at_total(cold: tuple) -> None:
    *_, events = cold
    assert [e.phase for e in events] == ["warmup"] * 6 + ["sampling"] * 6
    for phase, total in (("warmup", 300), ("sampling", 300)):
        its = [e.iteration for e in events if e.phase == phase]
        assert its == sorted(its) and its[-1] == total
        assert all(e.total == total for e in events if e.phase == phase)
    assert events[-1].eta_seconds == 0.0
    assert all(e.eta_seconds is not None and e.eta_seconds >= 0 for e in events)


def test_fit_writes_a_ready_version(cold: tuple) -> None:
    models_dir, version, result, _ = cold
    assert result.diagnostics.passed, result.diagnostics.reasons
    assert result.chain_method == "vectorized" and not result.warm_started
    assert result.diagnostics.excluded == ("theta",)  # deterministic: listed, not gated
    loaded = versions.load_version(models_dir, version.id)
    m = loaded.manifest
    assert m["status"] == READY and m["snapshot_hash"] == "abc123" and m["seed"] == 1
    assert m["fit_config"]["num_chains"] == 2 and m["diagnostics"]["passed"]
    assert {"jax", "jaxlib", "numpyro", "arviz", "numpy", "python"} <= set(m["libraries"])
    assert m["code_version"]["cohort"] and m["device"]["platform"] == "cpu"
    assert set(m["files"]) == {POSTERIOR, warmstart.FILE}
    idata = az.from_netcdf(loaded.file(POSTERIOR))
    assert {"posterior", "sample_stats", "log_likelihood", "observed_data",
            "constant_data"} <= set(idata.groups())
    assert idata.posterior["eta"].shape == (2, 300, 8)
    assert idata.posterior["mu"].dtype == np.float64  # the default on every device
    np.testing.assert_array_equal(idata.observed_data["y"].values, Y)
    np.testing.assert_array_equal(idata.constant_data["sigma"].values, SIGMA)
    assert idata.log_likelihood["y"].shape == (2, 300, 8)
    assert np.isfinite(az.loo(idata).elpd_loo)
    t = result.timings
    assert t.wall_s >= t.compile_s + t.warmup_s + t.sampling_s > 0


def test_every_chain_samples_with_one_step_size(cold: tuple) -> None:
    """The chains adapt their own step sizes in warm-up (they differ), then all sample with
    the smallest of them: one value over every chain and draw, also in the warm-start state."""
    *_, result, _ = cold
    steps = result.idata.sample_stats["step_size"].values  # (chain, draw)
    assert steps.shape == (2, 300) and np.unique(steps).size == 1
    np.testing.assert_array_equal(result.adapted.step_size, steps[:, 0])


def test_warm_start_reuses_adaptation_with_shorter_warmup(cold: tuple) -> None:
    models_dir, first, before, _ = cold
    config = FitConfig(**{**TINY.__dict__, "seed": 2})
    version, after = fit_to_version(models_dir, eight_schools, {"sigma": SIGMA, "y": Y}, config,
                                    snapshot_hash="abc124", init_from=first.id, gate=RELAXED)
    assert after.warm_started and "warm start" in after.warm_start_note
    assert after.num_warmup == TINY.warm_start_warmup < before.num_warmup
    saved = warmstart.load(first.file(warmstart.FILE))
    pooled = warmstart.plan(saved, {"mu": (), "tau": (), "eta": (8,)}, 2, False)
    for block, metric in after.adapted.inverse_mass_matrix.items():  # kept fixed: reused
        np.testing.assert_allclose(metric[0], pooled.inverse_mass_matrix[block])
    manifest = versions.load_version(models_dir, version.id).manifest
    assert manifest["warm_start"] == {"from": first.id, "used": True,
                                      "note": after.warm_start_note}
    assert after.diagnostics.passed, after.diagnostics.reasons
    for name in ("mu", "tau"):  # same posterior within Monte Carlo error
        means = [float(r.idata.posterior[name].mean()) for r in (before, after)]
        se = np.hypot(*(float(az.mcse(r.idata, var_names=[name])[name]) for r in (before, after)))
        assert abs(means[0] - means[1]) < 4 * se


def test_a_new_school_warm_starts_with_its_effect_at_zero(cold: tuple) -> None:
    models_dir, first, before, _ = cold
    nine = {"sigma": np.append(SIGMA, 12.0), "y": np.append(Y, 5.0)}  # a new group
    config = FitConfig(**{**TINY.__dict__, "seed": 4})
    _, after = fit_to_version(models_dir, eight_schools, nine, config, snapshot_hash="abc126",
                              init_from=first.id, gate=RELAXED)
    assert after.warm_started and "eta 8 -> 9" in after.warm_start_note
    assert after.num_warmup == TINY.warm_start_warmup
    assert after.idata.posterior["eta"].shape[-1] == 9
    assert after.diagnostics.passed, after.diagnostics.reasons


def test_grown_sites_keep_the_old_metric_and_pad_with_the_site_mean() -> None:
    """Sites raveled in block order (numpyro's): a (2,) then b (); a grows to (3,)."""
    dense = np.array([[2.0, 0.5, 0.1], [0.5, 4.0, 0.2], [0.1, 0.2, 9.0]])
    for metric in (np.diag(dense), dense):
        warm = warmstart.WarmStart(np.array([0.1, 0.4]), {("a", "b"): np.stack([metric] * 2)},
                                   {"a": np.ones((2, 2)), "b": np.ones((2,))},
                                   metric.ndim == 2)
        planned = warmstart.plan(warm, {"a": (3,), "b": ()}, 2, metric.ndim == 2)
        assert planned.used and "a 2 -> 3" in planned.reason
        np.testing.assert_array_equal(planned.init_params["a"], [[1, 1, 0], [1, 1, 0]])
        padded = planned.inverse_mass_matrix[("a", "b")]
        old = [0, 1, 3]
        np.testing.assert_array_equal(padded[np.ix_(old, old)] if metric.ndim == 2
                                      else padded[old], metric)
        diagonal = np.diag(padded) if metric.ndim == 2 else padded
        assert diagonal[2] == 3.0  # the mean of a's old variances, 2 and 4
        if metric.ndim == 2:  # no invented correlations
            assert not padded[2, old].any() and not padded[old, 2].any()
        assert planned.step_size == pytest.approx(0.2)


def test_changed_shapes_fall_back_to_cold_and_a_failed_gate_is_never_served(
    cold: tuple,
) -> None:
    models_dir, first, *_ = cold
    nine = {"sigma": SIGMA[:7], "y": Y[:7]}  # a school fewer: no warm start shrinks
    config = FitConfig(num_chains=2, num_warmup=100, num_samples=100, seed=3, chunk_size=50,
                       chain_method="sequential")
    version, result = fit_to_version(models_dir, eight_schools, nine, config,
                                     snapshot_hash="abc125", init_from=first.id)  # default gate
    assert not result.warm_started and result.num_warmup == 100
    assert result.chain_method == "sequential"
    assert "cold start" in result.warm_start_note and "eta" in result.warm_start_note
    assert version.status == FAILED and not result.diagnostics.passed
    manifest = json.loads(version.file(versions.MANIFEST).read_text())
    assert manifest["status"] == FAILED and manifest["diagnostics"]["reasons"]
    with pytest.raises(InvalidArgument):
        versions.set_serving(models_dir, version.id)
    assert versions.serving_version(models_dir) is None


@pytest.mark.parametrize(("requested", "chains", "devices", "chosen"), [
    ("auto", 4, 1, "vectorized"), ("auto", 4, 4, "parallel"), ("auto", 4, 2, "vectorized"),
    ("auto", 1, 8, "vectorized"), ("sequential", 4, 1, "sequential"),
])
def test_chain_method_choice(requested: str, chains: int, devices: int, chosen: str) -> None:
    assert choose_chain_method(requested, chains, devices) == chosen


def test_parallel_with_too_few_devices_is_refused() -> None:
    with pytest.raises(ValueError, match="one device per chain"):
        choose_chain_method("parallel", 4, 2)


PARALLEL_SCRIPT = """
import jax, numpy as np, numpyro, numpyro.distributions as dist
from cohort.fit import FitConfig, fit_model
from cohort.diagnostics import Gate

def model(y=None):
    mu = numpyro.sample("mu", dist.Normal(0.0, 1.0))
    numpyro.sample("y", dist.Normal(mu, 1.0), obs=y)

events = []
result = fit_model(jax.random.PRNGKey(0), model, {"y": np.array([0.5, -0.2])},
                   FitConfig(num_chains=2, num_warmup=100, num_samples=100),
                   on_progress=events.append, gate=Gate(1.1, 50, 50))
assert result.chain_method == "parallel", result.chain_method
assert result.idata.posterior["mu"].shape == (2, 100)
assert [e.iteration for e in events] == [50, 100, 50, 100]
assert np.unique(result.idata.sample_stats["step_size"].values).size == 1  # one step, all chains
print("ok")
"""


def test_parallel_chains_on_simulated_devices() -> None:
    """auto picks one chain per device when there are enough (here 2 forced CPU devices)."""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", PARALLEL_SCRIPT], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_warm_start_from_a_version_without_state_is_refused(tmp_path: Path) -> None:
    idata = az.from_dict(posterior={"mu": np.zeros((2, 10))})
    bare = versions.write_version(tmp_path, {POSTERIOR: idata.to_netcdf}, {"status": READY},
                                  datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidArgument, match="warm-start"):
        fit_to_version(tmp_path, eight_schools, {"sigma": SIGMA, "y": Y}, TINY, "abc",
                       init_from=bare.id)
