"""The binomial sampler of the engine against scipy's exact distribution (no model fit)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from cohort.engine.counts import binomial, stirlerr

DRAWS = 40_000
SAMPLE = jax.jit(jax.vmap(binomial, in_axes=(0, None, None)))


def _counts(n: int, p: float, seed: int = 0) -> np.ndarray:
    key = jax.random.key(seed, impl="threefry2x32")
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(DRAWS))
    return np.asarray(SAMPLE(keys, jnp.float32(n), jnp.float32(p)))


# both branches (inversion below n·p = 10, BTRS above), both sides of p = 1/2, edges
@pytest.mark.parametrize(("n", "p"), [(30, 0.2), (30, 0.5), (40, 0.26), (1000, 0.03),
                                      (1000, 0.7), (100_000, 0.37), (7, 0.98)])
def test_counts_follow_the_binomial_distribution(n: int, p: float) -> None:
    counts = _counts(n, p)
    assert counts.min() >= 0 and counts.max() <= n
    support = np.arange(n + 1)
    expected = stats.binom.pmf(support, n, p) * DRAWS
    observed = np.bincount(counts, minlength=n + 1)
    # pool the sparse tails so every cell expects >= 5 (chi-square validity)
    keep = expected >= 5
    cells = np.append(observed[keep], observed[~keep].sum())
    means = np.append(expected[keep], expected[~keep].sum())
    chi2 = ((cells - means) ** 2 / np.maximum(means, 1e-12)).sum()
    dof = max(len(cells) - 1, 1)
    assert stats.chi2.sf(chi2, dof) > 1e-4, (chi2, dof)


@pytest.mark.parametrize(("n", "p", "expected"), [(0, 0.4, 0), (12, 0.0, 0), (12, 1.0, 12)])
def test_degenerate_counts(n: int, p: float, expected: int) -> None:
    assert set(_counts(n, p)[:100]) == {expected}


def test_same_keys_couple_counts_of_different_p() -> None:
    """Common random numbers: BTRS and inversion are (transformed) inversions of their
    uniforms, so counts under the same keys are strongly correlated; other keys: not."""
    a, b, other = _counts(1000, 0.40), _counts(1000, 0.45), _counts(1000, 0.45, seed=1)
    assert np.corrcoef(a, b)[0, 1] > 0.9
    assert abs(np.corrcoef(a, other)[0, 1]) < 0.05
    small, smaller = _counts(30, 0.10), _counts(30, 0.12)  # the inversion branch
    assert np.corrcoef(small, smaller)[0, 1] > 0.9


def test_stirlerr_matches_lgamma() -> None:
    m = np.arange(1, 200, dtype=float)
    exact = np.array([math.lgamma(x + 1) - (x + 0.5) * math.log(x) + x
                      - 0.5 * math.log(2 * math.pi) for x in m])
    assert np.allclose(np.asarray(stirlerr(jnp.asarray(m))), exact, rtol=0, atol=1e-6)
