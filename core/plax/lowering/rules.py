"""How each fusible primitive becomes a kernel expression.

A rule computes the value of one output element: ``rule(ctx, index)`` gets the
output element's multi-index (a tuple of ``INDEX`` expressions) and returns its
``Expr``, asking ``ctx.operand(k, index)`` for the value of operand ``k`` at any
index it needs. Elementwise primitives read their operands at the same index
and apply an ALU op; layout primitives (broadcast, reshape, transpose, slice,
pad, ...) only transform the index, so fusing them costs no memory traffic.

``FUSIBLE`` maps primitive names to ``Rule(fn, cost, alu_op)``: ``cost``
estimates the work per element (the fusion pass uses it to decide when a value
with several consumers is cheap enough to recompute in each), ``alu_op`` names
the kernel op a backend must support for the rule to apply (None for pure
index transforms). ``REDUCTIONS`` maps reducing primitives to their combiner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from plax import dtypes
from plax.lowering import index as ix
from plax.lowering.kernel_ir import INDEX, Const, Expr, Op

__all__ = ["Rule", "FUSIBLE", "REDUCTIONS", "RuleContext", "accumulation_dtype"]


class RuleContext:
    """What a rule sees of its equation: avals, params and its operands' values."""

    def __init__(self, eqn, operand_fn: Callable, ranges: dict):
        self.eqn = eqn
        self.params = eqn.params
        self.in_avals = [v.aval for v in eqn.invars]
        self.out_aval = eqn.outvars[0].aval
        self.ranges = ranges
        self._operand_fn = operand_fn

    def operand(self, k: int, index: tuple) -> Expr:
        return self._operand_fn(k, tuple(index))


@dataclass(frozen=True)
class Rule:
    fn: Callable
    cost: int
    alu_op: str | None


FUSIBLE: dict[str, Rule] = {}

# Per-element cost classes.
LAYOUT, CHEAP, MEDIUM, EXPENSIVE = 0, 1, 4, 16


def _elementwise(op: str) -> Callable:
    def rule(ctx: RuleContext, index):
        args = [ctx.operand(k, index) for k in range(len(ctx.in_avals))]
        return Op(op, args, ctx.out_aval.dtype)

    return rule


_CHEAP_OPS = (
    "neg", "sign", "abs", "add", "sub", "mul", "max", "min", "square", "floor", "ceil",
    "is_finite", "eq", "ne", "lt", "le", "gt", "ge", "not", "and", "or", "xor",
    "shift_left", "shift_right_logical", "shift_right_arithmetic", "population_count",
    "clz", "select_n", "clamp", "nextafter",
)
_MEDIUM_OPS = ("div", "rem", "sqrt", "rsqrt")
_EXPENSIVE_OPS = (
    "exp", "exp2", "log", "log1p", "expm1", "pow", "cbrt", "sin", "cos", "tan", "asin", "acos",
    "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "logistic", "erf",
    "erfc", "erf_inv", "lgamma", "digamma",
)
for _cost, _names in ((CHEAP, _CHEAP_OPS), (MEDIUM, _MEDIUM_OPS), (EXPENSIVE, _EXPENSIVE_OPS)):
    for _name in _names:
        FUSIBLE[_name] = Rule(_elementwise(_name), _cost, _name)


# -- round: the tie-breaking method is an op attribute -----------------------------
def _round(ctx, index):
    method = int(ctx.params["rounding_method"])
    return Op("round", [ctx.operand(0, index)], ctx.out_aval.dtype,
              attrs=(("rounding_method", method),))


FUSIBLE["round"] = Rule(_round, CHEAP, "round")


# -- convert_element_type ------------------------------------------------------------
def _convert(ctx, index):
    x = ctx.operand(0, index)
    if x.dtype == ctx.out_aval.dtype:
        return x
    return Op("convert_element_type", [x], ctx.out_aval.dtype)


FUSIBLE["convert_element_type"] = Rule(_convert, CHEAP, "convert_element_type")


# -- bitcast_convert_type (same width only; other widths change the shape) ------------
def _bitcast(ctx, index):
    return Op("bitcast_convert_type", [ctx.operand(0, index)], ctx.out_aval.dtype)


FUSIBLE["bitcast_convert_type"] = Rule(_bitcast, CHEAP, "bitcast_convert_type")


# -- integer_pow: the reference's square-and-multiply, product by product ---------------
def _integer_pow(ctx, index):
    x = ctx.operand(0, index)
    y = int(ctx.params["y"])
    dt = ctx.out_aval.dtype
    if y == 0:
        return Const(1, dt)
    base, acc, exponent = x, None, abs(y)
    while exponent > 0:
        if exponent & 1:
            acc = base if acc is None else Op("mul", [acc, base], dt)
        exponent >>= 1
        if exponent > 0:
            base = Op("mul", [base, base], dt)
    if y < 0:
        return Op("div", [Const(1, dt), acc], dt)
    return acc


