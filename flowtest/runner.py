"""`parley test`: run authors' feature files with Parley's step library, no Python needed."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Where the step library looks for flows named in `Given the flow "..."`. Kept here, not in
# flowtest.steps, so `parley` can start pytest without importing pytest-bdd first.
FLOWS_DIR_VARIABLE = "PARLEY_FLOWS"


def feature_files(paths: list[Path]) -> list[Path]:
    """The feature files named, and every *.feature below the folders named."""
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.feature")) if path.is_dir() else [path]
    return [p.resolve() for p in found]


def run_features(paths: list[Path], flows_dir: Path) -> int:
    """Run the features in a throw-away pytest session; returns pytest's exit code."""
    features = feature_files(paths)
    with tempfile.TemporaryDirectory(prefix="parley-test-") as tmp:
        folder = Path(tmp)
        calls = "".join(f"scenarios({str(f)!r})\n" for f in features)
        (folder / "test_features.py").write_text("from pytest_bdd import scenarios\n\n" + calls)
        (folder / "pytest.ini").write_text("[pytest]\n")
        (folder / "conftest.py").write_text('pytest_plugins = ["flowtest.plugin"]\n')
        os.environ[FLOWS_DIR_VARIABLE] = str(flows_dir.resolve())
        args = [str(folder), "-q", "-p", "no:cacheprovider", "-c", str(folder / "pytest.ini")]
        return int(pytest.main([*args, "--rootdir", str(folder)]))
