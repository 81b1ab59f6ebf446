"""A compiled NUTS run for the model tests: initialisation, warm-up and sampling in one
jitted program (numpyro's MCMC initialises eagerly, op by op, which is slow here)."""

from __future__ import annotations

import jax
import numpy as np
from numpyro.infer import NUTS

from cohort.model import ModelData, cohort_model


def nuts(rng_key: jax.Array, data: ModelData, num_warmup: int, num_samples: int,
         num_chains: int = 2) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(samples (chain·draw, ...) in constrained space, {diverging, num_steps} per draw)."""
    kernel, kwargs = NUTS(cohort_model), {"data": data}

    def chain(key: jax.Array) -> tuple:
        state = kernel.init(key, num_warmup, None, (), kwargs)

        def step(state, _):  # noqa: ANN001, ANN202
            state = kernel.sample(state, (), kwargs)
            return state, (state.z, state.diverging, state.num_steps)

        state, _ = jax.lax.scan(step, state, None, length=num_warmup)
        return jax.lax.scan(step, state, None, length=num_samples)[1]

    with jax.enable_x64(True):
        z, diverging, num_steps = jax.jit(jax.vmap(chain))(jax.random.split(rng_key, num_chains))
        samples = jax.jit(jax.vmap(jax.vmap(kernel.postprocess_fn((), kwargs))))(z)
    flat = {k: np.asarray(v).reshape(-1, *v.shape[2:]) for k, v in samples.items()}
    return flat, {"diverging": np.asarray(diverging), "num_steps": np.asarray(num_steps)}
