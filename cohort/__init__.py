"""cohort: a virtual-cohort outcome model for cell-therapy research.

Research use only: it informs trial design and evidence synthesis, never an
individual patient's treatment.
"""

__version__ = "0.1.0"

RESEARCH_USE_NOTICE = (
    "Research use only: model-based estimates for trial design and evidence synthesis; "
    "not for individual treatment decisions."
)
