"""A cohort spec → the engine's covariate arrays, checked against one model version.

`spec.parse_spec` checked the spec on its own; here names meet a version: a product name,
target or disease the version cannot predict for is an InvalidArgument naming the field
and listing the allowed values, every problem at once.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from cohort.contract import DISEASES, UNITS
from cohort.engine.posterior import Catalogue
from cohort.errors import InvalidArgument, Violation
from cohort.model import COMBOS, FEATURES, LEVELS, ld_feature
from cohort.model.data import attribute_design
from cohort.spec import CohortSpec, Product

Array = jax.Array


class Covariates(NamedTuple):
    """One spec as fixed-shape arrays, so every spec shares one compiled program."""

    product: np.ndarray  # int32 (): known product index (0 when new)
    new_product: np.ndarray  # bool (): fresh δ ~ N(0, τ_prod) per draw
    disease: np.ndarray  # int32 ()
    new_disease: np.ndarray  # bool (): fresh θ ~ N(0, τ_dis) per draw
    combo_mask: np.ndarray  # bool (C,): attribute combinations the spec allows
    design: np.ndarray  # (C, D) attribute design of each combination
    ld: np.ndarray  # (4,) LD features f
    new_trial: np.ndarray  # bool (): fresh u ~ MVN(0, Σ) per draw
    unit: np.ndarray  # int32 (): kinetic unit of the peak


def _allowed(values: tuple[str, ...]) -> str:
    return "one of {" + ", ".join(values) + "}"


def _spec_mask(product: Product) -> np.ndarray:
    """Combinations consistent with the attributes the spec states (None = any level)."""
    stated = [getattr(product, attr) for attr in LEVELS]
    return np.array([all(s is None or s == level for s, level in zip(stated, combo, strict=True))
                     for combo in COMBOS])


def _known_product(product: Product, catalogue: Catalogue,
                   bad: list[Violation]) -> tuple[int, np.ndarray, str]:
    names = catalogue.index.products
    if product.name not in names:
        bad.append(Violation("product.name", str(product.name),
                             f"unknown to this model version; {_allowed(names)}"))
        return 0, np.zeros(len(COMBOS), bool), "CD19"
    p = names.index(product.name)
    target = catalogue.product_targets[p]
    if product.target is not None and set(product.target.split("/")) != set(target.split("/")):
        bad.append(Violation("product.target", product.target,
                             f"product {product.name!r} has target {target}"))
    mask = catalogue.compatible[p] & _spec_mask(product)
    for column, attr in enumerate(LEVELS):
        stated = getattr(product, attr)
        levels = {COMBOS[c][column] for c in np.flatnonzero(catalogue.compatible[p])}
        if stated is not None and stated not in levels:
            bad.append(Violation(f"product.{attr}", stated, f"product {product.name!r} has "
                                 f"{attr} {_allowed(tuple(sorted(levels)))}"))
    return p, mask, target


def _new_target(target: str | None, catalogue: Catalogue, bad: list[Violation]) -> str:
    known = catalogue.index.targets
    unknown = [t for t in (target or "").split("/") if t not in known]
    if target is None or unknown:
        bad.append(Violation("product.target", str(target), "targets unknown to this model "
                             f"version: {unknown}; each of {'/'.join(unknown) or '?'} must "
                             f"be {_allowed(known)} (join several with '/')"))
        return known[0]
    return target


def _disease(disease: str, catalogue: Catalogue, bad: list[Violation]) -> tuple[int, bool]:
    known = catalogue.index.diseases
    if disease in known:
        return known.index(disease), False
    if disease not in DISEASES:
        bad.append(Violation("disease", disease, _allowed(DISEASES)))
    return 0, True  # a contract disease the data lacks: fresh θ from its prior


def ld_features(spec: CohortSpec) -> np.ndarray:
    """f_flu, f_cy, f_benda (0 when not given), f_cd52 ∈ {0, 1}."""
    totals = [float(ld_feature(spec.ld.total(agent), agent)) for agent in FEATURES[:3]]
    return np.array([*totals, float(spec.ld.anti_cd52)])


def spec_covariates(spec: CohortSpec, catalogue: Catalogue) -> Covariates:
    """Covariates of `spec` under the version of `catalogue`, or InvalidArgument."""
    bad: list[Violation] = []
    new_product = spec.product.name is None
    if new_product:
        p, mask = 0, _spec_mask(spec.product)
        target = _new_target(spec.product.target, catalogue, bad)
    else:
        p, mask, target = _known_product(spec.product, catalogue, bad)
    disease, new_disease = _disease(spec.disease, catalogue, bad)
    if spec.kinetic_unit not in UNITS:
        bad.append(Violation("kinetic_unit", spec.kinetic_unit, _allowed(UNITS)))
    if bad:
        raise InvalidArgument(bad)
    targets = catalogue.index.targets
    design = np.stack([attribute_design(combo, target, targets) for combo in COMBOS])
    return Covariates(
        product=np.int32(p), new_product=np.bool_(new_product), disease=np.int32(disease),
        new_disease=np.bool_(new_disease), combo_mask=mask, design=design,
        ld=ld_features(spec), new_trial=np.bool_(spec.new_trial),
        unit=np.int32(UNITS.index(spec.kinetic_unit)))
