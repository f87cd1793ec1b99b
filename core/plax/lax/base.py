"""Shared pieces of the lax modules: family factories for elementwise
primitives, dtype-set names, and argument checks with clear messages.

``lax`` is strict: operands of a binary op must have the same dtype (a weakly
typed Python scalar counts as the other operand's dtype only if it is that
dtype already, exactly as in JAX). Rank-0 operands are broadcast by the public
wrappers so that every elementwise primitive sees equal shapes.
"""

from __future__ import annotations

import operator
from typing import Callable, Sequence

import numpy as np

from plax import core, dtypes
from plax.abstract import ShapedArray
from plax.interpreters import batching
from plax.interpreters.reference import impl_rules

# dtype sets used in rule tables.
BOOL = (dtypes.bool_,)
SIGNED = dtypes.SIGNED
UNSIGNED = dtypes.UNSIGNED
INTEGERS = dtypes.INTEGERS
FLOATS = dtypes.FLOATS
NUMERIC = dtypes.NUMERIC
SIGNED_NUMERIC = dtypes.SIGNED + dtypes.FLOATS
INT_OR_BOOL = dtypes.INTEGERS + BOOL
ALL = dtypes.ALL

_KIND_NAMES = (
    (ALL, "any dtype"),
    (NUMERIC, "numeric dtypes"),
    (SIGNED_NUMERIC, "signed numeric dtypes"),
    (FLOATS, "floating dtypes"),
    (INT_OR_BOOL, "integer or boolean dtypes"),
    (INTEGERS, "integer dtypes"),
)


def describe_dtypes(allowed) -> str:
    for group, text in _KIND_NAMES:
        if set(allowed) == set(group):
            return text
    return ", ".join(np.dtype(d).name for d in allowed)


def check_dtype(name: str, aval: ShapedArray, allowed, what: str = "operand") -> None:
    if aval.dtype not in allowed:
        raise TypeError(
            f"lax.{name} does not accept dtype {aval.dtype.name} for its {what}; "
            f"it accepts {describe_dtypes(allowed)}"
        )


def check_same_dtypes(name: str, *avals: ShapedArray) -> None:
    if len({a.dtype for a in avals}) > 1:
        got = ", ".join(a.dtype.name for a in avals)
        raise TypeError(f"lax.{name} requires arguments to have the same dtypes, got {got}."
                        + _numpy_tip(name))


def _numpy_tip(name: str) -> str:
    """Point to the promoting plax.numpy twin of a lax function, when there is one."""
    import plax.numpy as pnp

    if not hasattr(pnp, name):
        return ""
    return (f" (Tip: plax.numpy.{name} is a similar function that does automatic type "
            "promotion on inputs.)")


def check_same_shapes(name: str, *avals: ShapedArray) -> None:
    if len({a.shape for a in avals}) > 1:
        got = ", ".join(str(a.shape) for a in avals)
        raise TypeError(f"lax.{name} requires arguments to have the same shapes, got {got}")


def canonicalize_axis(axis, ndim: int, name: str = "axis") -> int:
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {axis!r}") from None
    if not -ndim <= axis < max(ndim, 1) or (ndim == 0 and axis not in (0, -1)):
        raise ValueError(f"{name} {axis} is out of bounds for array of dimension {ndim}")
    return axis % ndim if ndim else 0


