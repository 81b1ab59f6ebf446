import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CellSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CELL_SOURCE_UNSPECIFIED: _ClassVar[CellSource]
    CELL_SOURCE_AUTOLOGOUS: _ClassVar[CellSource]
    CELL_SOURCE_ALLOGENEIC: _ClassVar[CellSource]
    CELL_SOURCE_IPSC: _ClassVar[CellSource]

class CellType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CELL_TYPE_UNSPECIFIED: _ClassVar[CellType]
    CELL_TYPE_CAR_T: _ClassVar[CellType]
    CELL_TYPE_CAR_NK: _ClassVar[CellType]

class Costim(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COSTIM_UNSPECIFIED: _ClassVar[Costim]
    COSTIM_CD28: _ClassVar[Costim]
    COSTIM_4_1BB: _ClassVar[Costim]
    COSTIM_OTHER: _ClassVar[Costim]

class KineticUnit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KINETIC_UNIT_UNSPECIFIED: _ClassVar[KineticUnit]
    KINETIC_UNIT_CELLS_PER_UL: _ClassVar[KineticUnit]
    KINETIC_UNIT_COPIES_PER_UG: _ClassVar[KineticUnit]

class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTCOME_UNSPECIFIED: _ClassVar[Outcome]
    OUTCOME_ORR: _ClassVar[Outcome]
    OUTCOME_CR: _ClassVar[Outcome]
    OUTCOME_CRS_ANY: _ClassVar[Outcome]
    OUTCOME_CRS_G3: _ClassVar[Outcome]
    OUTCOME_ICANS_ANY: _ClassVar[Outcome]
    OUTCOME_ICANS_G3: _ClassVar[Outcome]
    OUTCOME_NEUT_G3: _ClassVar[Outcome]
    OUTCOME_GVHD_ANY: _ClassVar[Outcome]

class ResponseCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESPONSE_CATEGORY_UNSPECIFIED: _ClassVar[ResponseCategory]
    RESPONSE_CATEGORY_CR: _ClassVar[ResponseCategory]
    RESPONSE_CATEGORY_PR: _ClassVar[ResponseCategory]
    RESPONSE_CATEGORY_NO_RESPONSE: _ClassVar[ResponseCategory]

class GradeBand(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRADE_BAND_UNSPECIFIED: _ClassVar[GradeBand]
    GRADE_BAND_NONE: _ClassVar[GradeBand]
    GRADE_BAND_1_TO_2: _ClassVar[GradeBand]
    GRADE_BAND_3_OR_HIGHER: _ClassVar[GradeBand]

class ModelStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_STATUS_UNSPECIFIED: _ClassVar[ModelStatus]
    MODEL_STATUS_READY: _ClassVar[ModelStatus]
    MODEL_STATUS_FAILED: _ClassVar[ModelStatus]
    MODEL_STATUS_CORRUPT: _ClassVar[ModelStatus]

class OperationPhase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPERATION_PHASE_UNSPECIFIED: _ClassVar[OperationPhase]
    OPERATION_PHASE_QUEUED: _ClassVar[OperationPhase]
    OPERATION_PHASE_SNAPSHOT: _ClassVar[OperationPhase]
    OPERATION_PHASE_COMPILING: _ClassVar[OperationPhase]
    OPERATION_PHASE_WARMUP: _ClassVar[OperationPhase]
    OPERATION_PHASE_SAMPLING: _ClassVar[OperationPhase]
    OPERATION_PHASE_FINALIZING: _ClassVar[OperationPhase]
    OPERATION_PHASE_SUCCEEDED: _ClassVar[OperationPhase]
    OPERATION_PHASE_FAILED: _ClassVar[OperationPhase]
CELL_SOURCE_UNSPECIFIED: CellSource
CELL_SOURCE_AUTOLOGOUS: CellSource
CELL_SOURCE_ALLOGENEIC: CellSource
CELL_SOURCE_IPSC: CellSource
CELL_TYPE_UNSPECIFIED: CellType
CELL_TYPE_CAR_T: CellType
CELL_TYPE_CAR_NK: CellType
COSTIM_UNSPECIFIED: Costim
COSTIM_CD28: Costim
COSTIM_4_1BB: Costim
COSTIM_OTHER: Costim
KINETIC_UNIT_UNSPECIFIED: KineticUnit
KINETIC_UNIT_CELLS_PER_UL: KineticUnit
KINETIC_UNIT_COPIES_PER_UG: KineticUnit
OUTCOME_UNSPECIFIED: Outcome
OUTCOME_ORR: Outcome
OUTCOME_CR: Outcome
OUTCOME_CRS_ANY: Outcome
OUTCOME_CRS_G3: Outcome
OUTCOME_ICANS_ANY: Outcome
OUTCOME_ICANS_G3: Outcome
OUTCOME_NEUT_G3: Outcome
OUTCOME_GVHD_ANY: Outcome
RESPONSE_CATEGORY_UNSPECIFIED: ResponseCategory
RESPONSE_CATEGORY_CR: ResponseCategory
RESPONSE_CATEGORY_PR: ResponseCategory
RESPONSE_CATEGORY_NO_RESPONSE: ResponseCategory
GRADE_BAND_UNSPECIFIED: GradeBand
GRADE_BAND_NONE: GradeBand
GRADE_BAND_1_TO_2: GradeBand
GRADE_BAND_3_OR_HIGHER: GradeBand
MODEL_STATUS_UNSPECIFIED: ModelStatus
MODEL_STATUS_READY: ModelStatus
MODEL_STATUS_FAILED: ModelStatus
MODEL_STATUS_CORRUPT: ModelStatus
OPERATION_PHASE_UNSPECIFIED: OperationPhase
OPERATION_PHASE_QUEUED: OperationPhase
OPERATION_PHASE_SNAPSHOT: OperationPhase
OPERATION_PHASE_COMPILING: OperationPhase
OPERATION_PHASE_WARMUP: OperationPhase
OPERATION_PHASE_SAMPLING: OperationPhase
OPERATION_PHASE_FINALIZING: OperationPhase
OPERATION_PHASE_SUCCEEDED: OperationPhase
OPERATION_PHASE_FAILED: OperationPhase

class Product(_message.Message):
    __slots__ = ("name", "cell_source", "cell_type", "costim", "target")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CELL_SOURCE_FIELD_NUMBER: _ClassVar[int]
    CELL_TYPE_FIELD_NUMBER: _ClassVar[int]
    COSTIM_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    name: str
    cell_source: CellSource
    cell_type: CellType
    costim: Costim
    target: str
    def __init__(self, name: _Optional[str] = ..., cell_source: _Optional[_Union[CellSource, str]] = ..., cell_type: _Optional[_Union[CellType, str]] = ..., costim: _Optional[_Union[Costim, str]] = ..., target: _Optional[str] = ...) -> None: ...

class LymphodepletionRegimen(_message.Message):
    __slots__ = ("flu_mg_m2_day", "flu_days", "cy_mg_m2_day", "cy_days", "benda_mg_m2_day", "benda_days", "anti_cd52")
    FLU_MG_M2_DAY_FIELD_NUMBER: _ClassVar[int]
    FLU_DAYS_FIELD_NUMBER: _ClassVar[int]
    CY_MG_M2_DAY_FIELD_NUMBER: _ClassVar[int]
    CY_DAYS_FIELD_NUMBER: _ClassVar[int]
    BENDA_MG_M2_DAY_FIELD_NUMBER: _ClassVar[int]
    BENDA_DAYS_FIELD_NUMBER: _ClassVar[int]
    ANTI_CD52_FIELD_NUMBER: _ClassVar[int]
    flu_mg_m2_day: float
    flu_days: int
    cy_mg_m2_day: float
    cy_days: int
    benda_mg_m2_day: float
    benda_days: int
    anti_cd52: bool
    def __init__(self, flu_mg_m2_day: _Optional[float] = ..., flu_days: _Optional[int] = ..., cy_mg_m2_day: _Optional[float] = ..., cy_days: _Optional[int] = ..., benda_mg_m2_day: _Optional[float] = ..., benda_days: _Optional[int] = ..., anti_cd52: _Optional[bool] = ...) -> None: ...

class JointOutcome(_message.Message):
    __slots__ = ("label", "present", "absent")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PRESENT_FIELD_NUMBER: _ClassVar[int]
    ABSENT_FIELD_NUMBER: _ClassVar[int]
    label: str
    present: _containers.RepeatedScalarFieldContainer[Outcome]
    absent: _containers.RepeatedScalarFieldContainer[Outcome]
    def __init__(self, label: _Optional[str] = ..., present: _Optional[_Iterable[_Union[Outcome, str]]] = ..., absent: _Optional[_Iterable[_Union[Outcome, str]]] = ...) -> None: ...

class PatientCovariates(_message.Message):
    __slots__ = ("ldh_high_fraction", "age_years_mean")
    LDH_HIGH_FRACTION_FIELD_NUMBER: _ClassVar[int]
    AGE_YEARS_MEAN_FIELD_NUMBER: _ClassVar[int]
    ldh_high_fraction: float
    age_years_mean: float
    def __init__(self, ldh_high_fraction: _Optional[float] = ..., age_years_mean: _Optional[float] = ...) -> None: ...

class CohortSpec(_message.Message):
    __slots__ = ("label", "product", "disease", "ld", "patient_count", "draw_count", "seed", "new_trial", "quantiles", "count_thresholds", "kinetic_unit", "outcomes", "joint_outcomes", "covariates")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    DISEASE_FIELD_NUMBER: _ClassVar[int]
    LD_FIELD_NUMBER: _ClassVar[int]
    PATIENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    DRAW_COUNT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    NEW_TRIAL_FIELD_NUMBER: _ClassVar[int]
    QUANTILES_FIELD_NUMBER: _ClassVar[int]
    COUNT_THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    KINETIC_UNIT_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    JOINT_OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    COVARIATES_FIELD_NUMBER: _ClassVar[int]
    label: str
    product: Product
    disease: str
    ld: LymphodepletionRegimen
    patient_count: int
    draw_count: int
    seed: int
    new_trial: bool
    quantiles: _containers.RepeatedScalarFieldContainer[float]
    count_thresholds: _containers.RepeatedScalarFieldContainer[int]
    kinetic_unit: KineticUnit
    outcomes: _containers.RepeatedScalarFieldContainer[Outcome]
    joint_outcomes: _containers.RepeatedCompositeFieldContainer[JointOutcome]
    covariates: PatientCovariates
    def __init__(self, label: _Optional[str] = ..., product: _Optional[_Union[Product, _Mapping]] = ..., disease: _Optional[str] = ..., ld: _Optional[_Union[LymphodepletionRegimen, _Mapping]] = ..., patient_count: _Optional[int] = ..., draw_count: _Optional[int] = ..., seed: _Optional[int] = ..., new_trial: _Optional[bool] = ..., quantiles: _Optional[_Iterable[float]] = ..., count_thresholds: _Optional[_Iterable[int]] = ..., kinetic_unit: _Optional[_Union[KineticUnit, str]] = ..., outcomes: _Optional[_Iterable[_Union[Outcome, str]]] = ..., joint_outcomes: _Optional[_Iterable[_Union[JointOutcome, _Mapping]]] = ..., covariates: _Optional[_Union[PatientCovariates, _Mapping]] = ...) -> None: ...

class QuantileValue(_message.Message):
    __slots__ = ("probability", "value")
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    probability: float
    value: float
    def __init__(self, probability: _Optional[float] = ..., value: _Optional[float] = ...) -> None: ...

class CountProbability(_message.Message):
    __slots__ = ("at_least_patient_count", "probability")
    AT_LEAST_PATIENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    at_least_patient_count: int
    probability: float
    def __init__(self, at_least_patient_count: _Optional[int] = ..., probability: _Optional[float] = ...) -> None: ...

class OutcomePrediction(_message.Message):
    __slots__ = ("outcome", "joint_outcome", "rate_mean", "rate_quantiles", "count_quantiles", "count_probabilities", "count_mean")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    JOINT_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RATE_MEAN_FIELD_NUMBER: _ClassVar[int]
    RATE_QUANTILES_FIELD_NUMBER: _ClassVar[int]
    COUNT_QUANTILES_FIELD_NUMBER: _ClassVar[int]
    COUNT_PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    COUNT_MEAN_FIELD_NUMBER: _ClassVar[int]
    outcome: Outcome
    joint_outcome: JointOutcome
    rate_mean: float
    rate_quantiles: _containers.RepeatedCompositeFieldContainer[QuantileValue]
    count_quantiles: _containers.RepeatedCompositeFieldContainer[QuantileValue]
    count_probabilities: _containers.RepeatedCompositeFieldContainer[CountProbability]
    count_mean: float
    def __init__(self, outcome: _Optional[_Union[Outcome, str]] = ..., joint_outcome: _Optional[_Union[JointOutcome, _Mapping]] = ..., rate_mean: _Optional[float] = ..., rate_quantiles: _Optional[_Iterable[_Union[QuantileValue, _Mapping]]] = ..., count_quantiles: _Optional[_Iterable[_Union[QuantileValue, _Mapping]]] = ..., count_probabilities: _Optional[_Iterable[_Union[CountProbability, _Mapping]]] = ..., count_mean: _Optional[float] = ...) -> None: ...

class KineticsPrediction(_message.Message):
    __slots__ = ("peak_unit", "population_median_peak_quantiles", "cohort_median_peak_quantiles", "population_median_peak_mean")
    PEAK_UNIT_FIELD_NUMBER: _ClassVar[int]
    POPULATION_MEDIAN_PEAK_QUANTILES_FIELD_NUMBER: _ClassVar[int]
    COHORT_MEDIAN_PEAK_QUANTILES_FIELD_NUMBER: _ClassVar[int]
    POPULATION_MEDIAN_PEAK_MEAN_FIELD_NUMBER: _ClassVar[int]
    peak_unit: KineticUnit
    population_median_peak_quantiles: _containers.RepeatedCompositeFieldContainer[QuantileValue]
    cohort_median_peak_quantiles: _containers.RepeatedCompositeFieldContainer[QuantileValue]
    population_median_peak_mean: float
    def __init__(self, peak_unit: _Optional[_Union[KineticUnit, str]] = ..., population_median_peak_quantiles: _Optional[_Iterable[_Union[QuantileValue, _Mapping]]] = ..., cohort_median_peak_quantiles: _Optional[_Iterable[_Union[QuantileValue, _Mapping]]] = ..., population_median_peak_mean: _Optional[float] = ...) -> None: ...

class CohortPrediction(_message.Message):
    __slots__ = ("label", "patient_count", "draw_count", "seed", "new_trial", "outcomes", "joint_outcomes", "kinetics")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PATIENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    DRAW_COUNT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    NEW_TRIAL_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    JOINT_OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    KINETICS_FIELD_NUMBER: _ClassVar[int]
    label: str
    patient_count: int
    draw_count: int
    seed: int
    new_trial: bool
    outcomes: _containers.RepeatedCompositeFieldContainer[OutcomePrediction]
    joint_outcomes: _containers.RepeatedCompositeFieldContainer[OutcomePrediction]
    kinetics: KineticsPrediction
    def __init__(self, label: _Optional[str] = ..., patient_count: _Optional[int] = ..., draw_count: _Optional[int] = ..., seed: _Optional[int] = ..., new_trial: _Optional[bool] = ..., outcomes: _Optional[_Iterable[_Union[OutcomePrediction, _Mapping]]] = ..., joint_outcomes: _Optional[_Iterable[_Union[OutcomePrediction, _Mapping]]] = ..., kinetics: _Optional[_Union[KineticsPrediction, _Mapping]] = ...) -> None: ...

class PredictCohortRequest(_message.Message):
    __slots__ = ("specs", "model_version")
    SPECS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    specs: _containers.RepeatedCompositeFieldContainer[CohortSpec]
    model_version: str
    def __init__(self, specs: _Optional[_Iterable[_Union[CohortSpec, _Mapping]]] = ..., model_version: _Optional[str] = ...) -> None: ...

class PredictCohortResponse(_message.Message):
    __slots__ = ("model_version", "research_use_notice", "predictions")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RESEARCH_USE_NOTICE_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    research_use_notice: str
    predictions: _containers.RepeatedCompositeFieldContainer[CohortPrediction]
    def __init__(self, model_version: _Optional[str] = ..., research_use_notice: _Optional[str] = ..., predictions: _Optional[_Iterable[_Union[CohortPrediction, _Mapping]]] = ...) -> None: ...

class OutcomeContrast(_message.Message):
    __slots__ = ("outcome", "joint_outcome", "rate_difference_mean", "rate_difference_quantiles", "rate_ratio_quantiles", "probability_a_greater", "count_difference_quantiles", "probability_count_a_greater")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    JOINT_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RATE_DIFFERENCE_MEAN_FIELD_NUMBER: _ClassVar[int]
    RATE_DIFFERENCE_QUANTILES_FIELD_NUMBER: _ClassVar[int]
    RATE_RATIO_QUANTILES_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_A_GREATER_FIELD_NUMBER: _ClassVar[int]
    COUNT_DIFFERENCE_QUANTILES_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_COUNT_A_GREATER_FIELD_NUMBER: _ClassVar[int]
    outcome: Outcome
    joint_outcome: JointOutcome
    rate_difference_mean: float
    rate_difference_quantiles: _containers.RepeatedCompositeFieldContainer[QuantileValue]
    rate_ratio_quantiles: _containers.RepeatedCompositeFieldContainer[QuantileValue]
    probability_a_greater: float
    count_difference_quantiles: _containers.RepeatedCompositeFieldContainer[QuantileValue]
    probability_count_a_greater: float
    def __init__(self, outcome: _Optional[_Union[Outcome, str]] = ..., joint_outcome: _Optional[_Union[JointOutcome, _Mapping]] = ..., rate_difference_mean: _Optional[float] = ..., rate_difference_quantiles: _Optional[_Iterable[_Union[QuantileValue, _Mapping]]] = ..., rate_ratio_quantiles: _Optional[_Iterable[_Union[QuantileValue, _Mapping]]] = ..., probability_a_greater: _Optional[float] = ..., count_difference_quantiles: _Optional[_Iterable[_Union[QuantileValue, _Mapping]]] = ..., probability_count_a_greater: _Optional[float] = ...) -> None: ...

class CompareCohortsRequest(_message.Message):
    __slots__ = ("spec_a", "spec_b", "model_version")
    SPEC_A_FIELD_NUMBER: _ClassVar[int]
    SPEC_B_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    spec_a: CohortSpec
    spec_b: CohortSpec
    model_version: str
    def __init__(self, spec_a: _Optional[_Union[CohortSpec, _Mapping]] = ..., spec_b: _Optional[_Union[CohortSpec, _Mapping]] = ..., model_version: _Optional[str] = ...) -> None: ...

class CompareCohortsResponse(_message.Message):
    __slots__ = ("model_version", "research_use_notice", "prediction_a", "prediction_b", "outcome_contrasts", "joint_outcome_contrasts", "median_peak_ratio_quantiles")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RESEARCH_USE_NOTICE_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_A_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_B_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_CONTRASTS_FIELD_NUMBER: _ClassVar[int]
    JOINT_OUTCOME_CONTRASTS_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_PEAK_RATIO_QUANTILES_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    research_use_notice: str
    prediction_a: CohortPrediction
    prediction_b: CohortPrediction
    outcome_contrasts: _containers.RepeatedCompositeFieldContainer[OutcomeContrast]
    joint_outcome_contrasts: _containers.RepeatedCompositeFieldContainer[OutcomeContrast]
    median_peak_ratio_quantiles: _containers.RepeatedCompositeFieldContainer[QuantileValue]
    def __init__(self, model_version: _Optional[str] = ..., research_use_notice: _Optional[str] = ..., prediction_a: _Optional[_Union[CohortPrediction, _Mapping]] = ..., prediction_b: _Optional[_Union[CohortPrediction, _Mapping]] = ..., outcome_contrasts: _Optional[_Iterable[_Union[OutcomeContrast, _Mapping]]] = ..., joint_outcome_contrasts: _Optional[_Iterable[_Union[OutcomeContrast, _Mapping]]] = ..., median_peak_ratio_quantiles: _Optional[_Iterable[_Union[QuantileValue, _Mapping]]] = ...) -> None: ...

class StreamVirtualPatientsRequest(_message.Message):
    __slots__ = ("spec", "batch_patient_count", "model_version")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    BATCH_PATIENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    spec: CohortSpec
    batch_patient_count: int
    model_version: str
    def __init__(self, spec: _Optional[_Union[CohortSpec, _Mapping]] = ..., batch_patient_count: _Optional[int] = ..., model_version: _Optional[str] = ...) -> None: ...

class StreamVirtualPatientsResponse(_message.Message):
    __slots__ = ("model_version", "research_use_notice", "peak_unit", "draw_index", "patient_index", "expansion_latent", "peak", "best_response", "crs_grade", "icans_grade", "neut_g3", "gvhd")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RESEARCH_USE_NOTICE_FIELD_NUMBER: _ClassVar[int]
    PEAK_UNIT_FIELD_NUMBER: _ClassVar[int]
    DRAW_INDEX_FIELD_NUMBER: _ClassVar[int]
    PATIENT_INDEX_FIELD_NUMBER: _ClassVar[int]
    EXPANSION_LATENT_FIELD_NUMBER: _ClassVar[int]
    PEAK_FIELD_NUMBER: _ClassVar[int]
    BEST_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    CRS_GRADE_FIELD_NUMBER: _ClassVar[int]
    ICANS_GRADE_FIELD_NUMBER: _ClassVar[int]
    NEUT_G3_FIELD_NUMBER: _ClassVar[int]
    GVHD_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    research_use_notice: str
    peak_unit: KineticUnit
    draw_index: _containers.RepeatedScalarFieldContainer[int]
    patient_index: _containers.RepeatedScalarFieldContainer[int]
    expansion_latent: _containers.RepeatedScalarFieldContainer[float]
    peak: _containers.RepeatedScalarFieldContainer[float]
    best_response: _containers.RepeatedScalarFieldContainer[ResponseCategory]
    crs_grade: _containers.RepeatedScalarFieldContainer[GradeBand]
    icans_grade: _containers.RepeatedScalarFieldContainer[GradeBand]
    neut_g3: _containers.RepeatedScalarFieldContainer[bool]
    gvhd: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, model_version: _Optional[str] = ..., research_use_notice: _Optional[str] = ..., peak_unit: _Optional[_Union[KineticUnit, str]] = ..., draw_index: _Optional[_Iterable[int]] = ..., patient_index: _Optional[_Iterable[int]] = ..., expansion_latent: _Optional[_Iterable[float]] = ..., peak: _Optional[_Iterable[float]] = ..., best_response: _Optional[_Iterable[_Union[ResponseCategory, str]]] = ..., crs_grade: _Optional[_Iterable[_Union[GradeBand, str]]] = ..., icans_grade: _Optional[_Iterable[_Union[GradeBand, str]]] = ..., neut_g3: _Optional[_Iterable[bool]] = ..., gvhd: _Optional[_Iterable[bool]] = ...) -> None: ...

class Diagnostics(_message.Message):
    __slots__ = ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergence_count", "gate_passed", "fit_wall_seconds")
    MAX_RHAT_FIELD_NUMBER: _ClassVar[int]
    MIN_ESS_BULK_FIELD_NUMBER: _ClassVar[int]
    MIN_ESS_TAIL_FIELD_NUMBER: _ClassVar[int]
    DIVERGENCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    GATE_PASSED_FIELD_NUMBER: _ClassVar[int]
    FIT_WALL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergence_count: int
    gate_passed: bool
    fit_wall_seconds: float
    def __init__(self, max_rhat: _Optional[float] = ..., min_ess_bulk: _Optional[float] = ..., min_ess_tail: _Optional[float] = ..., divergence_count: _Optional[int] = ..., gate_passed: _Optional[bool] = ..., fit_wall_seconds: _Optional[float] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ("version_id", "status", "serving", "create_time", "snapshot_id", "snapshot_position", "diagnostics", "known_products", "known_diseases", "code_version", "seed", "chain_count", "warmup_count", "draw_count", "problem")
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SERVING_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_POSITION_FIELD_NUMBER: _ClassVar[int]
    DIAGNOSTICS_FIELD_NUMBER: _ClassVar[int]
    KNOWN_PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    KNOWN_DISEASES_FIELD_NUMBER: _ClassVar[int]
    CODE_VERSION_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    CHAIN_COUNT_FIELD_NUMBER: _ClassVar[int]
    WARMUP_COUNT_FIELD_NUMBER: _ClassVar[int]
    DRAW_COUNT_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    version_id: str
    status: ModelStatus
    serving: bool
    create_time: _timestamp_pb2.Timestamp
    snapshot_id: str
    snapshot_position: int
    diagnostics: Diagnostics
    known_products: _containers.RepeatedScalarFieldContainer[str]
    known_diseases: _containers.RepeatedScalarFieldContainer[str]
    code_version: str
    seed: int
    chain_count: int
    warmup_count: int
    draw_count: int
    problem: str
    def __init__(self, version_id: _Optional[str] = ..., status: _Optional[_Union[ModelStatus, str]] = ..., serving: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., snapshot_id: _Optional[str] = ..., snapshot_position: _Optional[int] = ..., diagnostics: _Optional[_Union[Diagnostics, _Mapping]] = ..., known_products: _Optional[_Iterable[str]] = ..., known_diseases: _Optional[_Iterable[str]] = ..., code_version: _Optional[str] = ..., seed: _Optional[int] = ..., chain_count: _Optional[int] = ..., warmup_count: _Optional[int] = ..., draw_count: _Optional[int] = ..., problem: _Optional[str] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("model_version", "research_use_notice", "models", "next_page_token")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RESEARCH_USE_NOTICE_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    research_use_notice: str
    models: _containers.RepeatedCompositeFieldContainer[Model]
    next_page_token: str
    def __init__(self, model_version: _Optional[str] = ..., research_use_notice: _Optional[str] = ..., models: _Optional[_Iterable[_Union[Model, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("version_id",)
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    version_id: str
    def __init__(self, version_id: _Optional[str] = ...) -> None: ...

class GetModelResponse(_message.Message):
    __slots__ = ("model_version", "research_use_notice", "model")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RESEARCH_USE_NOTICE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    research_use_notice: str
    model: Model
    def __init__(self, model_version: _Optional[str] = ..., research_use_notice: _Optional[str] = ..., model: _Optional[_Union[Model, _Mapping]] = ...) -> None: ...

class SetServingModelRequest(_message.Message):
    __slots__ = ("version_id",)
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    version_id: str
    def __init__(self, version_id: _Optional[str] = ...) -> None: ...

class SetServingModelResponse(_message.Message):
    __slots__ = ("model_version", "research_use_notice", "model", "previous_version_id")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RESEARCH_USE_NOTICE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    research_use_notice: str
    model: Model
    previous_version_id: str
    def __init__(self, model_version: _Optional[str] = ..., research_use_notice: _Optional[str] = ..., model: _Optional[_Union[Model, _Mapping]] = ..., previous_version_id: _Optional[str] = ...) -> None: ...

class ArmRow(_message.Message):
    __slots__ = ("arm_id", "trial", "product", "target", "costim", "cell_source", "cell_type", "disease", "setting", "flu_mg_m2_day", "flu_days", "cy_mg_m2_day", "cy_days", "benda_mg_m2_day", "benda_days", "anti_cd52", "n_treated", "n_efficacy", "n_orr", "n_cr", "n_crs_any", "n_crs_g3", "n_icans_any", "n_icans_g3", "n_neut_g3", "n_gvhd_any", "peak_median", "peak_unit", "auc28_median", "auc28_unit", "tmax_median_days", "source", "notes")
    ARM_ID_FIELD_NUMBER: _ClassVar[int]
    TRIAL_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    COSTIM_FIELD_NUMBER: _ClassVar[int]
    CELL_SOURCE_FIELD_NUMBER: _ClassVar[int]
    CELL_TYPE_FIELD_NUMBER: _ClassVar[int]
    DISEASE_FIELD_NUMBER: _ClassVar[int]
    SETTING_FIELD_NUMBER: _ClassVar[int]
    FLU_MG_M2_DAY_FIELD_NUMBER: _ClassVar[int]
    FLU_DAYS_FIELD_NUMBER: _ClassVar[int]
    CY_MG_M2_DAY_FIELD_NUMBER: _ClassVar[int]
    CY_DAYS_FIELD_NUMBER: _ClassVar[int]
    BENDA_MG_M2_DAY_FIELD_NUMBER: _ClassVar[int]
    BENDA_DAYS_FIELD_NUMBER: _ClassVar[int]
    ANTI_CD52_FIELD_NUMBER: _ClassVar[int]
    N_TREATED_FIELD_NUMBER: _ClassVar[int]
    N_EFFICACY_FIELD_NUMBER: _ClassVar[int]
    N_ORR_FIELD_NUMBER: _ClassVar[int]
    N_CR_FIELD_NUMBER: _ClassVar[int]
    N_CRS_ANY_FIELD_NUMBER: _ClassVar[int]
    N_CRS_G3_FIELD_NUMBER: _ClassVar[int]
    N_ICANS_ANY_FIELD_NUMBER: _ClassVar[int]
    N_ICANS_G3_FIELD_NUMBER: _ClassVar[int]
    N_NEUT_G3_FIELD_NUMBER: _ClassVar[int]
    N_GVHD_ANY_FIELD_NUMBER: _ClassVar[int]
    PEAK_MEDIAN_FIELD_NUMBER: _ClassVar[int]
    PEAK_UNIT_FIELD_NUMBER: _ClassVar[int]
    AUC28_MEDIAN_FIELD_NUMBER: _ClassVar[int]
    AUC28_UNIT_FIELD_NUMBER: _ClassVar[int]
    TMAX_MEDIAN_DAYS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    arm_id: str
    trial: str
    product: str
    target: str
    costim: str
    cell_source: str
    cell_type: str
    disease: str
    setting: str
    flu_mg_m2_day: float
    flu_days: int
    cy_mg_m2_day: float
    cy_days: int
    benda_mg_m2_day: float
    benda_days: int
    anti_cd52: int
    n_treated: int
    n_efficacy: int
    n_orr: int
    n_cr: int
    n_crs_any: int
    n_crs_g3: int
    n_icans_any: int
    n_icans_g3: int
    n_neut_g3: int
    n_gvhd_any: int
    peak_median: float
    peak_unit: str
    auc28_median: float
    auc28_unit: str
    tmax_median_days: float
    source: str
    notes: str
    def __init__(self, arm_id: _Optional[str] = ..., trial: _Optional[str] = ..., product: _Optional[str] = ..., target: _Optional[str] = ..., costim: _Optional[str] = ..., cell_source: _Optional[str] = ..., cell_type: _Optional[str] = ..., disease: _Optional[str] = ..., setting: _Optional[str] = ..., flu_mg_m2_day: _Optional[float] = ..., flu_days: _Optional[int] = ..., cy_mg_m2_day: _Optional[float] = ..., cy_days: _Optional[int] = ..., benda_mg_m2_day: _Optional[float] = ..., benda_days: _Optional[int] = ..., anti_cd52: _Optional[int] = ..., n_treated: _Optional[int] = ..., n_efficacy: _Optional[int] = ..., n_orr: _Optional[int] = ..., n_cr: _Optional[int] = ..., n_crs_any: _Optional[int] = ..., n_crs_g3: _Optional[int] = ..., n_icans_any: _Optional[int] = ..., n_icans_g3: _Optional[int] = ..., n_neut_g3: _Optional[int] = ..., n_gvhd_any: _Optional[int] = ..., peak_median: _Optional[float] = ..., peak_unit: _Optional[str] = ..., auc28_median: _Optional[float] = ..., auc28_unit: _Optional[str] = ..., tmax_median_days: _Optional[float] = ..., source: _Optional[str] = ..., notes: _Optional[str] = ...) -> None: ...

class KineticStratumRow(_message.Message):
    __slots__ = ("arm_id", "stratum_kind", "stratum", "response_group", "n", "peak_median", "peak_unit", "auc28_median", "auc28_unit", "tmax_median_days", "confidence", "source", "notes")
    ARM_ID_FIELD_NUMBER: _ClassVar[int]
    STRATUM_KIND_FIELD_NUMBER: _ClassVar[int]
    STRATUM_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_GROUP_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    PEAK_MEDIAN_FIELD_NUMBER: _ClassVar[int]
    PEAK_UNIT_FIELD_NUMBER: _ClassVar[int]
    AUC28_MEDIAN_FIELD_NUMBER: _ClassVar[int]
    AUC28_UNIT_FIELD_NUMBER: _ClassVar[int]
    TMAX_MEDIAN_DAYS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    arm_id: str
    stratum_kind: str
    stratum: str
    response_group: str
    n: int
    peak_median: float
    peak_unit: str
    auc28_median: float
    auc28_unit: str
    tmax_median_days: float
    confidence: str
    source: str
    notes: str
    def __init__(self, arm_id: _Optional[str] = ..., stratum_kind: _Optional[str] = ..., stratum: _Optional[str] = ..., response_group: _Optional[str] = ..., n: _Optional[int] = ..., peak_median: _Optional[float] = ..., peak_unit: _Optional[str] = ..., auc28_median: _Optional[float] = ..., auc28_unit: _Optional[str] = ..., tmax_median_days: _Optional[float] = ..., confidence: _Optional[str] = ..., source: _Optional[str] = ..., notes: _Optional[str] = ...) -> None: ...

class PatientRow(_message.Message):
    __slots__ = ("patient_id", "arm_id", "age_years", "ldh_high", "flu_mg_m2_total", "cy_mg_m2_total", "benda_mg_m2_total", "anti_cd52", "peak", "peak_unit", "auc28", "tmax_days", "best_response", "crs_grade", "icans_grade", "neut_g3", "gvhd")
    PATIENT_ID_FIELD_NUMBER: _ClassVar[int]
    ARM_ID_FIELD_NUMBER: _ClassVar[int]
    AGE_YEARS_FIELD_NUMBER: _ClassVar[int]
    LDH_HIGH_FIELD_NUMBER: _ClassVar[int]
    FLU_MG_M2_TOTAL_FIELD_NUMBER: _ClassVar[int]
    CY_MG_M2_TOTAL_FIELD_NUMBER: _ClassVar[int]
    BENDA_MG_M2_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ANTI_CD52_FIELD_NUMBER: _ClassVar[int]
    PEAK_FIELD_NUMBER: _ClassVar[int]
    PEAK_UNIT_FIELD_NUMBER: _ClassVar[int]
    AUC28_FIELD_NUMBER: _ClassVar[int]
    TMAX_DAYS_FIELD_NUMBER: _ClassVar[int]
    BEST_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    CRS_GRADE_FIELD_NUMBER: _ClassVar[int]
    ICANS_GRADE_FIELD_NUMBER: _ClassVar[int]
    NEUT_G3_FIELD_NUMBER: _ClassVar[int]
    GVHD_FIELD_NUMBER: _ClassVar[int]
    patient_id: str
    arm_id: str
    age_years: float
    ldh_high: int
    flu_mg_m2_total: float
    cy_mg_m2_total: float
    benda_mg_m2_total: float
    anti_cd52: int
    peak: float
    peak_unit: str
    auc28: float
    tmax_days: float
    best_response: str
    crs_grade: int
    icans_grade: int
    neut_g3: int
    gvhd: int
    def __init__(self, patient_id: _Optional[str] = ..., arm_id: _Optional[str] = ..., age_years: _Optional[float] = ..., ldh_high: _Optional[int] = ..., flu_mg_m2_total: _Optional[float] = ..., cy_mg_m2_total: _Optional[float] = ..., benda_mg_m2_total: _Optional[float] = ..., anti_cd52: _Optional[int] = ..., peak: _Optional[float] = ..., peak_unit: _Optional[str] = ..., auc28: _Optional[float] = ..., tmax_days: _Optional[float] = ..., best_response: _Optional[str] = ..., crs_grade: _Optional[int] = ..., icans_grade: _Optional[int] = ..., neut_g3: _Optional[int] = ..., gvhd: _Optional[int] = ...) -> None: ...

class PatientKineticsRow(_message.Message):
    __slots__ = ("patient_id", "day", "value", "unit", "below_lloq")
    PATIENT_ID_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    BELOW_LLOQ_FIELD_NUMBER: _ClassVar[int]
    patient_id: str
    day: int
    value: float
    unit: str
    below_lloq: int
    def __init__(self, patient_id: _Optional[str] = ..., day: _Optional[int] = ..., value: _Optional[float] = ..., unit: _Optional[str] = ..., below_lloq: _Optional[int] = ...) -> None: ...

class SubmitTrialDataRequest(_message.Message):
    __slots__ = ("request_id", "arms", "kinetic_strata", "patients", "patient_kinetics")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ARMS_FIELD_NUMBER: _ClassVar[int]
    KINETIC_STRATA_FIELD_NUMBER: _ClassVar[int]
    PATIENTS_FIELD_NUMBER: _ClassVar[int]
    PATIENT_KINETICS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    arms: _containers.RepeatedCompositeFieldContainer[ArmRow]
    kinetic_strata: _containers.RepeatedCompositeFieldContainer[KineticStratumRow]
    patients: _containers.RepeatedCompositeFieldContainer[PatientRow]
    patient_kinetics: _containers.RepeatedCompositeFieldContainer[PatientKineticsRow]
    def __init__(self, request_id: _Optional[str] = ..., arms: _Optional[_Iterable[_Union[ArmRow, _Mapping]]] = ..., kinetic_strata: _Optional[_Iterable[_Union[KineticStratumRow, _Mapping]]] = ..., patients: _Optional[_Iterable[_Union[PatientRow, _Mapping]]] = ..., patient_kinetics: _Optional[_Iterable[_Union[PatientKineticsRow, _Mapping]]] = ...) -> None: ...

class TableRowCounts(_message.Message):
    __slots__ = ("arm_count", "kinetic_stratum_count", "patient_count", "patient_kinetics_count")
    ARM_COUNT_FIELD_NUMBER: _ClassVar[int]
    KINETIC_STRATUM_COUNT_FIELD_NUMBER: _ClassVar[int]
    PATIENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    PATIENT_KINETICS_COUNT_FIELD_NUMBER: _ClassVar[int]
    arm_count: int
    kinetic_stratum_count: int
    patient_count: int
    patient_kinetics_count: int
    def __init__(self, arm_count: _Optional[int] = ..., kinetic_stratum_count: _Optional[int] = ..., patient_count: _Optional[int] = ..., patient_kinetics_count: _Optional[int] = ...) -> None: ...

class SubmitTrialDataResponse(_message.Message):
    __slots__ = ("model_version", "research_use_notice", "submission_seq", "sha256", "row_counts", "replayed", "create_time")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RESEARCH_USE_NOTICE_FIELD_NUMBER: _ClassVar[int]
    SUBMISSION_SEQ_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNTS_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    research_use_notice: str
    submission_seq: int
    sha256: str
    row_counts: TableRowCounts
    replayed: bool
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, model_version: _Optional[str] = ..., research_use_notice: _Optional[str] = ..., submission_seq: _Optional[int] = ..., sha256: _Optional[str] = ..., row_counts: _Optional[_Union[TableRowCounts, _Mapping]] = ..., replayed: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Operation(_message.Message):
    __slots__ = ("operation_id", "phase", "done", "iteration", "total_iteration_count", "eta_seconds", "diagnostics", "result_version_id", "promoted", "error", "create_time", "update_time", "snapshot_id")
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    ITERATION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ITERATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DIAGNOSTICS_FIELD_NUMBER: _ClassVar[int]
    RESULT_VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    PROMOTED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    operation_id: str
    phase: OperationPhase
    done: bool
    iteration: int
    total_iteration_count: int
    eta_seconds: float
    diagnostics: Diagnostics
    result_version_id: str
    promoted: bool
    error: _status_pb2.Status
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    snapshot_id: str
    def __init__(self, operation_id: _Optional[str] = ..., phase: _Optional[_Union[OperationPhase, str]] = ..., done: _Optional[bool] = ..., iteration: _Optional[int] = ..., total_iteration_count: _Optional[int] = ..., eta_seconds: _Optional[float] = ..., diagnostics: _Optional[_Union[Diagnostics, _Mapping]] = ..., result_version_id: _Optional[str] = ..., promoted: _Optional[bool] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., snapshot_id: _Optional[str] = ...) -> None: ...

class StartRefitRequest(_message.Message):
    __slots__ = ("request_id", "ledger_position", "warm_start", "seed", "chain_count", "warmup_count", "draw_count", "promote")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    LEDGER_POSITION_FIELD_NUMBER: _ClassVar[int]
    WARM_START_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    CHAIN_COUNT_FIELD_NUMBER: _ClassVar[int]
    WARMUP_COUNT_FIELD_NUMBER: _ClassVar[int]
    DRAW_COUNT_FIELD_NUMBER: _ClassVar[int]
    PROMOTE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    ledger_position: int
    warm_start: bool
    seed: int
    chain_count: int
    warmup_count: int
    draw_count: int
    promote: bool
    def __init__(self, request_id: _Optional[str] = ..., ledger_position: _Optional[int] = ..., warm_start: _Optional[bool] = ..., seed: _Optional[int] = ..., chain_count: _Optional[int] = ..., warmup_count: _Optional[int] = ..., draw_count: _Optional[int] = ..., promote: _Optional[bool] = ...) -> None: ...

class StartRefitResponse(_message.Message):
    __slots__ = ("model_version", "research_use_notice", "operation")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RESEARCH_USE_NOTICE_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    research_use_notice: str
    operation: Operation
    def __init__(self, model_version: _Optional[str] = ..., research_use_notice: _Optional[str] = ..., operation: _Optional[_Union[Operation, _Mapping]] = ...) -> None: ...

class GetOperationRequest(_message.Message):
    __slots__ = ("operation_id",)
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    operation_id: str
    def __init__(self, operation_id: _Optional[str] = ...) -> None: ...

class GetOperationResponse(_message.Message):
    __slots__ = ("model_version", "research_use_notice", "operation")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RESEARCH_USE_NOTICE_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    research_use_notice: str
    operation: Operation
    def __init__(self, model_version: _Optional[str] = ..., research_use_notice: _Optional[str] = ..., operation: _Optional[_Union[Operation, _Mapping]] = ...) -> None: ...

class WatchOperationRequest(_message.Message):
    __slots__ = ("operation_id",)
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    operation_id: str
    def __init__(self, operation_id: _Optional[str] = ...) -> None: ...

class WatchOperationResponse(_message.Message):
    __slots__ = ("model_version", "research_use_notice", "operation")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RESEARCH_USE_NOTICE_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    research_use_notice: str
    operation: Operation
    def __init__(self, model_version: _Optional[str] = ..., research_use_notice: _Optional[str] = ..., operation: _Optional[_Union[Operation, _Mapping]] = ...) -> None: ...
