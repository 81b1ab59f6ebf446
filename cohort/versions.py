"""Model versions on disk (DESIGN §5): immutable, checksummed directories plus a serving alias.

Layout under `models_dir`:

    v20250101T120000Z-1a2b3c4d/   one version: manifest.json + posterior.nc (+ warmstart.npz)
    .tmp-<random>/                a version being written; never loadable
    SERVING                       the served version id (one line), replaced atomically

A version is written into a temp directory, every file and the directory are fsynced, then
the directory is renamed into place and the parent fsynced: a crash leaves either nothing
or a temp directory, never a half version under a version id. Ids sort by creation time.
The manifest lists the sha256 of every other file and a checksum of itself; the loader
refuses any mismatch, missing or extra file. A FAILED version is kept for inspection but is
never served.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import arviz as az

import cohort
from cohort.durable import fsync
from cohort.errors import Conflict, CorruptArtifact, InvalidArgument, NotFound, Violation

MANIFEST = "manifest.json"
POSTERIOR = "posterior.nc"
SERVING = "SERVING"
TEMP_PREFIX = ".tmp-"
FORMAT = 1
READY, FAILED = "READY", "FAILED"
STALE_TEMP_SECONDS = 3600.0  # a write takes seconds; older temp dirs are crash leftovers
_ID = re.compile(r"^v\d{8}T\d{6}Z-[0-9a-f]{8}$")

FileWriter = Callable[[Path], None]


@dataclass(frozen=True)
class Version:
    """A verified version directory. `manifest` is the parsed manifest.json."""

    id: str
    path: Path
    manifest: Mapping[str, Any]

    @property
    def status(self) -> str:
        return str(self.manifest["status"])

    def file(self, name: str) -> Path:
        return self.path / name

    def posterior(self) -> az.InferenceData:
        """The posterior, read fully into memory (no file handle stays open)."""
        return az.from_netcdf(self.file(POSTERIOR)).map(lambda ds: ds.load(), inplace=False)


@dataclass(frozen=True)
class VersionSummary:
    """One row of `list_versions`: status is READY, FAILED or CORRUPT (then `problem`)."""

    id: str
    status: str
    serving: bool
    created_at: str | None = None
    snapshot_hash: str | None = None
    passed_gate: bool | None = None
    problem: str | None = None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def code_version() -> dict[str, str | None]:
    """cohort's version plus the git commit when running from a checkout (else None)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(cohort.__file__).parent,
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"cohort": cohort.__version__, "git_commit": commit}


def installed_version(name: str) -> str | None:
    """A distribution's installed version from its metadata (no import), None if absent."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def library_versions() -> dict[str, str | None]:
    """Installed versions of what shapes a posterior (read from metadata: no imports)."""
    libraries = {name: installed_version(name)
                 for name in ("jax", "jaxlib", "numpyro", "arviz", "numpy")}
    return {**libraries, "python": platform.python_version()}


def new_version_id(created_at: datetime, content_sha256: str) -> str:
    return f"v{created_at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{content_sha256[:8]}"


def open_models_dir(models_dir: Path, stale_after_s: float = STALE_TEMP_SECONDS) -> Path:
    """Create `models_dir` and delete temp leftovers older than `stale_after_s` (crashes)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - stale_after_s
    for entry in models_dir.iterdir():
        if entry.name.startswith(TEMP_PREFIX) or entry.name.startswith(f"{SERVING}{TEMP_PREFIX}"):
            if entry.lstat().st_mtime < cutoff:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    return models_dir


