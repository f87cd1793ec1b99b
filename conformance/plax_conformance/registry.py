"""The case registry: rows, the helpers that add them, and their expansion into cases.

Adding a primitive means adding a row, in the ``plax_conformance.rows`` module of its
family, e.g.::

    unary("lax.exp", FLOATS, gen=floats(-10, 10), tol=ulp(4), numpy=np.exp)

The registry expands every row into cases, one per (dtype, params, mode); each case runs
the row's samples (shapes, layouts, and the edge-value sample) and compares the backend's
result with the reference interpreter and, where the row has one, a numpy oracle.
"""

from __future__ import annotations

import zlib
from typing import Callable, Iterable

import numpy as np

from plax import dtypes

from plax_conformance.generators import Gen
from plax_conformance.spec import (
    CORE_DTYPES,
    MODES,
    Arg,
    Row,
    Sample,
    samples,
    strided,
    transposed,
)
from plax_conformance.tolerance import EXACT, Policy

__all__ = [
    "ELEMENTWISE",
    "MATRICES",
    "REGISTRY",
    "Case",
    "add_row",
    "all_cases",
    "binary",
    "cases_for",
    "edge",
    "numpy_fn",
    "op",
    "program",
    "rows",
    "unary",
    "unavailable_rows",
]

REGISTRY: list[Row] = []
_BY_NAME: dict[str, Row] = {}

# Shapes every elementwise row runs: 0-d, empty, size-1 dimensions, odd sizes, rank 3, a
# large-ish array (several GPU work groups), and two non-contiguous layouts.
ELEMENTWISE = samples(
    (),
    (0,),
    (1, 1),
    (7,),
    (3, 5),
    (2, 3, 4),
    (37, 129),
    transposed((5, 3)),
    strided((4, 3)),
)

# Rank-2 shapes for reductions, scans and other axis-wise operations.
MATRICES = samples(
    (1, 1),
    (3, 5),
    (0, 4),
    (4, 0),
    (1, 7),
    (33, 65),
    transposed((5, 3)),
    strided((4, 6)),
)


def add_row(row: Row) -> Row:
    """Register a row (names are unique: the name is part of every case id)."""
    if row.name in _BY_NAME:
        raise ValueError(f"duplicate conformance row {row.name!r}")
    if "/" in row.name or " " in row.name:
        raise ValueError(f"row name {row.name!r} must not contain '/' or spaces")
    REGISTRY.append(row)
    _BY_NAME[row.name] = row
    return row


def _as_args(arity: int, gen, args) -> tuple[Arg, ...]:
    if args is not None:
        return tuple(a if isinstance(a, Arg) else Arg(a) for a in args)
    gens = gen if isinstance(gen, (tuple, list)) else (gen,) * arity
    if len(gens) != arity:
        raise ValueError(f"{len(gens)} generators for {arity} operands")
    return tuple(Arg(g) for g in gens)


def _norm_dtypes(dts) -> tuple[np.dtype, ...]:
    if isinstance(dts, (str, np.dtype, type)):
        dts = (dts,)
    return tuple(dtypes.dtype(d) for d in dts)


def op(fn, dtypes_, *, arity: int = 1, gen: Gen | tuple | None = None, args=None,
       shapes: Iterable = ELEMENTWISE, params: Iterable[dict] = ({},), labels=(),
       tol: Policy = EXACT, numpy: Callable | None = None, primitives=None,
       name: str | None = None, kind: str = "lax", profile: str = "core",
       modes=MODES, requires=None, specials: bool = False, subject: str = "",
       doc: str = "", dtype_param: str | None = None) -> Row:
    """Add a row. ``fn`` is a dotted name (``"lax.exp"``, resolved when the case runs) or
    a callable ``fn(*arrays, **params)``; ``primitives`` are the primitives the row
    covers (default: the last part of a dotted ``fn``)."""
    if isinstance(fn, str):
        name = name or fn
        requires = (fn,) if requires is None else tuple(requires)
        if primitives is None:
            primitives = (fn.split(".")[-1],) if kind == "lax" else ()
    elif name is None:
        raise ValueError("a row whose fn is a callable needs a name")
    row = Row(
        name=name,
        fn=fn,
        dtypes=_norm_dtypes(dtypes_),
        args=_as_args(arity, gen, args),
        samples=samples(*shapes),
        params=tuple(dict(p) for p in params),
        param_labels=tuple(labels),
        tol=tol,
        numpy=numpy,
        primitives=tuple(primitives or ()),
        kind=kind,
        profile=profile,
        modes=tuple(modes),
        requires=tuple(requires or ()),
        specials=specials,
        subject=subject,
        doc=doc,
        dtype_param=dtype_param,
    )
    if row.param_labels and len(row.param_labels) != len(row.params):
        raise ValueError(f"row {name!r}: {len(row.param_labels)} labels for "
                         f"{len(row.params)} params")
    return add_row(row)


