"""Collectives over named axes (``psum``, ``pmean``, ``pmax``, ``pmin``, ``axis_index``).

``vmap(f, axis_name="i")`` records its axis name, but plax does not implement
collectives yet. These functions exist so that JAX code calling them fails
with an error that says so (and whether the name is bound by an enclosing
vmap), instead of an AttributeError.
"""

from __future__ import annotations

from plax import core
from plax.interpreters import batching

__all__ = ["axis_index", "pmax", "pmean", "pmin", "psum"]


def _bound_axis_names() -> list:
    names = []
    for main in core._state.stack:
        if main.trace_type is batching.BatchTrace and main.payload.name is not None:
            names.append(main.payload.name)
    return names


def _unsupported(fname: str, axis_name):
    bound = _bound_axis_names()
    requested = axis_name if isinstance(axis_name, (tuple, list)) else (axis_name,)
    unbound = [n for n in requested if n not in bound]
    if unbound:
        return NameError(
            f"lax.{fname}: unbound axis name: {unbound[0]!r}. Axis names are bound by "
            f"vmap(..., axis_name=...); the names bound here are {bound}"
        )
    return NotImplementedError(
        f"lax.{fname} over axis {axis_name!r}: collectives are not supported by plax's vmap "
        "yet (the axis name is accepted and recorded, but nothing can communicate across "
        "it). Compute the reduction outside vmap, e.g. reduce the vmapped result along its "
        "mapped axis."
    )


def psum(x, axis_name, *, axis_index_groups=None):
    raise _unsupported("psum", axis_name)


def pmean(x, axis_name, *, axis_index_groups=None):
    raise _unsupported("pmean", axis_name)


def pmax(x, axis_name, *, axis_index_groups=None):
    raise _unsupported("pmax", axis_name)


def pmin(x, axis_name, *, axis_index_groups=None):
    raise _unsupported("pmin", axis_name)


def axis_index(axis_name):
    raise _unsupported("axis_index", axis_name)