def write_version(
    models_dir: Path,
    writers: Mapping[str, FileWriter],
    fields: Mapping[str, Any],
    created_at: datetime,
) -> Version:
    """Write a version atomically. `writers` maps file name → function writing that path
    (must include posterior.nc); `fields` go into the manifest (must include `status`)."""
    if fields.get("status") not in (READY, FAILED):
        raise ValueError(f"status must be {READY} or {FAILED}, got {fields.get('status')!r}")
    if POSTERIOR not in writers or MANIFEST in writers:
        raise ValueError(f"writers must include {POSTERIOR} and not {MANIFEST}")
    open_models_dir(models_dir)
    temp = models_dir / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
    temp.mkdir()
    try:
        for name, write in writers.items():
            write(temp / name)
            fsync(temp / name)
        files = {name: sha256_file(temp / name) for name in sorted(writers)}
        version_id = new_version_id(created_at, files[POSTERIOR])
        manifest = {**fields, "format": FORMAT, "version_id": version_id,
                    "created_at": created_at.astimezone(UTC).isoformat(),
                    "files": files}
        manifest["manifest_sha256"] = hashlib.sha256(_canonical(manifest)).hexdigest()
        (temp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        fsync(temp / MANIFEST)
        fsync(temp)
        final = models_dir / version_id
        if final.exists():
            raise Conflict(f"version {version_id} already exists")
        temp.rename(final)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    fsync(models_dir)
    return Version(version_id, final, manifest)


def _check_id(version_id: str) -> None:
    if version_id.startswith(TEMP_PREFIX):
        raise CorruptArtifact(f"{version_id} is an incomplete (temporary) version directory")
    if not _ID.fullmatch(version_id):
        raise InvalidArgument([Violation("version_id", version_id,
                                         "must look like v20250101T120000Z-1a2b3c4d")])


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((path / MANIFEST).read_text())
        claimed = manifest.pop("manifest_sha256")
    except FileNotFoundError:
        raise CorruptArtifact(f"{path.name}: no {MANIFEST} (incomplete version)") from None
    except (ValueError, KeyError, AttributeError) as err:
        raise CorruptArtifact(f"{path.name}: unreadable {MANIFEST}: {err}") from None
    if hashlib.sha256(_canonical(manifest)).hexdigest() != claimed:
        raise CorruptArtifact(f"{path.name}: {MANIFEST} checksum mismatch")
    return {**manifest, "manifest_sha256": claimed}


def _verify_files(path: Path, manifest: Mapping[str, Any]) -> None:
    expected: Mapping[str, str] = manifest.get("files", {})
    present = {p.name for p in path.iterdir()} - {MANIFEST}
    missing, extra = sorted(set(expected) - present), sorted(present - set(expected))
    if missing or extra or POSTERIOR not in expected:
        raise CorruptArtifact(f"{path.name}: missing files {missing}, unexpected files {extra}")
    bad = [name for name, digest in expected.items() if sha256_file(path / name) != digest]
    if bad:
        raise CorruptArtifact(f"{path.name}: checksum mismatch in {bad}")


def load_version(models_dir: Path, version_id: str) -> Version:
    """The verified version `version_id`: NotFound if absent, CorruptArtifact if anything
    (manifest, file set, any checksum, status) is off."""
    _check_id(version_id)
    path = models_dir / version_id
    if not path.is_dir():
        raise NotFound(f"model version {version_id} not found")
    manifest = _read_manifest(path)
    if manifest.get("version_id") != version_id or manifest.get("status") not in (READY, FAILED):
        raise CorruptArtifact(f"{version_id}: manifest id/status do not match the directory")
    _verify_files(path, manifest)
    return Version(version_id, path, manifest)


def _summary(models_dir: Path, version_id: str, serving: str | None) -> VersionSummary:
    try:
        version = load_version(models_dir, version_id)
    except CorruptArtifact as err:
        return VersionSummary(version_id, "CORRUPT", version_id == serving, problem=str(err))
    m = version.manifest
    return VersionSummary(version_id, version.status, version_id == serving, m["created_at"],
                          m.get("snapshot_hash"), (m.get("diagnostics") or {}).get("passed"))


def list_versions(models_dir: Path) -> list[VersionSummary]:
    """Every version directory, oldest first; temp dirs skipped, corrupt ones flagged."""
    if not models_dir.is_dir():
        return []
    serving = serving_version(models_dir)
    ids = sorted(p.name for p in models_dir.iterdir() if p.is_dir() and _ID.fullmatch(p.name))
    return [_summary(models_dir, version_id, serving) for version_id in ids]


def serving_version(models_dir: Path) -> str | None:
    """The id the serving alias points at, or None when nothing was promoted yet."""
    try:
        version_id = (models_dir / SERVING).read_text().strip()
    except FileNotFoundError:
        return None
    if not _ID.fullmatch(version_id):
        raise CorruptArtifact(f"{SERVING} alias holds {version_id!r}, not a version id")
    return version_id


def set_serving(models_dir: Path, version_id: str) -> Version:
    """Point the alias at a verified READY version (promotion and rollback alike)."""
    version = load_version(models_dir, version_id)
    if version.status != READY:
        raise InvalidArgument([Violation("version_id", version_id,
                                         f"status is {version.status}; only READY is served")])
    temp = models_dir / f"{SERVING}{TEMP_PREFIX}{uuid.uuid4().hex}"
    with temp.open("w") as f:
        f.write(version_id + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, models_dir / SERVING)
    fsync(models_dir)
    return version


def rollback(models_dir: Path) -> Version:
    """Serve the newest READY version older than the one served now."""
    current = serving_version(models_dir)
    if current is None:
        raise NotFound("no version is being served, so there is nothing to roll back from")
    older = [v.id for v in list_versions(models_dir) if v.id < current and v.status == READY]
    if not older:
        raise NotFound(f"no READY version older than {current}")
    return set_serving(models_dir, older[-1])