FUSIBLE["integer_pow"] = Rule(_integer_pow, MEDIUM, "mul")


# -- copy ------------------------------------------------------------------------------
def _identity(ctx, index):
    return ctx.operand(0, index)


FUSIBLE["copy"] = Rule(_identity, LAYOUT, None)
FUSIBLE["copy_p"] = Rule(_identity, LAYOUT, None)


# -- iota ------------------------------------------------------------------------------
def _iota(ctx, index):
    dimension = int(ctx.params["dimension"])
    return Op("convert_element_type", [index[dimension]], ctx.out_aval.dtype)


FUSIBLE["iota"] = Rule(_iota, CHEAP, "convert_element_type")


# ----------------------------------------------------------------------------
# Layout: index transforms.


def _broadcast_in_dim(ctx, index):
    (x,) = ctx.in_avals
    dims = ctx.params["broadcast_dimensions"]
    src = tuple(ix.const(0) if size == 1 else index[d] for size, d in zip(x.shape, dims))
    return ctx.operand(0, src)


FUSIBLE["broadcast_in_dim"] = Rule(_broadcast_in_dim, LAYOUT, None)


def _reshape(ctx, index):
    x = ctx.in_avals[0]
    new_sizes = ctx.out_aval.shape
    dims = ctx.params.get("dimensions")
    flat = ix.flat_index(index, new_sizes)
    if dims is None:
        return ctx.operand(0, ix.unflatten(flat, x.shape, ctx.ranges))
    permuted_shape = tuple(x.shape[d] for d in dims)
    permuted = ix.unflatten(flat, permuted_shape, ctx.ranges)
    src = [None] * x.ndim
    for k, d in enumerate(dims):
        src[d] = permuted[k]
    return ctx.operand(0, src)


FUSIBLE["reshape"] = Rule(_reshape, LAYOUT, None)


def _transpose(ctx, index):
    perm = ctx.params["permutation"]
    src = [None] * len(perm)
    for k, d in enumerate(perm):
        src[d] = index[k]
    return ctx.operand(0, src)


FUSIBLE["transpose"] = Rule(_transpose, LAYOUT, None)


def _squeeze(ctx, index):
    x = ctx.in_avals[0]
    dims = set(ctx.params["dimensions"])
    it = iter(index)
    src = [ix.const(0) if d in dims else next(it) for d in range(x.ndim)]
    return ctx.operand(0, src)


FUSIBLE["squeeze"] = Rule(_squeeze, LAYOUT, None)


def _expand_dims(ctx, index):
    dims = set(ctx.params["dimensions"])
    src = [idx for d, idx in enumerate(index) if d not in dims]
    return ctx.operand(0, src)


FUSIBLE["expand_dims"] = Rule(_expand_dims, LAYOUT, None)


def _slice(ctx, index):
    starts = ctx.params["start_indices"]
    strides = ctx.params.get("strides") or (1,) * len(starts)
    src = [ix.add(ix.mul(i, s), ix.const(b)) for i, s, b in zip(index, strides, starts)]
    return ctx.operand(0, src)


FUSIBLE["slice"] = Rule(_slice, LAYOUT, None)


def _rev(ctx, index):
    x = ctx.in_avals[0]
    dims = set(ctx.params["dimensions"])
    src = [
        ix.sub(ix.const(x.shape[d] - 1), i) if d in dims else i for d, i in enumerate(index)
    ]
    return ctx.operand(0, src)


FUSIBLE["rev"] = Rule(_rev, LAYOUT, None)


_BOOL = dtypes.bool_


def _and(a, b):
    if a is None:
        return b
    return Op("and", [a, b], _BOOL)


def _not_below_zero(t, ctx, cond):
    """``t`` clamped to >= 0 and the condition that it was, if it can be negative."""
    if ix.value_range(t, ctx.ranges)[0] >= 0:
        return t, cond
    return ix.maximum(t, ix.const(0), ctx.ranges), _and(cond, Op("ge", [t, ix.const(0)], _BOOL))


def _below(t, n: int, ctx, cond):
    """``t`` clamped to < n and the condition that it was, if it can reach n."""
    if ix.value_range(t, ctx.ranges)[1] < n:
        return t, cond
    return ix.minimum(t, ix.const(n - 1), ctx.ranges), _and(cond,
                                                            Op("lt", [t, ix.const(n)], _BOOL))


