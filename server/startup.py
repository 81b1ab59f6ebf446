"""What `cohort serve` loads at start, fitting a first version on a fresh home.

In order: the version the serving alias names; else the newest READY version (promoted);
else a fit of the current snapshot (bundled arms + accepted submissions) with the settings'
first-fit config, printing progress, promoted if it passes the gate. The first fit holds
the home's fit lock, so a StartRefit meanwhile is refused (Conflict) rather than racing it;
if another fit holds the lock at start, the server waits for it and looks again. A first fit that
fails the gate is reported and NOT served — health stays NOT_SERVING and queries answer
UNAVAILABLE until a READY version exists (a refit, or SetServingModel) — unless the
operator passed `--serve-failed-fit`: then it is served unpromoted, and every answer
names that FAILED version.
"""

from __future__ import annotations

import logging
import sys
import time

from cohort import operations, versions
from cohort.cli.models import ProgressPrinter, fit_plan, fit_report
from cohort.errors import CohortError
from cohort.workflow import current_snapshot, fit_snapshot
from server.serving import ServingModel
from server.settings import Settings

_LOG = logging.getLogger(__name__)


def newest_ready(settings: Settings) -> str | None:
    ready = [v.id for v in versions.list_versions(settings.home.models_dir)
             if v.status == versions.READY]
    return ready[-1] if ready else None  # ids sort by creation time


def _servable(settings: Settings) -> str | None:
    return versions.serving_version(settings.home.models_dir) or newest_ready(settings)


def _wait_for_fit(busy: CohortError) -> None:
    _LOG.warning("no READY model version yet and %s; waiting for it before deciding "
                 "whether to fit one", busy)


def _first_fit(settings: Settings) -> versions.Version:
    home, config = settings.home, settings.first_fit
    snapshot = current_snapshot(home)
    _LOG.warning("no READY model version in %s: %s; health stays NOT_SERVING until it is "
                 "fitted, loaded and warmed", home.root, fit_plan(snapshot, config))
    version, result = fit_snapshot(home, snapshot, config, ProgressPrinter())
    print(file=sys.stderr)  # end the progress line
    _LOG.info("%s", fit_report(version, result))
    return version


def _serve_first_fit(settings: Settings, model: ServingModel) -> bool:
    version = _first_fit(settings)
    if version.status != versions.READY and not settings.serve_failed_fit:
        _LOG.error("the first fit (%s) FAILED the diagnostics gate, so nothing is served: "
                   "health stays NOT_SERVING and queries answer UNAVAILABLE. Refit with more "
                   "iterations (StartRefit, `cohort fit`), or restart with --serve-failed-fit "
                   "to serve it anyway.", version.id)
        return False
    if version.status != versions.READY:
        _LOG.warning("serving %s although it FAILED the diagnostics gate "
                     "(--serve-failed-fit); it is not promoted", version.id)
        model.serve_unpromoted(version.id)
    else:
        _load(model, version.id)
    return True


def _load(model: ServingModel, version_id: str) -> None:
    _LOG.info("loading and warming model version %s", version_id)
    model.swap_to(version_id)


def start_serving(settings: Settings, model: ServingModel) -> bool:
    """Load (fitting first if needed), warm and serve a version; False when there is
    nothing servable — the reason is logged and health stays NOT_SERVING."""
    started = time.perf_counter()
    try:
        version_id = _servable(settings)
        if version_id is None:
            # the fit lock: a StartRefit meanwhile is a Conflict, not a second fit racing
            # this one to the serving alias; a fit already running (`cohort fit`, another
            # server's refit) is awaited, and what it promoted is served instead
            with operations.fit_lock(settings.home.operations_dir, on_wait=_wait_for_fit):
                version_id = _servable(settings)
                if version_id is None and not _serve_first_fit(settings, model):
                    return False
        if version_id is not None:
            _load(model, version_id)
    except CohortError as error:
        _LOG.error("cannot serve a model: %s; health stays NOT_SERVING (promote another "
                   "version with SetServingModel)", error)
        return False
    _LOG.info("serving %s, ready %.1f s after start", model.current().version_id,
              time.perf_counter() - started)
    return True
