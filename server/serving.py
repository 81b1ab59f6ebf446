"""The model the server answers with: loaded, warmed engines, and the one being served.

A request reads `current()` (or `engine_for`) once and uses that (version, engine) pair to
the end, so a swap never changes the model under a running request: the swap itself is
one reference assignment under a lock, done only after the new engine is loaded and
warmed, and an in-flight request keeps the old engine alive until it returns. Loads are
serialised (one at a time) and the last few engines stay loaded, so promoting back and
forth between versions, or querying a recent non-serving one, costs no reload.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from cohort import versions
from cohort.engine import Engine, EngineConfig
from cohort.errors import InvalidArgument, NotReady, Violation
from cohort.home import Home
from cohort.workflow import Fitted, load_fitted

_LOG = logging.getLogger(__name__)
DEFAULT_ENGINE = EngineConfig()


class Served(NamedTuple):
    version_id: str
    engine: Engine


def draw_buckets(config: EngineConfig) -> tuple[int, ...]:
    """Every padded draw size the engine compiles: min_bucket, 2·min_bucket, ... chunk_draws."""
    sizes, size = [], config.min_bucket
    while size < config.chunk_draws:
        sizes.append(size)
        size *= 2
    return (*sizes, config.chunk_draws)


@dataclass(frozen=True)
class WarmPlan:
    """Request sizes compiled before a version serves (DESIGN §6: no request pays compile
    time). None = every draw bucket. Streams of other (draws, patients) shapes than
    `stream_shapes` compile on first use."""

    draw_counts: tuple[int, ...] | None = None
    stream_shapes: tuple[tuple[int, int], ...] = ((1000, 30),)  # (draws, patients)


class ServingModel:
    """Engines of one home's versions and the one being served (None until the first swap).

    `on_change(True)` runs after every swap: the application turns health SERVING there.
    """

    def __init__(self, home: Home, warm: WarmPlan = WarmPlan(),
                 config: EngineConfig = DEFAULT_ENGINE, keep_loaded: int = 2,
                 on_change: Callable[[bool], None] | None = None):
        self.home = home
        self._warm, self._config = warm, config
        self._keep = max(1, keep_loaded)
        self._on_change = on_change
        self._served: Served | None = None
        self._swap = threading.Lock()  # guards _served's assignment
        self._load = threading.RLock()  # one load at a time; guards _loaded
        self._loaded: OrderedDict[str, Engine] = OrderedDict()  # least recently used first

    @property
    def ready(self) -> bool:
        return self._served is not None

    def current(self) -> Served:
        """The served (version, engine); NotReady before the first swap."""
        served = self._served
        if served is None:
            raise NotReady("no model version is loaded yet: the server is starting, fitting "
                           "its first version, or has none that passed the gate (ListModels)")
        return served

    def engine_for(self, version_id: str) -> Served:
        """The served pair for "" or the served id; else that READY version (loaded on
        demand). Field violations name `model_version`, the requests' field."""
        served = self.current()
        if not version_id or version_id == served.version_id:
            return served
        return Served(version_id, self._engine(version_id, "model_version"))

    def swap_to(self, version_id: str) -> versions.Version:
        """Promote `version_id`: load and warm its engine, point the serving alias at it,
        then serve it — in that order, so a version that cannot be loaded changes nothing.
        The alias write is idempotent, so a caller that moved it already (the refit
        worker) may call this too."""
        with self._load:  # held throughout, so concurrent promotions apply in call order
            engine = self._engine(version_id, "version_id")
            version = versions.set_serving(self.home.models_dir, version_id)
            self._serve(Served(version_id, engine))
        return version

    def serve_unpromoted(self, version_id: str) -> None:
        """Serve a version whatever its status, alias untouched: only for an explicit
        operator choice (`cohort serve --serve-failed-fit`)."""
        with self._load:  # not kept among the loaded: no request may name it later
            self._serve(Served(version_id, self._warmed(load_fitted(self.home, version_id))))

    def _serve(self, served: Served) -> None:
        with self._swap:
            previous, self._served = self._served, served
        _LOG.info("serving model version %s (was %s)", served.version_id,
                  previous.version_id if previous else "none")
        if self._on_change is not None:
            self._on_change(True)

    def _engine(self, version_id: str, field: str) -> Engine:
        """A loaded, warmed engine of a READY version (kept among the recently used)."""
        with self._load:
            engine = self._loaded.get(version_id)
            if engine is None:
                engine = self._warmed(load_fitted(self.home, _ready(self.home, version_id,
                                                                    field)))
            self._loaded[version_id] = engine
            self._loaded.move_to_end(version_id)
            serving = self._served.version_id if self._served else None
            for old in [v for v in self._loaded if v not in (version_id, serving)]:
                if len(self._loaded) <= self._keep:
                    break
                del self._loaded[old]  # requests still using it keep their reference
            return engine

    def _warmed(self, fitted: Fitted) -> Engine:
        engine = Engine.load(fitted.data, fitted.idata, self._config)
        engine.warm(self._warm.draw_counts or draw_buckets(self._config))
        for draws, patients in self._warm.stream_shapes:
            engine.warm((draws,), (patients,))
        return engine


def _ready(home: Home, version_id: str, field: str) -> str:
    """`version_id` if it is a verified READY version; NotFound, CorruptArtifact or an
    InvalidArgument naming `field` otherwise."""
    try:
        version = versions.load_version(home.models_dir, version_id)
    except InvalidArgument as error:  # a malformed id: name the request's field
        raise InvalidArgument([Violation(field, v.value, v.rule) for v in error.violations]
                              ) from None
    if version.status != versions.READY:
        raise InvalidArgument([Violation(field, version_id, f"status is {version.status}; "
                                         "only READY versions are served")])
    return version_id
