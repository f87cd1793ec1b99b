"""The vocabulary of the case registry: dtype sets, operands, shape samples and rows.

A ``Row`` describes one case family: a function (a lax primitive's wrapper, a
``plax.numpy`` function or a multi-op program), the dtypes it applies to, the shapes it
is tried on, its params, how its inputs are generated, its independent oracle and its
tolerance. The registry expands each row into cases (row x dtype x params x mode); a
case runs all of the row's samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

import plax
from plax import dtypes

from plax_conformance.generators import Gen
from plax_conformance.tolerance import EXACT, Policy

__all__ = [
    "ALL",
    "BOOL",
    "CORE_DTYPES",
    "FLOATS",
    "INTEGERS",
    "INT_OR_BOOL",
    "NUMERIC",
    "SIGNED",
    "SIGNED_NUMERIC",
    "UNSIGNED",
    "Arg",
    "Row",
    "Sample",
    "each",
    "shape_label",
    "strided",
    "transposed",
]

BOOL = (dtypes.bool_,)
SIGNED = dtypes.SIGNED
UNSIGNED = dtypes.UNSIGNED
INTEGERS = dtypes.INTEGERS
FLOATS = dtypes.FLOATS
NUMERIC = dtypes.NUMERIC
SIGNED_NUMERIC = SIGNED + FLOATS
INT_OR_BOOL = INTEGERS + BOOL
ALL = dtypes.ALL

# The dtypes a backend must support to be conformant (the "core" profile). 64-bit types
# and the half-precision floats are optional capabilities (as in OpenCL and most GPUs).
CORE_DTYPES = frozenset(np.dtype(d) for d in (
    "bool", "int8", "int16", "int32", "uint8", "uint16", "uint32", "float32",
))

MODES = ("eager", "jit")
KINDS = ("lax", "numpy", "program", "edge", "transform")
PROFILES = ("core", "full")


@dataclass(frozen=True)
class Arg:
    """One operand of a row.

    ``dtype``: None for the case's dtype, a dtype, or ``f(case_dtype) -> dtype``.
    ``shape``: None for the sample's shape, a fixed shape, or ``f(sample_shape) -> shape``.
    ``gen``: the generator (None: the default one for the dtype).
    ``layout``: whether the sample's layout (transposed / strided) applies to it.
    """

    gen: Gen | None = None
    dtype: Any = None
    shape: Any = None
    layout: bool = True

    def dtype_for(self, case_dtype: np.dtype) -> np.dtype:
        if self.dtype is None:
            return case_dtype
        if callable(self.dtype) and not isinstance(self.dtype, (type, np.dtype)):
            return np.dtype(self.dtype(case_dtype))
        return dtypes.dtype(self.dtype)

    def shape_for(self, sample_shape: tuple) -> tuple:
        if self.shape is None:
            return tuple(sample_shape)
        if callable(self.shape):
            return tuple(self.shape(tuple(sample_shape)))
        return tuple(self.shape)


@dataclass(frozen=True)
class Sample:
    """The shapes of one run of a case: one shape per operand, plus how the operands
    reach the operation. ``layout`` "transposed" makes each operand of rank >= 2 by
    transposing a differently shaped array inside the program, "strided" by slicing
    every other element out of a larger one; both hand the operation a non-contiguous
    view. "specials" is the sample of edge values the runner builds itself."""

    shapes: tuple
    layout: str = "contiguous"

    @property
    def label(self) -> str:
        text = "_".join(shape_label(s) for s in dict.fromkeys(self.shapes))
        suffix = {"contiguous": "", "transposed": "-T", "strided": "-S", "specials": ""}
        return ("specials" if self.layout == "specials" else text) + suffix[self.layout]

    def shape_of(self, operand: int) -> tuple:
        if operand < len(self.shapes):
            return self.shapes[operand]
        return self.shapes[-1]

    @property
    def max_elements(self) -> int:
        return max((math.prod(s) for s in self.shapes), default=1)


def shape_label(shape) -> str:
    return "x".join(str(d) for d in shape) if shape else "0d"


def _as_sample(entry) -> Sample:
    if isinstance(entry, Sample):
        return entry
    return Sample((tuple(entry),))


def transposed(*shapes) -> Sample:
    """Operands of these shapes, produced inside the program by a transpose."""
    return Sample(tuple(tuple(s) for s in shapes), "transposed")


def strided(*shapes) -> Sample:
    """Operands of these shapes, produced inside the program by a strided slice."""
    return Sample(tuple(tuple(s) for s in shapes), "strided")


def each(*shapes) -> Sample:
    """One shape per operand (for operations whose operands differ in shape)."""
    return Sample(tuple(tuple(s) for s in shapes))


def samples(*entries) -> tuple[Sample, ...]:
    return tuple(_as_sample(e) for e in entries)


# ----------------------------------------------------------------------------
# Rows.


def _resolve_dotted(path: str):
    """``"lax.exp"`` -> ``plax.lax.exp`` (``None`` when this plax lacks it)."""
    target: Any = plax
    parts = path.split(".")
    if parts[0] == "plax":
        parts = parts[1:]
    if parts and parts[0] == "pnp":
        parts[0] = "numpy"
    for part in parts:
        target = getattr(target, part, None)
        if target is None:
            return None
    return target


@dataclass(frozen=True)
class Row:
    """One case family. See ``plax_conformance.registry`` for the helpers that build rows."""

    name: str
    fn: Any  # "lax.exp" (resolved lazily) or a callable ``fn(*arrays, **params)``
    dtypes: tuple
    args: tuple
    samples: tuple
    params: tuple = ({},)
    param_labels: tuple = ()
    tol: Policy = EXACT
    numpy: Callable | None = None
    primitives: tuple = ()
    kind: str = "lax"
    profile: str = "core"
    modes: tuple = MODES
    requires: tuple = ()
    specials: bool = False
    subject: str = ""
    doc: str = ""
    # The keyword through which ``fn`` (and the oracle) receive the case's dtype, for
    # rows without array operands of that dtype (``iota(dtype=...)``).
    dtype_param: str | None = None

    @property
    def arity(self) -> int:
        return len(self.args)

    @property
    def label(self) -> str:
        """The matrix row this family is shown in."""
        return self.subject or self.name

    def missing(self) -> list[str]:
        """The plax APIs this row needs that the installed plax does not have."""
        return [name for name in self.requires if _resolve_dotted(name) is None]

    def function(self) -> Callable:
        if callable(self.fn):
            return self.fn
        target = _resolve_dotted(self.fn)
        if target is None:
            raise AttributeError(f"this plax has no {self.fn}")
        return target
