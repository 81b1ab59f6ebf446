"""Typed domain errors. Each carries everything a caller needs; the transport maps them.

One error type per kind of failure, so that exactly one place (server/errors.py) turns
them into gRPC status codes and the CLI into exit codes and messages.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    """One bad value: where it is (table, row, field), what it was and the rule it broke.

    `row` is 1-based over data rows (the header is not counted); None for whole-request
    fields such as a cohort spec's `n`.
    """

    field: str
    value: str
    rule: str
    table: str | None = None
    row: int | None = None

    @property
    def location(self) -> str:
        """`arms[3].n_cr` for a table cell, `n` for a request field."""
        if self.table is None:
            return self.field
        where = self.table if self.row is None else f"{self.table}[{self.row}]"
        return f"{where}.{self.field}"

    def __str__(self) -> str:
        return f"{self.location} = {self.value!r}: {self.rule}"


class CohortError(Exception):
    """Base of every error the domain raises on purpose; `reason` is a stable code."""

    reason = "COHORT_ERROR"


class InvalidArgument(CohortError):
    """Input broke the contract. Carries every violation found, never just the first."""

    reason = "INVALID_ARGUMENT"

    def __init__(self, violations: list[Violation] | tuple[Violation, ...]):
        self.violations = tuple(violations)
        lines = "\n".join(f"  {v}" for v in self.violations)
        super().__init__(f"{len(self.violations)} invalid value(s):\n{lines}")


class LimitExceeded(InvalidArgument):
    """A well-formed request beyond a configured limit (patients, draws, specs, batch size):
    the same violations, but retrying within the limit (or on a bigger server) helps."""

    reason = "LIMIT_EXCEEDED"


class Conflict(CohortError):
    """A request id was reused with a different payload, or an operation already runs."""

    reason = "CONFLICT"


class NotFound(CohortError):
    """A named thing (model version, operation, product) does not exist."""

    reason = "NOT_FOUND"


class NotReady(CohortError):
    """The service cannot answer yet (no READY model loaded and warmed)."""

    reason = "NOT_READY"


class CorruptArtifact(CohortError):
    """Stored state failed an integrity check (checksum mismatch, incomplete version)."""

    reason = "CORRUPT_ARTIFACT"


class IncompatibleVersion(CohortError):
    """A stored version's posterior lacks parameters of the current model (it was fitted by
    an earlier revision of the model): it cannot be served until refitted."""

    reason = "INCOMPATIBLE_VERSION"


class GateFailed(CohortError):
    """A fit finished but failed the diagnostics gate: its version is FAILED, never served."""

    reason = "GATE_FAILED"


class Interrupted(CohortError):
    """Long-running work stopped before it finished (shutdown, or its process died)."""

    reason = "INTERRUPTED"
