"""``cond`` and ``switch``: one primitive, ``cond``, that runs one of its branches.

``cond_p`` takes an int32 index and the operands; ``branches`` is a tuple of
closed jaxprs (branch 0 first) with identical output types. An out-of-range
index is clamped, as in JAX. ``cond(pred, true_fun, false_fun)`` binds
``branches=(false_jaxpr, true_jaxpr)`` with ``index = int32(pred)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from plax import core, dispatch, dtypes
from plax.abstract import ShapedArray
from plax.interpreters import ad, batching
from plax.interpreters.jvp import (
    Zero,
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

__all__ = ["cond", "switch"]

_NO_OPERAND = object()


# ----------------------------------------------------------------------------
# The primitive.


def _cond_abstract_eval(index: ShapedArray, *avals: ShapedArray, branches):
    if not branches:
        raise TypeError("cond: branches must be a non-empty tuple of closed jaxprs")
    if index.shape != () or index.dtype != np.int32:
        raise TypeError(f"cond: the branch index must be an int32 scalar, got {type_text(index)}")
    for i, branch in enumerate(branches):
        common.check_operand_types("cond", f"branch {i}", branch.in_avals, avals)
    out0 = branches[0].out_avals
    for i, branch in enumerate(branches[1:], 1):
        outs = branch.out_avals
        if len(outs) != len(out0) or not all(map(typematch, out0, outs)):
            raise TypeError(
                f"cond: all branches must have identical output types, got "
                f"{common.types_text(out0)} for branch 0 and {common.types_text(outs)} "
                f"for branch {i}"
            )
    # A result is weakly typed only if it is so in every branch.
    return [
        a.update(weak_type=all(b.out_avals[k].weak_type for b in branches))
        for k, a in enumerate(out0)
    ]


def _cond_impl(index, *args, branches):
    i = int(np.clip(int(index), 0, len(branches) - 1))
    branch = branches[i]
    return eval_jaxpr(branch.jaxpr, branch.consts, args)


cond_p = core.Primitive("cond", multiple_results=True)
core.abstract_eval_rules[cond_p] = _cond_abstract_eval
impl_rules[cond_p] = _cond_impl


def _bind_cond(index, consts, operands, branches):
    """Bind ``cond_p`` on branches that share leading ``consts``, leaving out the consts
    that no (transformed) branch reads."""
    n = len(consts)
    used = [False] * n
    for branch in branches:
        jaxpr = branch.jaxpr
        read = {a for e in jaxpr.eqns for a in e.invars if isinstance(a, Var)}
        read.update(a for a in jaxpr.outvars if isinstance(a, Var))
        used = [u or v in read for u, v in zip(used, jaxpr.invars[:n])]
    flags = [not u for u in used] + [False] * len(operands)
    kept = []
    for branch in branches:
        jaxpr = branch.jaxpr
        invars = [v for v, drop in zip(jaxpr.invars, flags) if not drop]
        kept.append(
            ClosedJaxpr(Jaxpr(jaxpr.constvars, invars, jaxpr.outvars, jaxpr.eqns), branch.consts)
        )
    return cond_p.bind(index, *common.pick(consts, used), *operands, branches=tuple(kept))


# -- JVP: the JVP of every branch, with one set of nonzero output tangents.
def _cond_jvp(primals, tangents, *, branches):
    index, *ops = primals
    op_tangents = tangents[1:]
    nonzeros = [
        not is_zero(t) and is_differentiable(core.get_aval(x)) for x, t in zip(ops, op_tangents)
    ]
    n_out = len(branches[0].out_avals)
    out_nz = [False] * n_out
    for branch in branches:
        _, nz = jvp_jaxpr(branch, nonzeros, instantiate=False)
        out_nz = [a or b for a, b in zip(out_nz, nz)]
    jvps = [jvp_jaxpr(branch, nonzeros, instantiate=out_nz)[0] for branch in branches]
    jaxprs, consts = common.merge_closed(jvps)
    dense = common.pick(op_tangents, nonzeros)
    outs = _bind_cond(index, consts, [*ops, *dense], jaxprs)
    tangent_outs = iter(outs[n_out:])
    out_avals = _cond_abstract_eval(
        core.get_aval(index), *map(core.get_aval, ops), branches=branches
    )
    tangents_out = [next(tangent_outs) if nz else Zero(a) for a, nz in zip(out_avals, out_nz)]
    return outs[:n_out], tangents_out


# -- Partial evaluation: a known cond computes the known outputs and the residuals of
# whichever branch runs; a staged cond on the same index computes the unknown outputs.
def _cond_partial_eval(eqn, unknowns):
    branches = eqn.params["branches"]
    index_uk, ops_uk = unknowns[0], list(unknowns[1:])
    n_out = len(eqn.outvars)
    if index_uk:
        return [], [eqn], [True] * n_out
    out_uk = [False] * n_out
    for branch in branches:
        _, _, uk, _ = ad.partial_eval_jaxpr(branch, ops_uk, instantiate=False)
        out_uk = [a or b for a, b in zip(out_uk, uk)]
    splits = [ad.partial_eval_jaxpr(branch, ops_uk, instantiate=out_uk) for branch in branches]
    n_known_out = n_out - sum(out_uk)
    res_avals = [known.out_avals[n_known_out:] for known, _, _, _ in splits]
    slot_avals, slots_of = _share_residual_slots(res_avals)

    ops = list(eqn.invars[1:])
    known_ops = common.pick(ops, ops_uk, False)
    unknown_ops = common.pick(ops, ops_uk, True)
    known_branches = tuple(
        _known_branch(known, n_known_out, slot_avals, slots)
        for (known, _, _, _), slots in zip(splits, slots_of)
    )
    staged_branches = tuple(
        _staged_branch(staged, slot_avals, slots)
        for (_, staged, _, _), slots in zip(splits, slots_of)
    )
    residuals = [Var(a) for a in slot_avals]
    known_outs = common.pick(eqn.outvars, out_uk, False)
    staged_outs = common.pick(eqn.outvars, out_uk, True)
    known_eqns = []
    if known_outs or residuals:
        known_eqns.append(
            JaxprEqn(
                cond_p,
                (eqn.invars[0], *known_ops),
                {"branches": known_branches},
                (*known_outs, *residuals),
            )
        )
    staged_eqns = []
    if staged_outs:
        staged_eqns.append(
            JaxprEqn(
                cond_p,
                (eqn.invars[0], *residuals, *unknown_ops),
                {"branches": staged_branches},
                tuple(staged_outs),
            )
        )
    return known_eqns, staged_eqns, out_uk


def _share_residual_slots(res_avals):
    """Residual slots shared by the branches: branch i's k-th residual goes to
    ``slots_of[i][k]``; a slot is reused by another branch when the types agree."""
    slot_avals: list = []
    slots_of = []
    for avals in res_avals:
        used: set = set()
        mine = []
        for aval in avals:
            slot = next((j for j, a in enumerate(slot_avals) if a == aval and j not in used), None)
            if slot is None:
                slot = len(slot_avals)
                slot_avals.append(aval)
            used.add(slot)
            mine.append(slot)
        slots_of.append(mine)
    return slot_avals, slots_of


def _known_branch(known, n_known_out, slot_avals, slots):
    """The known part of one branch, writing its residuals to their slots (zeros elsewhere)."""

    def fun(*args):
        outs = common.eval_jaxpr_by_bind(known, args)
        full = [None] * len(slot_avals)
        for slot, value in zip(slots, outs[n_known_out:]):
            full[slot] = value
        fill = [zeros_like_aval(a) if v is None else v for v, a in zip(full, slot_avals)]
        return list(outs[:n_known_out]) + fill

    return trace_to_jaxpr(fun, known.in_avals)


def _staged_branch(staged, slot_avals, slots):
    """The staged part of one branch, reading its residuals from their slots."""
    jaxpr = staged.jaxpr
    n_res = len(slots)
    leading = [Var(a) for a in slot_avals]
    for slot, var in zip(slots, jaxpr.invars[:n_res]):
        leading[slot] = var
    new = Jaxpr(jaxpr.constvars, leading + list(jaxpr.invars[n_res:]), jaxpr.outvars, jaxpr.eqns)
    return ClosedJaxpr(new, staged.consts)


# -- Transpose: transpose every branch; the index and the residuals are not linear.
def _cond_transpose(cts, index, *ops, branches):
    if is_undefined_primal(index):
        raise ValueError("cond: the branch index cannot be a linear input")
    linear = [is_undefined_primal(x) for x in ops]
    ct_nonzeros = [not is_zero(ct) for ct in cts]
    transposed = [ad.transpose_jaxpr(b, linear, ct_nonzeros) for b in branches]
    jaxprs, consts = common.merge_closed(transposed)
    residuals = common.pick(ops, linear, False)
    given = [ct for ct in cts if not is_zero(ct)]
    outs = iter(_bind_cond(index, consts, [*residuals, *given], jaxprs))
    return [None] + [next(outs) if lin else None for lin in linear]


# -- Batching: a batched index runs every branch and selects per example (JAX's
# semantics); an unbatched one keeps the cond and batches its branches.
def _cond_batch(args, dims, *, branches):
    from plax.lax.comparisons import eq
    from plax.lax.elementwise import select, select_n
    from plax.lax.shapes import broadcast_in_dim

    size = batching.axis_size_of(args, dims)
    index, index_dim = args[0], dims[0]
    ops, op_dims = list(args[1:]), list(dims[1:])
    n_out = len(branches[0].out_avals)
    if index_dim is not batching.not_mapped:
        index = batching.bdim_at_front(index, index_dim, size)
        ops = [batching.bdim_at_front(x, d, size) for x, d in zip(ops, op_dims)]
        results = []
        for i, branch in enumerate(branches):
            batched, _ = batching.batch_jaxpr(branch, size, [True] * len(ops), True)
            # Inputs of the branches not taken get no gradient (JAX's safety select:
            # a branch producing NaN where it is not selected must not poison grads).
            chosen = eq(index, np.full((size,), i, np.int32))
            guarded = [_select_for_grad(chosen, x, select, broadcast_in_dim) for x in ops]
            results.append(common.eval_jaxpr_by_bind(batched, guarded))
        outs = []
        for cases in zip(*results):
            shape = core.get_aval(cases[0]).shape
            which = broadcast_in_dim(index, shape, (0,))
            outs.append(select_n(which, *cases))
        return outs, [0] * n_out
    in_batched = [d is not batching.not_mapped for d in op_dims]
    out_batched = [False] * n_out
    for branch in branches:
        _, ob = batching.batch_jaxpr(branch, size, in_batched, False)
        out_batched = [a or b for a, b in zip(out_batched, ob)]
    batched = [batching.batch_jaxpr(b, size, in_batched, out_batched)[0] for b in branches]
    jaxprs, consts = common.merge_closed(batched)
    ops = [
        x if d is batching.not_mapped else batching.moveaxis(x, d, 0) for x, d in zip(ops, op_dims)
    ]
    outs = _bind_cond(index, consts, ops, jaxprs)
    return outs, [0 if b else batching.not_mapped for b in out_batched]


def _select_for_grad(chosen, x, select, broadcast_in_dim):
    from plax.lax.ad_util import stop_gradient

    aval = core.get_aval(x)
    if not is_differentiable(aval):
        return x
    which = broadcast_in_dim(chosen, aval.shape, (0,))
    return select(which, x, stop_gradient(x))


jvp_rules[cond_p] = _cond_jvp
ad.partial_eval_rules[cond_p] = _cond_partial_eval
transpose_rules[cond_p] = _cond_transpose
batching.batch_rules[cond_p] = _cond_batch
dispatch.eager_rules[cond_p] = common.eager_rule(cond_p)


# ----------------------------------------------------------------------------
# Staging the branches.


def _stage_branches(api: str, names: Sequence[str], funs: Sequence[Callable], operands):
    """Stage every branch on the operands' types; check that their outputs agree.

    Returns (branch jaxprs, captured values, flat operands, output tree).
    """
    ops_flat, in_tree = tree_flatten(operands)
    in_avals = common.flat_avals(ops_flat)
    traced = [common.trace_fun(f, in_tree, in_avals) for f in funs]
    for name, fun, t in zip(names[1:], funs[1:], traced[1:]):
        _check_branch_outputs(api, names[0], name, funs[0], fun, traced[0], t)
    jaxprs, consts = common.merge_consts(traced)
    return jaxprs, consts, ops_flat, traced[0].out_tree


def _check_branch_outputs(api, name1, name2, f1, f2, t1, t2) -> None:
    where = f"{name1} is {common.fun_name(f1)}\n{name2} is {common.fun_name(f2)}"
    if t1.out_tree != t2.out_tree:
        raise TypeError(
            f"lax.{api}: {name1} and {name2} output must have the same pytree structure, got "
            f"{common.tree_text(t1.out_tree)} and {common.tree_text(t2.out_tree)}.\n{where}\n"
            f"Revise {name1} and/or {name2} so that they return the same structure."
        )
    out1, out2 = t1.out_avals, t2.out_avals
    if all(map(typematch, out1, out2)):
        return
    paths = common.leaf_paths(t1.out_tree)
    diffs = [
        f"the output of {name1}{p} has type {type_text(a)} but the corresponding output of "
        f"{name2} has type {type_text(b)}, {common.mismatch_reason(a, b)}"
        for p, a, b in zip(paths, out1, out2)
        if not typematch(a, b)
    ]
    raise TypeError(
        f"lax.{api}: {name1} and {name2} output must have identical types, got "
        f"{common.types_text(out1)} and {common.types_text(out2)}:\n  "
        + ";\n  ".join(diffs)
        + f".\n{where}\nRevise {name1} and/or {name2} so that all output types match."
    )


def _operands(api: str, operands: tuple, operand):
    if operand is _NO_OPERAND:
        return operands
    if operands:
        raise TypeError(
            f"lax.{api}: if the 'operand' keyword is passed then no positional operands can "
            f"be passed, got operand={operand!r} and positional operands {operands!r}"
        )
    return (operand,)


def _scalar_value_aval(api: str, what: str, value) -> ShapedArray:
    if value is None:
        raise TypeError(f"lax.{api}: the {what} is None")
    if isinstance(value, Sequence) and not isinstance(value, str):
        raise TypeError(
            f"lax.{api}: {what} must be a scalar, got {value!r} of type {type(value).__name__}"
        )
    try:
        aval = core.get_aval(value)
    except TypeError:
        raise TypeError(
            f"lax.{api}: {what} must be a boolean or numeric scalar, got {value!r}"
        ) from None
    if aval.shape != ():
        raise TypeError(
            f"lax.{api}: {what} must be a scalar, got a value of type {type_text(aval)} "
            f"(shape {aval.shape})"
        )
    return aval


# ----------------------------------------------------------------------------
# The public wrappers.


def cond(pred, true_fun, false_fun, *operands, operand=_NO_OPERAND):
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``.

    Both branches are staged; they must return the same pytree of the same types.
    ``pred`` is a boolean or numeric scalar (a number is true when nonzero). The
    old form ``cond(pred, true_operand, true_fun, false_operand, false_fun)`` works too.
    """
    if not (callable(true_fun) and callable(false_fun)):
        if callable(false_fun) and len(operands) == 2 and callable(operands[1]):
            x_true, f_true, x_false, f_false = true_fun, false_fun, operands[0], operands[1]
            return cond(pred, lambda x, _: f_true(x), lambda _, x: f_false(x), x_true, x_false)
        raise TypeError(
            "lax.cond: true_fun and false_fun arguments should be callable, got "
            f"{true_fun!r} and {false_fun!r}"
        )
    operands = _operands("cond", operands, operand)
    aval = _scalar_value_aval("cond", "pred", pred)
    if aval.dtype != dtypes.bool_:
        if not (dtypes.is_integer(aval.dtype) or dtypes.is_float(aval.dtype)):
            raise TypeError(
                f"lax.cond: pred must be a boolean or numeric scalar, got {type_text(aval)}"
            )
        from plax.lax.comparisons import ne

        # As in JAX, a numeric predicate is true when nonzero.
        pred = ne(pred, common.scalar_zero(aval.dtype))
    jaxprs, consts, ops_flat, out_tree = _stage_branches(
        "cond", ("true_fun", "false_fun"), (true_fun, false_fun), operands
    )
    from plax.lax.convert import convert_element_type

    index = convert_element_type(pred, np.int32)
    outs = cond_p.bind(index, *consts, *ops_flat, branches=(jaxprs[1], jaxprs[0]))
    return tree_unflatten(out_tree, outs)


