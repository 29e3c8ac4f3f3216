"""The set of loaded flows, one record in Redis that every Parley process runs.

`parley:flow-set` is a hash of two fields: `version`, a number each reload that changes the
set moves on by one, and `set`, the set as JSON (each flow's id, version and file, and the
findings of the reload that made it). The flows' sources are in `parley:flow-sources`, by
`id@version`, always written before a set that names them, so a process that sees a new
version can compile every flow of it. Processes compare `version` with the one they run
and read the rest only when it moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import orjson

from dsl.errors import Diagnostic
from dsl.pipeline import CheckReport
from engine.client import Client
from engine.codec import dumps
from engine.keys import Keys

# ARGV[1] the version the new set replaces, ARGV[2] the new set's JSON: a reload that lost
# the race against another one (the version moved meanwhile) is merged again and retried.
_REPLACE = """
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if version ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', version + 1, 'set', ARGV[2])
return version + 1
"""


@dataclass(frozen=True, slots=True)
class FlowRef:
    """One flow of a set: its id, the version that runs, and the file it came from."""

    id: str
    version: str
    path: str


@dataclass(frozen=True, slots=True)
class LoadedSet:
    """The flows that run and what the reload that chose them found."""

    flows: tuple[FlowRef, ...] = ()
    findings: tuple[Diagnostic, ...] = ()
    files: int = 0  # flow files the reload checked
    failed: tuple[str, ...] = ()  # the files with errors, whose flows did not load
    version: int = 0  # 0: not published (held by one process while Redis did not answer)

    def kept(self, path: str) -> FlowRef | None:
        """The flow that still runs from a file that failed: the version loaded before it."""
        return next((ref for ref in self.flows if ref.path == path), None)

    def to_json(self) -> bytes:
        """The set as stored (its version is the hash's other field)."""
        return dumps(
            {
                "flows": [[ref.id, ref.version, ref.path] for ref in self.flows],
                "findings": [finding.as_json() for finding in self.findings],
                "files": self.files,
                "failed": list(self.failed),
            }
        )

    @classmethod
    def from_json(cls, raw: bytes, version: int) -> LoadedSet:
        """A set read back from `to_json`."""
        data = orjson.loads(raw)
        return cls(
            flows=tuple(FlowRef(*ref) for ref in data["flows"]),
            findings=tuple(Diagnostic.from_json(found) for found in data["findings"]),
            files=data["files"],
            failed=tuple(data["failed"]),
            version=version,
        )


def merge(report: CheckReport, previous: LoadedSet) -> LoadedSet:
    """The set a reload makes: each good file's flow, and for each file that failed the
    flow it gave before, if any. A flow whose file is gone is not in it."""
    good = [
        FlowRef(result.flow.id, result.flow.version, result.path)
        for result in report.files
        if result.flow is not None
    ]
    failed = tuple(result.path for result in report.files if result.flow is None)
    taken = {ref.id for ref in good}
    kept = [ref for ref in previous.flows if ref.path in failed and ref.id not in taken]
    return LoadedSet(
        flows=tuple(sorted([*good, *kept], key=lambda ref: (ref.path, ref.id))),
        findings=report.diagnostics,
        files=len(report.files),
        failed=failed,
    )


class PublishedSet:
    """The set in Redis: its version, the set itself, and the flows' sources."""

    def __init__(self, client: Client, keys: Keys) -> None:
        self.redis = client
        self.keys = keys
        self._replace = client.register_script(_REPLACE)

    def version(self) -> int:
        """The published set's version (0: none published)."""
        return int(self.redis.hget(self.keys.flow_set(), "version") or 0)

    def read(self) -> LoadedSet | None:
        """The published set, or None."""
        version, raw = self.redis.hmget(self.keys.flow_set(), "version", "set")
        if not isinstance(raw, bytes):
            return None
        return LoadedSet.from_json(raw, int(version or 0))

    def replace(self, previous: int, new: LoadedSet) -> LoadedSet | None:
        """Publish `new` in place of version `previous`: the set as published, or None
        when another reload published first."""
        version = int(self._replace(keys=[self.keys.flow_set()], args=[previous, new.to_json()]))
        return replace(new, version=version) if version else None

    def store_sources(self, sources: dict[str, bytes]) -> None:
        """Keep flow sources by `id@version`; a version's source never changes."""
        if not sources:
            return
        pipe = self.redis.pipeline(transaction=False)
        for name, raw in sources.items():
            pipe.hsetnx(self.keys.flow_sources(), name, raw)
        pipe.execute()

    def sources(self, names: Iterable[str]) -> list[bytes | None]:
        """The stored sources of flows by `id@version` (None where one is not stored)."""
        names = list(names)
        if not names:
            return []
        found = self.redis.hmget(self.keys.flow_sources(), names)
        return [raw if isinstance(raw, bytes) else None for raw in found]


def source_name(flow_id: str, version: str) -> str:
    """A flow version's field in the sources hash."""
    return f"{flow_id}@{version}"
