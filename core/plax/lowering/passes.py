"""Passes over kernel IR.

* ``lower_reductions``: turns the ``Reduce`` expressions the fusion pass builds
  into ``Accum``/``Loop``/``Update`` statements, each placed at the outermost
  loop where its inputs are known (a row's sum is computed once per row, then
  used by every element of the row) and computed once however often it is used.
* ``merge_loops``: collapses nested loops that walk memory as one flat loop
  (every index is ``... + (outer * inner_extent + inner) * stride``). Most
  elementwise kernels become a single loop, which vectorises well and whose
  text does not depend on the array's shape.
* ``substitute`` / ``map_loads``: rebuild expressions.
* ``estimate_work``: element-operations a kernel performs, for threading.
"""

from __future__ import annotations

from collections import defaultdict

from plax import dtypes
from plax.lowering import index as ix
from plax.lowering.kernel_ir import (
    INDEX,
    Accum,
    Const,
    Expr,
    Let,
    Load,
    Loop,
    Op,
    Reduce,
    Stmt,
    Store,
    Sym,
    Update,
    free_syms,
    reduce_identity,
)

__all__ = [
    "Names",
    "substitute",
    "map_loads",
    "lower_reductions",
    "merge_loops",
    "estimate_work",
    "stmt_map_exprs",
]


class Names:
    """Fresh, deterministic names (``acc0``, ``acc1``...)."""

    def __init__(self):
        self.counts: dict[str, int] = defaultdict(int)

    def fresh(self, prefix: str) -> str:
        n = self.counts[prefix]
        self.counts[prefix] += 1
        return f"{prefix}{n}"


def _rebuild(e: Expr, children: list) -> Expr:
    if isinstance(e, Op):
        return Op(e.op, children, e.dtype, e.attrs)
    if isinstance(e, Load):
        return Load(e.buffer, children[0], e.dtype)
    if isinstance(e, Reduce):
        return Reduce(e.op, e.axes, children[0], e.dtype)
    return e


def substitute(e: Expr, mapping: dict, memo: dict | None = None) -> Expr:
    """``e`` with every subexpression found in ``mapping`` replaced."""
    memo = {} if memo is None else memo
    hit = memo.get(e)
    if hit is not None:
        return hit
    out = mapping.get(e)
    if out is None:
        kids = e.children()
        if kids:
            new = [substitute(k, mapping, memo) for k in kids]
            out = e if all(a is b for a, b in zip(new, kids)) else _rebuild(e, new)
        else:
            out = e
    memo[e] = out
    return out


def map_loads(e: Expr, fn, memo: dict | None = None) -> Expr:
    """``e`` with every Load's index replaced by ``fn(index)``."""
    memo = {} if memo is None else memo
    hit = memo.get(e)
    if hit is not None:
        return hit
    if isinstance(e, Load):
        out = Load(e.buffer, fn(e.index), e.dtype)
    else:
        kids = e.children()
        if kids:
            new = [map_loads(k, fn, memo) for k in kids]
            out = e if all(a is b for a, b in zip(new, kids)) else _rebuild(e, new)
        else:
            out = e
    memo[e] = out
    return out


def stmt_map_exprs(stmt: Stmt, fn, index_fn=None) -> Stmt:
    """A statement with ``fn`` applied to its value expressions and ``index_fn``
    (default ``fn``) to its store indices; loops are rebuilt recursively."""
    index_fn = fn if index_fn is None else index_fn
    if isinstance(stmt, Loop):
        body = [stmt_map_exprs(s, fn, index_fn) for s in stmt.body]
        return Loop(stmt.var, stmt.extent, body, stmt.parallel)
    if isinstance(stmt, Store):
        return Store(stmt.buffer, index_fn(stmt.index), fn(stmt.value))
    if isinstance(stmt, Let):
        return Let(stmt.name, fn(stmt.value))
    if isinstance(stmt, Accum):
        return Accum(stmt.name, stmt.dtype, fn(stmt.init))
    if isinstance(stmt, Update):
        return Update(stmt.name, stmt.op, fn(stmt.value))
    raise TypeError(f"not a kernel statement: {stmt!r}")


