"""Column reductions as parallel kernels.

The lowering toolkit computes a reduction that keeps its operand's last axis (a
"column" reduction, ``x.sum(axis=0)``) by accumulating over the operand in memory
order into an output-shaped buffer: one loop nest that initialises the buffer, one
that adds each operand element into its slot, and (when the accumulator type is not
the output's) one that converts. That is the right order for one CPU thread, but as
an OpenCL kernel it has no parallel loop: one work-item does everything.

``parallel_columns(kernel)`` rewrites that form as a parallel loop over the
outermost kept dimension whose iterations each keep an accumulator and walk the
reduced dimensions -- the form of a row reduction, which the C renderer turns into
a work-group per output (threads striding over the reduced elements, combined in
local memory) when each output reduces many elements. Per output element the
reduced indices are visited in the same order as before, so without the
work-group form the results are the same bit for bit. Kernels of any other shape
are returned unchanged.
"""

from __future__ import annotations

import math

from plax.lowering.kernel_ir import (
    REDUCE_OPS,
    Accum,
    Const,
    Expr,
    Kernel,
    Load,
    Loop,
    Op,
    Store,
    Sym,
    Update,
    free_syms,
)

__all__ = ["parallel_columns"]

_ACC = "col_acc"


def _perfect_nest(stmt):
    """(loops, innermost statement) of a loop nest with one statement at the bottom."""
    loops = []
    while isinstance(stmt, Loop):
        if len(stmt.body) != 1 or stmt.parallel:
            return None
        loops.append(stmt)
        stmt = stmt.body[0]
    return loops, stmt


def _substitute(expr: Expr, mapping: dict, memo: dict) -> Expr:
    """``expr`` with the Syms named in ``mapping`` and the Loads equal to its keys
    replaced."""
    hit = memo.get(expr)
    if hit is not None:
        return hit
    if expr in mapping:
        out = mapping[expr]
    elif isinstance(expr, Sym):
        out = mapping.get(expr.name, expr)
    elif isinstance(expr, Load):
        out = Load(expr.buffer, _substitute(expr.index, mapping, memo), expr.dtype)
    elif isinstance(expr, Op):
        out = Op(expr.op, [_substitute(a, mapping, memo) for a in expr.args], expr.dtype,
                 expr.attrs)
    elif isinstance(expr, Const):
        out = expr
    else:
        raise _NotAColumnReduction
    memo[expr] = out
    return out


class _NotAColumnReduction(Exception):
    pass


def parallel_columns(kernel: Kernel) -> Kernel:
    """The parallel form of a column-reduction kernel, or ``kernel`` itself."""
    try:
        return _rewrite(kernel)
    except _NotAColumnReduction:
        return kernel


def _rewrite(kernel: Kernel) -> Kernel:
    if kernel.parallel_loop is not None or len(kernel.body) not in (2, 3):
        raise _NotAColumnReduction
    init = _perfect_nest(kernel.body[0])
    accumulate = _perfect_nest(kernel.body[1])
    if init is None or accumulate is None:
        raise _NotAColumnReduction
    init_loops, init_store = init
    loops, store = accumulate
    if not (isinstance(init_store, Store) and isinstance(init_store.value, Const)
            and isinstance(store, Store) and store.buffer == init_store.buffer):
        raise _NotAColumnReduction
    acc_buffer = store.buffer
    update = store.value
    if not (isinstance(update, Op) and update.op in REDUCE_OPS and len(update.args) == 2):
        raise _NotAColumnReduction
    current, value = update.args
    if not (isinstance(current, Load) and current.buffer == acc_buffer
            and current.index == store.index):
        raise _NotAColumnReduction
    # The accumulator is read only through that Load.
    if any(isinstance(e, Load) and e.buffer == acc_buffer for e in _exprs(value)):
        raise _NotAColumnReduction
    kept_names = free_syms(store.index)
    kept = [loop for loop in loops if loop.var in kept_names]
    reduced = [loop for loop in loops if loop.var not in kept_names]
    if not kept or not reduced or math.prod(lp.extent for lp in kept) != math.prod(
            lp.extent for lp in init_loops):
        raise _NotAColumnReduction
    dtype = update.dtype
    acc = Sym(_ACC, dtype)
    if len(kernel.body) == 3:
        # acc_buffer is scratch: the output is a function of it, stored per kept index.
        convert = _perfect_nest(kernel.body[2])
        if convert is None:
            raise _NotAColumnReduction
        convert_loops, final = convert
        if not (isinstance(final, Store) and final.buffer != acc_buffer
                and [lp.extent for lp in convert_loops] == [lp.extent for lp in kept]):
            raise _NotAColumnReduction  # (a merged conversion nest: left as it is)
        rename = {lp.var: Sym(k.var) for lp, k in zip(convert_loops, kept)}
        index = _substitute(final.index, rename, {})
        source = Load(acc_buffer, _substitute(_acc_index(final.value, acc_buffer), rename, {}),
                      dtype)
        if source != Load(acc_buffer, store.index, dtype):
            raise _NotAColumnReduction
        result = _substitute(final.value, {**rename, _acc_load(final.value, acc_buffer): acc},
                             {})
        out = Store(final.buffer, index, result)
    else:
        out = Store(acc_buffer, store.index, acc)
    inner = _nest(reduced, [Update(_ACC, update.op, value)])
    per_output = [Accum(_ACC, dtype, init_store.value), *inner, out]
    nest = _nest(kept[1:], per_output)
    return Kernel(kernel.name, kernel.buffers,
                  [Loop(kept[0].var, kept[0].extent, nest, parallel=True)])


def _nest(loops: list, body: list) -> list:
    for loop in reversed(loops):
        body = [Loop(loop.var, loop.extent, body, False)]
    return list(body)


def _exprs(expr: Expr):
    stack = [expr]
    while stack:
        e = stack.pop()
        yield e
        stack.extend(e.children())


def _acc_load(expr: Expr, buffer: str) -> Load:
    loads = [e for e in _exprs(expr) if isinstance(e, Load)]
    if len({e.buffer for e in loads}) != 1 or loads[0].buffer != buffer:
        raise _NotAColumnReduction
    if len(set(loads)) != 1:
        raise _NotAColumnReduction
    return loads[0]


def _acc_index(expr: Expr, buffer: str) -> Expr:
    return _acc_load(expr, buffer).index
