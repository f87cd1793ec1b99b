"""Index arithmetic for kernels: building and simplifying ``INDEX`` expressions.

Layout primitives become index expressions: a transpose permutes loop
variables, a reshape flattens and unflattens with div/mod, a slice scales and
shifts. Built naively those expressions are full of div/mod that cancel out,
so every constructor here simplifies as it builds. An index expression is seen
as a linear form ``sum(coef * atom) + const`` whose atoms are loop variables
or non-linear subexpressions (div, rem, min, max, select) with known ranges;
``e // d`` and ``e % d`` split the form into the part divisible by ``d`` and a
remainder whose range decides whether the division vanishes.

Ranges come from a ``Ranges`` map (loop variable -> extent) built by the code
that creates the loops. All index values that reach div/rem are non-negative,
so truncating and flooring division agree.
"""

from __future__ import annotations

import numpy as np

from plax.lowering.kernel_ir import INDEX, Const, Expr, Op, Sym

__all__ = [
    "Ranges",
    "const",
    "add",
    "mul",
    "floordiv",
    "mod",
    "minimum",
    "maximum",
    "linear_form",
    "from_linear",
    "value_range",
    "flat_index",
    "unflatten",
]

Ranges = dict  # loop variable name -> extent


def const(value: int) -> Const:
    return Const(int(value), INDEX)


def _is_const(e: Expr) -> bool:
    return isinstance(e, Const)


def linear_form(e: Expr) -> tuple[dict, int]:
    """``e`` as ({atom: coef}, const) where atoms are Syms or non-linear nodes."""
    if isinstance(e, Const):
        return {}, int(e.value)
    if isinstance(e, Op) and e.dtype == INDEX:
        if e.op == "add":
            ta, ca = linear_form(e.args[0])
            tb, cb = linear_form(e.args[1])
            return _merge(ta, tb, 1), ca + cb
        if e.op == "sub":
            ta, ca = linear_form(e.args[0])
            tb, cb = linear_form(e.args[1])
            return _merge(ta, tb, -1), ca - cb
        if e.op == "mul" and _is_const(e.args[1]):
            t, c = linear_form(e.args[0])
            k = int(e.args[1].value)
            return {a: v * k for a, v in t.items() if v * k != 0}, c * k
        if e.op == "mul" and _is_const(e.args[0]):
            t, c = linear_form(e.args[1])
            k = int(e.args[0].value)
            return {a: v * k for a, v in t.items() if v * k != 0}, c * k
    return {e: 1}, 0


def _merge(a: dict, b: dict, sign: int) -> dict:
    out = dict(a)
    for atom, coef in b.items():
        value = out.get(atom, 0) + sign * coef
        if value:
            out[atom] = value
        else:
            out.pop(atom, None)
    return out


def _atom_order(atom: Expr):
    # Loop variables first (by name), then other atoms in a stable textual order.
    if isinstance(atom, Sym):
        return (0, atom.name)
    return (1, repr(atom))


def from_linear(terms: dict, c: int) -> Expr:
    """The canonical expression of a linear form: terms sorted, constant last."""
    out = None
    for atom in sorted(terms, key=_atom_order):
        coef = terms[atom]
        term = atom if coef == 1 else Op("mul", (atom, const(coef)), INDEX)
        out = term if out is None else Op("add", (out, term), INDEX)
    if out is None:
        return const(c)
    if c:
        out = Op("add", (out, const(c)), INDEX)
    return out


def value_range(e: Expr, ranges: Ranges) -> tuple[int, int]:
    """Inclusive (lo, hi) bounds of an index expression."""
    terms, c = linear_form(e)
    lo = hi = c
    for atom, coef in terms.items():
        alo, ahi = _atom_range(atom, ranges)
        if coef >= 0:
            lo += coef * alo
            hi += coef * ahi
        else:
            lo += coef * ahi
            hi += coef * alo
    return lo, hi


def _atom_range(atom: Expr, ranges: Ranges) -> tuple[int, int]:
    if isinstance(atom, Const):
        return int(atom.value), int(atom.value)
    if isinstance(atom, Sym):
        extent = ranges.get(atom.name)
        if extent is None:
            raise KeyError(f"index variable {atom.name!r} has no known range")
        return 0, max(extent - 1, 0)
    if isinstance(atom, Op):
        if atom.op == "div" and _is_const(atom.args[1]):
            lo, hi = value_range(atom.args[0], ranges)
            d = int(atom.args[1].value)
            return lo // d, hi // d
        if atom.op == "rem" and _is_const(atom.args[1]):
            lo, hi = value_range(atom.args[0], ranges)
            d = int(atom.args[1].value)
            if lo >= 0:
                return (lo, hi) if hi < d else (0, d - 1)
            return -(d - 1), d - 1
        if atom.op in ("min", "max"):
            a = value_range(atom.args[0], ranges)
            b = value_range(atom.args[1], ranges)
            if atom.op == "min":
                return min(a[0], b[0]), min(a[1], b[1])
            return max(a[0], b[0]), max(a[1], b[1])
        if atom.op == "select_n":
            cases = [value_range(x, ranges) for x in atom.args[1:]]
            return min(c[0] for c in cases), max(c[1] for c in cases)
        if atom.op == "convert_element_type":
            # A bool (0 or 1) or an integer read from a buffer (a dynamic start):
            # its type's range.
            source = atom.args[0].dtype
            if source == np.dtype(np.bool_):
                return 0, 1
            info = np.iinfo(source)
            return int(info.min), int(info.max)
    raise ValueError(f"cannot bound index expression {atom!r}")


