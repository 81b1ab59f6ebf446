"""The convergence gate on draws whose verdict is known by construction."""

from __future__ import annotations

import json

import arviz as az
import numpy as np
import pytest

from cohort.diagnostics import Diagnostics, Gate, compute_diagnostics

CHAINS, DRAWS = 4, 1000


def _idata(posterior: dict[str, np.ndarray], divergences: int = 0) -> az.InferenceData:
    diverging = np.zeros((CHAINS, DRAWS), dtype=bool)
    diverging.flat[:divergences] = True
    return az.from_dict(posterior=posterior, sample_stats={"diverging": diverging})


def _iid(seed: int = 0, shape: tuple[int, ...] = ()) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(CHAINS, DRAWS, *shape))


def test_iid_draws_pass_the_default_gate() -> None:
    result = compute_diagnostics(_idata({"mu": _iid(0), "theta": _iid(1, (3,))}))
    assert result.passed, result.reasons
    assert result.max_rhat < 1.01 and result.min_ess_bulk >= 400 and result.min_ess_tail >= 400
    assert result.gate == Gate() and result.divergences == 0


def test_chains_with_shifted_means_fail_on_rhat() -> None:
    draws = _iid(2) + np.arange(CHAINS)[:, None] * 0.5
    result = compute_diagnostics(_idata({"mu": draws}))
    assert not result.passed
    assert result.max_rhat > 1.01
    assert any("R-hat" in r for r in result.reasons)
    assert result.worst[0].name == "mu"


def test_planted_divergences_fail() -> None:
    result = compute_diagnostics(_idata({"mu": _iid(3)}, divergences=2))
    assert not result.passed
    assert result.divergences == 2
    assert result.reasons == ("2 divergences after warm-up > 0",)


def test_autocorrelated_draws_fail_on_ess() -> None:
    noise, draws = _iid(4), np.zeros((CHAINS, DRAWS))
    for t in range(1, DRAWS):  # AR(1), rho 0.98: a few dozen effective draws per chain
        draws[:, t] = 0.98 * draws[:, t - 1] + noise[:, t]
    result = compute_diagnostics(_idata({"mu": draws}))
    assert not result.passed
    assert result.min_ess_bulk < 400
    assert any("bulk ESS" in r for r in result.reasons)


def test_constant_elements_are_skipped_not_failed() -> None:
    """A structural zero has NaN R-hat in ArviZ; it has nothing to converge, so it is
    counted and skipped rather than failing the gate."""
    beta = _iid(5, (3,))
    beta[..., 0] = 0.0
    result = compute_diagnostics(_idata({"beta": beta}))
    assert result.passed, result.reasons
    assert result.constant_elements == 1
    assert {w.name for w in result.worst} <= {"beta[1]", "beta[2]"}


def test_a_stuck_chain_is_not_mistaken_for_a_constant() -> None:
    draws = _iid(6)
    draws[0] = 3.0  # one chain frozen at its own value: differs between chains
    result = compute_diagnostics(_idata({"mu": draws}))
    assert not result.passed
    assert result.constant_elements == 0


def test_nan_draws_fail() -> None:
    draws = _iid(7)
    draws[1, 10] = np.nan
    result = compute_diagnostics(_idata({"mu": draws}))
    assert not result.passed


def test_excluded_sites_are_listed_and_ignored() -> None:
    bad = _iid(8) + np.arange(CHAINS)[:, None]
    result = compute_diagnostics(_idata({"mu": _iid(9), "derived": bad}), exclude=("derived",))
    assert result.passed, result.reasons
    assert result.excluded == ("derived",)


def test_relaxed_gate_only_when_asked() -> None:
    draws = _iid(10)[:, :100]
    idata = az.from_dict(posterior={"mu": draws},
                         sample_stats={"diverging": np.zeros((CHAINS, 100), bool)})
    assert not compute_diagnostics(idata).passed  # 400 draws cannot reach ESS 400 tail+bulk
    assert compute_diagnostics(idata, Gate(1.05, 100, 100)).passed


@pytest.mark.parametrize("draws", [_iid(11), _iid(12) + np.arange(CHAINS)[:, None]])
def test_json_round_trip(draws: np.ndarray) -> None:
    result = compute_diagnostics(_idata({"mu": draws}))
    text = json.dumps(result.to_dict(), allow_nan=False)
    assert Diagnostics.from_dict(json.loads(text)) == result
