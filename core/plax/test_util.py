"""Testing helpers: ``check_grads`` checks derivatives against finite differences.

    plax.config.update("enable_x64", True)
    check_grads(f, (x,), order=2)

* **JVP vs numerical**: ``jvp(f, args, t)`` against the central difference
  ``(f(args + eps t) - f(args - eps t)) / (2 eps)`` along a random direction ``t``,
  computed in float64 (pass float64 arguments with x64 enabled for tight
  tolerances; float32 arguments work with looser ones).
* **VJP vs JVP**: ``<vjp(ct), t> == <ct, jvp(t)>`` for random ``t`` and ``ct``.
* ``order`` > 1 repeats both checks on the derivative functions themselves
  (``jvp`` of ``f`` for forward mode, the VJP of ``f`` for reverse mode).

Failures raise ``AssertionError`` naming the check (e.g. "JVP of VJP").
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

from plax import core, dtypes
from plax.autodiff import float0, jvp, vjp
from plax.tree_util import tree_flatten, tree_map, tree_unflatten

__all__ = ["check_grads", "check_jvp", "check_vjp", "numerical_jvp"]

EPS = 1e-4

# Default tolerances per dtype (float64 is what the checks are meant for).
_GRAD_TOL = {
    np.dtype(dtypes.bfloat16): 1e-1,
    np.dtype(np.float16): 1e-2,
    np.dtype(np.float32): 2e-3,
    np.dtype(np.float64): 1e-5,
}


def _dtype_of(x) -> np.dtype:
    if isinstance(x, np.ndarray) and x.dtype == float0:
        return float0
    return core.get_aval(x).dtype


def _is_float(x) -> bool:
    dtype = _dtype_of(x)
    return dtype != float0 and dtypes.is_float(dtype)


def _tolerance(leaves, given):
    if given is not None:
        return given
    found = [_GRAD_TOL.get(_dtype_of(x), 1e-5) for x in leaves if _is_float(x)]
    return max(found, default=1e-5)


def _random_like(rng: np.random.RandomState, x):
    if not _is_float(x):
        return np.zeros(np.shape(x), float0)
    aval = core.get_aval(x)
    return np.asarray(rng.standard_normal(aval.shape)).astype(aval.dtype)


def _as_f64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _inner(xs, ys) -> float:
    total = 0.0
    for x, y in zip(xs, ys):
        if getattr(x, "dtype", None) == float0 or getattr(y, "dtype", None) == float0:
            continue
        if not (_is_float(x) and _is_float(y)):
            continue
        total += float(np.sum(_as_f64(x) * _as_f64(y)))
    return total


def _shift(x, t, step: float):
    """``x + step * t`` in float64, rounded back to x's dtype (integers unchanged)."""
    if not _is_float(x):
        return x
    moved = _as_f64(x) + step * _as_f64(t)
    return np.asarray(moved).astype(_dtype_of(x))


def numerical_jvp(f: Callable, primals: Sequence, tangents: Sequence, eps: float = EPS):
    """The central difference of ``f`` at ``primals`` along ``tangents`` (flat float64
    leaves of the output)."""
    plus = f(*tree_map(lambda x, t: _shift(x, t, eps), primals, tangents))
    minus = f(*tree_map(lambda x, t: _shift(x, t, -eps), primals, tangents))
    plus_leaves = tree_flatten(plus)[0]
    minus_leaves = tree_flatten(minus)[0]
    return [
        (_as_f64(a) - _as_f64(b)) / (2 * eps) if _is_float(a) else None
        for a, b in zip(plus_leaves, minus_leaves)
    ]


def _assert_close(actual, expected, atol, rtol, what: str) -> None:
    for k, (a, e) in enumerate(zip(actual, expected)):
        if e is None:
            continue
        np.testing.assert_allclose(
            _as_f64(a),
            _as_f64(e),
            atol=atol,
            rtol=rtol,
            err_msg=f"{what}: output leaf {k} differs",
        )


def check_jvp(
    f: Callable, args: Sequence, atol=None, rtol=None, eps=None, err_msg="JVP", rng=None
) -> None:
    """``jvp(f)`` against the central difference along a random direction."""
    rng = np.random.RandomState(0) if rng is None else rng
    eps = EPS if eps is None else eps
    tangents = tree_map(lambda x: _random_like(rng, x), tuple(args))
    out, out_t = jvp(f, tuple(args), tangents)
    out_leaves = tree_flatten(out)[0]
    tol_atol = _tolerance(out_leaves, atol)
    tol_rtol = _tolerance(out_leaves, rtol)
    numeric = numerical_jvp(f, tuple(args), tangents, eps)
    _assert_close(tree_flatten(out_t)[0], numeric, tol_atol, tol_rtol, f"{err_msg} vs numerical")


def check_vjp(f: Callable, args: Sequence, atol=None, rtol=None, err_msg="VJP", rng=None) -> None:
    """``<vjp(ct), t> == <ct, jvp(t)>`` for random ``t`` and ``ct``."""
    rng = np.random.RandomState(1) if rng is None else rng
    args = tuple(args)
    out, vjp_fun = vjp(f, *args)
    cts = tree_map(lambda y: _random_like(rng, y), out)
    cts_in = vjp_fun(cts)
    tangents = tree_map(lambda x: _random_like(rng, x), args)
    _, out_t = jvp(f, args, tangents)
    lhs = _inner(tree_flatten(cts_in)[0], tree_flatten(tangents)[0])
    rhs = _inner(tree_flatten(cts)[0], tree_flatten(out_t)[0])
    leaves = tree_flatten(out)[0]
    tol_atol = _tolerance(leaves, atol)
    tol_rtol = _tolerance(leaves, rtol)
    np.testing.assert_allclose(
        lhs,
        rhs,
        atol=tol_atol,
        rtol=tol_rtol,
        err_msg=f"{err_msg}: <vjp(ct), t> != <ct, jvp(t)>",
    )


def check_grads(
    f: Callable, args: Sequence, order: int, modes=("fwd", "rev"), atol=None, rtol=None, eps=None
) -> None:
    """Check derivatives of ``f`` at ``args`` up to ``order`` in the given modes."""
    if isinstance(modes, str):
        modes = (modes,)
    unknown = set(modes) - {"fwd", "rev"}
    if unknown:
        raise ValueError(f"check_grads: modes must be 'fwd' and/or 'rev', got {tuple(modes)}")

    def check(fun: Callable, fun_args: tuple, k: int, what: str) -> None:
        if "fwd" in modes:
            name = f"JVP of {what}" if what else "JVP"
            check_jvp(fun, fun_args, atol, rtol, eps, err_msg=name)
            if k > 1:
                check(functools.partial(jvp, fun), (fun_args, fun_args), k - 1, name)
        if "rev" in modes:
            name = f"VJP of {what}" if what else "VJP"
            check_vjp(fun, fun_args, atol, rtol, err_msg=name)
            if k > 1:

                def f_vjp(*primals):
                    out, vjp_fun = vjp(fun, *primals)
                    return vjp_fun(out)

                check(f_vjp, fun_args, k - 1, name)

    # Integer and bool arguments are held fixed (closed over): only floats vary.
    leaves, tree = tree_flatten(tuple(args))
    varying = [i for i, x in enumerate(leaves) if _is_float(x)]

    def f_of_floats(*floats):
        full = list(leaves)
        for i, value in zip(varying, floats):
            full[i] = value
        return f(*tree_unflatten(tree, full))

    check(f_of_floats, tuple(leaves[i] for i in varying), order, "")
