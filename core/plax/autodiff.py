"""Automatic differentiation: ``grad``, ``value_and_grad``, ``jvp``, ``vjp``,
``linearize``, ``jacfwd``, ``jacrev``, ``hessian`` and ``stop_gradient``.

Forward mode is the JVP trace (``plax.interpreters.jvp``); reverse mode
linearizes by partial evaluation and transposes the linear program
(``plax.interpreters.ad``). This module handles pytrees, argnums, aux outputs
and the checks that give JAX's error messages. Custom derivative rules and
``checkpoint`` are in ``plax.custom_derivatives``.

Integer and bool values have no tangents. Where JAX hands back a ``float0``
array (the tangent of an integer output of ``jvp``, the cotangent of an
integer input of ``vjp``), plax does too: a numpy array of dtype ``float0``.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable

import numpy as np

from plax import core, dispatch, dtypes
from plax.array import Array
from plax.interpreters import ad
from plax.interpreters import jvp as ad_jvp
from plax.interpreters.jvp import Zero
from plax.lax.ad_util import stop_gradient
from plax.tree_util import tree_flatten, tree_map, tree_structure, tree_unflatten

__all__ = [
    "float0",
    "grad",
    "hessian",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jvp",
    "linearize",
    "stop_gradient",
    "value_and_grad",
    "vjp",
]

# JAX's dtype of the tangents of integer and bool values: no data at all.
float0 = np.dtype([("float0", np.void, 0)])


# ----------------------------------------------------------------------------
# Shared argument handling.


def _check_callable(fun, name: str) -> None:
    if not callable(fun):
        raise TypeError(
            f"{name} requires a callable argument, got {fun!r} of type {type(fun).__name__}"
        )


def _aval_or_error(x, name: str):
    try:
        return core.get_aval(x)
    except TypeError:
        raise TypeError(
            f"Argument {x!r} of type {type(x)} passed to {name} is not a valid plax type; "
            "differentiated arguments must be arrays, scalars or pytrees of them"
        ) from None


def _argnums_tuple(argnums) -> tuple[int, ...]:
    if isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool):
        return (int(argnums),)
    try:
        return tuple(operator.index(i) for i in argnums)
    except TypeError:
        raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}") from None


def _check_argnums(argnums, nargs: int) -> tuple[int, ...]:
    nums = _argnums_tuple(argnums)
    if any(not -nargs <= i < nargs for i in nums):
        need = max(i + 1 if i >= 0 else -i for i in nums)
        raise TypeError(
            f"differentiating with respect to argnums={argnums} requires at least {need} "
            f"positional arguments to be passed by the caller, but got only {nargs} "
            "positional arguments."
        )
    return tuple(i % nargs for i in nums)


def _diff_args(args: tuple, argnums, holomorphic: bool, name: str) -> tuple[tuple[int, ...], tuple]:
    """The positions (non-negative) and values of the arguments ``argnums`` names."""
    nums = _check_argnums(argnums, len(args))
    dyn_args = tuple(args[i] for i in nums)
    _check_holomorphic(holomorphic, dyn_args, name)
    return nums, dyn_args


def _for_argnums(tree, argnums):
    """A result per differentiated argument: the only one for an int ``argnums``."""
    return tree[0] if isinstance(argnums, (int, np.integer)) else tree


def _partial_on(fun: Callable, args: tuple, kwargs: dict, nums: tuple[int, ...]) -> Callable:
    """``fun`` as a function of the positional arguments ``nums`` only."""

    def f_partial(*dyn_args):
        full = list(args)
        for i, value in zip(nums, dyn_args):
            full[i] = value
        return fun(*full, **kwargs)

    return f_partial


def _split_aux(out, has_aux: bool):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError(
            "expected function with aux output to return a two-element tuple, but got type "
            f"{type(out)} with value {out!r}"
        )
    return out


def _flat_fun_with_aux(fun: Callable, in_tree, has_aux: bool, store: dict) -> Callable:
    """``fun`` on flat arguments returning ``[*outputs, *aux leaves]``; trees go to ``store``."""

    def flat_fun(*flat_args):
        out = fun(*tree_unflatten(in_tree, flat_args))
        out, aux = _split_aux(out, has_aux)
        out_flat, out_tree = tree_flatten(out)
        aux_flat, aux_tree = tree_flatten(aux)
        for leaf in out_flat:
            _aval_or_error(leaf, "the output of a differentiated function")
        store["out_tree"], store["aux_tree"], store["n_out"] = out_tree, aux_tree, len(out_flat)
        return out_flat + aux_flat

    return flat_fun


def _float0_zeros(aval):
    return np.zeros(aval.shape, dtype=float0)


def _dense_tangent(t, aval):
    """A tangent handed back to the user: an array (zeros for Zero), float0 for integers."""
    if not ad_jvp.is_differentiable(aval):
        return _float0_zeros(aval)
    if isinstance(t, Zero):
        return ad_jvp.instantiate(t)
    if isinstance(t, (core.Tracer, Array)):
        return t
    return dispatch.device_put(t)  # e.g. a numpy value returned by a custom_vjp bwd


def _is_float0(x) -> bool:
    return isinstance(x, np.ndarray) and x.dtype == float0


def _lower_aux(aux_flat):
    return [core.full_lower(a) for a in aux_flat]


# ----------------------------------------------------------------------------
# jvp and linearize.


def _check_jvp_args(primals, tangents) -> tuple[list, list, object]:
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(
            "primal and tangent arguments to jax.jvp must be tuples or lists; found "
            f"{type(primals).__name__} and {type(tangents).__name__}."
        )
    flat_p, tree_p = tree_flatten(tuple(primals))
    flat_t, tree_t = tree_flatten(tuple(tangents))
    if tree_p != tree_t:
        raise TypeError(
            "primal and tangent arguments to jax.jvp must have the same tree structure; "
            f"primals have tree structure {tree_p} whereas tangents have tree structure "
            f"{tree_t}."
        )
    tangents_in = []
    for p, t in zip(flat_p, flat_t):
        p_aval = _aval_or_error(p, "jvp")
        if _is_float0(t):
            t_shape, t_dtype = t.shape, float0
        else:
            t_aval = _aval_or_error(t, "jvp")
            t_shape, t_dtype = t_aval.shape, t_aval.dtype
        if p_aval.shape != t_shape:
            raise ValueError(
                "jvp called with different primal and tangent shapes;"
                f"Got primal shape {p_aval.shape} and tangent shape as {t_shape}"
            )
        expected = p_aval.dtype if ad_jvp.is_differentiable(p_aval) else float0
        if t_dtype != expected:
            raise TypeError(
                "primal and tangent arguments to jax.jvp do not match; dtypes must be equal, "
                "or in case of int/bool primal dtype the tangent dtype must be float0."
                f"Got primal dtype {p_aval.dtype.name} and so expected tangent dtype "
                f"{_dtype_name(expected)}, but got tangent dtype {_dtype_name(t_dtype)} instead."
            )
        tangents_in.append(Zero(p_aval) if t_dtype == float0 else t)
    return flat_p, tangents_in, tree_p


def _dtype_name(dt) -> str:
    return "float0" if dt == float0 else np.dtype(dt).name


def jvp(fun: Callable, primals, tangents, has_aux: bool = False):
    """``(fun(*primals), d fun(primals) . tangents)``; with ``has_aux`` also the aux output."""
    _check_callable(fun, "jvp")
    flat_p, flat_t, in_tree = _check_jvp_args(primals, tangents)
    store: dict = {}
    flat_fun = _flat_fun_with_aux(fun, in_tree, has_aux, store)
    primals_out, tangents_out = ad_jvp.jvp_flat(flat_fun, flat_p, flat_t)
    n = store["n_out"]
    outs = primals_out[:n]
    out_tangents = [_dense_tangent(t, core.get_aval(x)) for x, t in zip(outs, tangents_out)]
    out = tree_unflatten(store["out_tree"], outs)
    out_t = tree_unflatten(store["out_tree"], out_tangents)
    if has_aux:
        return out, out_t, tree_unflatten(store["aux_tree"], _lower_aux(primals_out[n:]))
    return out, out_t


def linearize(fun: Callable, *primals, has_aux: bool = False):
    """``(fun(*primals), f_jvp)`` where ``f_jvp(*tangents)`` evaluates the linearized
    function (the primal computation is not repeated); with ``has_aux`` also aux."""
    _check_callable(fun, "linearize")
    flat_p, in_tree = tree_flatten(primals)
    for p in flat_p:
        _aval_or_error(p, "linearize")
    store: dict = {}
    flat_fun = _flat_fun_with_aux(fun, in_tree, has_aux, store)
    primals_out, linear, in_nonzeros, out_nonzeros = ad.linearize_flat(flat_fun, flat_p)
    n = store["n_out"]
    out_avals = [core.get_aval(x) for x in primals_out[:n]]
    out_tree = store["out_tree"]

    def f_jvp(*tangents):
        _, flat_t, _ = _check_jvp_args(primals, tangents)
        given = [t for t, nz in zip(flat_t, in_nonzeros) if nz]
        if any(isinstance(t, Zero) for t in given):
            given = [ad_jvp.instantiate(t) for t in given]
        results = iter(ad_jvp.eval_jaxpr(linear, given))
        out_t = []
        for aval, nz in zip(out_avals, out_nonzeros[:n]):
            out_t.append(next(results) if nz else _dense_tangent(Zero(aval), aval))
        return tree_unflatten(out_tree, out_t)

    out = tree_unflatten(out_tree, primals_out[:n])
    if has_aux:
        return out, f_jvp, tree_unflatten(store["aux_tree"], _lower_aux(primals_out[n:]))
    return out, f_jvp


# ----------------------------------------------------------------------------
# vjp.


def vjp(fun: Callable, *primals, has_aux: bool = False):
    """``(fun(*primals), vjp_fun)`` where ``vjp_fun(cotangent)`` returns a tuple with
    one cotangent per primal; with ``has_aux`` also the aux output."""
    _check_callable(fun, "vjp")
    flat_p, in_tree = tree_flatten(primals)
    in_avals = [_aval_or_error(p, "vjp") for p in flat_p]
    store: dict = {}
    flat_fun = _flat_fun_with_aux(fun, in_tree, has_aux, store)
    primals_out, pullback = ad.vjp_flat(flat_fun, flat_p)
    n = store["n_out"]
    outs = primals_out[:n]
    out_avals = [core.get_aval(x) for x in outs]
    out_tree = store["out_tree"]
    fun_name = getattr(fun, "__name__", repr(fun))

    def vjp_fun(cotangent):
        ct_flat, ct_tree = tree_flatten(cotangent)
        if ct_tree != out_tree:
            raise ValueError(
                "unexpected tree structure of argument to vjp function: the cotangent must "
                f"match the pytree structure of the output of {fun_name}, which is "
                f"{out_tree}, but got {ct_tree}."
            )
        cts = [_checked_cotangent(ct, aval) for ct, aval in zip(ct_flat, out_avals)]
        cts_in = pullback(cts + [Zero(core.get_aval(a)) for a in primals_out[n:]])
        dense = [_dense_tangent(ct, aval) for ct, aval in zip(cts_in, in_avals)]
        return tuple(tree_unflatten(in_tree, dense))

    out = tree_unflatten(out_tree, outs)
    if has_aux:
        return out, vjp_fun, tree_unflatten(store["aux_tree"], _lower_aux(primals_out[n:]))
    return out, vjp_fun


def _checked_cotangent(ct, aval):
    if not ad_jvp.is_differentiable(aval):
        return Zero(aval)  # the cotangent of an integer output is float0: nothing flows
    ct_aval = _aval_or_error(ct, "a vjp function")
    if ct_aval.shape != aval.shape or ct_aval.dtype != aval.dtype:
        raise ValueError(
            "unexpected JAX type (e.g. shape/dtype) for argument to VJP function: got "
            f"{_type_text(ct_aval)}, but expected {_type_text(aval)} because the corresponding "
            f"output of the differentiated function had JAX type {_type_text(aval)}"
        )
    return ct


def _type_text(aval) -> str:
    return f"{aval.dtype.name}[{','.join(str(d) for d in aval.shape)}]"


# ----------------------------------------------------------------------------
# grad and value_and_grad.


def _check_grad_inputs(dyn_args, name: str, allow_int: bool) -> None:
    for leaf in tree_flatten(dyn_args)[0]:
        aval = _aval_or_error(leaf, name)
        if not allow_int and not ad_jvp.is_differentiable(aval):
            raise TypeError(
                f"{name} requires real- or complex-valued inputs (input dtype that is a "
                f"sub-dtype of np.inexact), but got {aval.dtype.name}. If you want to use "
                "Boolean- or integer-valued inputs, use vjp or set allow_int to True."
            )


def _vjp_on_argnums(fun, args, kwargs, argnums, has_aux, holomorphic, allow_int, name: str):
    """``vjp`` of ``fun`` with respect to ``args[argnums]``, after grad's input checks:
    ``(out, pullback, aux)``, aux None without ``has_aux``."""
    nums, dyn_args = _diff_args(args, argnums, holomorphic, name)
    _check_grad_inputs(dyn_args, name, allow_int)
    f_partial = _partial_on(fun, args, kwargs, nums)
    if has_aux:
        return vjp(f_partial, *dyn_args, has_aux=True)
    out, pullback = vjp(f_partial, *dyn_args)
    return out, pullback, None


def _check_holomorphic(holomorphic: bool, dyn_args, name: str) -> None:
    if not holomorphic:
        return
    leaves = tree_flatten(dyn_args)[0]
    got = _aval_or_error(leaves[0], name).dtype.name if leaves else "no inputs"
    raise TypeError(
        f"{name} with holomorphic=True requires inputs with complex dtype, but got {got}. "
        "plax has no complex dtypes, so holomorphic differentiation is not available; "
        "use holomorphic=False."
    )


def _check_scalar_output(out) -> None:
    leaves, tree = tree_flatten(out)
    if len(leaves) != 1 or tree != tree_structure(0):
        raise TypeError(f"Gradient only defined for scalar-output functions. Output was {out!r}.")
    aval = _aval_or_error(leaves[0], "grad")
    if aval.shape != ():
        raise TypeError(
            f"Gradient only defined for scalar-output functions. Output had shape: {aval.shape}."
        )
    if not dtypes.is_float(aval.dtype):
        raise TypeError(
            "grad requires real-valued outputs (output dtype that is a sub-dtype of "
            f"np.floating), but got {aval.dtype.name}. For differentiation of functions with "
            "integer outputs, use jax.vjp directly."
        )


def value_and_grad(
    fun: Callable,
    argnums=0,
    has_aux: bool = False,
    holomorphic: bool = False,
    allow_int: bool = False,
    reduce_axes=(),
):
    """A function returning ``(fun(*args), grad of fun w.r.t. args[argnums])``; with
    ``has_aux`` the value is ``(value, aux)``."""
    _check_callable(fun, "value_and_grad")
    _argnums_tuple(argnums)

    @functools.wraps(fun, updated=())  # not __dict__: a jitted fun keeps its cache
    def value_and_grad_f(*args, **kwargs):
        out, vjp_fun, aux = _vjp_on_argnums(
            fun, args, kwargs, argnums, has_aux, holomorphic, allow_int, "grad"
        )
        _check_scalar_output(out)
        g = _for_argnums(vjp_fun(_one(core.get_aval(out))), argnums)
        return ((out, aux), g) if has_aux else (out, g)

    return value_and_grad_f


def _one(aval):
    """The seed cotangent: 1 of the output's type (weak if the output is, as in JAX), a
    literal once staged."""
    if aval.weak_type and aval.dtype == dtypes.canonicalize_dtype(float):
        return 1.0
    return aval.dtype.type(1)


def grad(
    fun: Callable,
    argnums=0,
    has_aux: bool = False,
    holomorphic: bool = False,
    allow_int: bool = False,
    reduce_axes=(),
):
    """The gradient of scalar-valued ``fun`` with respect to ``args[argnums]`` (an int
    or a tuple of ints, giving a tuple of gradients); with ``has_aux`` returns
    ``(gradient, aux)``."""
    _check_callable(fun, "grad")
    value_and_grad_f = value_and_grad(fun, argnums, has_aux, holomorphic, allow_int)

    @functools.wraps(fun, updated=())  # not __dict__: a jitted fun keeps its cache
    def grad_f(*args, **kwargs):
        if has_aux:
            (_, aux), g = value_and_grad_f(*args, **kwargs)
            return g, aux
        _, g = value_and_grad_f(*args, **kwargs)
        return g

    return grad_f


# ----------------------------------------------------------------------------
# Jacobians and the Hessian.


def _std_basis(flat_avals):
    """One row per scalar input: the identity over all inputs, split per leaf as arrays
    of shape ``(total, *leaf.shape)``."""
    from plax import numpy as pnp

    sizes = [a.size for a in flat_avals]
    total = sum(sizes)
    dtype = flat_avals[0].dtype if flat_avals else np.float32
    eye = np.eye(total, dtype=dtype)
    out, start = [], 0
    for aval, size in zip(flat_avals, sizes):
        block = eye[:, start : start + size].reshape((total,) + aval.shape)
        out.append(pnp.asarray(block.astype(aval.dtype)))
        start += size
    return out, total


def _jac_reshape(batched, out_aval_shape, in_shape, batch_first: bool):
    """Turn a batch of (in-basis) results into the ``out_shape + in_shape`` block."""
    from plax import numpy as pnp

    if batch_first:
        # batched: (in_size, *out_shape) -> (*out_shape, *in_shape)
        moved = pnp.moveaxis(batched, 0, -1)
        return pnp.reshape(moved, tuple(out_aval_shape) + tuple(in_shape))
    # batched: (out_size, *in_shape) -> (*out_shape, *in_shape)
    return pnp.reshape(batched, tuple(out_aval_shape) + tuple(in_shape))


def _split_rows(x, sizes, axis: int):
    from plax import lax

    out, start = [], 0
    for size in sizes:
        out.append(lax.slice_in_dim(x, start, start + size, axis=axis))
        start += size
    return out


def jacfwd(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False):
    """The Jacobian of ``fun`` by forward mode (one JVP per input element, vectorised):
    each output leaf gets ``out.shape + in.shape`` blocks."""
    from plax.vmap_api import vmap

    _check_callable(fun, "jacfwd")
    _argnums_tuple(argnums)

    def jacfun(*args, **kwargs):
        nums, dyn_args = _diff_args(args, argnums, holomorphic, "jacfwd")
        flat_in, in_tree = tree_flatten(dyn_args)
        in_avals = [_aval_or_error(x, "jacfwd") for x in flat_in]
        for aval in in_avals:
            if not ad_jvp.is_differentiable(aval):
                raise TypeError(
                    "jacfwd requires real-valued inputs (input dtype that is a sub-dtype of "
                    f"np.floating), but got {aval.dtype.name}. For holomorphic "
                    "differentiation, pass holomorphic=True. For differentiation of "
                    "non-holomorphic functions involving complex inputs or integer inputs, "
                    "use jax.jvp directly."
                )
        f_partial = _partial_on(fun, args, kwargs, nums)
        basis, _ = _std_basis(in_avals)

        def push(*flat_t):
            tangents = tree_unflatten(in_tree, flat_t)
            if has_aux:
                out, out_t, aux = jvp(f_partial, dyn_args, tangents, has_aux=True)
                return out_t, (out, aux)
            out, out_t = jvp(f_partial, dyn_args, tangents)
            return out_t, out

        out_t, rest = vmap(push, out_axes=(0, None))(*basis)
        jac = tree_map(lambda t: _jac_from_forward(t, in_avals, in_tree, argnums), out_t)
        if has_aux:
            return jac, rest[1]
        return jac

    return jacfun


def _jac_from_forward(batched, in_avals, in_tree, argnums):
    out_shape = core.get_aval(batched).shape[1:]
    sizes = [a.size for a in in_avals]
    blocks = [
        _jac_reshape(part, out_shape, aval.shape, batch_first=True)
        for part, aval in zip(_split_rows(batched, sizes, 0), in_avals)
    ]
    return _for_argnums(tree_unflatten(in_tree, blocks), argnums)


def jacrev(
    fun: Callable,
    argnums=0,
    has_aux: bool = False,
    holomorphic: bool = False,
    allow_int: bool = False,
):
    """The Jacobian of ``fun`` by reverse mode (one VJP per output element, vectorised)."""
    from plax.vmap_api import vmap

    _check_callable(fun, "jacrev")
    _argnums_tuple(argnums)

    def jacfun(*args, **kwargs):
        out, pullback, aux = _vjp_on_argnums(
            fun, args, kwargs, argnums, has_aux, holomorphic, allow_int, "jacrev"
        )
        flat_out, out_tree = tree_flatten(out)
        out_avals = [core.get_aval(y) for y in flat_out]
        basis, _ = _std_basis(out_avals)

        def pull(*flat_ct):
            return pullback(tree_unflatten(out_tree, flat_ct))

        cts = vmap(pull)(*basis)  # tuple over dyn args; leaves (out_total, *in_shape)
        flat_cts, ct_tree = tree_flatten(cts)
        sizes = [a.size for a in out_avals]
        # per input leaf: split rows per output leaf
        per_out = [[] for _ in out_avals]
        for ct in flat_cts:
            in_shape = core.get_aval(ct).shape[1:]
            for k, (part, aval) in enumerate(zip(_split_rows(ct, sizes, 0), out_avals)):
                per_out[k].append(_jac_reshape(part, aval.shape, in_shape, batch_first=False))
        blocks = []
        for parts in per_out:
            blocks.append(_for_argnums(tree_unflatten(ct_tree, parts), argnums))
        jac = tree_unflatten(out_tree, blocks)
        return (jac, aux) if has_aux else jac

    return jacfun


jacobian = jacrev


def hessian(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False):
    """The Hessian of scalar-valued ``fun``: ``jacfwd(jacrev(fun))``."""
    return jacfwd(
        jacrev(fun, argnums, has_aux=has_aux, holomorphic=holomorphic),
        argnums,
        has_aux=has_aux,
        holomorphic=holomorphic,
    )
