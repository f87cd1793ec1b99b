"""Primitives a backend does not claim, rewritten into ones kernels compute.

A backend names the primitives it runs itself in ``Target.library``
(``dot_general`` through BLAS, say). For one that does not, fusion would
otherwise leave such a primitive to a host step; ``decompose`` rewrites it,
before fusion, into lax primitives the kernel rules cover, so a minimal
backend still runs it on its own device:

``dot_general``
    ``reduce_sum(mul(broadcast(lhs), broadcast(rhs)))`` over the contracting
    axes, in the type the reference accumulates in (float32 at least for
    floats; the result's own type for integers, whose wrap-around is the
    same). Fusion inlines the product into the reduction, so the broadcast
    operands are never materialised: the result is one kernel whose inner loop
    is the dot product.
``reduce_window_sum`` / ``_max`` / ``_min`` (windows of at most ``MAX_WINDOW``
elements, no negative padding)
    the padded operand read through one strided slice per window offset,
    combined elementwise: one kernel with a load per window element. Sums of
    float16/bfloat16 accumulate in float32, as the reference does.

A rewrite applies only when the target compiles every op it produces;
otherwise the primitive stays (and becomes a host step).
"""

from __future__ import annotations

import numpy as np

from plax import dtypes
from plax.jaxpr import ClosedJaxpr, Literal

__all__ = ["DECOMPOSITIONS", "decompose"]


# -- dot_general --------------------------------------------------------------------
def _dot_accumulation(eqn) -> np.dtype:
    from plax.lax.linalg import accumulation_dtype

    lhs, rhs = (v.aval.dtype for v in eqn.invars)
    out = eqn.outvars[0].aval.dtype
    acc = accumulation_dtype((lhs, rhs), out)
    if not dtypes.is_float(acc):
        # Integer products wrap modulo 2**bits: the result type's own width gives
        # the same low bits as the reference's 64-bit sum.
        return np.dtype(np.int32) if out == dtypes.bool_ else out
    return acc


def _dot_general_ops(eqn) -> list:
    acc = _dot_accumulation(eqn)
    out = eqn.outvars[0].aval.dtype
    ops = [("mul", (acc, acc), acc), ("add", (acc, acc), acc)]
    for v in eqn.invars:
        ops.append(("convert_element_type", (v.aval.dtype,), acc))
    ops.append(("convert_element_type", (acc,), out))
    if out == dtypes.bool_:
        ops.append(("ne", (acc, acc), out))
    return ops


def _dot_general(eqn, lhs, rhs):
    from plax import lax

    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    acc = _dot_accumulation(eqn)
    out_aval = eqn.outvars[0].aval
    lhs_aval, rhs_aval = (v.aval for v in eqn.invars)
    lhs_free = [d for d in range(lhs_aval.ndim) if d not in lc and d not in lb]
    rhs_free = [d for d in range(rhs_aval.ndim) if d not in rc and d not in rb]
    nb, nm, nn, nk = len(lb), len(lhs_free), len(rhs_free), len(lc)
    # Both operands laid out as [batch, free, contract], then broadcast to
    # [batch, lhs free, rhs free, contract].
    a = lax.transpose(lax.convert_element_type(lhs, acc), tuple(lb) + tuple(lhs_free) + tuple(lc))
    b = lax.transpose(lax.convert_element_type(rhs, acc), tuple(rb) + tuple(rhs_free) + tuple(rc))
    contract = tuple(lhs_aval.shape[d] for d in lc)
    shape = out_aval.shape + contract
    a = lax.broadcast_in_dim(a, shape, tuple(range(nb + nm)) + tuple(
        range(nb + nm + nn, nb + nm + nn + nk)))
    b = lax.broadcast_in_dim(b, shape, tuple(range(nb)) + tuple(
        range(nb + nm, nb + nm + nn + nk)))
    total = lax.mul(a, b)
    if nk:
        total = lax.reduce_sum(total, tuple(range(nb + nm + nn, nb + nm + nn + nk)))
    if out_aval.dtype == dtypes.bool_:
        return [lax.ne(total, np.zeros(out_aval.shape, acc))]
    return [lax.convert_element_type(total, out_aval.dtype)]


# -- reduce_window_{sum,max,min} ------------------------------------------------------
# Windows of at most this many elements become one strided slice per window offset.
MAX_WINDOW = 32

_WINDOW_OPS = {"reduce_window_sum": "add", "reduce_window_max": "max",
               "reduce_window_min": "min"}


