"""Cohort specs: what a virtual-cohort query asks for, validated at the boundary.

A spec arrives as a JSON-like mapping (CLI file, gRPC message converted by the server)
and leaves as a frozen `CohortSpec`, or as one InvalidArgument naming every bad field
(`ld.flu_mg_m2_day`, `product.cell_source`, `patient_count`...) with its allowed range.
Whether a product, disease or target is known to a model version is checked later,
against that version, by the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from cohort.contract import CELL_SOURCE, CELL_TYPE, COSTIM, DISEASES, UNITS
from cohort.errors import InvalidArgument, Violation

DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
MAX_PATIENTS = 100_000
MAX_DRAWS = 20_000
AGENTS = ("flu", "cy", "benda")
MAX_DAILY_DOSE = {"flu": 100.0, "cy": 3000.0, "benda": 300.0}  # mg/m2/day, far above use


@dataclass(frozen=True)
class Product:
    """A known product by `name`, or a new one by attributes (None = unknown, marginalised)."""

    name: str | None = None
    cell_source: str | None = None
    cell_type: str | None = None
    costim: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class Regimen:
    """Lymphodepletion per agent: mg/m2/day × days (0 = not given); anti-CD52 yes/no."""

    flu_mg_m2_day: float = 0.0
    flu_days: int = 0
    cy_mg_m2_day: float = 0.0
    cy_days: int = 0
    benda_mg_m2_day: float = 0.0
    benda_days: int = 0
    anti_cd52: bool = False

    def total(self, agent: str) -> float:
        """Total dose of `agent` in mg/m2."""
        return getattr(self, f"{agent}_mg_m2_day") * getattr(self, f"{agent}_days")


@dataclass(frozen=True)
class CohortSpec:
    product: Product
    disease: str
    ld: Regimen = Regimen()
    patient_count: int = 30
    draw_count: int = 1000
    seed: int = 0
    new_trial: bool = True
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    count_thresholds: tuple[int, ...] = ()
    kinetic_unit: str = "copies/ug"

    def with_value(self, path: str, value: float) -> CohortSpec:
        """A copy with one numeric field changed, e.g. `ld.flu_mg_m2_day` (for sweeps)."""
        head, _, leaf = path.rpartition(".")
        if head == "ld":
            return replace(self, ld=replace(self.ld, **{leaf: value}))
        return replace(self, **{leaf: value})


class _Fields:
    """Collects violations while reading a mapping, so every bad field is reported."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def bad(self, path: str, value: Any, rule: str) -> None:
        self.violations.append(Violation(path, "" if value is None else str(value), rule))

    def number(self, raw: Mapping[str, Any], path: str, default: float, *, integer: bool,
               low: float, high: float) -> Any:
        value = raw.get(path.rpartition(".")[2], default)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and integer and float(value).is_integer():
            value = int(value)
        elif ok and integer:
            ok = False
        if not ok or not low <= value <= high:
            kind = "an integer" if integer else "a number"
            self.bad(path, value, f"must be {kind} in [{low:g}, {high:g}]")
            return default
        return value

    def choice(self, raw: Mapping[str, Any], path: str, allowed: tuple[str, ...],
               default: str | None) -> str | None:
        value = raw.get(path.rpartition(".")[2], default)
        if value is None or value == "":
            return default
        if value not in allowed:
            self.bad(path, value, f"must be one of {{{', '.join(allowed)}}}")
            return default
        return value

    def flag(self, raw: Mapping[str, Any], path: str, default: bool) -> bool:
        value = raw.get(path.rpartition(".")[2], default)
        if not isinstance(value, bool):
            self.bad(path, value, "must be true or false")
            return default
        return value


def _product(raw: Any, fields: _Fields) -> Product:
    if not isinstance(raw, Mapping):
        fields.bad("product", raw, "must be an object with `name` or attributes")
        return Product()
    name = raw.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        fields.bad("product.name", name, "must be a non-empty product name")
        name = None
    product = Product(
        name=name,
        cell_source=fields.choice(raw, "product.cell_source", CELL_SOURCE, None),
        cell_type=fields.choice(raw, "product.cell_type", CELL_TYPE, None),
        costim=fields.choice(raw, "product.costim", COSTIM, None),
        target=raw.get("target") or None,
    )
    if product.name is None and (product.cell_type is None or product.target is None):
        fields.bad("product", "", "give a known product `name`, or at least `cell_type` and "
                   "`target` for a new product")
    return product


