"""Custom derivative rules (``custom_jvp``, ``custom_vjp``) and ``checkpoint``.

Each is a call primitive holding the function's jaxpr (``call_jaxpr`` or
``jaxpr``), so that the rule survives staging: in ``grad(jit(f))`` a custom
function inside ``f`` is still differentiated by its rule when ``f``'s jaxpr
is. Outside any transformation the function is simply called.

* ``custom_jvp_call``: the JVP rule calls the user's ``jvp``.
* ``custom_vjp_call``: the JVP rule runs ``fwd`` and emits ``custom_lin`` on the
  tangents; reverse mode transposes ``custom_lin`` by calling ``bwd`` with the
  residuals. Forward mode alone evaluates ``custom_lin`` and raises JAX's
  "can't apply forward-mode autodiff (jvp) to a custom_vjp function."
* ``checkpoint`` (``remat``): reverse mode saves only the inputs of the
  checkpointed function and recomputes everything else during the backward
  pass. ``policy`` is accepted for compatibility and ignored (nothing else is
  saved, as with ``checkpoint_policies.nothing_saveable``).

A function closed over by a custom function is treated as a constant with
respect to differentiation (its tangent does not flow through the custom rule).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

import numpy as np

from plax import core, dispatch, passes
from plax.abstract import ShapedArray
from plax.api import jit_p
from plax.interpreters import ad, batching
from plax.interpreters import jvp as ad_jvp
from plax.interpreters.jvp import Zero, eval_jaxpr, jvp_rules
from plax.interpreters.partial_eval import convert_constvars_to_invars, trace_to_jaxpr
from plax.interpreters.reference import eval_closed_jaxpr, impl_rules
from plax.interpreters.transpose import is_undefined_primal, transpose_rules
from plax.jaxpr import ClosedJaxpr, Jaxpr, JaxprEqn
from plax.tree_util import tree_flatten, tree_map, tree_structure, tree_unflatten

__all__ = ["checkpoint", "checkpoint_policies", "custom_jvp", "custom_vjp", "remat"]


# ----------------------------------------------------------------------------
# Shared helpers.


def _fun_name(fun) -> str:
    return getattr(fun, "__name__", repr(fun))


def _resolve_kwargs(fun: Callable, args: tuple, kwargs: dict) -> tuple:
    """Keyword arguments moved into position, as JAX's custom functions do."""
    if not kwargs:
        return args
    try:
        bound = inspect.signature(fun).bind(*args, **kwargs)
    except (TypeError, ValueError) as err:
        raise TypeError(f"cannot bind the arguments of {_fun_name(fun)}: {err}") from None
    bound.apply_defaults()
    if bound.kwargs:
        raise TypeError(
            f"keyword-only arguments {sorted(bound.kwargs)} are not supported by custom "
            f"derivative functions; pass them positionally to {_fun_name(fun)}"
        )
    return bound.args


def _is_top_level(flat_args) -> bool:
    return isinstance(core.find_top_trace(flat_args), core.EvalTrace)


def _stage(flat_fun: Callable, flat_args) -> tuple[ClosedJaxpr, list]:
    """``flat_fun`` as a jaxpr; consts that are tracers become leading arguments."""
    closed = trace_to_jaxpr(flat_fun, [core.get_aval(x) for x in flat_args])
    return convert_constvars_to_invars(closed)


def _aval_text(aval: ShapedArray) -> str:
    return f"{aval.dtype.name}[{','.join(str(d) for d in aval.shape)}]"


def _eval_call(*args, **params):
    """Eager evaluation of a call primitive: its jaxpr, one primitive at a time."""
    jaxpr = params.get("call_jaxpr", params.get("jaxpr"))
    return eval_jaxpr(jaxpr, args)


def _call_abstract_eval(*avals, **params):
    jaxpr = params.get("call_jaxpr", params.get("jaxpr"))
    return list(jaxpr.out_avals)


