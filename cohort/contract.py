"""The public data contract (DESIGN §3) as code: four tables, their columns and rules.

Every table is a tuple of `Column`s (name, kind, unit, vocabulary, range) plus row rules
that relate columns (CR ≤ ORR, grade ≥3 ≤ any grade, a value needs its unit...). The
rules are data, so documentation and validation read from the same source.

Empty means unknown, never zero: an empty cell parses to None and only `required`
columns reject it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "int", "float"]

UNITS = ("cells/uL", "copies/ug")
COSTIM = ("CD28", "4-1BB", "other")
CELL_SOURCE = ("autologous", "allogeneic", "iPSC")
CELL_TYPE = ("CAR-T", "CAR-NK")
DISEASES = (
    "LBCL", "FL", "MCL", "CLL", "B-ALL", "T-ALL", "T-LBL", "T-NHL", "MM", "HL", "B-NHL", "AML",
)
BEST_RESPONSE = ("CR", "PR", "SD", "PD", "NE")
FLAG = ("0", "1")


@dataclass(frozen=True)
class Column:
    """One column: `low`/`high` are inclusive bounds; `positive` excludes zero."""

    name: str
    kind: Kind
    doc: str
    unit: str = ""
    required: bool = False
    vocab: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    positive: bool = False


@dataclass(frozen=True)
class AtMost:
    """`small` ≤ `large` (or ≤ `fallback` when `large` is empty); reported on `small`."""

    small: str
    large: str
    fallback: str | None = None


@dataclass(frozen=True)
class NeedsUnit:
    """A measured `value` needs its `unit`; reported on the unit column."""

    value: str
    unit: str


@dataclass(frozen=True)
class DoseDays:
    """A dose > 0 needs days ≥ 1, and days > 0 need a dose that is not 0."""

    dose: str
    days: str


@dataclass(frozen=True)
class NotAutologous:
    """`column` > 0 (e.g. GvHD) is impossible when `source_column` says autologous."""

    column: str
    source_column: str


RowRule = AtMost | NeedsUnit | DoseDays | NotAutologous


@dataclass(frozen=True)
class References:
    """Values of `column` must name a row of `table` (in the snapshot or this submission)."""

    column: str
    table: str
    target: str


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    rules: tuple[RowRule, ...] = ()
    references: tuple[References, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _count(name: str, doc: str) -> Column:
    return Column(name, "int", doc, unit="patients", low=0)


def _ld(agent: str, label: str) -> tuple[Column, Column]:
    return (
        Column(f"{agent}_mg_m2_day", "float", f"{label} daily dose; 0 = not given, empty = unknown",
               unit="mg/m2/day", low=0),
        Column(f"{agent}_days", "int", f"{label} days given; empty = unknown", unit="days", low=0),
    )


def _median(prefix: str, what: str) -> Column:
    return Column(f"{prefix}_median", "float", f"median {what}", unit=f"{prefix}_unit",
                  positive=True)


ARMS = Table(
    name="arms",
    doc="One row per non-overlapping trial arm (aggregate data).",
    key=("arm_id",),
    columns=(
        Column("arm_id", "text", "unique arm identifier", required=True),
        Column("trial", "text", "trial name / registry id", required=True),
        Column("product", "text", "product name; arms of one product share it", required=True),
        Column("target", "text", "antigen target(s), e.g. CD19 or CD19/CD22", required=True),
        Column("costim", "text", "costimulatory domain; empty = unknown", vocab=COSTIM),
        Column("cell_source", "text", "cell source; empty = not stated", vocab=CELL_SOURCE),
        Column("cell_type", "text", "cell type", required=True, vocab=CELL_TYPE),
        Column("disease", "text", "disease", required=True, vocab=DISEASES),
        Column("setting", "text", "free-text setting / line of therapy"),
        *_ld("flu", "fludarabine"),
        *_ld("cy", "cyclophosphamide"),
        *_ld("benda", "bendamustine"),
        Column("anti_cd52", "int", "anti-CD52 antibody in LD (1) or not (0); empty = unknown",
               vocab=FLAG),
        Column("n_treated", "int", "infused patients; denominator of toxicity counts",
               unit="patients", required=True, low=1),
        Column("n_efficacy", "int", "ORR/CR denominator when it differs from n_treated",
               unit="patients", low=1),
        _count("n_orr", "responders (CR + PR)"),
        _count("n_cr", "complete responders"),
        _count("n_crs_any", "CRS any grade"),
        _count("n_crs_g3", "CRS grade >= 3"),
        _count("n_icans_any", "ICANS any grade"),
        _count("n_icans_g3", "ICANS grade >= 3"),
        _count("n_neut_g3", "neutropenia grade >= 3"),
        _count("n_gvhd_any", "GvHD any grade"),
        _median("peak", "peak expansion (Cmax)"),
        Column("peak_unit", "text", "assay unit of peak_median", vocab=UNITS),
        _median("auc28", "AUC day 0-28 (unit x day)"),
        Column("auc28_unit", "text", "assay unit of auc28_median", vocab=UNITS),
        Column("tmax_median_days", "float", "median time to peak", unit="days", low=0),
        Column("source", "text", "citation of the values"),
        Column("notes", "text", "extraction notes"),
    ),
    rules=(
        AtMost("n_orr", "n_efficacy", fallback="n_treated"),
        AtMost("n_cr", "n_orr"),
        AtMost("n_cr", "n_efficacy", fallback="n_treated"),
        *(AtMost(f"n_{tox}", "n_treated") for tox in
          ("crs_any", "crs_g3", "icans_any", "icans_g3", "neut_g3", "gvhd_any")),
        AtMost("n_crs_g3", "n_crs_any"),
        AtMost("n_icans_g3", "n_icans_any"),
        DoseDays("flu_mg_m2_day", "flu_days"),
        DoseDays("cy_mg_m2_day", "cy_days"),
        DoseDays("benda_mg_m2_day", "benda_days"),
        NeedsUnit("peak_median", "peak_unit"),
        NeedsUnit("auc28_median", "auc28_unit"),
        NotAutologous("n_gvhd_any", "cell_source"),
    ),
)

KINETIC_STRATA = Table(
    name="kinetic_strata",
    doc="Kinetics reported for a subgroup of an arm (by response, by LD, by biomarker).",
    key=("arm_id", "stratum_kind", "stratum"),
    columns=(
        Column("arm_id", "text", "the arm the subgroup belongs to", required=True),
        Column("stratum_kind", "text", "what defines the subgroup", required=True,
               vocab=("response", "ld_regimen", "biomarker")),
        Column("stratum", "text", "subgroup label as published", required=True),
        Column("response_group", "text",
               "for response strata: responders or non-responders; empty = label unknown",
               vocab=("responder", "non-responder")),
        Column("n", "int", "patients in the subgroup; empty = not stated", unit="patients", low=1),
        _median("peak", "peak expansion (Cmax)"),
        Column("peak_unit", "text", "assay unit of peak_median", vocab=UNITS),
        _median("auc28", "AUC day 0-28 (unit x day)"),
        Column("auc28_unit", "text", "assay unit of auc28_median", vocab=UNITS),
        Column("tmax_median_days", "float", "median time to peak", unit="days", low=0),
        Column("confidence", "text", "extraction confidence", vocab=("high", "medium", "low")),
        Column("source", "text", "citation of the values"),
        Column("notes", "text", "extraction notes"),
    ),
    rules=(NeedsUnit("peak_median", "peak_unit"), NeedsUnit("auc28_median", "auc28_unit")),
    references=(References("arm_id", "arms", "arm_id"),),
)

PATIENTS = Table(
    name="patients",
    doc="Individual patient data; per-patient LD totals override the arm's.",
    key=("patient_id",),
    columns=(
        Column("patient_id", "text", "unique patient identifier", required=True),
        Column("arm_id", "text", "the arm the patient was treated in", required=True),
        Column("age_years", "float", "age at infusion", unit="years", low=0, high=120),
        Column("ldh_high", "int", "LDH above upper limit of normal", vocab=FLAG),
        Column("flu_mg_m2_total", "float", "total fludarabine; 0 = not given", unit="mg/m2", low=0),
        Column("cy_mg_m2_total", "float", "total cyclophosphamide; 0 = not given", unit="mg/m2",
               low=0),
        Column("benda_mg_m2_total", "float", "total bendamustine; 0 = not given", unit="mg/m2",
               low=0),
        Column("anti_cd52", "int", "anti-CD52 antibody in LD", vocab=FLAG),
        Column("peak", "float", "peak expansion (Cmax)", unit="peak_unit", positive=True),
        Column("peak_unit", "text", "assay unit of peak and auc28", vocab=UNITS),
        Column("auc28", "float", "AUC day 0-28 (unit x day)", unit="peak_unit x day",
               positive=True),
        Column("tmax_days", "float", "time to peak", unit="days", low=0),
        Column("best_response", "text", "best overall response", vocab=BEST_RESPONSE),
        Column("crs_grade", "int", "maximum CRS grade (ASTCT)", low=0, high=4),
        Column("icans_grade", "int", "maximum ICANS grade (ASTCT)", low=0, high=4),
        Column("neut_g3", "int", "grade >= 3 neutropenia", vocab=FLAG),
        Column("gvhd", "int", "any-grade GvHD", vocab=FLAG),
    ),
    rules=(NeedsUnit("peak", "peak_unit"), NeedsUnit("auc28", "peak_unit")),
    references=(References("arm_id", "arms", "arm_id"),),
)

PATIENT_KINETICS = Table(
    name="patient_kinetics",
    doc="Long-format kinetic time series per patient.",
    key=("patient_id", "day", "unit"),
    columns=(
        Column("patient_id", "text", "the patient measured", required=True),
        Column("day", "int", "day after infusion", unit="days", required=True, low=0),
        Column("value", "float", "measured level (the LLOQ when below_lloq = 1)", unit="unit",
               required=True, low=0),
        Column("unit", "text", "assay unit", required=True, vocab=UNITS),
        Column("below_lloq", "int", "value is below the lower limit of quantification",
               vocab=FLAG),
    ),
    references=(References("patient_id", "patients", "patient_id"),),
)

TABLES: dict[str, Table] = {t.name: t for t in (ARMS, KINETIC_STRATA, PATIENTS, PATIENT_KINETICS)}
