"""proto <-> domain for the query RPCs: cohort specs in; predictions, comparisons and
virtual patients out — and back again for the client. Pure functions, no I/O.

A proto spec becomes the JSON-like mapping `cohort.spec.parse_spec` reads, so the server
validates exactly like `cohort predict`, and every violation is renamed to its place in
the request (`specs[1].ld.flu_mg_m2_day`). Unset optional fields are left out of the
mapping and take the domain's defaults (an unset LD dose is 0 = not given). The engine
always computes every outcome; which ones an answer shows (`outcomes`, `joint_outcomes`)
is presentation, chosen here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
from google.protobuf.message import Message

from cohort.contract import CELL_SOURCE, CELL_TYPE, COSTIM, UNITS
from cohort.engine import Comparison, Contrast, Engine, OutcomeSummary, PatientBatch
from cohort.engine import Prediction as DomainPrediction
from cohort.errors import InvalidArgument, LimitExceeded, Violation
from cohort.spec import CohortSpec, parse_spec
from cohort.v1 import cohort_service_pb2 as pb
from server.settings import Limits

DEFAULT_BATCH_PATIENT_COUNT = 8192
BYTES_PER_PATIENT = 64  # upper bound of one streamed patient's encoded size
CELL_SOURCES = dict(zip((pb.CELL_SOURCE_AUTOLOGOUS, pb.CELL_SOURCE_ALLOGENEIC, pb.CELL_SOURCE_IPSC),
                        CELL_SOURCE, strict=True))
CELL_TYPES = dict(zip((pb.CELL_TYPE_CAR_T, pb.CELL_TYPE_CAR_NK), CELL_TYPE, strict=True))
COSTIMS = dict(zip((pb.COSTIM_CD28, pb.COSTIM_4_1BB, pb.COSTIM_OTHER), COSTIM, strict=True))
UNITS_BY_ENUM = dict(zip((pb.KINETIC_UNIT_CELLS_PER_UL, pb.KINETIC_UNIT_COPIES_PER_UG), UNITS,
                 strict=True))
UNIT_ENUMS = {name: value for value, name in UNITS_BY_ENUM.items()}
OUTCOMES = {pb.OUTCOME_ORR: "orr", pb.OUTCOME_CR: "cr", pb.OUTCOME_CRS_ANY: "crs_any",
            pb.OUTCOME_CRS_G3: "crs_g3", pb.OUTCOME_ICANS_ANY: "icans_any",
            pb.OUTCOME_ICANS_G3: "icans_g3", pb.OUTCOME_NEUT_G3: "neut_g3",
            pb.OUTCOME_GVHD_ANY: "gvhd_any"}
# the joint outcomes the engine computes: (present, absent) -> domain name
JOINTS = {((pb.OUTCOME_ORR,), (pb.OUTCOME_CRS_G3,)): "orr_without_crs_g3",
          ((pb.OUTCOME_CR,), (pb.OUTCOME_CRS_G3,)): "cr_without_crs_g3"}
_RESPONSE = np.array([pb.RESPONSE_CATEGORY_NO_RESPONSE, pb.RESPONSE_CATEGORY_PR,
                      pb.RESPONSE_CATEGORY_CR])  # engine codes 0 none, 1 PR, 2 CR
_BAND = np.array([pb.GRADE_BAND_NONE, pb.GRADE_BAND_1_TO_2, pb.GRADE_BAND_3_OR_HIGHER])


class Query(NamedTuple):
    """One spec to answer and how to present it."""

    path: str  # where the spec sits in the request, e.g. "specs[2]"
    spec: CohortSpec
    label: str
    outcomes: tuple[int, ...]  # Outcome enum values, in answer order
    joints: tuple[pb.JointOutcome, ...]


def _joint_name(joint: pb.JointOutcome) -> str | None:
    return JOINTS.get((tuple(sorted(set(joint.present))), tuple(sorted(set(joint.absent)))))


def _enum(value: int, names: dict[int, str], path: str, bad: list[Violation]) -> str | None:
    if value == 0:
        return None
    if value not in names:
        bad.append(Violation(path, str(value), f"unknown enum value; one of {sorted(names)}"))
    return names.get(value)


def _present(message: Message) -> dict[str, Any]:
    return {field.name: value for field, value in message.ListFields()}


def _raw_spec(message: pb.CohortSpec, path: str, bad: list[Violation]) -> dict[str, Any]:
    """The mapping parse_spec reads; enum problems go to `bad` (with full paths)."""
    p = message.product
    product = {"name": p.name or None, "target": p.target or None,
               "cell_source": _enum(p.cell_source, CELL_SOURCES, f"{path}.product.cell_source",
                                    bad),
               "cell_type": _enum(p.cell_type, CELL_TYPES, f"{path}.product.cell_type", bad),
               "costim": _enum(p.costim, COSTIMS, f"{path}.product.costim", bad)}
    raw: dict[str, Any] = {
        "product": {k: v for k, v in product.items() if v is not None},
        "disease": message.disease, "ld": _present(message.ld),
        "patient_count": message.patient_count, "count_thresholds": list(message.count_thresholds)}
    unit = _enum(message.kinetic_unit, UNITS_BY_ENUM, f"{path}.kinetic_unit", bad)
    optional = {"draw_count": message.draw_count or None, "kinetic_unit": unit,
                "quantiles": list(message.quantiles) or None,
                "seed": message.seed if message.HasField("seed") else None,
                "new_trial": message.new_trial if message.HasField("new_trial") else None}
    return raw | {k: v for k, v in optional.items() if v is not None}


def _presentation(message: pb.CohortSpec, path: str, bad: list[Violation]
                  ) -> tuple[tuple[int, ...], tuple[pb.JointOutcome, ...]]:
    for i, outcome in enumerate(message.outcomes):
        if outcome not in OUTCOMES:
            bad.append(Violation(f"{path}.outcomes[{i}]", str(outcome),
                                 f"one of the Outcome values {sorted(OUTCOMES)}"))
    for i, joint in enumerate(message.joint_outcomes):
        if _joint_name(joint) is None:
            bad.append(Violation(f"{path}.joint_outcomes[{i}]", str(list(joint.present)),
                                 "answered joint outcomes: present [ORR] or [CR] with absent "
                                 "[CRS_G3]"))
    covariates = message.covariates
    for name, high in (("ldh_high_fraction", 1.0), ("age_years_mean", 120.0)):
        value = getattr(covariates, name)
        if covariates.HasField(name) and not 0.0 <= value <= high:
            bad.append(Violation(f"{path}.covariates.{name}", str(value), f"in [0, {high:g}]"))
    return tuple(message.outcomes) or tuple(OUTCOMES), tuple(message.joint_outcomes)


def _query(message: pb.CohortSpec, path: str, limits: Limits, bad: list[Violation],
           over: list[Violation]) -> Query | None:
    """A query, or None with its problems appended: `bad` invalid, `over` beyond limits."""
    if not message.draw_count:  # the domain default, unless the server allows fewer
        message = _with(message, draw_count=min(CohortSpec.draw_count, limits.max_draw_count))
    found: list[Violation] = []
    raw = _raw_spec(message, path, found)
    presentation = _presentation(message, path, found)
    try:
        spec = parse_spec(raw)
    except InvalidArgument as error:
        found += [Violation(f"{path}.{v.field}", v.value, v.rule) for v in error.violations]
    bad += found
    if found:
        return None
    for name, limit in (("patient_count", limits.max_patient_count),
                        ("draw_count", limits.max_draw_count)):
        if getattr(spec, name) > limit:
            over.append(Violation(f"{path}.{name}", str(getattr(spec, name)),
                                  f"at most {limit} on this server"))
    return Query(path, spec, message.label, *presentation)


def _with(message: pb.CohortSpec, **fields: Any) -> pb.CohortSpec:
    copy = pb.CohortSpec()
    copy.CopyFrom(message)
    for name, value in fields.items():
        setattr(copy, name, value)
    return copy


def _queries(messages: Sequence[tuple[pb.CohortSpec, str]], limits: Limits) -> list[Query]:
    bad: list[Violation] = []
    over: list[Violation] = []
    queries = [_query(message, path, limits, bad, over) for message, path in messages]
    if bad:
        raise InvalidArgument(bad + over)
    if over:
        raise LimitExceeded(over)
    return [q for q in queries if q is not None]


def predict_queries(request: pb.PredictCohortRequest, limits: Limits) -> list[Query]:
    count = len(request.specs)
    if not 1 <= count <= limits.max_spec_count:
        error = InvalidArgument if count == 0 else LimitExceeded
        raise error([Violation("specs", f"{count} specs",
                               f"1 to {limits.max_spec_count} specs on this server")])
    return _queries([(spec, f"specs[{i}]") for i, spec in enumerate(request.specs)], limits)


def compare_queries(request: pb.CompareCohortsRequest, limits: Limits) -> tuple[Query, Query]:
    """A and B; B's unset draw_count, seed and new_trial are A's, and set ones must match
    A's resolved values (paired draws share random numbers). Both present A's outcomes."""
    a, b = request.spec_a, request.spec_b
    unset = {"seed": not b.HasField("seed"), "new_trial": not b.HasField("new_trial"),
             "draw_count": not b.draw_count}
    fill = {name: getattr(a, name) for name, take in unset.items()
            if take and (name == "draw_count" or a.HasField(name))}
    qa, qb = _queries([(a, "spec_a"), (_with(b, **fill), "spec_b")], limits)
    mismatched = [Violation(f"spec_b.{name}", str(getattr(qb.spec, name)),
                            f"must equal spec_a.{name} ({getattr(qa.spec, name)}) or be unset")
                  for name in ("draw_count", "seed", "new_trial")
                  if getattr(qa.spec, name) != getattr(qb.spec, name)]
    if mismatched:
        raise InvalidArgument(mismatched)
    return qa, qb._replace(outcomes=qa.outcomes, joints=qa.joints)


def stream_query(request: pb.StreamVirtualPatientsRequest, limits: Limits) -> tuple[Query, int]:
    """The spec and the patients per message."""
    [query] = _queries([(request.spec, "spec")], limits)
    size = request.batch_patient_count or DEFAULT_BATCH_PATIENT_COUNT
    largest = limits.max_message_bytes // BYTES_PER_PATIENT
    if size < 0:
        raise InvalidArgument([Violation("batch_patient_count", str(size), "must be >= 0")])
    if size > largest:
        raise LimitExceeded([Violation("batch_patient_count", str(size),
                                       f"at most {largest} (max message bytes / "
                                       f"{BYTES_PER_PATIENT}) on this server")])
    return query, size


def check_against(engine: Engine, queries: Sequence[Query]) -> None:
    """Names (products, targets, diseases) each spec uses must exist in the engine's
    version: one InvalidArgument naming every bad field."""
    bad = []
    for query in queries:
        try:
            engine.covariates(query.spec)
        except InvalidArgument as error:
            bad += [Violation(f"{query.path}.{v.field}", v.value, v.rule)
                    for v in error.violations]
    if bad:
        raise InvalidArgument(bad)


# --- domain -> proto (server answers) ---------------------------------------------------

def _quantiles(probabilities: Sequence[float], values: Sequence[Any]) -> list[pb.QuantileValue]:
    return [pb.QuantileValue(probability=p, value=v)
            for p, v in zip(probabilities, values, strict=True)]


def _outcome(summary: OutcomeSummary, q: Sequence[float], **which: Any) -> pb.OutcomePrediction:
    return pb.OutcomePrediction(
        **which, rate_mean=summary.rate_mean, rate_quantiles=_quantiles(q, summary.rate_quantiles),
        count_quantiles=_quantiles(q, summary.count_quantiles), count_mean=summary.count_mean,
        count_probabilities=[pb.CountProbability(at_least_patient_count=k, probability=p)
                             for k, p in summary.prob_count_at_least])


def prediction_message(prediction: DomainPrediction, query: Query) -> pb.CohortPrediction:
    spec, q, peak = prediction.spec, prediction.quantiles, prediction.peak
    by_name = {o.outcome: o for o in prediction.outcomes}
    return pb.CohortPrediction(
        label=query.label, patient_count=spec.patient_count, draw_count=spec.draw_count,
        seed=spec.seed, new_trial=spec.new_trial,
        outcomes=[_outcome(by_name[OUTCOMES[o]], q, outcome=o) for o in query.outcomes],
        joint_outcomes=[_outcome(by_name[_joint_name(j)], q, joint_outcome=j)
                        for j in query.joints],
        kinetics=pb.KineticsPrediction(
            peak_unit=UNIT_ENUMS[peak.unit], population_median_peak_mean=peak.median_mean,
            population_median_peak_quantiles=_quantiles(q, peak.median_quantiles)))


def _contrast(c: Contrast, q: Sequence[float], **which: Any) -> pb.OutcomeContrast:
    ratio = [] if None in c.ratio_quantiles else _quantiles(q, c.ratio_quantiles)
    return pb.OutcomeContrast(
        **which, rate_difference_mean=c.difference_mean,
        rate_difference_quantiles=_quantiles(q, c.difference_quantiles),
        rate_ratio_quantiles=ratio, probability_a_greater=c.prob_greater,
        count_difference_quantiles=_quantiles(q, c.count_difference_quantiles),
        probability_count_a_greater=c.prob_count_greater)


def comparison_fields(comparison: Comparison, a: Query, b: Query) -> dict[str, Any]:
    """CompareCohortsResponse fields other than the version and notice."""
    q, by_name = comparison.a.quantiles, {c.outcome: c for c in comparison.contrasts}
    return dict(
        prediction_a=prediction_message(comparison.a, a),
        prediction_b=prediction_message(comparison.b, b),
        outcome_contrasts=[_contrast(by_name[OUTCOMES[o]], q, outcome=o) for o in a.outcomes],
        joint_outcome_contrasts=[_contrast(by_name[_joint_name(j)], q, joint_outcome=j)
                                 for j in a.joints])


def patient_messages(batch: PatientBatch, size: int, unit: str
                     ) -> Iterator[pb.StreamVirtualPatientsResponse]:
    """One engine batch as messages of at most `size` patients (column-wise)."""
    for start in range(0, len(batch.draw), size):
        part = slice(start, start + size)
        yield pb.StreamVirtualPatientsResponse(
            peak_unit=UNIT_ENUMS[unit], draw_index=batch.draw[part].tolist(),
            patient_index=batch.patient[part].tolist(),
            expansion_latent=batch.expansion[part].tolist(), peak=batch.peak[part].tolist(),
            best_response=_RESPONSE[batch.response[part]].tolist(),
            crs_grade=_BAND[batch.crs[part]].tolist(),
            icans_grade=_BAND[batch.icans[part]].tolist(),
            neut_g3=batch.neut_g3[part].tolist(), gvhd=batch.gvhd[part].tolist())
