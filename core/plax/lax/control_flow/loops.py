"""Loops: the ``while`` primitive, with ``while_loop`` and ``fori_loop`` on top.

``while_p`` operands are ``(*cond_consts, *body_consts, *carry)``; its
``cond_jaxpr`` maps ``(*cond_consts, *carry)`` to a boolean scalar and its
``body_jaxpr`` maps ``(*body_consts, *carry)`` to the new carry.

A ``fori_loop`` with concrete bounds is a ``scan`` (see ``scan.py``), so that
it can be reverse-differentiated; with traced bounds it is a ``while_loop``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from plax import core, dispatch, dtypes
from plax.abstract import ShapedArray
from plax.interpreters import ad, batching
from plax.interpreters.jvp import (
    Zero,
    instantiate,
    is_differentiable,
    is_zero,
    jvp_jaxpr,
    jvp_rules,
)
from plax.interpreters.partial_eval import trace_to_jaxpr
from plax.interpreters.reference import eval_jaxpr, impl_rules
from plax.interpreters.transpose import transpose_rules
from plax.jaxpr import ClosedJaxpr, JaxprEqn, Var
from plax.lax.control_flow import common
from plax.lax.control_flow.common import type_text, typematch
from plax.lax.control_flow.scan import scan
from plax.tree_util import tree_flatten, tree_unflatten

__all__ = ["fori_loop", "while_loop"]

# ----------------------------------------------------------------------------
# while_p.


def _while_abstract_eval(
    *avals: ShapedArray,
    cond_jaxpr: ClosedJaxpr,
    body_jaxpr: ClosedJaxpr,
    cond_nconsts: int,
    body_nconsts: int,
):
    cond_consts = avals[:cond_nconsts]
    body_consts = avals[cond_nconsts : cond_nconsts + body_nconsts]
    carry = avals[cond_nconsts + body_nconsts :]
    common.check_operand_types("while", "cond_jaxpr", cond_jaxpr.in_avals, cond_consts + carry)
    common.check_operand_types("while", "body_jaxpr", body_jaxpr.in_avals, body_consts + carry)
    pred = cond_jaxpr.out_avals
    if len(pred) != 1 or pred[0].shape != () or pred[0].dtype != dtypes.bool_:
        raise TypeError(
            f"while: cond_jaxpr must return one boolean scalar, got {common.types_text(pred)}"
        )
    outs = body_jaxpr.out_avals
    if len(outs) != len(carry) or not all(map(typematch, outs, carry)):
        raise TypeError(
            f"while: body_jaxpr maps the carry {common.types_text(carry)} to "
            f"{common.types_text(outs)}; the types must be equal"
        )
    return list(body_jaxpr.in_avals[body_nconsts:])


def _while_impl(*args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cond_consts = list(args[:cond_nconsts])
    body_consts = list(args[cond_nconsts : cond_nconsts + body_nconsts])
    carry = list(args[cond_nconsts + body_nconsts :])
    while True:
        (pred,) = eval_jaxpr(cond_jaxpr.jaxpr, cond_jaxpr.consts, cond_consts + carry)
        if not bool(pred):
            return carry
        carry = eval_jaxpr(body_jaxpr.jaxpr, body_jaxpr.consts, body_consts + carry)


# -- JVP (forward mode): the carry gains tangents; the body becomes its JVP.
def _while_jvp(primals, tangents, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    nonzeros = [
        not is_zero(t) and is_differentiable(core.get_aval(x)) for x, t in zip(primals, tangents)
    ]
    cconsts, bconsts, init = common.split(primals, [cond_nconsts, body_nconsts])
    _, bconst_t, init_t = common.split(tangents, [cond_nconsts, body_nconsts])
    _, bconst_nz, init_nz = common.split(nonzeros, [cond_nconsts, body_nconsts])
    carry_nz = common.carry_fixpoint(
        lambda nz: jvp_jaxpr(body_jaxpr, bconst_nz + nz, instantiate=nz)[1], init_nz
    )
    if not any(carry_nz):
        # Only the condition depends on the differentiated inputs: no tangents flow.
        outs = while_p.bind(
            *primals,
            cond_jaxpr=cond_jaxpr,
            body_jaxpr=body_jaxpr,
            cond_nconsts=cond_nconsts,
            body_nconsts=body_nconsts,
        )
        return outs, [Zero(core.get_aval(o)) for o in outs]
    body_jvp, _ = jvp_jaxpr(body_jaxpr, bconst_nz + carry_nz, instantiate=carry_nz)
    # JVP inputs [bconsts, carry, bconst tangents, carry tangents] become
    # [bconsts, bconst tangents, carry, carry tangents] (consts first, as while_p wants).
    nb, nc = len(bconsts), len(init)
    nbt, nct = sum(bconst_nz), sum(carry_nz)
    b, k, bt, kt = common.ranges(nb, nc, nbt, nct)
    body_jvp = common.permute_invars(body_jvp, b + bt + k + kt)
    (body_jvp,), hoisted = common.merge_closed([body_jvp])
    tangent_avals = [a for a, nz in zip(body_jaxpr.out_avals, carry_nz) if nz]
    cond_jvp = common.insert_invars(cond_jaxpr, len(cond_jaxpr.in_avals), tangent_avals)
    dense_init_t = [instantiate(t) for t, nz in zip(init_t, carry_nz) if nz]
    outs = while_p.bind(
        *cconsts,
        *hoisted,
        *bconsts,
        *common.pick(bconst_t, bconst_nz),
        *init,
        *dense_init_t,
        cond_jaxpr=cond_jvp,
        body_jaxpr=body_jvp,
        cond_nconsts=cond_nconsts,
        body_nconsts=len(hoisted) + nb + nbt,
    )
    carry_out, tangents_out = outs[:nc], iter(outs[nc:])
    return carry_out, [
        next(tangents_out) if nz else Zero(core.get_aval(x)) for x, nz in zip(carry_out, carry_nz)
    ]


# -- Reverse mode: JAX's behaviour. Linearizing works (the known part of the carry is
# computed by a known loop, the rest by the whole loop again); transposing fails.
_WHILE_REVERSE_ERROR = (
    "Reverse-mode differentiation does not work for lax.while_loop or lax.fori_loop with "
    "dynamic start/stop values. Try using lax.scan, or using fori_loop with static start/stop."
)


def _while_partial_eval(eqn, unknowns):
    params = eqn.params
    cond_jaxpr, body_jaxpr = params["cond_jaxpr"], params["body_jaxpr"]
    nc_c, nc_b = params["cond_nconsts"], params["body_nconsts"]
    cconst_uk, bconst_uk, init_uk = common.split(unknowns, [nc_c, nc_b])
    carry_uk = common.carry_fixpoint(
        lambda uk: ad.partial_eval_jaxpr(body_jaxpr, bconst_uk + uk, instantiate=uk)[2], init_uk
    )
    _, _, pred_uk, _ = ad.partial_eval_jaxpr(cond_jaxpr, cconst_uk + carry_uk, instantiate=False)
    everything = [], [eqn], [True] * len(eqn.outvars)
    if pred_uk[0] or all(carry_uk):
        return everything
    # The known carry does not depend on the unknown one: a loop over it alone gives the
    # known outputs. Its per-iteration residuals are dropped; the staged loop recomputes.
    known_body, _, _, n_res = ad.partial_eval_jaxpr(
        body_jaxpr, bconst_uk + carry_uk, instantiate=carry_uk
    )
    known_cond, _, _, _ = ad.partial_eval_jaxpr(cond_jaxpr, cconst_uk + carry_uk, instantiate=False)
    n_known = len(known_body.out_avals) - n_res
    known_body = common.select_outvars(known_body, [True] * n_known + [False] * n_res)
    known_cond = common.select_outvars(
        known_cond, [True] + [False] * (len(known_cond.out_avals) - 1)
    )
    cconsts, bconsts, init = common.split(eqn.invars, [nc_c, nc_b])
    known_cconsts = common.pick(cconsts, cconst_uk, False)
    known_bconsts = common.pick(bconsts, bconst_uk, False)
    known_eqn = JaxprEqn(
        while_p,
        (*known_cconsts, *known_bconsts, *common.pick(init, carry_uk, False)),
        dict(
            params,
            cond_jaxpr=known_cond,
            body_jaxpr=known_body,
            cond_nconsts=len(known_cconsts),
            body_nconsts=len(known_bconsts),
        ),
        tuple(common.pick(eqn.outvars, carry_uk, False)),
    )
    if not any(carry_uk):
        return [known_eqn], [], carry_uk
    fresh = tuple(Var(v.aval) if not uk else v for v, uk in zip(eqn.outvars, carry_uk))
    return [known_eqn], [eqn.replace(outvars=fresh)], carry_uk


def _while_transpose(cts, *args, **params):
    raise ValueError(_WHILE_REVERSE_ERROR)


# -- Batching: a batched condition runs until every example is done, keeping the body's
# result only where the example's condition still holds.
def _while_batch(args, dims, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    size = batching.axis_size_of(args, dims)
    batched = [d is not batching.not_mapped for d in dims]
    cconst_b, bconst_b, init_b = common.split(batched, [cond_nconsts, body_nconsts])
    carry_b = common.carry_fixpoint(
        lambda b: batching.batch_jaxpr(body_jaxpr, size, bconst_b + b, b)[1], init_b
    )
    _, (pred_b,) = batching.batch_jaxpr(cond_jaxpr, size, cconst_b + carry_b, False)
    if pred_b:
        carry_b = [True] * len(carry_b)
    args = [
        batching.bdim_at_front(x, d, size) if b else x
        for x, d, b in zip(args, dims, cconst_b + bconst_b + [False] * len(init_b))
    ]
    cconsts, bconsts, init = common.split(args, [cond_nconsts, body_nconsts])
    init = [
        batching.bdim_at_front(x, d, size) if b else x
        for x, d, b in zip(init, dims[cond_nconsts + body_nconsts :], carry_b)
    ]
    body_b, _ = batching.batch_jaxpr(body_jaxpr, size, bconst_b + carry_b, carry_b)
    cond_b, _ = batching.batch_jaxpr(cond_jaxpr, size, cconst_b + carry_b, pred_b)
    if pred_b:
        cond_new, body_new = _all_lanes_loop(cond_b, body_b, cond_nconsts)
        (cond_new, body_new), hoisted = common.merge_closed([cond_new, body_new])
        outs = while_p.bind(
            *hoisted,
            *cconsts,
            *hoisted,
            *cconsts,
            *bconsts,
            *init,
            cond_jaxpr=cond_new,
            body_jaxpr=body_new,
            cond_nconsts=len(hoisted) + cond_nconsts,
            body_nconsts=len(hoisted) + cond_nconsts + body_nconsts,
        )
    else:
        (cond_b,), c_hoisted = common.merge_closed([cond_b])
        (body_b,), b_hoisted = common.merge_closed([body_b])
        outs = while_p.bind(
            *c_hoisted,
            *cconsts,
            *b_hoisted,
            *bconsts,
            *init,
            cond_jaxpr=cond_b,
            body_jaxpr=body_b,
            cond_nconsts=len(c_hoisted) + cond_nconsts,
            body_nconsts=len(b_hoisted) + body_nconsts,
        )
    return outs, [0 if b else batching.not_mapped for b in carry_b]


def _all_lanes_loop(cond_b, body_b, cond_nconsts):
    """The loop of a batched predicate: go on while any lane's condition holds; a
    lane whose condition is false keeps its carry."""
    from plax.lax.elementwise import select
    from plax.lax.reductions import reduce_or
    from plax.lax.shapes import broadcast_in_dim

    n_carry = len(body_b.out_avals)

    def cond_fun(*args):
        (pred,) = common.eval_jaxpr_by_bind(cond_b, args)
        return [reduce_or(pred, (0,))]

    def body_fun(*args):
        cconsts = args[:cond_nconsts]
        rest = args[cond_nconsts:]
        carry = rest[len(rest) - n_carry :]
        (pred,) = common.eval_jaxpr_by_bind(cond_b, list(cconsts) + list(carry))
        new = common.eval_jaxpr_by_bind(body_b, rest)
        out = []
        for old, value in zip(carry, new):
            which = broadcast_in_dim(pred, core.get_aval(old).shape, (0,))
            out.append(select(which, value, old))
        return out

    body_avals = cond_b.in_avals[:cond_nconsts] + body_b.in_avals
    return trace_to_jaxpr(cond_fun, cond_b.in_avals), trace_to_jaxpr(body_fun, body_avals)


while_p = core.Primitive("while", multiple_results=True)
core.abstract_eval_rules[while_p] = _while_abstract_eval
impl_rules[while_p] = _while_impl
jvp_rules[while_p] = _while_jvp
ad.partial_eval_rules[while_p] = _while_partial_eval
transpose_rules[while_p] = _while_transpose
batching.batch_rules[while_p] = _while_batch
dispatch.eager_rules[while_p] = common.eager_rule(while_p)


# ----------------------------------------------------------------------------
# while_loop.


def while_loop(cond_fun: Callable, body_fun: Callable, init_val):
    """Repeat ``val = body_fun(val)`` while ``cond_fun(val)``; return the final ``val``.

    The carry keeps one pytree structure and one type for every leaf. Forward-mode
    differentiable and batchable; reverse mode needs ``scan`` (or a ``fori_loop``
    with static bounds).
    """
    common.check_callable("while_loop", cond_fun=cond_fun, body_fun=body_fun)
    init_flat, init_tree = tree_flatten(init_val)
    args_tree = tree_flatten((init_val,))[1]
    carry_name = common.first_arg_name(body_fun, "val")

    def trace(carry_avals, fix):
        cond = common.trace_fun(cond_fun, args_tree, carry_avals)
        _check_predicate(cond)
        body = common.trace_fun(body_fun, args_tree, carry_avals, post=_fix_all(fix, carry_avals))
        return (cond, body), body.out_tree, body.out_avals

    (cond, body), init_flat = common.carry_fixed_point(
        "while_loop", carry_name, init_flat, init_tree, trace
    )
    outs = while_p.bind(
        *cond.consts,
        *body.consts,
        *init_flat,
        cond_jaxpr=cond.jaxpr,
        body_jaxpr=body.jaxpr,
        cond_nconsts=len(cond.consts),
        body_nconsts=len(body.consts),
    )
    return tree_unflatten(init_tree, outs)


def _fix_all(fix, carry_avals):
    def post(out_tree, outs):
        return fix(outs) if len(outs) == len(carry_avals) else outs

    return post


def _check_predicate(cond: common.Traced) -> None:
    outs = cond.out_avals
    if cond.out_tree.kind is not None or len(outs) != 1:
        raise TypeError(
            "lax.while_loop: cond_fun must return a boolean scalar, but got a pytree "
            f"{common.tree_text(cond.out_tree)} of types {common.types_text(outs)}"
        )
    (pred,) = outs
    if pred.shape != () or pred.dtype != dtypes.bool_:
        raise TypeError(
            "lax.while_loop: cond_fun must return a boolean scalar, but got output type "
            f"{type_text(pred)}"
        )


# ----------------------------------------------------------------------------
# fori_loop.


def _fori_dtype(lower, upper):
    """JAX's rule: equal dtypes, or two signed integer types of which one is weak."""
    lo = core.get_aval(lower)
    hi = core.get_aval(upper)
    if lo.dtype == hi.dtype:
        return lo.dtype
    if dtypes.is_signed(lo.dtype) and dtypes.is_signed(hi.dtype):
        if lo.weak_type and not hi.weak_type:
            return hi.dtype
        if hi.weak_type and not lo.weak_type:
            return lo.dtype
    raise TypeError(
        "lax.fori_loop: lower and upper arguments to fori_loop must have equal types, got "
        f"{lo.dtype.name} (lower) and {hi.dtype.name} (upper); convert one of them, e.g. "
        f"upper.astype({lo.dtype.name})"
    )