def _regimen(raw: Any, fields: _Fields) -> Regimen:
    if not isinstance(raw, Mapping):
        fields.bad("ld", raw, "must be an object of per-agent doses")
        return Regimen()
    values: dict[str, Any] = {}
    for agent in AGENTS:
        before = len(fields.violations)
        dose = fields.number(raw, f"ld.{agent}_mg_m2_day", 0.0, integer=False, low=0,
                             high=MAX_DAILY_DOSE[agent])
        days = fields.number(raw, f"ld.{agent}_days", 0, integer=True, low=0, high=14)
        if len(fields.violations) == before and (dose > 0) != (days > 0):
            fields.bad(f"ld.{agent}_days", days,
                       f"must be >= 1 when ld.{agent}_mg_m2_day > 0 and 0 when it is 0")
        values |= {f"{agent}_mg_m2_day": float(dose), f"{agent}_days": days}
    known = {f"{a}_{s}" for a in AGENTS for s in ("mg_m2_day", "days")} | {"anti_cd52"}
    for name in sorted(set(raw) - known):
        fields.bad(f"ld.{name}", raw[name], f"unknown field; expected {sorted(known)}")
    return Regimen(**values, anti_cd52=fields.flag(raw, "ld.anti_cd52", False))


def _quantiles(raw: Any, fields: _Fields) -> tuple[float, ...]:
    ok = isinstance(raw, list | tuple) and 0 < len(raw) <= 99 and all(
        isinstance(q, int | float) and not isinstance(q, bool) and 0 < q < 1 for q in raw)
    if not ok:
        fields.bad("quantiles", raw, "must be 1-99 numbers strictly between 0 and 1")
        return DEFAULT_QUANTILES
    return tuple(sorted(float(q) for q in raw))


def parse_spec(raw: Any) -> CohortSpec:
    """A validated CohortSpec from a JSON-like mapping, or InvalidArgument with every problem."""
    fields = _Fields()
    if not isinstance(raw, Mapping):
        raise InvalidArgument([Violation("spec", str(raw)[:80], "must be a JSON object")])
    n = fields.number(raw, "patient_count", 30, integer=True, low=1, high=MAX_PATIENTS)
    thresholds = raw.get("count_thresholds", [])
    if not (isinstance(thresholds, list | tuple) and all(
            isinstance(k, int) and not isinstance(k, bool) and 0 <= k <= n for k in thresholds)):
        fields.bad("count_thresholds", thresholds, f"must be whole numbers in [0, {n}]")
        thresholds = []
    spec = CohortSpec(
        product=_product(raw.get("product"), fields),
        disease=fields.choice(raw, "disease", DISEASES, None) or "",
        ld=_regimen(raw.get("ld", {}), fields),
        patient_count=n,
        draw_count=fields.number(raw, "draw_count", 1000, integer=True, low=1, high=MAX_DRAWS),
        seed=fields.number(raw, "seed", 0, integer=True, low=0, high=2**31 - 1),
        new_trial=fields.flag(raw, "new_trial", True),
        quantiles=_quantiles(raw.get("quantiles", list(DEFAULT_QUANTILES)), fields),
        count_thresholds=tuple(thresholds),
        kinetic_unit=fields.choice(raw, "kinetic_unit", UNITS, "copies/ug") or "copies/ug",
    )
    if not spec.disease and "disease" not in {v.field for v in fields.violations}:
        fields.bad("disease", "", f"required; one of {{{', '.join(DISEASES)}}}")
    known = set(CohortSpec.__dataclass_fields__)
    for name in sorted(set(raw) - known):
        fields.bad(name, raw[name], f"unknown field; expected {sorted(known)}")
    if fields.violations:
        raise InvalidArgument(fields.violations)
    return spec
