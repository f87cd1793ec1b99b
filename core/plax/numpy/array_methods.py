"""Operators and methods shared by ``plax.Array`` and tracers."""

from __future__ import annotations

from plax.array import Array
from plax.core import Tracer


def _defop(fn_name: str, reverse: bool = False):
    def method(self, other):
        import plax.numpy as pnp

        fn = getattr(pnp, fn_name)
        return fn(other, self) if reverse else fn(self, other)

    return method


_BINARY_OPERATORS = {
    "add": "add",
    "sub": "subtract",
    "mul": "multiply",
}


def install() -> None:
    for cls in (Array, Tracer):
        for op, fn in _BINARY_OPERATORS.items():
            setattr(cls, f"__{op}__", _defop(fn))
            setattr(cls, f"__r{op}__", _defop(fn, reverse=True))
        cls.__neg__ = lambda self: __import__("plax.numpy").numpy.negative(self)
