"""The client's half of the query conversion: domain specs to messages, and answers back
to the domain's Prediction / Comparison / PatientBatch, so that a remote answer prints
with the same tables as `cohort predict` (cohort.cli.predict). Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields

import numpy as np

from cohort.engine import (
    Comparison,
    Contrast,
    OutcomeSummary,
    PatientBatch,
    PeakSummary,
    Prediction,
)
from cohort.spec import CohortSpec, Regimen
from cohort.v1 import cohort_service_pb2 as pb
from server.predictions import (
    CELL_SOURCES,
    CELL_TYPES,
    COSTIMS,
    JOINTS,
    OUTCOMES,
    UNIT_ENUMS,
    UNITS_BY_ENUM,
)

# every joint outcome the server answers, so that a remote table lists what a local one does
ALL_JOINTS = tuple(pb.JointOutcome(present=present, absent=absent) for present, absent in JOINTS)


def _enum(names: Mapping[int, str], value: str | None) -> int:
    return next((k for k, v in names.items() if v == value), 0)


def spec_message(spec: CohortSpec, label: str = "") -> pb.CohortSpec:
    """Every field explicit (LD 0 = not given), every outcome and joint outcome asked for."""
    p = spec.product
    return pb.CohortSpec(
        label=label, disease=spec.disease, patient_count=spec.patient_count,
        draw_count=spec.draw_count, seed=spec.seed, new_trial=spec.new_trial,
        quantiles=spec.quantiles, count_thresholds=spec.count_thresholds,
        kinetic_unit=UNIT_ENUMS[spec.kinetic_unit], joint_outcomes=ALL_JOINTS,
        product=pb.Product(name=p.name or "", target=p.target or "",
                           cell_source=_enum(CELL_SOURCES, p.cell_source),
                           cell_type=_enum(CELL_TYPES, p.cell_type),
                           costim=_enum(COSTIMS, p.costim)),
        ld=pb.LymphodepletionRegimen(**{f.name: getattr(spec.ld, f.name)
                                        for f in fields(Regimen)}))


def _name(outcome: pb.OutcomePrediction | pb.OutcomeContrast) -> str:
    if outcome.HasField("joint_outcome"):
        joint = outcome.joint_outcome
        return JOINTS[(tuple(sorted(set(joint.present))), tuple(sorted(set(joint.absent))))]
    return OUTCOMES[outcome.outcome]


def _values(quantiles: Sequence[pb.QuantileValue]) -> tuple[float, ...]:
    return tuple(q.value for q in quantiles)


def _summary(o: pb.OutcomePrediction) -> OutcomeSummary:
    return OutcomeSummary(_name(o), o.rate_mean, _values(o.rate_quantiles), o.count_mean,
                          tuple(int(v) for v in _values(o.count_quantiles)),
                          tuple((c.at_least_patient_count, c.probability)
                                for c in o.count_probabilities))


def prediction(message: pb.CohortPrediction, spec: CohortSpec) -> Prediction:
    """The domain answer to `spec` (the spec sent), outcomes in the answer's order."""
    kinetics = message.kinetics
    return Prediction(
        spec, spec.quantiles,
        tuple(_summary(o) for o in (*message.outcomes, *message.joint_outcomes)),
        PeakSummary(UNITS_BY_ENUM[kinetics.peak_unit], kinetics.population_median_peak_mean,
                    _values(kinetics.population_median_peak_quantiles)))


def _contrast(c: pb.OutcomeContrast, size: int) -> Contrast:
    ratio = _values(c.rate_ratio_quantiles) or (None,) * size  # empty: B's rate was 0
    return Contrast(_name(c), c.rate_difference_mean, _values(c.rate_difference_quantiles),
                    ratio, c.probability_a_greater,
                    tuple(int(v) for v in _values(c.count_difference_quantiles)),
                    c.probability_count_a_greater)


def comparison(message: pb.CompareCohortsResponse, a: CohortSpec, b: CohortSpec) -> Comparison:
    size = len(a.quantiles)
    return Comparison(prediction(message.prediction_a, a), prediction(message.prediction_b, b),
                      tuple(_contrast(c, size) for c in (*message.outcome_contrasts,
                                                        *message.joint_outcome_contrasts)))


def patient_batch(message: pb.StreamVirtualPatientsResponse) -> PatientBatch:
    """Back to the engine's codes: response 0 none, 1 PR, 2 CR; bands 0, 1 (1–2), 2 (≥ 3)."""
    def codes(values: Sequence[int], first: int, step: int) -> np.ndarray:
        return ((np.asarray(values, np.int16) - first) * step).astype(np.int8)

    return PatientBatch(
        draw=np.asarray(message.draw_index, np.int32),
        patient=np.asarray(message.patient_index, np.int32),
        expansion=np.asarray(message.expansion_latent), peak=np.asarray(message.peak),
        response=codes(message.best_response, pb.RESPONSE_CATEGORY_NO_RESPONSE, -1),
        crs=codes(message.crs_grade, pb.GRADE_BAND_NONE, 1),
        icans=codes(message.icans_grade, pb.GRADE_BAND_NONE, 1),
        neut_g3=np.asarray(message.neut_g3, bool), gvhd=np.asarray(message.gvhd, bool))