def _pad(ctx, index):
    x = ctx.in_avals[0]
    pad_value = ctx.operand(1, ())
    if x.size == 0:
        return pad_value
    cond = None
    src = []
    for i, n, (low, _high, interior) in zip(index, x.shape, ctx.params["padding_config"]):
        step = interior + 1
        t, cond = _not_below_zero(ix.sub(i, ix.const(low)), ctx, cond)
        q = ix.floordiv(t, step, ctx.ranges)
        if step > 1:
            r = ix.mod(t, step, ctx.ranges)
            if not (isinstance(r, Const) and r.value == 0):
                cond = _and(cond, Op("eq", [r, ix.const(0)], _BOOL))
        q, cond = _below(q, n, ctx, cond)
        src.append(q)
    value = ctx.operand(0, src)
    if cond is None:
        return value
    return Op("select_n", [cond, pad_value, value], ctx.out_aval.dtype)


FUSIBLE["pad"] = Rule(_pad, LAYOUT, "select_n")


def _concatenate(ctx, index):
    dim = int(ctx.params["dimension"])
    i = index[dim]
    pieces = []
    offset = 0
    for k, aval in enumerate(ctx.in_avals):
        n = aval.shape[dim]
        if n > 0:
            pieces.append((k, offset, n))
        offset += n
    value = None
    for k, start, n in reversed(pieces):
        local = ix.sub(i, ix.const(start))
        lo, hi = ix.value_range(local, ctx.ranges)
        if lo < 0:
            local = ix.maximum(local, ix.const(0), ctx.ranges)
        if hi > n - 1:
            local = ix.minimum(local, ix.const(n - 1), ctx.ranges)
        src = list(index)
        src[dim] = local
        piece = ctx.operand(k, src)
        if value is None:
            value = piece
        else:
            before_end = Op("lt", [i, ix.const(start + n)], _BOOL)
            value = Op("select_n", [before_end, value, piece], ctx.out_aval.dtype)
    return value


FUSIBLE["concatenate"] = Rule(_concatenate, LAYOUT, "select_n")


# -- dynamic_slice / dynamic_update_slice: windows at run-time starts -----------------
def _dynamic_start(ctx, k: int, size: int, window: int) -> Expr:
    """Where a dynamic window starts in one dimension, as the primitive defines it: a
    negative start counts from the end, then the start is clamped so the window fits."""
    hi = size - window
    if hi <= 0:
        return ix.const(0)
    start = ctx.operand(k, ())
    dt = start.dtype
    if isinstance(start, Const):
        value = int(start.value)
        value = value + size if value < 0 else value
        return ix.const(min(max(value, 0), hi))
    if dtypes.is_unsigned(dt):
        # Clamp in the operand's own type first: a uint64 start may not fit an index.
        start = Op("min", [start, Const(hi, dt)], dt)
        return ix.minimum(Op("convert_element_type", [start], INDEX), ix.const(hi), ctx.ranges)
    start = Op("convert_element_type", [start], INDEX)
    negative = Op("lt", [start, ix.const(0)], _BOOL)
    start = Op("select_n", [negative, start, ix.add(start, ix.const(size))], INDEX)
    start = ix.maximum(start, ix.const(0), ctx.ranges)
    return ix.minimum(start, ix.const(hi), ctx.ranges)


def _dynamic_slice(ctx, index):
    x = ctx.in_avals[0]
    sizes = ctx.params["slice_sizes"]
    src = [ix.add(i, _dynamic_start(ctx, 1 + d, n, w))
           for d, (i, n, w) in enumerate(zip(index, x.shape, sizes))]
    return ctx.operand(0, src)


FUSIBLE["dynamic_slice"] = Rule(_dynamic_slice, CHEAP, None)


def _dynamic_update_slice(ctx, index):
    x, update = ctx.in_avals[:2]
    if update.size == 0:
        return ctx.operand(0, index)
    inside = None
    src = []
    for d, (i, n, w) in enumerate(zip(index, x.shape, update.shape)):
        t, inside = _not_below_zero(ix.sub(i, _dynamic_start(ctx, 2 + d, n, w)), ctx, inside)
        t, inside = _below(t, w, ctx, inside)
        src.append(t)
    value = ctx.operand(1, src)
    if inside is None:
        return value
    return Op("select_n", [inside, ctx.operand(0, index), value], ctx.out_aval.dtype)


FUSIBLE["dynamic_update_slice"] = Rule(_dynamic_update_slice, CHEAP, "select_n")


# ----------------------------------------------------------------------------
# Reductions: primitive name -> combiner.

REDUCTIONS = {
    "reduce_sum": "add",
    "reduce_prod": "mul",
    "reduce_max": "max",
    "reduce_min": "min",
    "reduce_and": "and",
    "reduce_or": "or",
    "reduce_xor": "xor",
    "argmax": "argmax",
    "argmin": "argmin",
}

_ACCUMULATE_WIDER = {dtypes.float16: dtypes.float32, dtypes.bfloat16: dtypes.float32}


def accumulation_dtype(dtype) -> np.dtype:
    """float16/bfloat16 reductions accumulate in float32 (as the reference does)."""
    dtype = np.dtype(dtype)
    return _ACCUMULATE_WIDER.get(dtype, dtype)


def index_dtype() -> np.dtype:
    return INDEX