# ----------------------------------------------------------------------------
# lower_reductions


def lower_reductions(body, names: Names) -> tuple:
    """Replace Reduce expressions by statements. ``body`` is a perfect loop nest
    (each loop's body is one loop, or the innermost statements) whose innermost
    statements are Stores; the result keeps the nest and puts each reduction's
    ``Accum`` + loops inside the loop of its innermost free variable."""
    loops = []
    level = list(body)
    while len(level) == 1 and isinstance(level[0], Loop):
        loops.append(level[0])
        level = list(level[0].body)
    leaves = level
    for stmt in leaves:
        if not isinstance(stmt, Store):
            raise ValueError("lower_reductions expects a perfect loop nest around Stores")
    depth_of = {loop.var: d for d, loop in enumerate(loops)}

    at_level: dict[int, list] = defaultdict(list)
    inside: dict[Reduce, list] = defaultdict(list)
    visited: set = set()
    fcache: dict = {}

    def visit(e: Expr, enclosing: tuple):
        if e in visited:
            return
        visited.add(e)
        inner = enclosing + (e,) if isinstance(e, Reduce) else enclosing
        for child in e.children():
            visit(child, inner)
        if not isinstance(e, Reduce):
            return
        free = free_syms(e, fcache)
        for parent in reversed(enclosing):
            if free & {name for name, _ in parent.axes}:
                inside[parent].append(e)
                return
        depth = max((depth_of[v] for v in free if v in depth_of), default=-1)
        at_level[depth].append(e)

    for stmt in leaves:
        visit(stmt.index, ())
        visit(stmt.value, ())
    if not at_level and not inside:
        return tuple(body)

    emitted: dict = {}
    memo: dict = {}

    def replace(e):
        return substitute(e, emitted, memo)

    def emit(r: Reduce, out: list):
        inner: list = []
        for child in inside[r]:
            emit(child, inner)
        # Values computed inside this reduction's loops are not visible after it.
        value = replace(r.body)
        if r.op in ("argmax", "argmin"):
            # Two vectorisable passes: the extreme value, then the first index holding
            # it (or the first NaN, which counts as the extreme).
            best = names.fresh("best")
            where = names.fresh("arg")
            dt = value.dtype
            combiner = "max" if r.op == "argmax" else "min"
            out.append(Accum(best, dt, Const(reduce_identity(combiner, dt), dt)))
            first = list(inner) + [Update(best, combiner, value)]
            for name, extent in reversed(r.axes):
                first = [Loop(name, extent, first)]
            out.extend(first)
            extreme = Sym(best, dt)
            hit = Op("eq", [value, extreme], dtypes.bool_)
            if dtypes.is_float(dt):
                both_nan = Op("and", [Op("ne", [value, value], dtypes.bool_),
                                      Op("ne", [extreme, extreme], dtypes.bool_)], dtypes.bool_)
                hit = Op("or", [hit, both_nan], dtypes.bool_)
            size = 1
            for _, extent in r.axes:
                size *= extent
            flat = ix.flat_index(tuple(Sym(n) for n, _ in r.axes), tuple(e for _, e in r.axes))
            out.append(Accum(where, INDEX, ix.const(size)))
            candidate = Op("select_n", [hit, ix.const(size), flat], INDEX)
            inner = list(inner) + [Update(where, "min", candidate)]
            result = Sym(where, INDEX)
            if r.dtype != INDEX:
                result = Op("convert_element_type", [result], r.dtype)
        else:
            acc = names.fresh("acc")
            out.append(Accum(acc, r.dtype, Const(reduce_identity(r.op, r.dtype), r.dtype)))
            inner.append(Update(acc, r.op, value))
            result = Sym(acc, r.dtype)
        nest = inner
        for name, extent in reversed(r.axes):
            nest = [Loop(name, extent, nest)]
        out.extend(nest)
        emitted[r] = result
        memo.clear()

    def build(depth: int) -> list:
        out: list = []
        for r in at_level.get(depth, ()):
            emit(r, out)
        if depth + 1 < len(loops):
            loop = loops[depth + 1]
            parallel = loop.parallel and not (depth == -1 and out)
            out.append(Loop(loop.var, loop.extent, build(depth + 1), parallel))
        else:
            for stmt in leaves:
                out.append(Store(stmt.buffer, replace(stmt.index), replace(stmt.value)))
        return out

    return tuple(build(-1))


