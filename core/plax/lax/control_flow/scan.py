"""``scan``: a loop over the leading axis of arrays, and ``map`` on top of it.

``scan_p`` operands are ``(*consts, *carry, *xs)``; its ``jaxpr`` maps
``(*consts, *carry, *x_slices)`` to ``(*new_carry, *y_slices)`` and the ys are
stacked along a new leading axis of size ``length``. ``reverse`` walks the
leading axis from the end; ``unroll`` is a hint for backends.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import numpy as np

from plax import core, dispatch
from plax.abstract import ShapedArray
from plax.interpreters import ad, batching
from plax.interpreters.jvp import (
    Zero,
    instantiate,
    is_differentiable,
    is_zero,
    jvp_jaxpr,
    jvp_rules,
    zeros_like_aval,
)
from plax.interpreters.partial_eval import trace_to_jaxpr
from plax.interpreters.reference import eval_jaxpr, impl_rules
from plax.interpreters.transpose import is_undefined_primal, transpose_rules
from plax.jaxpr import ClosedJaxpr, Jaxpr, JaxprEqn, Var
from plax.lax.control_flow import common
from plax.lax.control_flow.common import type_text, typematch
from plax.tree_util import tree_flatten, tree_unflatten

__all__ = ["map", "scan"]

_builtin_map = map

# ----------------------------------------------------------------------------
# scan_p.


def _scan_abstract_eval(
    *avals: ShapedArray,
    jaxpr: ClosedJaxpr,
    length: int,
    reverse: bool,
    unroll: int,
    num_consts: int,
    num_carry: int,
):
    consts = avals[:num_consts]
    carry = avals[num_consts : num_consts + num_carry]
    xs = avals[num_consts + num_carry :]
    bad = [a for a in xs if not a.shape or a.shape[0] != length]
    if bad:
        raise TypeError(
            f"scan: every xs operand needs a leading axis of size length={length}, got "
            f"{common.types_text(xs)}"
        )
    x_avals = tuple(a.update(shape=a.shape[1:]) for a in xs)
    common.check_operand_types("scan", "jaxpr", jaxpr.in_avals, consts + carry + x_avals)
    outs = jaxpr.out_avals
    carry_out = outs[:num_carry]
    if len(carry_out) != num_carry or not all(_builtin_map(typematch, carry_out, carry)):
        raise TypeError(
            f"scan: jaxpr maps the carry {common.types_text(carry)} to "
            f"{common.types_text(carry_out)}; the types must be equal"
        )
    carry_avals = list(jaxpr.in_avals[num_consts : num_consts + num_carry])
    ys = [a.update(shape=(length,) + a.shape) for a in outs[num_carry:]]
    return carry_avals + ys


def _scan_impl(*args, jaxpr, length, reverse, unroll, num_consts, num_carry):
    consts = list(args[:num_consts])
    carry = list(args[num_consts : num_consts + num_carry])
    xs = args[num_consts + num_carry :]
    y_avals = jaxpr.out_avals[num_carry:]
    ys = [np.empty((length,) + a.shape, a.dtype) for a in y_avals]
    steps = range(length - 1, -1, -1) if reverse else range(length)
    for i in steps:
        outs = eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, consts + carry + [x[i] for x in xs])
        carry = outs[:num_carry]
        for y, value in zip(ys, outs[num_carry:]):
            y[i] = value
    return carry + ys


def _bind_scan(jaxpr, consts, init, xs, **params):
    """Bind ``scan_p``, leaving out the consts its (transformed) body does not read."""
    n = len(consts)
    jaxpr, operands, n = common.drop_unused_inputs(
        jaxpr, [*consts, *init, *xs], [True] * n + [False] * (len(init) + len(xs))
    )
    return scan_p.bind(*operands, jaxpr=jaxpr, num_consts=n, num_carry=len(init), **params)


# -- JVP: scan the JVP of the body, carrying tangents next to the carry.
def _scan_jvp(primals, tangents, *, jaxpr, length, reverse, unroll, num_consts, num_carry):
    nonzeros = [
        not is_zero(t) and is_differentiable(core.get_aval(x)) for x, t in zip(primals, tangents)
    ]
    consts_nz, init_nz, xs_nz = common.split(nonzeros, [num_consts, num_carry])
    num_ys = len(jaxpr.out_avals) - num_carry
    carry_nz = common.carry_fixpoint(
        lambda nz: jvp_jaxpr(jaxpr, consts_nz + nz + xs_nz, nz + [False] * num_ys)[1], init_nz
    )
    body, out_nz = jvp_jaxpr(jaxpr, consts_nz + carry_nz + xs_nz, carry_nz + [False] * num_ys)
    ys_nz = out_nz[num_carry:]
    nc, nk, nx = num_consts, num_carry, len(xs_nz)
    nct, nkt, nxt, nyt = sum(consts_nz), sum(carry_nz), sum(xs_nz), sum(ys_nz)
    # Inputs [consts, carry, xs, their tangents] -> [consts, consts_t, carry, carry_t, xs, xs_t].
    c, k, x, ct, kt, xt = common.ranges(nc, nk, nx, nct, nkt, nxt)
    body = common.permute_invars(body, c + ct + k + kt + x + xt)
    # Outputs [carry, ys, carry_t, ys_t] -> [carry, carry_t, ys, ys_t].
    k, y, kt, yt = common.ranges(nk, num_ys, nkt, nyt)
    body = common.permute_outvars(body, k + kt + y + yt)
    (body,), hoisted = common.merge_closed([body])
    consts, init, xs = common.split(primals, [num_consts, num_carry])
    consts_t, init_t, xs_t = common.split(tangents, [num_consts, num_carry])
    outs = _bind_scan(
        body,
        [*hoisted, *consts, *common.pick(consts_t, consts_nz)],
        [*init, *[instantiate(t) for t, nz in zip(init_t, carry_nz) if nz]],
        [*xs, *common.pick(xs_t, xs_nz)],
        length=length,
        reverse=reverse,
        unroll=unroll,
    )
    carry_out, carry_t, ys, ys_t = common.split(outs, [nk, nkt, num_ys])
    primals_out = carry_out + ys
    flags = carry_nz + ys_nz
    given = iter(carry_t + ys_t)
    return primals_out, [
        next(given) if nz else Zero(core.get_aval(p)) for p, nz in zip(primals_out, flags)
    ]


# -- Partial evaluation: a known scan computes the known carry and ys and stacks the
# residuals of every step; a staged scan runs the linear part of the body over them.
def _scan_partial_eval(eqn, unknowns):
    params = eqn.params
    jaxpr, nc, nk = params["jaxpr"], params["num_consts"], params["num_carry"]
    num_ys = len(eqn.outvars) - nk
    length = params["length"]
    consts_uk, init_uk, xs_uk = common.split(unknowns, [nc, nk])
    carry_uk = common.carry_fixpoint(
        lambda uk: ad.partial_eval_jaxpr(jaxpr, consts_uk + uk + xs_uk, uk + [False] * num_ys)[2],
        init_uk,
    )
    known, staged, out_uk, n_res = ad.partial_eval_jaxpr(
        jaxpr, consts_uk + carry_uk + xs_uk, carry_uk + [False] * num_ys
    )
    ys_uk = out_uk[nk:]
    consts, init, xs = common.split(eqn.invars, [nc, nk])
    known_consts = common.pick(consts, consts_uk, False)
    known_init = common.pick(init, carry_uk, False)
    known_xs = common.pick(xs, xs_uk, False)

    # Residuals that are known consts or xs of the body are read from the scan's own
    # operands instead of being stacked again at every step.
    kj = known.jaxpr
    n_known_out = len(kj.outvars) - n_res
    const_in = dict(zip(kj.invars[: len(known_consts)], known_consts))
    xs_in = dict(zip(kj.invars[len(known_consts) + len(known_init) :], known_xs))
    res_vars = kj.outvars[n_known_out:]
    invariant, stacked_pos, stacked_atoms, computed = [], [], [], []
    for i, r in enumerate(res_vars):
        if r in const_in:
            invariant.append(i)
        elif r in xs_in:
            stacked_pos.append(i)
            stacked_atoms.append(xs_in[r])
        else:
            stacked_pos.append(i)
            atom = Var(r.aval.update(shape=(length,) + r.aval.shape))
            stacked_atoms.append(atom)
            computed.append((r, atom))

    known_eqns = []
    known_outs = common.pick(eqn.outvars, carry_uk + ys_uk, False)
    if known_outs or computed:
        body = Jaxpr(
            kj.constvars,
            kj.invars,
            list(kj.outvars[:n_known_out]) + [r for r, _ in computed],
            kj.eqns,
        )
        # Consts only the linear part reads (e.g. a tangent's constants) are dropped here.
        body, operands, n_consts = common.drop_unused_inputs(
            ClosedJaxpr(body, known.consts),
            [*known_consts, *known_init, *known_xs],
            [True] * len(known_consts) + [False] * (len(known_init) + len(known_xs)),
        )
        known_eqns.append(
            JaxprEqn(
                scan_p,
                tuple(operands),
                dict(params, jaxpr=body, num_consts=n_consts, num_carry=len(known_init)),
                (*known_outs, *[atom for _, atom in computed]),
            )
        )
    staged_outs = common.pick(eqn.outvars, carry_uk + ys_uk, True)
    if not staged_outs:
        return known_eqns, [], carry_uk + ys_uk
    u_c, u_k, u_x = sum(consts_uk), sum(carry_uk), sum(xs_uk)
    _, c, k, x = common.ranges(n_res, u_c, u_k, u_x)
    staged = common.permute_invars(staged, invariant + c + k + stacked_pos + x)
    n_consts = len(invariant) + u_c
    staged, operands, n_consts = common.drop_unused_inputs(
        staged,
        [
            *[const_in[res_vars[i]] for i in invariant],
            *common.pick(consts, consts_uk),
            *common.pick(init, carry_uk),
            *stacked_atoms,
            *common.pick(xs, xs_uk),
        ],
        [True] * n_consts + [False] * (len(staged.in_avals) - n_consts),
    )
    staged_eqn = JaxprEqn(
        scan_p,
        tuple(operands),
        dict(params, jaxpr=staged, num_consts=n_consts, num_carry=u_k),
        tuple(staged_outs),
    )
    return known_eqns, [staged_eqn], carry_uk + ys_uk


# -- Transpose: a scan in the other direction over the transposed body, carrying the
# carry's cotangent and accumulating the cotangents of the linear consts.
def _scan_transpose(cts, *args, jaxpr, length, reverse, unroll, num_consts, num_carry):
    from plax.interpreters.jvp import add_tangents

    consts, init, xs = common.split(args, [num_consts, num_carry])
    consts_lin = [is_undefined_primal(a) for a in consts]
    xs_lin = [is_undefined_primal(a) for a in xs]
    ct_carry = [instantiate(ct) for ct in cts[:num_carry]]
    ct_ys = cts[num_carry:]
    ys_nz = [not is_zero(ct) for ct in ct_ys]
    # Every carry is linear here: a carry that is not an UndefPrimal is a known zero
    # tangent (an instantiated symbolic zero); its cotangent is dropped.
    linear = consts_lin + [True] * num_carry + xs_lin
    tbody = ad.transpose_jaxpr(jaxpr, linear, [True] * num_carry + ys_nz)
    res_consts = common.pick(consts, consts_lin, False)
    res_xs = common.pick(xs, xs_lin, False)
    lin_const_avals = [a.aval for a in common.pick(consts, consts_lin)]
    carry_avals = jaxpr.in_avals[num_consts : num_consts + num_carry]
    n_rc, n_lc, n_rx = len(res_consts), len(lin_const_avals), len(res_xs)

    def body(*vals):
        rc, acc, ctc, rx, cty = common.split(vals, [n_rc, n_lc, num_carry, n_rx])
        outs = common.eval_jaxpr_by_bind(tbody, rc + rx + ctc + cty)
        ct_lc, ct_k, ct_lx = common.split(outs, [n_lc, num_carry])
        return [add_tangents(a, b) for a, b in zip(acc, ct_lc)] + ct_k + ct_lx

    ct_y_given = [ct for ct in ct_ys if not is_zero(ct)]
    slice_avals = [_slice_aval(core.get_aval(v)) for v in res_xs + ct_y_given]
    in_avals = (
        [core.get_aval(v) for v in res_consts] + lin_const_avals + list(carry_avals) + slice_avals
    )
    (tscan,), hoisted = common.merge_closed([trace_to_jaxpr(body, in_avals)])
    outs = _bind_scan(
        tscan,
        [*hoisted, *res_consts],
        [*[zeros_like_aval(a) for a in lin_const_avals], *ct_carry],
        [*res_xs, *ct_y_given],
        length=length,
        reverse=not reverse,
        unroll=unroll,
    )
    ct_consts, ct_init, ct_xs = common.split(outs, [n_lc, num_carry])
    ct_consts, ct_xs = iter(ct_consts), iter(ct_xs)
    return (
        [next(ct_consts) if lin else None for lin in consts_lin]
        + [ct if is_undefined_primal(a) else None for a, ct in zip(init, ct_init)]
        + [next(ct_xs) if lin else None for lin in xs_lin]
    )


def _slice_aval(aval: ShapedArray) -> ShapedArray:
    return aval.update(shape=aval.shape[1:])


# -- Batching: scan the batched body; xs keep the scan axis first (batch axis second),
# so the stacked ys come out batched along axis 1.
def _scan_batch(args, dims, *, jaxpr, length, reverse, unroll, num_consts, num_carry):
    size = batching.axis_size_of(args, dims)
    batched = [d is not batching.not_mapped for d in dims]
    consts_b, init_b, xs_b = common.split(batched, [num_consts, num_carry])
    num_ys = len(jaxpr.out_avals) - num_carry
    carry_b = common.carry_fixpoint(
        lambda b: batching.batch_jaxpr(jaxpr, size, consts_b + b + xs_b, b + [False] * num_ys)[1],
        init_b,
    )
    body, out_b = batching.batch_jaxpr(
        jaxpr, size, consts_b + carry_b + xs_b, carry_b + [False] * num_ys
    )
    ys_b = out_b[num_carry:]
    consts, init, xs = common.split(args, [num_consts, num_carry])
    c_dims, i_dims, x_dims = common.split(dims, [num_consts, num_carry])
    consts = [
        batching.bdim_at_front(v, d, size) if b else v for v, d, b in zip(consts, c_dims, consts_b)
    ]
    init = [
        batching.bdim_at_front(v, d, size) if b else v for v, d, b in zip(init, i_dims, carry_b)
    ]
    xs = [v if d is batching.not_mapped else batching.moveaxis(v, d, 1) for v, d in zip(xs, x_dims)]
    (body,), hoisted = common.merge_closed([body])
    outs = _bind_scan(
        body, [*hoisted, *consts], init, xs, length=length, reverse=reverse, unroll=unroll
    )
    out_dims = [0 if b else batching.not_mapped for b in carry_b] + [
        1 if b else batching.not_mapped for b in ys_b
    ]
    return outs, out_dims


scan_p = core.Primitive("scan", multiple_results=True)
core.abstract_eval_rules[scan_p] = _scan_abstract_eval
impl_rules[scan_p] = _scan_impl
jvp_rules[scan_p] = _scan_jvp
ad.partial_eval_rules[scan_p] = _scan_partial_eval
transpose_rules[scan_p] = _scan_transpose
batching.batch_rules[scan_p] = _scan_batch
dispatch.eager_rules[scan_p] = common.eager_rule(scan_p)


# ----------------------------------------------------------------------------
# scan.


def scan(f: Callable, init, xs=None, length=None, reverse: bool = False, unroll=1):
    """Loop ``carry, y = f(carry, x)`` over the leading axis of ``xs``.

    Returns the final carry and the ys stacked along a new leading axis. ``xs`` may be
    any pytree of arrays with one leading size (or None with ``length``); ``reverse``
    runs from the last slice to the first (the ys keep their positions).
    """
    common.check_callable("scan", f=f)
    init_flat, init_tree = tree_flatten(init)
    xs_flat, xs_tree = tree_flatten(xs)
    length = _scan_length(xs_flat, length)
    unroll = _scan_unroll(unroll, length)
    x_avals = [a.update(shape=a.shape[1:]) for a in common.flat_avals(xs_flat)]
    carry_name = common.first_arg_name(f, "carry")
    reverse = bool(reverse)
    y_tree_box = []

    def trace(carry_avals, fix):
        in_tree = tree_flatten(
            (tree_unflatten(init_tree, carry_avals), tree_unflatten(xs_tree, x_avals))
        )[1]
        body = common.trace_fun(
            f, in_tree, list(carry_avals) + x_avals, post=_fix_carry_part(fix, len(carry_avals))
        )
        carry_tree, y_tree = _split_pair(body.out_tree, body.out_avals)
        y_tree_box.append(y_tree)
        return body, carry_tree, body.out_avals[: carry_tree.num_leaves]

    body, init_flat = common.carry_fixed_point("scan", carry_name, init_flat, init_tree, trace)
    outs = scan_p.bind(
        *body.consts,
        *init_flat,
        *xs_flat,
        jaxpr=body.jaxpr,
        length=length,
        reverse=reverse,
        unroll=unroll,
        num_consts=len(body.consts),
        num_carry=len(init_flat),
    )
    carry = tree_unflatten(init_tree, outs[: len(init_flat)])
    ys = tree_unflatten(y_tree_box[-1], outs[len(init_flat) :])
    return carry, ys


def _fix_carry_part(fix, num_carry: int):
    def post(out_tree, outs):
        if out_tree.kind not in (tuple, list) or len(out_tree.children) != 2:
            return outs  # reported by _split_pair with the output's structure
        n = out_tree.children[0].num_leaves
        if n != num_carry:
            return outs  # reported as a carry structure mismatch
        return list(fix(outs[:n])) + list(outs[n:])

    return post


def _split_pair(out_tree, out_avals):
    if out_tree.kind not in (tuple, list) or len(out_tree.children) != 2:
        got = tree_unflatten(out_tree, [type_text(a) for a in out_avals])
        raise TypeError(
            f"lax.scan: the body function must return a pair (carry, y), got {got!r} "
            f"(structure {common.tree_text(out_tree)})"
        )
    return out_tree.children[0], out_tree.children[1]


def _scan_length(xs_flat, length) -> int:
    shapes = []
    for x in xs_flat:
        try:
            aval = core.get_aval(x)
        except TypeError as err:
            raise TypeError(f"lax.scan: xs must be a pytree of arrays: {err}") from None
        if not aval.shape:
            raise ValueError(
                f"lax.scan: got an xs value with no leading axis to scan over: {x!r} of type "
                f"{type_text(aval)}"
            )
        shapes.append(aval.shape)
    lengths = [s[0] for s in shapes]
    if length is not None:
        if isinstance(length, core.Tracer):
            raise core.errors.ConcretizationTypeError(
                length,
                "The `length` argument to `scan` expects a concrete `int` value. For "
                "scan-like iteration with a dynamic length, use `while_loop` or `fori_loop`.",
            )
        try:
            length = operator.index(length)
        except TypeError:
            raise TypeError(f"lax.scan: length must be an integer, got {length!r}") from None
        if length < 0:
            raise ValueError(f"lax.scan: length must be non-negative, got {length}")
        if any(n != length for n in lengths):
            raise ValueError(
                f"lax.scan: got `length` argument of {length} which disagrees with the leading "
                f"axis sizes of xs {lengths} (xs shapes {shapes})"
            )
        return length
    if not lengths:
        raise ValueError(
            "lax.scan: got no values to scan over and `length` not provided; pass xs or length=..."
        )
    if len(set(lengths)) > 1:
        raise ValueError(
            "lax.scan: got xs with different leading axis sizes: "
            + ", ".join(str(n) for n in lengths)
            + f" (xs shapes {shapes}); every leaf of xs must have the same leading size"
        )
    return lengths[0]


def _scan_unroll(unroll, length: int) -> int:
    if isinstance(unroll, core.Tracer):
        raise core.errors.ConcretizationTypeError(
            unroll, "The `unroll` argument to `scan` expects a concrete `int` or `bool` value."
        )
    if isinstance(unroll, (bool, np.bool_)):
        return max(length, 1) if unroll else 1
    try:
        unroll = operator.index(unroll)
    except TypeError:
        raise TypeError(
            f"lax.scan: unroll must be a bool or a non-negative int, got {unroll!r}"
        ) from None
    if unroll < 0:
        raise ValueError(f"lax.scan: unroll must be a bool or a non-negative int, got {unroll}")
    return unroll


# ----------------------------------------------------------------------------
# map.


def map(f: Callable, xs, *, batch_size: int | None = None):
    """``f`` applied to each slice of ``xs`` along the leading axis, results stacked.

    With ``batch_size``, ``f`` is vmapped over chunks of that many slices (and the
    remainder), which trades memory for fewer loop steps.
    """
    common.check_callable("map", f=f)
    if batch_size is not None:
        return _batched_map(f, xs, batch_size)
    _, ys = scan(lambda _, x: ((), f(x)), (), xs)
    return ys


def _batched_map(f, xs, batch_size):
    from plax.lax.shapes import concatenate, reshape, slice_in_dim
    from plax.vmap_api import vmap

    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"lax.map: batch_size must be a positive integer, got {batch_size!r}")
    if batch_size <= 0:
        raise ValueError(f"lax.map: batch_size must be a positive integer, got {batch_size}")
    xs_flat, xs_tree = tree_flatten(xs)
    n = _scan_length(xs_flat, None)
    num_batches, rem = divmod(n, batch_size)
    if num_batches == 0 or (num_batches == 1 and rem == 0):
        # One vmapped call covers everything (n == 0 goes through scan for its types).
        return vmap(f)(xs) if n else map(f, xs)
    fv = vmap(f)
    chunks = [
        reshape(
            slice_in_dim(x, 0, num_batches * batch_size, axis=0),
            (num_batches, batch_size) + core.get_aval(x).shape[1:],
        )
        for x in xs_flat
    ]
    ys_flat, ys_tree = tree_flatten(map(fv, tree_unflatten(xs_tree, chunks)))
    ys_flat = [
        reshape(y, (num_batches * batch_size,) + core.get_aval(y).shape[2:]) for y in ys_flat
    ]
    if rem:
        tail = [slice_in_dim(x, num_batches * batch_size, n, axis=0) for x in xs_flat]
        tail_ys = tree_flatten(fv(tree_unflatten(xs_tree, tail)))[0]
        ys_flat = [concatenate([y, t], 0) for y, t in zip(ys_flat, tail_ys)]
    return tree_unflatten(ys_tree, ys_flat)
