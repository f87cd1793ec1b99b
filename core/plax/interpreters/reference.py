"""The reference interpreter: evaluates jaxprs with numpy.

``impl_rules[p](*arrays, **params) -> list[np.ndarray]`` is the numpy
reference implementation of primitive ``p``; each lax module fills it next to
the primitive's other rules. This is the oracle every backend is checked
against, and the engine of the built-in ``reference`` backend.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from plax.jaxpr import ClosedJaxpr, Jaxpr, Literal

impl_rules: dict[object, Callable[..., list[np.ndarray]]] = {}


class MissingImplError(NotImplementedError):
    pass


def apply(primitive, args, params, out_avals) -> list[np.ndarray]:
    """Evaluate one primitive on numpy arrays."""
    with np.errstate(all="ignore"):
        return _apply(primitive, args, params, out_avals)


def _apply(primitive, args, params, out_avals) -> list[np.ndarray]:
    rule = impl_rules.get(primitive)
    if rule is None:
        raise MissingImplError(f"primitive {primitive.name!r} has no reference implementation")
    outs = rule(*args, **params)
    if len(outs) != len(out_avals):
        raise AssertionError(
            f"reference rule of {primitive.name} returned {len(outs)} results, "
            f"expected {len(out_avals)}"
        )
    return [_conform(o, aval, primitive) for o, aval in zip(outs, out_avals)]


def _conform(value, aval, primitive) -> np.ndarray:
    """Numpy may widen (int32 sums become int64); results take the aval's exact type."""
    arr = np.asarray(value)
    if arr.shape != aval.shape:
        raise AssertionError(
            f"reference rule of {primitive.name} produced shape {arr.shape}, expected {aval.shape}"
        )
    if arr.dtype != aval.dtype:
        arr = arr.astype(aval.dtype)
    return arr


def eval_jaxpr(jaxpr: Jaxpr, consts, args) -> list[np.ndarray]:
    # Overflow, division by zero and invalid values are part of the defined
    # semantics (wrap-around, inf, NaN), not warnings.
    with np.errstate(all="ignore"):
        return _eval_jaxpr(jaxpr, consts, args)


def _eval_jaxpr(jaxpr: Jaxpr, consts, args) -> list[np.ndarray]:
    env: dict = {}

    def read(atom):
        return atom.val if isinstance(atom, Literal) else env[atom]

    for var, val in zip(jaxpr.constvars, consts):
        env[var] = np.asarray(val)
    for var, val in zip(jaxpr.invars, args):
        env[var] = val
    for eqn in jaxpr.eqns:
        ins = [read(a) for a in eqn.invars]
        outs = _apply(eqn.primitive, ins, eqn.params, [v.aval for v in eqn.outvars])
        for var, val in zip(eqn.outvars, outs):
            env[var] = val
    return [read(a) for a in jaxpr.outvars]


def eval_closed_jaxpr(closed: ClosedJaxpr, args) -> list[np.ndarray]:
    return eval_jaxpr(closed.jaxpr, closed.consts, args)
