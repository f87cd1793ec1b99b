"""Eager elementwise functions run as one compiled program.

Called outside any transformation, ``x * 2.0 + 1`` would otherwise dispatch
every primitive the numpy layer emits on its own: a conversion of the Python
scalar, a broadcast and the multiply, each an executable call plus the Python
work of promotion. ``compiled_when_eager`` runs such a function through
``plax.jit`` instead, whose cached call skips promotion entirely (it happened
once, at trace time) and whose program is a single fused kernel.

It only does so where the compiled result is the eager one (bit for bit for
arithmetic and comparisons; a transcendental function may differ in the last
place, as its vectorised and scalar variants may in any two fused programs):
arguments are plax Arrays plus Python floats and ints whose conversion is the
same whether it happens on the host (eager) or after a weakly typed scalar
reaches the program (jit). A float meets float32/float64 arrays only; an int
(within int32 range) meets int32/int64/float32/float64 arrays only. Anything
else (numpy arrays, lists, narrow types, where eager conversion may round or
overflow differently) takes the ordinary eager path.
"""

from __future__ import annotations

import functools

from plax import core, dtypes
from plax.array import Array

__all__ = ["compiled_when_eager"]

_FLOATS = frozenset({dtypes.float32, dtypes.float64})
_MEETS = {float: _FLOATS, int: _FLOATS | {dtypes.int32, dtypes.int64}}
_INT32_BOUND = 1 << 31


def _compilable(args) -> bool:
    has_array = False
    scalar_kinds = ()
    for x in args:
        kind = type(x)
        if kind is Array:
            has_array = True
        elif kind is float:
            scalar_kinds += (float,)
        elif kind is int and -_INT32_BOUND <= x < _INT32_BOUND:
            scalar_kinds += (int,)
        else:
            return False
    if not has_array:
        return False
    for kind in scalar_kinds:
        allowed = _MEETS[kind]
        if any(type(x) is Array and x.dtype not in allowed for x in args):
            return False
    return True


def compiled_when_eager(fn):
    from plax.api import jit  # plax.api imports plax.numpy's siblings

    compiled = jit(fn)

    @functools.wraps(fn)
    def wrapper(*args):
        if core.at_top_level() and _compilable(args):
            return compiled(*args)
        return fn(*args)

    return wrapper