def _call_impl(*args, **params):
    jaxpr = params.get("call_jaxpr", params.get("jaxpr"))
    return eval_closed_jaxpr(jaxpr, args)


class _StagedCall:
    """One call of a custom function under a transformation: where its
    non-differentiated arguments go back (``static``, (position, value) pairs) and
    the pytree structures of the differentiated arguments and of the result."""

    def __init__(self, static: list, in_tree, num_args: int):
        self.static = static
        self.in_tree = in_tree
        self.num_args = num_args
        self.out_tree = None

    @property
    def nondiff_values(self) -> list:
        return [value for _, value in self.static]

    def full_args(self, flat_args) -> list:
        """Every argument, from the flat differentiated ones."""
        full = list(tree_unflatten(self.in_tree, flat_args))
        for i, value in self.static:
            full.insert(i, value)
        return full


class _CustomFunction:
    """What ``custom_jvp`` and ``custom_vjp`` share: outside any transformation a call
    runs the function; otherwise the function is staged as a jaxpr of its flat
    differentiated arguments and the subclass's ``_bind`` binds it with the rule."""

    def __init__(self, fun: Callable, nondiff_argnums=()):
        functools.update_wrapper(self, fun, updated=())
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)

    def __get__(self, instance, owner=None):
        return self if instance is None else functools.partial(self, instance)

    def _check_rule(self) -> None:
        raise NotImplementedError

    def _bind(self, call: _StagedCall, closed: ClosedJaxpr, lifted: list, flat: list) -> list:
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self._check_rule()
        args = _resolve_kwargs(self.fun, args, kwargs)
        nondiff = {i % len(args) for i in self.nondiff_argnums}
        static = [(i, a) for i, a in enumerate(args) if i in nondiff]
        diff_args = tuple(a for i, a in enumerate(args) if i not in nondiff)
        flat, in_tree = tree_flatten(diff_args)
        if _is_top_level(flat):
            return self.fun(*args)
        call = _StagedCall(static, in_tree, len(diff_args))

        def flat_fun(*flat_args):
            out_flat, call.out_tree = tree_flatten(self.fun(*call.full_args(flat_args)))
            return out_flat

        closed, lifted = _stage(flat_fun, flat)
        outs = self._bind(call, closed, lifted, flat)
        return tree_unflatten(call.out_tree, outs)


# ----------------------------------------------------------------------------
# custom_jvp.


def _custom_jvp_call_jvp(primals, tangents, *, call_jaxpr, jvp, num_consts, symbolic_zeros):
    args = primals[num_consts:]
    arg_tangents = [
        ad_jvp.instantiate(t) if ad_jvp.is_differentiable(core.get_aval(x)) else _float0(x)
        for x, t in zip(args, tangents[num_consts:])
    ]
    outs, out_tangents = jvp(args, arg_tangents)
    return outs, [Zero(core.get_aval(x)) if t is None else t for x, t in zip(outs, out_tangents)]


def _custom_jvp_call_batch(args, dims, *, call_jaxpr, jvp, num_consts, symbolic_zeros):
    size = batching.axis_size_of(args, dims)
    consts, rest = args[:num_consts], args[num_consts:]
    const_dims, rest_dims = dims[:num_consts], dims[num_consts:]
    consts = [batching.bdim_at_front(c, d, size) for c, d in zip(consts, const_dims)]
    in_batched = [True] * num_consts + [d is not batching.not_mapped for d in rest_dims]
    rest = [
        x if d is batching.not_mapped else batching.moveaxis(x, d, 0)
        for x, d in zip(rest, rest_dims)
    ]
    batched, _ = batching.batch_jaxpr(call_jaxpr, size, in_batched, True)
    batched, lifted = convert_constvars_to_invars(batched)
    if lifted:
        raise NotImplementedError("vmap of a custom_jvp function that closes over traced values")
    rest_in_axes = tuple(0 if b else None for b in in_batched[num_consts:])

    def batched_jvp(primals, tangents):
        from plax.vmap_api import vmap

        def one(ps, ts):
            out, out_t = jvp(list(ps), list(ts))
            return list(out), [ad_jvp.instantiate(t) if t is not None else None for t in out_t]

        return vmap(one, in_axes=(rest_in_axes, rest_in_axes))(tuple(primals), tuple(tangents))

    outs = custom_jvp_call_p.bind(
        *consts,
        *rest,
        call_jaxpr=batched,
        jvp=batched_jvp,
        num_consts=num_consts,
        symbolic_zeros=symbolic_zeros,
    )
    return outs, [0] * len(outs)