# ----------------------------------------------------------------------------
# Constructors that simplify.


def add(a: Expr, b: Expr) -> Expr:
    ta, ca = linear_form(a)
    tb, cb = linear_form(b)
    return from_linear(_merge(ta, tb, 1), ca + cb)


def sub(a: Expr, b: Expr) -> Expr:
    ta, ca = linear_form(a)
    tb, cb = linear_form(b)
    return from_linear(_merge(ta, tb, -1), ca - cb)


def mul(a: Expr, k: int) -> Expr:
    k = int(k)
    if k == 0:
        return const(0)
    t, c = linear_form(a)
    return from_linear({atom: v * k for atom, v in t.items()}, c * k)


def _split(e: Expr, d: int):
    """(quotient form, remainder form) with e == d * q + r for the linear parts."""
    terms, c = linear_form(e)
    q_terms, r_terms = {}, {}
    for atom, coef in terms.items():
        if coef % d == 0:
            q_terms[atom] = coef // d
        else:
            r_terms[atom] = coef
    return (q_terms, c // d), (r_terms, c % d)


def floordiv(e: Expr, d: int, ranges: Ranges) -> Expr:
    """``e // d`` for a non-negative ``e`` and a positive constant ``d``."""
    d = int(d)
    if d == 1:
        return e
    (q_terms, q_c), (r_terms, r_c) = _split(e, d)
    rest = from_linear(r_terms, r_c)
    lo, hi = value_range(rest, ranges)
    if 0 <= lo and hi < d:
        return from_linear(q_terms, q_c)
    lo, hi = value_range(e, ranges)
    if 0 <= lo and hi < d:
        return const(0)
    if lo >= 0:
        # Factor out what divides exactly when the rest stays non-negative.
        if value_range(rest, ranges)[0] >= 0 and q_terms:
            inner = Op("div", (rest, const(d)), INDEX)
            return add(from_linear(q_terms, q_c), inner)
    return Op("div", (e, const(d)), INDEX)


def mod(e: Expr, d: int, ranges: Ranges) -> Expr:
    """``e % d`` for a non-negative ``e`` and a positive constant ``d``."""
    d = int(d)
    if d == 1:
        return const(0)
    (q_terms, _), (r_terms, r_c) = _split(e, d)
    rest = from_linear(r_terms, r_c)
    lo, hi = value_range(rest, ranges)
    if 0 <= lo and hi < d:
        return rest
    lo_e, hi_e = value_range(e, ranges)
    if 0 <= lo_e and hi_e < d:
        return e
    if lo >= 0:
        return Op("rem", (rest, const(d)), INDEX)
    return Op("rem", (e, const(d)), INDEX)


def minimum(a: Expr, b: Expr, ranges: Ranges) -> Expr:
    alo, ahi = value_range(a, ranges)
    blo, bhi = value_range(b, ranges)
    if ahi <= blo:
        return a
    if bhi <= alo:
        return b
    return Op("min", (a, b), INDEX)


def maximum(a: Expr, b: Expr, ranges: Ranges) -> Expr:
    alo, ahi = value_range(a, ranges)
    blo, bhi = value_range(b, ranges)
    if alo >= bhi:
        return a
    if blo >= ahi:
        return b
    return Op("max", (a, b), INDEX)


def flat_index(index: tuple, shape: tuple) -> Expr:
    """Row-major flat offset of a multi-index into an array of ``shape``."""
    out = const(0)
    stride = 1
    for idx, size in zip(reversed(index), reversed(shape)):
        if size != 1:
            out = add(out, mul(idx, stride))
        stride *= size
    return out


def unflatten(flat: Expr, shape: tuple, ranges: Ranges) -> tuple:
    """The multi-index of a row-major flat offset into ``shape``."""
    out = []
    stride = 1
    strides = []
    for size in reversed(shape):
        strides.append(stride)
        stride *= size
    strides.reverse()
    for size, st in zip(shape, strides):
        if size == 1:
            out.append(const(0))
            continue
        q = floordiv(flat, st, ranges)
        out.append(mod(q, size, ranges))
    return tuple(out)
