"""Each layer raises from one base of its own, so a caller can tell a layer's failure (and
catch them all) without knowing every class: the flow language FlowError, the engine
EngineError, the channels ChannelError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import channels
import dsl
import engine
from channels.errors import ChannelError
from dsl.errors import FlowError
from engine.errors import EngineError


def _errors_defined_in(package: object) -> list[type[BaseException]]:
    found = []
    names = [package.__name__]  # type: ignore[attr-defined]
    names += [m.name for m in pkgutil.walk_packages(package.__path__, f"{names[0]}.")]  # type: ignore[attr-defined]
    for name in names:
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == name:
                found.append(value)
    return found


@pytest.mark.parametrize(
    ("package", "base"), [(dsl, FlowError), (engine, EngineError), (channels, ChannelError)]
)
def test_every_error_of_a_layer_derives_from_its_base(package: object, base: type) -> None:
    errors = _errors_defined_in(package)
    assert base in errors
    assert [e.__qualname__ for e in errors if not issubclass(e, base)] == []