custom_jvp_call_p = core.Primitive("custom_jvp_call", multiple_results=True)
core.abstract_eval_rules[custom_jvp_call_p] = _call_abstract_eval
impl_rules[custom_jvp_call_p] = _call_impl
dispatch.eager_rules[custom_jvp_call_p] = _eval_call
jvp_rules[custom_jvp_call_p] = _custom_jvp_call_jvp
batching.batch_rules[custom_jvp_call_p] = _custom_jvp_call_batch


def _float0(x):
    from plax.autodiff import float0

    return np.zeros(core.get_aval(x).shape, float0)


class custom_jvp(_CustomFunction):
    """A function with a custom JVP rule (``defjvp``) or per-argument rules (``defjvps``).

    ``nondiff_argnums`` name positional arguments that are not differentiated
    (static Python values such as functions or flags); they are passed first to
    the rule: ``jvp(*nondiff_args, primals, tangents)``.
    """

    def __init__(self, fun: Callable, nondiff_argnums=(), symbolic_zeros: bool = False):
        super().__init__(fun, nondiff_argnums)
        self.jvp = None
        self.symbolic_zeros = symbolic_zeros

    def defjvp(self, jvp: Callable, symbolic_zeros: bool = False) -> Callable:
        """Set the rule ``jvp(primals, tangents) -> (primal_out, tangent_out)``."""
        self.jvp = jvp
        return jvp

    def defjvps(self, *jvps) -> None:
        """One rule per argument: ``jvps[i](g, primal_out, *primals)`` is the tangent
        contributed by argument ``i``'s tangent ``g`` (None: argument ``i`` contributes
        nothing)."""

        def jvp(primals, tangents):
            out = self(*primals)
            total = None
            for rule, g in zip(jvps, tangents):
                if rule is None:
                    continue
                term = rule(g, out, *primals)
                total = term if total is None else tree_map(_add, total, term)
            if total is None:
                total = tree_map(lambda y: ad_jvp.zeros_like_aval(core.get_aval(y)), out)
            return out, total

        self.defjvp(jvp)

    def _check_rule(self) -> None:
        if self.jvp is None:
            name = _fun_name(self.fun)
            raise AttributeError(f"No JVP defined for custom_jvp function {name} using defjvp.")

    def _bind(self, call: _StagedCall, closed: ClosedJaxpr, lifted: list, flat: list) -> list:
        name = _fun_name(self.fun)
        user_jvp = self.jvp

        def flat_jvp(primals_flat, tangents_flat):
            primals = tree_unflatten(call.in_tree, primals_flat)
            tangents = tree_unflatten(call.in_tree, tangents_flat)
            result = user_jvp(*call.nondiff_values, primals, tangents)
            return _check_jvp_result(result, call.out_tree, user_jvp, name)

        return custom_jvp_call_p.bind(
            *lifted,
            *flat,
            call_jaxpr=closed,
            jvp=flat_jvp,
            num_consts=len(lifted),
            symbolic_zeros=self.symbolic_zeros,
        )


def _add(x, y):
    from plax import lax

    return lax.add(x, y)


