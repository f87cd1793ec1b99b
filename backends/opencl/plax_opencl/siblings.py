"""Dtype siblings: the same kernel for the other dtypes of its family, built early.

On PoCL a program costs about 0.15 s to build however few kernels it holds, and
each of its entry points about 0.04 s of code generation when first launched;
a kernel more in a program costs a few milliseconds. Code that runs one
operation over several dtypes -- eager use, test suites, the conformance suite --
would pay the full price per dtype. So, for programs of small kernels only
(those built without optimisation, where code generation is cheap), the backend
also renders each kernel with its dtype replaced by the others of its family and
builds them in the same program and entry point, for a few milliseconds each.

A sibling is used only if a later request renders exactly its source, so a
sibling that does not mean what its dtype would (a reduction's identity that
depends on the dtype, say) is never used: it only costs its build share. Kernels
with bit casts get no siblings (the cast's meaning depends on both widths), and a
program the driver rejects with siblings is built again without them.

int64 is left out of the integer family: it is also the index type, which a
substitution must not touch.

``Planner`` also learns from the requests: a kernel seen a second time with another
dtype in the same place (the same kernel with that dtype written as a placeholder) is
a kernel some code runs over many dtypes, so it then gets siblings for every dtype
(across families, and for kernels with two data dtypes, such as conversions, along
each of them), once.
"""

from __future__ import annotations

import warnings

import numpy as np
from plax import dtypes
from plax.lowering.kernel_ir import (
    INDEX,
    Accum,
    Buffer,
    Const,
    Expr,
    Kernel,
    Let,
    Load,
    Loop,
    Op,
    Store,
    Sym,
    Update,
    kernel_text,
    walk_exprs,
)

__all__ = ["FAMILIES", "siblings", "Planner"]

FAMILIES = (
    tuple(np.dtype(d) for d in ("int8", "int16", "int32", "uint8", "uint16", "uint32", "uint64")),
    (np.dtype(np.float32), np.dtype(np.float64), dtypes.float16, dtypes.bfloat16),
)
# float16 and bfloat16 kernels also compute in float32 (reductions accumulate in it): a
# kernel with a narrow dtype and float32 gets the other narrow dtype as its sibling.
_NARROW = (dtypes.float16, dtypes.bfloat16)
_FAMILY_OF = {d: family for family in FAMILIES for d in family}
_NEUTRAL = (np.dtype(np.bool_), INDEX)


def _kernel_dtypes(kernel: Kernel) -> set:
    found = {b.dtype for b in kernel.buffers}
    for e in walk_exprs(kernel.body):
        found.add(e.dtype)
    stack = list(kernel.body)
    while stack:
        s = stack.pop()
        if isinstance(s, Loop):
            stack.extend(s.body)
        elif isinstance(s, Accum):
            found.add(s.dtype)
    return found - set(_NEUTRAL)


def siblings(kernel: Kernel, allowed) -> dict:
    """{dtype: the kernel with its one data dtype replaced by it} for the other dtypes
    of its family that ``allowed(dtype)`` accepts; empty when the kernel mixes data
    dtypes (other than a narrow float with float32) or has none."""
    found = _kernel_dtypes(kernel)
    narrow = [d for d in found if d in _NARROW]
    if len(found) == 2 and len(narrow) == 1 and np.dtype(np.float32) in found:
        (source,) = narrow
        family = _NARROW
    elif len(found) == 1:
        (source,) = found
        family = _FAMILY_OF.get(source)
    else:
        return {}
    if family is None:
        return {}
    if any(isinstance(e, Op) and e.op == "bitcast_convert_type" for e in walk_exprs(kernel.body)):
        return {}  # a bitcast's meaning depends on both widths
    out = {}
    for target in family:
        if target == source or not allowed(target):
            continue
        swapped = _substitute(kernel, source, target)
        if swapped is not None:
            out[target] = swapped
    return out


_ALL = tuple(d for family in FAMILIES for d in family)
# Stand for "the dtype that varies" in the text that identifies a kernel up to that
# dtype (the first one the kernel does not use): they hold the constants of the
# narrower types exactly, and extremes become infinities.
_PLACEHOLDERS = (np.dtype(np.float64), np.dtype(np.float32))