def canonicalize_axes(axes, ndim: int, name: str = "axes") -> tuple[int, ...]:
    out = tuple(canonicalize_axis(a, ndim, name) for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {name}: {tuple(axes)}")
    return out


def static_int(value, what: str) -> int:
    """An int known at trace time, or an error that explains why it must be."""
    if isinstance(value, core.Tracer):
        raise core.errors.ConcretizationTypeError(
            value, f"{what} must be a static integer, not a traced value."
        )
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an integer, got {value!r}") from None


def static_ints(values, what: str) -> tuple[int, ...]:
    if isinstance(values, (int, np.integer)):
        values = (values,)
    return tuple(static_int(v, what) for v in values)


# ----------------------------------------------------------------------------
# Elementwise family factories.


def _naryop_rule(name: str, allowed, result_dtype, weak_result: bool = False):
    """The shape/dtype rule of an elementwise primitive with any number of operands."""

    def rule(*avals: ShapedArray, **params):
        for aval in avals:
            check_dtype(name, aval, allowed)
        check_same_dtypes(name, *avals)
        check_same_shapes(name, *avals)
        out_dtype = avals[0].dtype if result_dtype is None else result_dtype
        # A result of a fixed dtype is strongly typed unless ``weak_result`` says otherwise.
        weak = (result_dtype is None or weak_result) and all(a.weak_type for a in avals)
        return [ShapedArray(avals[0].shape, out_dtype, weak)]

    return rule


def unop(name: str, allowed=NUMERIC, result_dtype=None) -> core.Primitive:
    """An elementwise one-operand primitive with its shape/dtype rule."""
    p = core.Primitive(name)
    core.abstract_eval_rules[p] = _naryop_rule(name, allowed, result_dtype)
    batching.defvectorized(p)
    return p


def binop(name: str, allowed=NUMERIC, result_dtype=None) -> core.Primitive:
    """An elementwise two-operand primitive: same dtypes, same shapes."""
    p = core.Primitive(name)
    core.abstract_eval_rules[p] = _naryop_rule(name, allowed, result_dtype)
    # Elementwise: operands are aligned on one batch axis, unbatched ones broadcast.
    batching.defbroadcasting(p)
    return p


def named_naryop(prim_name: str, api_name: str, allowed, bool_result: bool = False):
    """An elementwise primitive whose errors name the public function (``lax.bitwise_and``
    binds ``and``). The result is weak only when every operand is weak; unlike
    ``unop``/``binop`` this holds for bool results too, as in JAX (``lax.eq(1.0, 2.0)``
    is a weak bool)."""
    p = core.Primitive(prim_name)
    result_dtype = dtypes.bool_ if bool_result else None
    core.abstract_eval_rules[p] = _naryop_rule(api_name, allowed, result_dtype, weak_result=True)
    batching.defbroadcasting(p)
    return p


def predicate(name: str, allowed) -> core.Primitive:
    """An elementwise primitive with bool results (comparisons, ``is_finite``)."""
    return named_naryop(name, name, allowed, bool_result=True)


def defimpl(p: core.Primitive, fn: Callable) -> None:
    """Reference implementation from a numpy function of the operands."""
    impl_rules[p] = lambda *args, **params: [fn(*args, **params)]


def unsigned_view(x: np.ndarray) -> np.ndarray:
    """The bits of an integer array as the unsigned type of the same width."""
    x = np.asarray(x)
    return x.view(np.dtype(f"u{x.dtype.itemsize}"))


# ----------------------------------------------------------------------------
# Binding helpers used by the public wrappers.


def shape_of(x) -> tuple[int, ...]:
    return core.get_aval(x).shape


def bind_binary(p: core.Primitive, x, y, name: str | None = None):
    """Bind a two-operand elementwise primitive after broadcasting as ``jax.lax`` does;
    errors name ``name`` (the public function), or the primitive."""
    x, y = broadcast_operands(name or p.name, x, y)
    return p.bind(x, y)


def broadcast_operands(name: str, *args) -> list:
    """Broadcast operands as ``jax.lax`` does: rank-0 operands stretch to the common
    shape, and operands of equal rank may have size-1 dimensions."""
    from plax.lax.shapes import broadcast_in_dim

    shapes = [core.get_aval(a).shape for a in args]
    if all(s == shapes[0] for s in shapes):
        return list(args)  # the common case, kept cheap for eager dispatch
    ranked = [s for s in shapes if s != ()]
    if not ranked:
        return list(args)
    if len({len(s) for s in ranked}) > 1:
        raise TypeError(
            f"lax.{name}: arrays must have the same number of dimensions, got shapes "
            f"{', '.join(map(str, shapes))}"
        )
    target = []
    for sizes in zip(*ranked):
        distinct = set(sizes) - {1}
        if len(distinct) > 1:
            raise TypeError(
                f"lax.{name} got incompatible shapes for broadcasting: "
                f"{', '.join(map(str, shapes))}"
            )
        target.append(distinct.pop() if distinct else 1)
    target = tuple(target)
    out = []
    for arg, shape in zip(args, shapes):
        if shape == target:
            out.append(arg)
        else:
            dims = tuple(range(len(shape)))
            out.append(broadcast_in_dim(arg, target, dims))
    return out