def unary(fn, dtypes_, *, gen=None, tol: Policy = EXACT, numpy=None, **kw) -> Row:
    """An elementwise one-operand row over the standard shapes plus the edge values."""
    kw.setdefault("specials", True)
    return op(fn, dtypes_, arity=1, gen=gen, tol=tol, numpy=numpy, **kw)


def binary(fn, dtypes_, *, gen=None, tol: Policy = EXACT, numpy=None, **kw) -> Row:
    """An elementwise two-operand row; the edge sample holds every pair of edge values."""
    kw.setdefault("specials", True)
    return op(fn, dtypes_, arity=2, gen=gen, tol=tol, numpy=numpy, **kw)


def numpy_fn(fn: str, dtypes_, **kw) -> Row:
    """A ``plax.numpy`` function (``"numpy.sum"``)."""
    kw.setdefault("kind", "numpy")
    return op(fn, dtypes_, **kw)


def program(name: str, fn: Callable, dtypes_, *, requires=(), **kw) -> Row:
    """A multi-operation program: under jit the backend sees (and may fuse) all of it."""
    kw.setdefault("kind", "program")
    kw.setdefault("primitives", ())
    return op(fn, dtypes_, name=name, requires=requires, **kw)


def edge(name: str, fn, dtypes_, *, doc: str, **kw) -> Row:
    """An edge-semantics row: chosen inputs and an independent oracle of JAX's result."""
    kw.setdefault("kind", "edge")
    kw.setdefault("shapes", ((),))
    kw.setdefault("primitives", ())
    if isinstance(fn, str):
        kw.setdefault("requires", (fn,))
    return op(fn, dtypes_, name=name, doc=doc, **kw)


# ----------------------------------------------------------------------------
# Cases.


def _fmt(value) -> str:
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, (tuple, list)):
        return ",".join(_fmt(v) for v in value)
    return str(value)


def params_label(params: dict) -> str:
    return "_".join(f"{k}={_fmt(v)}" for k, v in params.items())


def _param_dtypes(params: dict) -> set[np.dtype]:
    found = set()
    for value in params.values():
        if isinstance(value, np.dtype):
            found.add(value)
        elif isinstance(value, type) and issubclass(value, np.generic):
            found.add(np.dtype(value))
    return found


class Case:
    """One (row, dtype, params, mode): the unit that passes, fails or is not supported."""

    __slots__ = ("row", "dtype", "params", "label", "mode", "id", "base_id", "dtypes",
                 "profiles")

    def __init__(self, row: Row, dtype: np.dtype, params: dict, label: str, mode: str):
        self.row = row
        self.dtype = dtype
        self.params = params
        self.label = label
        self.mode = mode
        parts = [row.name, dtype.name] + ([label] if label else [])
        self.base_id = "/".join(parts)
        self.id = f"{self.base_id}/{mode}"
        involved = {dtype} | {a.dtype_for(dtype) for a in row.args} | _param_dtypes(params)
        self.dtypes = frozenset(involved)
        core = row.profile == "core" and self.dtypes <= CORE_DTYPES
        self.profiles = ("core", "full") if core else ("full",)

    @property
    def call_params(self) -> dict:
        """The keyword arguments of the row's function (and oracle) for this case."""
        if self.row.dtype_param is None:
            return self.params
        return {**self.params, self.row.dtype_param: self.dtype}

    @property
    def keywords(self) -> set[str]:
        return {self.row.name, self.row.kind, self.dtype.name, self.mode,
                *self.row.primitives, *self.profiles}

    def seed(self, sample: Sample) -> int:
        """Deterministic per (row, dtype, params, sample): eager and jit see the same data."""
        return zlib.crc32(f"{self.base_id}|{sample.label}".encode())

    def __repr__(self) -> str:
        return f"Case({self.id})"


def rows() -> list[Row]:
    """Every registered row (importing the row modules registers them)."""
    import plax_conformance.rows  # noqa: F401

    return list(REGISTRY)


def unavailable_rows() -> list[tuple[Row, list[str]]]:
    """Rows this plax cannot run, with the APIs it lacks (an older or partial plax)."""
    return [(row, row.missing()) for row in rows() if row.missing()]


def cases_for(row: Row) -> list[Case]:
    out = []
    labels = row.param_labels or tuple(params_label(p) for p in row.params)
    for dtype in row.dtypes:
        for params, label in zip(row.params, labels):
            for mode in row.modes:
                out.append(Case(row, dtype, params, label, mode))
    return out


_CACHE: dict = {}


def all_cases(profile: str = "full") -> list[Case]:
    """Every case of the rows this plax can run, in registry order."""
    registered = rows()
    key = (profile, len(registered))
    cached = _CACHE.get(key)
    if cached is not None:
        return list(cached)
    out = []
    for row in registered:
        if row.missing():
            continue
        out.extend(c for c in cases_for(row) if profile in c.profiles)
    _CACHE[key] = out
    return list(out)
