"""The flows an engine runs: the newest version of each, and older versions on demand.

Flow files go through `dsl.pipeline.FlowCompiler`, the same path as `parley check`. The
source of every version loaded is kept in Redis, so a visitor who started a flow finishes
on that version even after the file changed and Parley restarted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import redis

from dsl.compiler import CompiledFlow
from dsl.pipeline import CheckReport, FlowCompiler
from engine.keys import Keys

log = logging.getLogger(__name__)


class FlowRegistry:
    """Loaded flows by id and version; a bad file is reported and the others keep running."""

    def __init__(self, client: redis.Redis, keys: Keys | None = None) -> None:
        self.redis = client
        self.keys = keys or Keys()
        self.compiler = FlowCompiler()
        self._current: dict[str, CompiledFlow] = {}
        self._versions: dict[tuple[str, str], CompiledFlow] = {}
        self._unstored: dict[str, bytes] = {}  # `id@version` -> source, while Redis is away

    def load(self, paths: Iterable[str | Path]) -> CheckReport:
        """(Re)load flow files; flows that fail keep their previous version running.

        The sources are stored in Redis; while it is away they are kept to be stored at the
        next load or lookup, so a process can start without Redis."""
        report = self.compiler.check_paths(paths)
        for result in report.files:
            if result.flow is None:
                continue
            flow = result.flow
            self._current[flow.id] = flow
            self._versions[(flow.id, flow.version)] = flow
            self._unstored[f"{flow.id}@{flow.version}"] = result.raw
        self._store_sources()
        return report

    def _store_sources(self) -> None:
        if not self._unstored:
            return
        pipe = self.redis.pipeline(transaction=False)
        for name, raw in self._unstored.items():
            pipe.hsetnx(self.keys.flow_sources(), name, raw)
        try:
            pipe.execute()
        except (redis.ConnectionError, redis.TimeoutError) as err:
            log.warning("flow sources not stored yet, Redis does not answer: %s", err)
            return
        self._unstored.clear()

    def current(self) -> Sequence[CompiledFlow]:
        """The newest version of every loaded flow."""
        return list(self._current.values())

    def get(self, flow_id: str, version: str) -> CompiledFlow | None:
        """A flow at a version: from memory, else compiled again from its stored source."""
        found = self._versions.get((flow_id, version))
        if found is None:
            self._store_sources()
            raw = self.redis.hget(self.keys.flow_sources(), f"{flow_id}@{version}")
            if isinstance(raw, bytes):
                found = self.compiler.check_source(f"<stored {flow_id}@{version}>", raw).flow
            if found is not None:
                self._versions[(flow_id, version)] = found
        return found
