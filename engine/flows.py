"""The flows an engine runs: the loaded set every process shares, and older versions on demand.

Flow files go through `dsl.pipeline.FlowCompiler`, the same path as `parley check`. A reload
(`load`) checks every file and publishes the set they make in Redis (`engine.flow_set`):
each good file's flow, and for a file that failed, the version that ran before. A flow
whose file is gone is not in the set any more. Every process runs the published set: it
looks at the set's version at most every `SET_CHECK_EVERY` seconds (`refresh`) and swaps
to a new set as a whole. The source of every version loaded is kept in Redis too, so a
visitor who started a flow finishes on that version even after the file changed and
Parley restarted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dsl.compiler import CompiledFlow
from dsl.pipeline import CheckReport, FlowCompiler
from engine.client import REDIS_AWAY, Client
from engine.errors import EngineError
from engine.flow_set import LoadedSet, PublishedSet, merge, source_name
from engine.keys import Keys

SET_CHECK_EVERY = 1.0  # seconds between a process's looks at the published set's version
PUBLISH_ATTEMPTS = 10  # reloads at the same moment: each loser merges again on the new set
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Running:
    """The set this process runs and its compiled flows by id, swapped as one value, so a
    thread reading them never sees half of a reload."""

    loaded: LoadedSet
    flows: dict[str, CompiledFlow]


class FlowRegistry:
    """The loaded flows by id and version; a bad file is reported and the others run."""

    def __init__(
        self,
        client: Client,
        keys: Keys | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        check_every: float = SET_CHECK_EVERY,
    ) -> None:
        self.redis = client
        self.keys = keys or Keys()
        self.compiler = FlowCompiler()
        self.published = PublishedSet(client, self.keys)
        self._clock = clock
        self._check_every = check_every
        self._running: _Running | None = None  # None: nothing loaded yet
        self._versions: dict[tuple[str, str], CompiledFlow] = {}
        self._unstored: dict[str, bytes] = {}  # `id@version` -> source, while Redis is away
        self._pending: tuple[CheckReport, bool] | None = None  # a start Redis has not heard
        self._checked_at: float | None = None
        self._lock = threading.RLock()

    # -- loading -------------------------------------------------------------------------

    def load(self, paths: Iterable[str | Path]) -> CheckReport:
        """Reload: check the files, publish the set they make in place of the loaded one,
        and run it. Redis must answer: the set is every process's."""
        with self._lock:
            report = self._check(paths)
            self._publish(report, replace=True)
        return report

    def start(self, paths: Iterable[str | Path], *, publish: bool = True) -> None:
        """A process's first flows. With `publish`, a reload (`parley serve`, a deploy);
        without, the published set, and the files only when none is published yet.

        While Redis does not answer, the files' flows run in this process alone, and the
        rest waits for the first `refresh` that reaches Redis: a process can start without
        it."""
        paths = list(paths)
        with self._lock:
            report = None
            try:
                if not publish and (published := self.published.read()) is not None:
                    self._adopt(published)
                    return
                report = self._check(paths)
                self._publish(report, replace=publish)
            except REDIS_AWAY as err:
                log.warning("flows run in this process alone until Redis answers: %s", err)
                if report is None:
                    report = self._check(paths)
                self._adopt(merge(report, self.loaded))
                self._pending = (report, publish)

    def refresh(self, *, force: bool = False) -> bool:
        """Swap to the published set if its version moved (and publish a start Redis did
        not hear); at most every `check_every` seconds unless forced. Whether it swapped."""
        now = self._clock()
        checked = self._checked_at
        if not force and checked is not None and 0 <= now - checked < self._check_every:
            return False
        with self._lock:
            swapped = self._catch_up()
            self._checked_at = now
        return swapped

    def _catch_up(self) -> bool:
        if self._pending is not None:
            report, publish = self._pending
            self._publish(report, replace=publish)
            self._pending = None
            return True
        if self.published.version() == self.loaded.version:
            return False
        published = self.published.read()
        if published is None:
            return False
        self._adopt(published)
        return True

    def _check(self, paths: Iterable[str | Path]) -> CheckReport:
        report = self.compiler.check_paths(paths)
        for result in report.files:
            if result.flow is not None:
                flow = result.flow
                self._versions[(flow.id, flow.version)] = flow
                self._unstored[source_name(flow.id, flow.version)] = result.raw
        return report

    def _publish(self, report: CheckReport, *, replace: bool) -> None:
        """Publish the set `report` makes over the published one (without `replace`, only
        if none is published), then run what is published."""
        self._store_sources()
        for _ in range(PUBLISH_ATTEMPTS):
            published = self.published.read()
            if published is not None and not replace:
                self._adopt(published)
                return
            new = merge(report, self.loaded if published is None else published)
            if published is not None and new.to_json() == published.to_json():
                self._adopt(published)  # the same set: no new version for every process
                return
            done = self.published.replace(0 if published is None else published.version, new)
            if done is not None:
                self._adopt(done)
                return
        raise EngineError("other reloads kept replacing the flow set meanwhile: reload again")

    def _adopt(self, loaded: LoadedSet) -> None:
        """Run `loaded`: its flows compiled here, from their stored sources if need be."""
        missing = [ref for ref in loaded.flows if (ref.id, ref.version) not in self._versions]
        names = [source_name(ref.id, ref.version) for ref in missing]
        for ref, raw in zip(missing, self.published.sources(names), strict=True):
            flow = None if raw is None else self.compiler.check_source(ref.path, raw).flow
            if flow is None:
                log.error("flow %s@%s of the loaded set cannot run here", ref.id, ref.version)
                continue
            self._versions[(ref.id, ref.version)] = flow
        flows = {
            ref.id: self._versions[(ref.id, ref.version)]
            for ref in loaded.flows
            if (ref.id, ref.version) in self._versions
        }
        self._running = _Running(loaded, flows)

    def _store_sources(self) -> None:
        self.published.store_sources(self._unstored)
        self._unstored.clear()

    # -- reading ---------------------------------------------------------------------------

    @property
    def loaded(self) -> LoadedSet:
        """The set this process runs: its flows, version and the findings of its reload."""
        return LoadedSet() if self._running is None else self._running.loaded

    def current(self) -> Sequence[CompiledFlow]:
        """The version that runs of every loaded flow, in the order of their files."""
        return [] if self._running is None else list(self._running.flows.values())

    def removed(self, flow_id: str) -> bool:
        """Whether the flow is out of the loaded set (taken out by a reload), as Redis has it
        now: a flow this process does not run is looked up once more before its runs end."""
        running = self._running
        if running is None or flow_id in running.flows:
            return False  # nothing loaded yet is not a removal
        self.refresh(force=True)
        return flow_id not in self._running.flows if self._running else False

    def get(self, flow_id: str, version: str) -> CompiledFlow | None:
        """A flow at a version: from memory, else compiled again from its stored source."""
        found = self._versions.get((flow_id, version))
        if found is None:
            with self._lock:
                self._store_sources()
            (raw,) = self.published.sources([source_name(flow_id, version)])
            if raw is not None:
                found = self.compiler.check_source(f"<stored {flow_id}@{version}>", raw).flow
            if found is not None:
                self._versions[(flow_id, version)] = found
        return found