def _plus_one(i):
    from plax.lax.elementwise import add

    aval = core.get_aval(i)
    one = 1 if aval.weak_type else np.ones((), aval.dtype)[()]
    return add(i, one)


def fori_loop(lower, upper, body_fun: Callable, init_val, *, unroll=None):
    """``for i in range(lower, upper): val = body_fun(i, val)``; returns ``val``.

    With concrete bounds (Python or numpy integers) the loop is a ``scan`` of
    ``upper - lower`` steps, so it can be reverse-differentiated; with traced
    bounds it is a ``while_loop`` (forward mode only).
    """
    common.check_callable("fori_loop", body_fun=body_fun)
    dtype = _fori_dtype(lower, upper)
    if not isinstance(lower, core.Tracer) and not isinstance(upper, core.Tracer):
        lower_, upper_ = int(np.asarray(lower)), int(np.asarray(upper))
        length = max(upper_ - lower_, 0)

        def step(carry, _):
            i, val = carry
            return (_plus_one(i), body_fun(i, val)), None

        (_, result), _ = scan(
            step, (lower_, init_val), None, length=length, unroll=1 if unroll is None else unroll
        )
        return result
    if unroll is not None and unroll is not False and unroll != 1:
        raise ValueError(
            "lax.fori_loop: `unroll` can only be used when the loop bounds are statically "
            "known (concrete integers), but lower or upper is traced"
        )
    from plax.lax.comparisons import lt
    from plax.lax.convert import convert_element_type

    if core.get_aval(lower).dtype != dtype:
        lower = convert_element_type(lower, dtype)
    if core.get_aval(upper).dtype != dtype:
        upper = convert_element_type(upper, dtype)

    def cond_fun(carry):
        i, stop, _ = carry
        return lt(i, stop)

    def body(carry):
        i, stop, val = carry
        return _plus_one(i), stop, body_fun(i, val)

    _, _, result = while_loop(cond_fun, body, (lower, upper, init_val))
    return result
