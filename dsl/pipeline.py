"""The whole path from flow files to compiled flows, shared by `parley check` and the engine.

There is one path on purpose: a flow that checks clean is exactly a flow the engine loads.
A bad file is set aside with its findings; the good files still compile.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from dsl.compiler import CompiledFlow, compile_flow
from dsl.errors import Diagnostic, FlowCheckError, Location
from dsl.model import build_flow
from dsl.semantics import check_meaning
from dsl.source import load_document
from dsl.structure import check_structure

FLOW_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class FileResult:
    """One file's outcome: its compiled flow (None when it has errors) and its findings."""

    path: str
    source: str | None
    flow: CompiledFlow | None
    diagnostics: tuple[Diagnostic, ...]
    id_location: Location | None = None  # where the flow's id is written, for duplicate-id
    raw: bytes = field(default=b"", repr=False)  # the file's bytes, hashed into the version

    @property
    def errors(self) -> int:
        """How many findings are errors."""
        return sum(d.severity == "error" for d in self.diagnostics)


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The outcome of checking several files together (flow ids must be unique among them)."""

    files: tuple[FileResult, ...]

    @property
    def flows(self) -> tuple[CompiledFlow, ...]:
        """The flows that compiled."""
        return tuple(f.flow for f in self.files if f.flow is not None)

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """Every finding of every file, in file order."""
        return tuple(d for f in self.files for d in f.diagnostics)

    def failed(self, strict: bool = False) -> bool:
        """True when any error was found (with `strict`, any warning too)."""
        return any(strict or d.severity == "error" for d in self.diagnostics)


class FlowCompiler:
    """Checks and compiles flow files, reusing the result for content it has seen before."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], FileResult] = {}

    def check_source(self, path: str, raw: bytes) -> FileResult:
        """Check one file's bytes; the result is cached by path and content hash."""
        version = hashlib.sha256(raw).hexdigest()[:12]
        key = (path, version)
        if key not in self._cache:
            self._cache[key] = _check(path, raw, version)
        return self._cache[key]

    def check_paths(self, paths: Iterable[str | Path]) -> CheckReport:
        """Check files and directories (every *.yaml and *.yml below them) together."""
        with _fewer_collections():
            results = [self._check_path(path) for path in _flow_files(paths)]
        return CheckReport(tuple(_unique_ids(results)))

    def _check_path(self, path: Path) -> FileResult:
        try:
            raw = path.read_bytes()
        except OSError as err:
            message = f"cannot read the file: {err.strerror or err}"
            diagnostic = Diagnostic(Location(str(path), 1, 1), "error", message, "io")
            return FileResult(str(path), None, None, (diagnostic,))
        return self.check_source(str(path), raw)


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run less often the cyclic garbage collector while many flows are compiled at once.

    Compiling keeps hundreds of objects per flow alive, so with the default thresholds the
    collector rescans the growing heap again and again (a third of the time for 1,000 flows,
    measured by bench/dsl_compile.py). mypy raises its thresholds for the same reason.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _check(path: str, raw: bytes, version: str) -> FileResult:
    try:
        document = load_document(path, raw)
    except FlowCheckError as err:
        return FileResult(path, None, None, err.diagnostics)
    diagnostics = check_structure(document)
    if diagnostics:  # later stages assume the structure is right
        return FileResult(path, document.text, None, tuple(diagnostics))
    flow, diagnostics = build_flow(document, version)
    diagnostics += check_meaning(document, flow)
    diagnostics.sort(key=lambda d: (d.location.line, d.location.col))
    failed = any(d.severity == "error" for d in diagnostics)
    compiled = None if failed else compile_flow(flow)
    id_location = document.location(("id",))
    return FileResult(path, document.text, compiled, tuple(diagnostics), id_location, raw)


def action_locations(result: FileResult, kind: str) -> Iterator[Location]:
    """Where the compiled flow of `result` writes each action of `kind` (its key)."""
    if result.flow is None or not any(
        action.kind == kind for step in result.flow.flow.steps.values() for action in step.actions
    ):
        return
    document = load_document(result.path, result.raw)
    for name, step in result.flow.flow.steps.items():
        for index, action in enumerate(step.actions):
            if action.kind == kind:
                yield document.key_location(("steps", name, "do", index, kind))


def _flow_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Each file once, even when named twice or also found in a folder given alongside it."""
    seen: set[Path] = set()
    for path in _listed(paths):
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            yield path


def _listed(paths: Iterable[str | Path]) -> Iterator[Path]:
    for given in map(Path, paths):
        if given.is_dir():
            found = (p for p in given.rglob("*") if p.suffix.lower() in FLOW_SUFFIXES)
            yield from sorted(p for p in found if p.is_file())
        else:
            yield given


def _unique_ids(results: list[FileResult]) -> Iterator[FileResult]:
    first_seen: dict[str, str] = {}
    for result in results:
        flow = result.flow
        if flow is None or flow.id not in first_seen:
            if flow is not None:
                first_seen[flow.id] = result.path
            yield result
            continue
        location = result.id_location or Location(result.path, 1, 1)
        message = f"flow id '{flow.id}' is already used by {first_seen[flow.id]}"
        duplicate = Diagnostic(
            location, "error", message, "duplicate-id", "give each flow its own id"
        )
        yield replace(result, flow=None, diagnostics=(*result.diagnostics, duplicate))