def _check_jvp_result(result, out_tree, rule, name):
    rule_name = _fun_name(rule)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise TypeError(
            f"Custom JVP rule {rule_name} for function {name} must produce a pair (list or "
            "tuple of length two) representing primal and tangent outputs, but got "
            f"{result!r}."
        )
    out, out_t = result
    out_flat, tree = tree_flatten(out)
    t_flat, t_tree = tree_flatten(out_t)
    if tree != out_tree:
        raise TypeError(
            f"Custom JVP rule {rule_name} for function {name} must produce primal outputs "
            f"with equal container (pytree) structures to those of the function, but got "
            f"{tree} and {out_tree} respectively."
        )
    if t_tree != tree:
        raise TypeError(
            f"Custom JVP rule {rule_name} for function {name} must produce primal and tangent "
            f"outputs with equal container (pytree) structures, but got {tree} and {t_tree} "
            "respectively."
        )
    tangents = []
    for y, t in zip(out_flat, t_flat):
        aval = core.get_aval(y)
        if not ad_jvp.is_differentiable(aval):
            tangents.append(None)  # float0 (or anything) for integer outputs
            continue
        t_aval = core.get_aval(t)
        if t_aval.shape != aval.shape or t_aval.dtype != aval.dtype:
            raise TypeError(
                "Custom JVP rule must produce primal and tangent outputs with corresponding "
                f"shapes and dtypes. Expected {_aval_text(aval)} (tangent type of "
                f"{_aval_text(aval)}) but got {_aval_text(t_aval)}."
            )
        tangents.append(t)
    return out_flat, tangents


# ----------------------------------------------------------------------------
# custom_vjp.


def _custom_lin_abstract_eval(*avals, num_res, bwd, out_avals):
    return list(out_avals)


def _custom_lin_impl(*args, **params):
    raise TypeError("can't apply forward-mode autodiff (jvp) to a custom_vjp function.")


def _custom_lin_transpose(cts, *args, num_res, bwd, out_avals):
    # args: residuals, then the tangents of the differentiable arguments (bwd's order).
    cts_in = bwd(list(args[:num_res]), [ad_jvp.instantiate(ct) for ct in cts])
    linear_cts = [ct if is_undefined_primal(a) else None for a, ct in zip(args[num_res:], cts_in)]
    return [None] * num_res + linear_cts


custom_lin_p = core.Primitive("custom_lin", multiple_results=True)
core.abstract_eval_rules[custom_lin_p] = _custom_lin_abstract_eval
impl_rules[custom_lin_p] = _custom_lin_impl
dispatch.eager_rules[custom_lin_p] = _custom_lin_impl
transpose_rules[custom_lin_p] = _custom_lin_transpose


def _custom_vjp_call_jvp(primals, tangents, *, call_jaxpr, fwd, bwd, num_consts):
    args = primals[num_consts:]
    outs, res = fwd(*args)
    linear = [ad_jvp.is_differentiable(core.get_aval(x)) for x in args]
    dense = [ad_jvp.instantiate(t) for t, lin in zip(tangents[num_consts:], linear) if lin]
    out_avals = tuple(core.get_aval(y).strip_weak_type() for y in outs)
    out_tangents = custom_lin_p.bind(*res, *dense, num_res=len(res), bwd=bwd, out_avals=out_avals)
    return outs, list(out_tangents)


def _custom_vjp_call_batch(args, dims, *, call_jaxpr, fwd, bwd, num_consts):
    if num_consts:
        raise NotImplementedError("vmap of a custom_vjp function that closes over traced values")
    size = batching.axis_size_of(args, dims)
    in_batched = [d is not batching.not_mapped for d in dims]
    args = [
        x if d is batching.not_mapped else batching.moveaxis(x, d, 0) for x, d in zip(args, dims)
    ]
    batched, _ = batching.batch_jaxpr(call_jaxpr, size, in_batched, True)
    in_axes = tuple(0 if b else None for b in in_batched)

    def batched_fwd(*xs):
        from plax.vmap_api import vmap

        return vmap(lambda *a: tuple(map(list, fwd(*a))), in_axes=in_axes)(*xs)

    def batched_bwd(res, cts):
        from plax.vmap_api import vmap

        return vmap(lambda r, c: list(bwd(list(r), list(c))))(tuple(res), tuple(cts))

    outs = custom_vjp_call_p.bind(
        *args, call_jaxpr=batched, fwd=batched_fwd, bwd=batched_bwd, num_consts=0
    )
    return outs, [0] * len(outs)