def _window_accumulation(eqn) -> np.dtype:
    dt = eqn.invars[0].aval.dtype
    if eqn.primitive.name == "reduce_window_sum" and dt in (dtypes.float16, dtypes.bfloat16):
        return dtypes.float32  # the reference sums narrow floats in float32
    return dt


def _reduce_window_ops(eqn) -> list:
    if int(np.prod(eqn.params["window_dimensions"])) > MAX_WINDOW:
        return None
    if any(lo < 0 or hi < 0 for lo, hi in eqn.params["padding"]):
        return None
    dt = eqn.invars[0].aval.dtype
    acc = _window_accumulation(eqn)
    op = _WINDOW_OPS[eqn.primitive.name]
    return [(op, (acc, acc), acc), ("select_n", (dtypes.bool_, acc, acc), acc),
            ("convert_element_type", (dt,), acc), ("convert_element_type", (acc,), dt)]


def _reduce_window(eqn, x):
    import itertools

    from plax import lax
    from plax.lax import windowed

    params = eqn.params
    name = eqn.primitive.name
    identity = {"reduce_window_sum": windowed._sum_identity,
                "reduce_window_max": windowed._max_identity,
                "reduce_window_min": windowed._min_identity}[name]
    combine = {"add": lax.add, "max": lax.max, "min": lax.min}[_WINDOW_OPS[name]]
    dt = eqn.invars[0].aval.dtype
    acc = _window_accumulation(eqn)
    out_shape = eqn.outvars[0].aval.shape
    x = lax.convert_element_type(x, acc)
    fill = np.asarray(identity(acc), acc)[()]
    x = lax.pad(x, fill, tuple((lo, hi, bd - 1) for (lo, hi), bd in
                               zip(params["padding"], params["base_dilation"])))
    strides = params["window_strides"]
    total = None
    for offset in itertools.product(*[range(k) for k in params["window_dimensions"]]):
        start = [o * wd for o, wd in zip(offset, params["window_dilation"])]
        limit = [st + (n - 1) * s + 1 for st, n, s in zip(start, out_shape, strides)]
        piece = lax.slice(x, start, limit, strides)
        total = piece if total is None else combine(total, piece)
    return [lax.convert_element_type(total, dt)]


# primitive name -> (rewrite(eqn, *operands) -> outputs,
#                    ops(eqn) -> the kernel ops it needs, or None where it does not apply)
DECOMPOSITIONS = {
    "dot_general": (_dot_general, _dot_general_ops),
    "reduce_window_sum": (_reduce_window, _reduce_window_ops),
    "reduce_window_max": (_reduce_window, _reduce_window_ops),
    "reduce_window_min": (_reduce_window, _reduce_window_ops),
}


def _applies(eqn, target) -> bool:
    entry = DECOMPOSITIONS.get(eqn.primitive.name)
    if entry is None or eqn.primitive.name in target.library:
        return False
    if any(0 in v.aval.shape for v in eqn.outvars):
        return False  # fusion allocates empty outputs itself
    ops = entry[1](eqn)
    if ops is None:
        return False
    return (all(target.dtype_ok(d) for _op, ins, out in ops for d in ins + (out,))
            and all(target.op_ok(op, ins, out) for op, ins, out in ops))


def decompose(closed: ClosedJaxpr, target) -> ClosedJaxpr:
    """``closed`` with the primitives ``target`` does not claim rewritten (the same
    object when there is nothing to rewrite)."""
    jaxpr = closed.jaxpr
    todo = {id(e) for e in jaxpr.eqns if _applies(e, target)}
    if not todo:
        return closed
    from plax.interpreters.partial_eval import trace_to_jaxpr
    from plax.interpreters.batching import literal_value

    def run(*args):
        env = dict(zip(jaxpr.constvars, closed.consts))
        env.update(zip(jaxpr.invars, args))

        def read(atom):
            return literal_value(atom) if isinstance(atom, Literal) else env[atom]

        for eqn in jaxpr.eqns:
            ins = [read(a) for a in eqn.invars]
            if id(eqn) in todo:
                outs = DECOMPOSITIONS[eqn.primitive.name][0](eqn, *ins)
            else:
                outs = eqn.primitive.bind(*ins, **eqn.params)
                outs = outs if eqn.primitive.multiple_results else [outs]
            env.update(zip(eqn.outvars, outs))
        return [read(a) for a in jaxpr.outvars]

    return trace_to_jaxpr(run, [v.aval for v in jaxpr.invars])