def switch(index, branches: Sequence[Callable], *operands, operand=_NO_OPERAND):
    """``branches[clamp(0, index, len(branches) - 1)](*operands)``."""
    try:
        branches = tuple(branches)
    except TypeError:
        raise TypeError(
            f"lax.switch: branches must be a sequence of callables, got {branches!r}"
        ) from None
    if not branches:
        raise ValueError(
            "lax.switch: Empty branch sequence; branches must hold at least one callable, "
            "got 0 branches"
        )
    bad = [i for i, b in enumerate(branches) if not callable(b)]
    if bad:
        raise TypeError(
            f"lax.switch: branches argument should be a sequence of callables, but branch "
            f"{bad[0]} is {branches[bad[0]]!r}"
        )
    operands = _operands("switch", operands, operand)
    aval = _scalar_value_aval("switch", "branch index", index)
    if not dtypes.is_integer(aval.dtype):
        raise TypeError(
            f"lax.switch: Index type must be an integer, got {index!r} as {aval.dtype.name}"
        )
    if len(branches) == 1:
        return branches[0](*operands)
    from plax.lax.convert import convert_element_type
    from plax.lax.elementwise import clamp

    index = convert_element_type(index, np.int32)
    index = clamp(np.int32(0), index, np.int32(len(branches) - 1))
    names = [f"branch {i}" for i in range(len(branches))]
    jaxprs, consts, ops_flat, out_tree = _stage_branches("switch", names, branches, operands)
    outs = cond_p.bind(index, *consts, *ops_flat, branches=tuple(jaxprs))
    return tree_unflatten(out_tree, outs)