class Planner:
    """The siblings to build with a program (see the module docstring)."""

    MAX_KEYS = 1 << 16

    def __init__(self):
        self._seen: dict = {}  # kernel text with one dtype as a placeholder -> dtypes seen
        self._expanded: set = set()

    def siblings(self, kernel: Kernel, allowed) -> list:
        out = list(siblings(kernel, allowed).values())
        found = _kernel_dtypes(kernel)
        if not found or len(found) > 2 or any(
                isinstance(e, Op) and e.op == "bitcast_convert_type"
                for e in walk_exprs(kernel.body)):
            return out
        if len(self._seen) > self.MAX_KEYS:
            self._seen.clear()
            self._expanded.clear()
        covered = {frozenset(_kernel_dtypes(k)) for k in out}
        placeholder = next((d for d in _PLACEHOLDERS if d not in found), None)
        for source in found if placeholder is not None else ():
            skeleton = _substitute(kernel, source, placeholder)
            if skeleton is None:
                continue
            key = kernel_text(skeleton, with_name=False)
            seen = self._seen.setdefault(key, set())
            seen.add(source)
            if len(seen) < 2 or key in self._expanded:
                continue
            self._expanded.add(key)
            for target in _ALL:
                if target in found or target in seen or not allowed(target):
                    continue
                if frozenset(found - {source} | {target}) in covered:
                    continue
                swapped = _substitute(kernel, source, target)
                if swapped is not None:
                    out.append(swapped)
        return out


class _Unrepresentable(Exception):
    pass


def _extreme(dtype, high: bool):
    """The largest (smallest) value of ``dtype``: infinities for floats."""
    if dtypes.is_float(dtype):
        return np.asarray(np.inf if high else -np.inf, dtype)[()]
    info = np.iinfo(dtype)
    return np.asarray(info.max if high else info.min, dtype)[()]


def _convert_const(value, src, dst):
    """``value`` of dtype ``src`` as a ``dst`` constant. A dtype's extremes (the
    identities of max and min reductions, the initial values of argmax and argmin) map
    to the extremes of ``dst``: the same kernel for ``dst`` would start from those. An
    unsigned zero stays zero (it is more often a sum's identity than a maximum's)."""
    value = np.asarray(value, src)
    if (dtypes.is_float(src) or dtypes.is_signed(src)) and value == _extreme(src, False):
        return _extreme(dst, False)
    if value == _extreme(src, True):
        return _extreme(dst, True)
    if dtypes.is_float(src) and np.isnan(value):
        if dtypes.is_float(dst):
            return np.asarray(np.nan, dst)[()]
        raise _Unrepresentable
    converted = value.astype(dst)
    if converted.astype(src) != value:
        raise _Unrepresentable
    return converted[()]


def _substitute(kernel: Kernel, src, dst) -> Kernel | None:
    memo: dict = {}

    def dt(d):
        return dst if d == src else d

    def expr(e: Expr) -> Expr:
        hit = memo.get(e)
        if hit is not None:
            return hit
        if isinstance(e, Const):
            out = e
            if e.dtype == src:
                out = Const(_convert_const(e.value, src, dst), dst)
        elif isinstance(e, Sym):
            out = Sym(e.name, dt(e.dtype))
        elif isinstance(e, Load):
            out = Load(e.buffer, expr(e.index), dt(e.dtype))
        elif isinstance(e, Op):
            out = Op(e.op, [expr(a) for a in e.args], dt(e.dtype), e.attrs)
        else:
            raise _Unrepresentable
        memo[e] = out
        return out

    def stmt(s):
        if isinstance(s, Loop):
            return Loop(s.var, s.extent, [stmt(t) for t in s.body], s.parallel)
        if isinstance(s, Store):
            return Store(s.buffer, expr(s.index), expr(s.value))
        if isinstance(s, Let):
            return Let(s.name, expr(s.value))
        if isinstance(s, Accum):
            return Accum(s.name, dt(s.dtype), expr(s.init))
        if isinstance(s, Update):
            return Update(s.name, s.op, expr(s.value))
        raise _Unrepresentable

    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # float -> int casts of out-of-range values
            body = [stmt(s) for s in kernel.body]
    except (_Unrepresentable, OverflowError, ValueError, TypeError):
        return None
    buffers = [Buffer(b.name, dt(b.dtype), b.shape, b.role) for b in kernel.buffers]
    return Kernel(kernel.name, buffers, body)