# ----------------------------------------------------------------------------
# merge_loops


class _NoMerge(Exception):
    pass


def merge_loops(body) -> tuple:
    """Collapse perfectly nested loops that address memory contiguously."""
    return tuple(_merge_stmt(s) for s in body)


def _merge_stmt(stmt: Stmt) -> Stmt:
    if not isinstance(stmt, Loop):
        return stmt
    loop = Loop(stmt.var, stmt.extent, [_merge_stmt(s) for s in stmt.body], stmt.parallel)
    while len(loop.body) == 1 and isinstance(loop.body[0], Loop):
        merged = _try_merge(loop, loop.body[0])
        if merged is None:
            break
        loop = merged
    return loop


def _try_merge(outer: Loop, inner: Loop) -> Loop | None:
    a = Sym(outer.var)
    b = Sym(inner.var)
    n_b = inner.extent
    names = {outer.var, inner.var}
    fcache: dict = {}

    def check_index(e: Expr):
        terms, _ = ix.linear_form(e)
        for atom in terms:
            if atom == a or atom == b:
                continue
            if free_syms(atom, fcache) & names:
                raise _NoMerge
            check_value(atom)
        if terms.get(a, 0) != terms.get(b, 0) * n_b:
            raise _NoMerge

    def check_value(e: Expr):
        if isinstance(e, Load):
            check_index(e.index)
            return
        if isinstance(e, Sym) and e.name in names:
            raise _NoMerge
        if isinstance(e, Reduce):
            raise _NoMerge
        for child in e.children():
            check_value(child)

    def check_stmt(s: Stmt):
        if isinstance(s, Loop):
            for t in s.body:
                check_stmt(t)
        elif isinstance(s, Store):
            check_index(s.index)
            check_value(s.value)
        elif isinstance(s, (Let, Update)):
            check_value(s.value)
        elif isinstance(s, Accum):
            check_value(s.init)

    try:
        for s in inner.body:
            check_stmt(s)
    except _NoMerge:
        return None

    def rewrite_index(e: Expr) -> Expr:
        terms, c = ix.linear_form(e)
        coef = terms.pop(b, 0)
        terms.pop(a, None)
        if coef:
            terms[a] = coef
        return ix.from_linear(terms, c)

    memo: dict = {}

    def rewrite_value(e: Expr) -> Expr:
        return map_loads(e, rewrite_index, memo)

    body = [stmt_map_exprs(s, rewrite_value, rewrite_index) for s in inner.body]
    return Loop(outer.var, outer.extent * inner.extent, body, outer.parallel)


# ----------------------------------------------------------------------------
# estimate_work

_EXPENSIVE = {
    "exp", "exp2", "log", "log1p", "expm1", "pow", "cbrt", "sin", "cos", "tan", "asin", "acos",
    "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "logistic", "erf",
    "erfc", "erf_inv", "lgamma", "digamma",
}


def _expr_cost(e: Expr, seen: set) -> int:
    if e in seen:
        return 0
    seen.add(e)
    cost = 0
    if isinstance(e, Op) and e.dtype != INDEX:
        cost = 8 if e.op in _EXPENSIVE else 1
    elif isinstance(e, Load):
        cost = 1
    return cost + sum(_expr_cost(c, seen) for c in e.children())


def estimate_work(body, trips: int = 1) -> int:
    """Element-operations of a statement list run ``trips`` times."""
    total = 0
    for s in body:
        if isinstance(s, Loop):
            total += estimate_work(s.body, trips * s.extent)
        elif isinstance(s, Store):
            total += trips * max(1, _expr_cost(s.value, set()))
        elif isinstance(s, (Let, Update)):
            total += trips * max(1, _expr_cost(s.value, set()))
    return total