custom_vjp_call_p = core.Primitive("custom_vjp_call", multiple_results=True)
core.abstract_eval_rules[custom_vjp_call_p] = _call_abstract_eval
impl_rules[custom_vjp_call_p] = _call_impl
dispatch.eager_rules[custom_vjp_call_p] = _eval_call
jvp_rules[custom_vjp_call_p] = _custom_vjp_call_jvp
batching.batch_rules[custom_vjp_call_p] = _custom_vjp_call_batch


class custom_vjp(_CustomFunction):
    """A function with a custom VJP: ``defvjp(fwd, bwd)``.

    ``fwd(*args) -> (out, residuals)``; ``bwd(residuals, cotangent_out)`` returns a
    tuple with one cotangent per (differentiated) argument, None meaning zero.
    With ``nondiff_argnums`` those arguments are passed to ``fwd`` in place and
    first to ``bwd``: ``bwd(*nondiff_args, residuals, g)``.
    """

    def __init__(self, fun: Callable, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)
        self.fwd = None
        self.bwd = None

    def defvjp(self, fwd: Callable, bwd: Callable, symbolic_zeros: bool = False) -> None:
        self.fwd = fwd
        self.bwd = bwd

    def _check_rule(self) -> None:
        if self.fwd is None:
            name = _fun_name(self.fun)
            raise AttributeError(f"No VJP defined for custom_vjp function {name} using defvjp.")

    def _bind(self, call: _StagedCall, closed: ClosedJaxpr, lifted: list, flat: list) -> list:
        name = _fun_name(self.fun)
        out_tree = call.out_tree
        fwd, bwd = self.fwd, self.bwd
        in_avals = [core.get_aval(x) for x in flat]
        res_tree_box = []

        def flat_fwd(*primals_flat):
            result = fwd(*call.full_args(primals_flat))
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise TypeError(
                    f"Custom VJP fwd rule {_fun_name(fwd)} for function {name} must produce a "
                    "pair (list or tuple of length two) where the first element represents the "
                    f"primal output (equal to those of the custom_vjp-decorated function {name}) "
                    "and the second element represents residuals (i.e. values stored from the "
                    "forward pass for use on the backward pass), but instead of a pair the fwd "
                    f"rule {_fun_name(fwd)} produced {result!r}."
                )
            out, res = result
            out_flat, tree = tree_flatten(out)
            if tree != out_tree:
                raise TypeError(
                    f"Custom VJP fwd rule {_fun_name(fwd)} for function {name} must produce "
                    "primal outputs with equal container (pytree) structures to those of the "
                    f"custom_vjp-decorated function {name}, but got {tree} and {out_tree}."
                )
            res_flat, res_tree = tree_flatten(res)
            res_tree_box.append(res_tree)
            return out_flat, res_flat

        def flat_bwd(res_flat, cts_flat):
            res = tree_unflatten(res_tree_box[-1], res_flat)
            cts = tree_unflatten(out_tree, cts_flat)
            result = bwd(*call.nondiff_values, res, cts)
            return _check_bwd_result(result, call.in_tree, in_avals, call.num_args)

        return custom_vjp_call_p.bind(
            *lifted,
            *flat,
            call_jaxpr=closed,
            fwd=flat_fwd,
            bwd=flat_bwd,
            num_consts=len(lifted),
        )


