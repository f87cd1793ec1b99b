"""Comparison primitives: ``eq``, ``ne``, ``lt``, ``le``, ``gt``, ``ge``.

They accept any dtype (bool included) and give bool results, weak only when
both operands are weak (as in JAX). The public wrappers broadcast their
operands the way ``jax.lax`` does. Comparisons have no derivative (their
outputs are bool) and are batched elementwise.
"""

from __future__ import annotations

import numpy as np

from plax import core
from plax.lax.base import ALL, bind_binary, defimpl, predicate

__all__ = ["eq", "ge", "gt", "le", "lt", "ne"]


def _comparison(name: str, impl) -> core.Primitive:
    """A comparison primitive: every dtype, bool results, a numpy reference."""
    p = predicate(name, ALL)
    defimpl(p, impl)
    return p


eq_p = _comparison("eq", np.equal)
ne_p = _comparison("ne", np.not_equal)
lt_p = _comparison("lt", np.less)
le_p = _comparison("le", np.less_equal)
gt_p = _comparison("gt", np.greater)
ge_p = _comparison("ge", np.greater_equal)


def eq(x, y):
    return bind_binary(eq_p, x, y)


def ne(x, y):
    return bind_binary(ne_p, x, y)


def lt(x, y):
    return bind_binary(lt_p, x, y)


def le(x, y):
    return bind_binary(le_p, x, y)


def gt(x, y):
    return bind_binary(gt_p, x, y)


def ge(x, y):
    return bind_binary(ge_p, x, y)
