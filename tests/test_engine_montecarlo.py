"""The engine against an independent plain-NumPy Monte Carlo from the same posterior.

NumPy reads the ArviZ posterior directly (not the engine's PosteriorDraws), builds the
linear predictors from the attribute *names* and the LD formula of DESIGN §4, and
simulates patients: E ~ N(m, 1), then each outcome given E. With draw_count = S the
engine's virtual draw d is posterior draw d, so with new_trial=False both sides are
paired per draw and the only noise is NumPy's patient sampling: the Monte Carlo
standard error of the mean rate is sqrt(Σ_s p_s(1 − p_s) / M) / S for M patients per
draw; agreement is asserted within 4.5 of those (per outcome, 10 outcomes).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from cohort.engine import OUTCOMES, Engine
from cohort.home import Home
from cohort.spec import CohortSpec, Product, Regimen
from cohort.versions import Version
from cohort.workflow import Fitted, load_fitted

AXICEL = "axicabtagene ciloleucel (axi-cel)"
PATIENTS = 4000  # per posterior draw
Z_MAX = 4.5


@pytest.fixture(scope="module")
def fitted(fitted_home: tuple[Home, Version]) -> Fitted:
    home, version = fitted_home
    return load_fitted(home, version.id)


@pytest.fixture(scope="module")
def engine(fitted: Fitted) -> Engine:
    return Engine.load(fitted.data, fitted.idata)


def _posterior(fitted: Fitted) -> dict[str, np.ndarray]:
    post = fitted.idata.posterior
    return {k: np.asarray(v.values).reshape((-1, *v.shape[2:])) for k, v in post.items()}


def _mu(fitted: Fitted, post: dict, spec: CohortSpec, attrs: set[str]) -> np.ndarray:
    """(S, K) linear predictors of a known product (all attributes stated), no trial effect."""
    index = fitted.data.index
    x = np.array([float(c in attrs) for c in index.attr_columns])
    f = np.array([np.log1p(spec.ld.total("flu") / 90), np.log1p(spec.ld.total("cy") / 1000),
                  np.log1p(spec.ld.total("benda") / 180), float(spec.ld.anti_cd52)])
    f -= np.array([np.log1p(90 / 90), np.log1p(1200 / 1000), 0.0, 0.0])  # usual Flu/Cy: MODEL.md
    s = len(post["alpha"])
    alpha = np.concatenate([np.zeros((s, 4)), post["alpha"]], axis=1)
    p, d = index.products.index(spec.product.name), index.diseases.index(spec.disease)
    return (np.einsum("d,sdk->sk", x, post["attr_effect"]) + post["product_effect"][:, p]
            + post["disease_effect"][:, d] + alpha + np.einsum("f,sfk->sk", f, post["ld_effect"]))


def _simulate(rng: np.random.Generator, post: dict, mu: np.ndarray, gvhd: bool) -> np.ndarray:
    """(S, O) per-draw patient frequencies of every outcome, OUTCOMES order."""
    s = len(mu)
    gamma = np.concatenate([np.zeros((s, 1)), post["gamma"]], axis=1)
    e = mu[:, :1] + rng.standard_normal((s, PATIENTS))
    eta = mu[:, 1:, None] + gamma[:, 1:, None] * e[:, None, :]  # (S, 5, M)
    cuts = post["cuts"]  # (S, 3, 2)
    # one uniform per patient and ordinal outcome against both cut-points: band 0, 1, 2
    band = [(rng.random((s, 1, PATIENTS)) < expit(eta[:, k, None] - cuts[:, k, :, None])).sum(1)
            for k in range(3)]
    neut = rng.random((s, PATIENTS)) < expit(eta[:, 3])
    gv = (rng.random((s, PATIENTS)) < expit(eta[:, 4])) & gvhd
    r, c, i = band
    flags = [r >= 1, r == 2, c >= 1, c == 2, i >= 1, i == 2, neut, gv,
             (r >= 1) & (c < 2), (r == 2) & (c < 2)]
    return np.stack([f.mean(1) for f in flags], axis=1)


def test_rates_agree_with_numpy_patient_simulation(fitted: Fitted, engine: Engine) -> None:
    post = _posterior(fitted)
    s = len(post["alpha"])
    spec = CohortSpec(product=Product(name=AXICEL), disease="LBCL",
                      ld=Regimen(flu_mg_m2_day=30, flu_days=3, cy_mg_m2_day=500, cy_days=3),
                      draw_count=s, new_trial=False)
    mu = _mu(fitted, post, spec, {"costim[CD28]"})
    simulated = _simulate(np.random.default_rng(0), post, mu, gvhd=False)
    rates = engine.draws(spec).rates
    p = np.clip(rates, 1e-12, 1 - 1e-12)
    se = np.sqrt((p * (1 - p)).sum(0) / PATIENTS) / s
    z = (simulated.mean(0) - rates.mean(0)) / se
    assert (np.abs(z) < Z_MAX).all(), dict(zip(OUTCOMES, z.round(2), strict=True))
    # and per draw: the quadrature rate is each draw's patient frequency, not a plug-in
    per_draw = (simulated - rates) / np.sqrt(p * (1 - p) / PATIENTS)
    assert np.abs(per_draw).max() < 6.0


def test_counts_agree_with_numpy_trials(fitted: Fitted, engine: Engine) -> None:
    """P(count ≥ k) in a trial of n against trials of n simulated patients per draw."""
    post = _posterior(fitted)
    s, n, repeat = len(post["alpha"]), 25, 20
    spec = CohortSpec(product=Product(name=AXICEL), disease="LBCL", patient_count=n,
                      draw_count=s * repeat, new_trial=False)
    counts = engine.draws(spec).counts  # draw d uses posterior draw d // repeat
    rates = engine.draws(spec).rates[::repeat]
    rng = np.random.default_rng(1)
    trials = (rng.random((s, repeat, n, len(OUTCOMES))) < rates[:, None, None, :]).sum(2)
    trials = trials.reshape(s * repeat, len(OUTCOMES))
    for j, name in enumerate(OUTCOMES):
        k = int(np.median(trials[:, j]))
        a, b = np.mean(counts[:, j] >= k), np.mean(trials[:, j] >= k)
        se = np.sqrt((a * (1 - a) + b * (1 - b)) / len(counts)) + 1e-9
        assert abs(a - b) < Z_MAX * se + 1e-12, (name, k, a, b)


def test_virtual_patients_agree_with_rates(engine: Engine) -> None:
    spec = CohortSpec(product=Product(cell_source="allogeneic", cell_type="CAR-T",
                                      target="CD19"), disease="LBCL", patient_count=2000,
                      draw_count=100, seed=5)
    rates = engine.draws(spec).rates
    batches = list(engine.patients(spec))
    response = np.concatenate([b.response for b in batches])
    crs = np.concatenate([b.crs for b in batches])
    gvhd = np.concatenate([b.gvhd for b in batches])
    observed = {"orr": response >= 1, "cr": response == 2, "crs_g3": crs == 2,
                "gvhd_any": gvhd, "orr_without_crs_g3": (response >= 1) & (crs < 2)}
    for name, flags in observed.items():
        p = rates[:, OUTCOMES.index(name)]
        se = np.sqrt((p * (1 - p)).sum() / spec.patient_count) / spec.draw_count
        assert abs(flags.mean() - p.mean()) < Z_MAX * se, name