def _check_bwd_result(result, in_tree, in_avals, nargs: int) -> list:
    """The cotangents ``bwd`` produced, flat, with None turned into zeros."""
    if not isinstance(result, (tuple, list)) or len(result) != nargs:
        got = (
            tree_structure(result)
            if not isinstance(result, (tuple, list))
            else (tree_structure(tuple(result)))
        )
        raise TypeError(
            "Custom VJP bwd rule must produce an output with the same container (pytree) "
            "structure as the args tuple of the primal function, and in particular must "
            "produce a tuple of length equal to the number of arguments to the primal "
            f"function, but got bwd output structure {got} for primal input structure "
            f"{in_tree}."
        )
    flat = []
    for arg_tree, ct in zip(in_tree.children, result):
        if ct is None:
            flat.extend([None] * arg_tree.num_leaves)
            continue
        leaves, tree = tree_flatten(ct, is_leaf=lambda x: x is None)
        if tree != arg_tree and len(leaves) != arg_tree.num_leaves:
            raise TypeError(
                "Custom VJP bwd rule must produce an output with the same container (pytree) "
                f"structure as the args tuple of the primal function, but got {ct!r} for an "
                f"argument of structure {arg_tree}."
            )
        flat.extend(leaves)
    out = []
    for k, (ct, aval) in enumerate(zip(flat, in_avals)):
        if not ad_jvp.is_differentiable(aval):
            continue
        if ct is None:
            out.append(ad_jvp.zeros_like_aval(aval))
            continue
        ct_aval = core.get_aval(ct)
        if ct_aval.shape != aval.shape:
            raise ValueError(
                "Custom VJP bwd rule must produce an output with the same type as the args "
                f"tuple of the primal function, but at output[{k}] the bwd rule produced an "
                f"output of type {_aval_text(ct_aval)} corresponding to an input of type "
                f"{_aval_text(aval)}, so the shapes do not match"
            )
        if ct_aval.dtype != aval.dtype:
            from plax.lax.convert import convert_element_type

            ct = convert_element_type(ct, aval.dtype)
        out.append(ct)
    return out


# ----------------------------------------------------------------------------
# checkpoint (remat).


def _checkpoint_jvp(primals, tangents, *, jaxpr, prevent_cse, policy):
    def bind(jvp_closed, *operands):
        params = {"jaxpr": jvp_closed, "prevent_cse": prevent_cse, "policy": policy}
        return checkpoint_p.bind(*operands, **params)

    return ad_jvp.call_jvp(jaxpr, primals, tangents, bind)


def _checkpoint_partial_eval(eqn: JaxprEqn, unknowns):
    """Known outputs are computed now; the staged side saves only the known *inputs*
    and recomputes the residuals from them when it runs (during the backward pass)."""
    params = eqn.params
    closed = params["jaxpr"]
    known, _, out_unknowns, num_res = ad.partial_eval_jaxpr(closed, unknowns, False)
    known_ins = [a for a, uk in zip(eqn.invars, unknowns) if not uk]
    known_outs = [v for v, uk in zip(eqn.outvars, out_unknowns) if not uk]
    staged_outs = [v for v, uk in zip(eqn.outvars, out_unknowns) if uk]
    known_eqns = []
    if known_outs:
        n_known = len(known.out_avals) - num_res
        body = known.jaxpr
        trimmed = Jaxpr(body.constvars, body.invars, body.outvars[:n_known], body.eqns)
        trimmed = passes.prune_consts(ClosedJaxpr(passes.dce(trimmed), known.consts))
        # The forward pass is an ordinary call: a jit equation, which every backend
        # inlines into the surrounding program.
        call_params = {"jaxpr": trimmed, "name": "checkpoint", "backend": None}
        known_eqns.append(JaxprEqn(jit_p, tuple(known_ins), call_params, tuple(known_outs)))
    if not staged_outs:
        return known_eqns, [], out_unknowns
    # The staged equation is the whole computation restricted to the unknown outputs:
    # its primal part has no linear input, so the backward pass recomputes it.
    body = closed.jaxpr
    outvars = [v for v, uk in zip(body.outvars, out_unknowns) if uk]
    recompute = Jaxpr(body.constvars, body.invars, outvars, body.eqns)
    recompute = passes.prune_consts(ClosedJaxpr(passes.dce(recompute), closed.consts))
    staged_eqn = JaxprEqn(
        checkpoint_p, eqn.invars, dict(params, jaxpr=recompute), tuple(staged_outs)
    )
    return known_eqns, [staged_eqn], out_unknowns


