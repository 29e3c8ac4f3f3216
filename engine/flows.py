"""The flows an engine runs: the newest version of each, and older versions on demand.

Flow files go through `dsl.pipeline.FlowCompiler`, the same path as `parley check`. The
source of every version loaded is kept in Redis, so a visitor who started a flow finishes
on that version even after the file changed and Parley restarted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import redis

from dsl.compiler import CompiledFlow
from dsl.pipeline import CheckReport, FlowCompiler
from engine.keys import Keys


class FlowRegistry:
    """Loaded flows by id and version; a bad file is reported and the others keep running."""

    def __init__(self, client: redis.Redis, keys: Keys | None = None) -> None:
        self.redis = client
        self.keys = keys or Keys()
        self.compiler = FlowCompiler()
        self._current: dict[str, CompiledFlow] = {}
        self._versions: dict[tuple[str, str], CompiledFlow] = {}

    def load(self, paths: Iterable[str | Path]) -> CheckReport:
        """(Re)load flow files; flows that fail keep their previous version running."""
        report = self.compiler.check_paths(paths)
        pipe = self.redis.pipeline(transaction=False)
        for result in report.files:
            if result.flow is None:
                continue
            flow = result.flow
            self._current[flow.id] = flow
            self._versions[(flow.id, flow.version)] = flow
            pipe.hsetnx(self.keys.flow_sources(), f"{flow.id}@{flow.version}", result.raw)
        pipe.execute()
        return report

    def current(self) -> Sequence[CompiledFlow]:
        """The newest version of every loaded flow."""
        return list(self._current.values())

    def get(self, flow_id: str, version: str) -> CompiledFlow | None:
        """A flow at a version: from memory, else compiled again from its stored source."""
        found = self._versions.get((flow_id, version))
        if found is None:
            raw = self.redis.hget(self.keys.flow_sources(), f"{flow_id}@{version}")
            if isinstance(raw, bytes):
                found = self.compiler.check_source(f"<stored {flow_id}@{version}>", raw).flow
            if found is not None:
                self._versions[(flow_id, version)] = found
        return found