def _checkpoint_transpose(cts, *args, jaxpr, prevent_cse, policy):
    return ad.backward_pass(jaxpr.jaxpr, jaxpr.consts, args, cts)


def _checkpoint_batch(args, dims, *, jaxpr, prevent_cse, policy):
    size = batching.axis_size_of(args, dims)
    in_batched = [d is not batching.not_mapped for d in dims]
    args = [
        x if d is batching.not_mapped else batching.moveaxis(x, d, 0) for x, d in zip(args, dims)
    ]
    batched, out_batched = batching.batch_jaxpr(jaxpr, size, in_batched, False)
    batched, lifted = convert_constvars_to_invars(batched)
    outs = checkpoint_p.bind(*lifted, *args, jaxpr=batched, prevent_cse=prevent_cse, policy=policy)
    return outs, [0 if b else batching.not_mapped for b in out_batched]


checkpoint_p = core.Primitive("checkpoint", multiple_results=True)
core.abstract_eval_rules[checkpoint_p] = _call_abstract_eval
impl_rules[checkpoint_p] = _call_impl
dispatch.eager_rules[checkpoint_p] = _eval_call
jvp_rules[checkpoint_p] = _checkpoint_jvp
ad.partial_eval_rules[checkpoint_p] = _checkpoint_partial_eval
transpose_rules[checkpoint_p] = _checkpoint_transpose
batching.batch_rules[checkpoint_p] = _checkpoint_batch


def checkpoint(
    fun: Callable | None = None, *, prevent_cse: bool = True, policy=None, static_argnums=()
):
    """``fun``, but reverse mode recomputes its intermediate values in the backward pass
    instead of saving them (only the inputs are saved). ``policy`` is accepted for
    compatibility and ignored."""
    if fun is None:
        return functools.partial(
            checkpoint, prevent_cse=prevent_cse, policy=policy, static_argnums=static_argnums
        )
    statics = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    @functools.wraps(fun, updated=())  # not __dict__: a jitted fun keeps its cache
    def checkpointed(*args, **kwargs):
        nargs = len(args)
        static_pos = {i % nargs for i in statics}
        dyn = tuple(a for i, a in enumerate(args) if i not in static_pos)
        flat, in_tree = tree_flatten((dyn, kwargs))
        if _is_top_level(flat):
            return fun(*args, **kwargs)
        out_tree_box = []

        def flat_fun(*flat_args):
            dyn_args, dyn_kwargs = tree_unflatten(in_tree, flat_args)
            it = iter(dyn_args)
            call_args = [args[i] if i in static_pos else next(it) for i in range(nargs)]
            out_flat, out_tree = tree_flatten(fun(*call_args, **dyn_kwargs))
            out_tree_box.append(out_tree)
            return out_flat

        closed, lifted = _stage(flat_fun, flat)
        outs = checkpoint_p.bind(
            *lifted, *flat, jaxpr=closed, prevent_cse=prevent_cse, policy=_hashable_policy(policy)
        )
        return tree_unflatten(out_tree_box[0], outs)

    return checkpointed


remat = checkpoint


def _hashable_policy(policy):
    try:
        hash(policy)
    except TypeError:
        return None
    return policy


def _never(*_, **__) -> bool:
    return False


def _always(*_, **__) -> bool:
    return True


class checkpoint_policies:
    """JAX's policy names, accepted by ``checkpoint(policy=...)`` (plax recomputes
    everything whatever the policy says)."""

    everything_saveable = staticmethod(_always)
    nothing_saveable = staticmethod(_never)
    dots_saveable = staticmethod(_never)
    checkpoint_dots = staticmethod(_never)
    dots_with_no_batch_dims_saveable = staticmethod(_never)
    checkpoint_dots_with_no_batch_dims = staticmethod(_never)

    @staticmethod
    def save_only_these_names(*names):
        return _never

    @staticmethod
    def save_any_names_but_these(*names):
        return _never
