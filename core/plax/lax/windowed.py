"""Windowed reductions: ``reduce_window_sum``, ``reduce_window_max``, ``reduce_window_min``
and the general ``reduce_window`` that routes to them.

A window of ``window_dimensions`` slides over the operand with
``window_strides``; ``base_dilation`` spreads the operand out (holes between
elements), ``window_dilation`` spreads the window's taps, and ``padding``
adds (or, when negative, removes) elements at both ends of every dimension.
Holes and padding hold the reduction's identity (0 for sum, -inf / the
smallest integer / False for max, the opposite for min), as in JAX.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from plax import core, dtypes
from plax.abstract import ShapedArray
from plax.interpreters import batching
from plax.interpreters.jvp import Zero, instantiate, jvp_rules, linear_jvp
from plax.interpreters.transpose import transpose_rules
from plax.interpreters.reference import impl_rules
from plax.lax.base import ALL, NUMERIC, check_dtype, static_ints
from plax.lax.convolution import (
    cotangent_padding,
    dilate_size,
    dilate_spatial,
    pad_spatial,
    padtype_to_pads,
    spatial_windows,
    window_output_size,
)
from plax.lax.linalg import accumulation_dtype, from_accumulation, to_accumulation

__all__ = ["reduce_window", "reduce_window_max", "reduce_window_min", "reduce_window_sum"]


# ----------------------------------------------------------------------------
# Identities of the reductions, per dtype.


def _max_identity(dt: np.dtype):
    if dt == dtypes.bool_:
        return False
    if dtypes.is_float(dt):
        return -np.inf
    return np.iinfo(dt).min


def _min_identity(dt: np.dtype):
    if dt == dtypes.bool_:
        return True
    if dtypes.is_float(dt):
        return np.inf
    return np.iinfo(dt).max


def _sum_identity(dt: np.dtype):
    return 0


# ----------------------------------------------------------------------------
# The shared shape rule and reference rule.


def _check_per_dimension(name: str, shape, named_values) -> None:
    """Each ``(what, values)`` needs one entry per operand dimension; all but the
    padding must be positive. Lengths are checked first, then signs."""
    ndim = len(shape)
    for what, values in named_values:
        if len(values) != ndim:
            raise TypeError(
                f"lax.{name}: {what} needs one entry per operand dimension ({ndim}), got "
                f"{values} for operand shape {shape}"
            )
    for what, values in named_values:
        if what != "padding" and any(v < 1 for v in values):
            raise TypeError(f"lax.{name}: {what} must be positive, got {values}")


def _window_shape(
    name: str,
    x: ShapedArray,
    *,
    window_dimensions,
    window_strides,
    padding,
    base_dilation,
    window_dilation,
) -> tuple[int, ...]:
    _check_per_dimension(
        name,
        x.shape,
        (
            ("window_dimensions", window_dimensions),
            ("window_strides", window_strides),
            ("padding", padding),
            ("base_dilation", base_dilation),
            ("window_dilation", window_dilation),
        ),
    )
    out = []
    for axis in range(x.ndim):
        lo, hi = padding[axis]
        dilated = dilate_size(x.shape[axis], base_dilation[axis])
        padded = dilated + lo + hi
        if padded < 0:
            raise ValueError(
                f"lax.{name}: negative padding {padding[axis]} removes more than the "
                f"{dilated} elements of dimension {axis} (operand shape {x.shape})"
            )
        window = dilate_size(window_dimensions[axis], window_dilation[axis])
        out.append(window_output_size(padded, window, window_strides[axis]))
    return tuple(out)


def _window_rule(name: str, allowed):
    def rule(x: ShapedArray, **params):
        check_dtype(name, x, allowed)
        return [ShapedArray(_window_shape(name, x, **params), x.dtype, x.weak_type)]

    return rule


def _window_impl(reducer, identity):
    def impl(x, *, window_dimensions, window_strides, padding, base_dilation, window_dilation):
        x = np.asarray(x)
        out_dtype = x.dtype
        fill = identity(out_dtype)
        if reducer is np.sum:
            # Sums accumulate wide (float16 windows in float32, integers in 64 bits).
            x = to_accumulation(x, accumulation_dtype((out_dtype,), out_dtype))
        x = pad_spatial(dilate_spatial(x, base_dilation, 0, fill), padding, 0, fill)
        windows = spatial_windows(x, window_dimensions, window_strides, window_dilation, 0)
        ndim = x.ndim
        if windows is None:
            out_shape = tuple(
                window_output_size(p, dilate_size(k, d), s)
                for p, k, d, s in zip(x.shape, window_dimensions, window_dilation, window_strides)
            )
            return [np.zeros(out_shape, dtype=out_dtype)]
        out = reducer(windows, axis=tuple(range(ndim, 2 * ndim)))
        return [from_accumulation(np.asarray(out), out_dtype)]

    return impl


def _window_batch(p: core.Primitive):
    # The batch axis gets a window of one element, stride one, no padding or dilation.
    def rule(args, dims, *, window_dimensions, window_strides, padding, base_dilation,
             window_dilation):
        (x,), (bdim,) = args, dims

        def insert(values, item):
            return values[:bdim] + (item,) + values[bdim:]

        out = p.bind(
            x,
            window_dimensions=insert(window_dimensions, 1),
            window_strides=insert(window_strides, 1),
            padding=insert(padding, (0, 0)),
            base_dilation=insert(base_dilation, 1),
            window_dilation=insert(window_dilation, 1),
        )
        return [out], [bdim]

    return rule


def _reduce_window_sum_transpose(cts, x, *, window_dimensions, window_strides, padding,
                                 base_dilation, window_dilation):
    """Each input element receives the sum of the cotangents of the windows it is in:
    the cotangent spread out by the strides and padded, summed over windows again."""
    from plax.lax.shapes import pad

    (ct,) = cts
    out_shape = core.get_aval(ct).shape
    config = []
    for size, k, n, (lo, _), s, bd, wd in zip(
        x.aval.shape, window_dimensions, out_shape, padding, window_strides, base_dilation,
        window_dilation,
    ):
        before, after = cotangent_padding(size, k, n, lo, s, bd, wd)
        config.append((before, after, s - 1))
    zero = np.zeros((), core.get_aval(ct).dtype)[()]
    spread = pad(ct, zero, tuple(config))
    ndim = len(out_shape)
    return [
        reduce_window_sum_p.bind(
            spread, window_dimensions=window_dimensions, window_strides=base_dilation,
            padding=((0, 0),) * ndim, base_dilation=(1,) * ndim, window_dilation=window_dilation,
        )
    ]


def _window_chooser_jvp(p: core.Primitive, identity):
    """max/min: each window's tangent is the tangent at its chosen element (the first,
    in window order, equal to the result). Written with one strided slice per window
    offset, so it is made of differentiable, transposable lax operations."""

    def rule(primals, tangents, *, window_dimensions, window_strides, padding,
             base_dilation, window_dilation):
        import itertools

        from plax.lax import elementwise as ew
        from plax.lax.bitwise import bitwise_and, bitwise_not, bitwise_or
        from plax.lax.comparisons import eq
        from plax.lax.shapes import pad, slice

        (x,), (t,) = primals, tangents
        out = p.bind(x, window_dimensions=window_dimensions, window_strides=window_strides,
                     padding=padding, base_dilation=base_dilation,
                     window_dilation=window_dilation)
        out_shape = core.get_aval(out).shape
        if 0 in out_shape:
            return [out], [Zero(core.get_aval(out))]
        dtype = core.get_aval(x).dtype
        config = tuple((lo, hi, bd - 1) for (lo, hi), bd in zip(padding, base_dilation))
        fill = np.asarray(identity(dtype), dtype)[()]
        x_padded = pad(x, fill, config)
        t_padded = pad(instantiate(t), np.zeros((), dtype)[()], config)
        t_out, taken = None, None
        for offset in itertools.product(*[range(k) for k in window_dimensions]):
            start = [o * wd for o, wd in zip(offset, window_dilation)]
            limit = [st + (n - 1) * s + 1 for st, n, s in zip(start, out_shape, window_strides)]
            hit = eq(slice(x_padded, start, limit, window_strides), out)
            t_here = slice(t_padded, start, limit, window_strides)
            if t_out is None:
                t_out = ew.select(hit, t_here, ew._zeros(t_here))
                taken = hit
                continue
            t_out = ew.select(bitwise_and(hit, bitwise_not(taken)), t_here, t_out)
            taken = bitwise_or(taken, hit)
        return [out], [t_out]

    return rule


def _window_primitive(name: str, allowed, reducer, identity) -> core.Primitive:
    p = core.Primitive(name)
    core.abstract_eval_rules[p] = _window_rule(name, allowed)
    impl_rules[p] = _window_impl(reducer, identity)
    batching.batch_rules[p] = _window_batch(p)
    return p


def _window_params(
    name, operand, window_dimensions, window_strides, padding, base_dilation, window_dilation
) -> dict:
    """Canonical params: tuples of ints and explicit (low, high) pads."""
    aval = core.get_aval(operand)
    ndim = aval.ndim
    window = static_ints(window_dimensions, f"lax.{name}: window_dimensions")

    def per_dim(values, what):
        if values is None:
            return (1,) * ndim
        return static_ints(values, f"lax.{name}: {what}")

    strides = per_dim(window_strides, "window_strides")
    base = per_dim(base_dilation, "base_dilation")
    wdil = per_dim(window_dilation, "window_dilation")
    # One argument at a time: the first bad argument is the one reported.
    for named in (
        ("window_dimensions", window),
        ("window_strides", strides),
        ("base_dilation", base),
        ("window_dilation", wdil),
    ):
        _check_per_dimension(name, aval.shape, (named,))
    if isinstance(padding, str):
        # As in JAX: named padding sees the dilated window but the undilated operand.
        sizes = [dilate_size(k, d) for k, d in zip(window, wdil)]
        pads = tuple(tuple(p) for p in padtype_to_pads(aval.shape, sizes, strides, padding))
    else:
        try:
            pads = tuple(tuple(static_ints(pair, f"lax.{name}: padding")) for pair in padding)
        except TypeError:
            raise TypeError(
                f"lax.{name}: padding must be 'VALID', 'SAME', 'SAME_LOWER' or a sequence of "
                f"(low, high) pairs, got {padding!r}"
            ) from None
        if any(len(p) != 2 for p in pads):
            raise TypeError(
                f"lax.{name}: padding must be a sequence of (low, high) pairs, got {padding!r}"
            )
    return {
        "window_dimensions": window,
        "window_strides": strides,
        "padding": pads,
        "base_dilation": base,
        "window_dilation": wdil,
    }


def _window_reducer(p: core.Primitive, doc: str) -> Callable:
    """The public wrapper of a windowed primitive; its errors name ``lax.<p.name>``."""

    def reducer(
        operand,
        window_dimensions,
        window_strides=None,
        padding="VALID",
        base_dilation=None,
        window_dilation=None,
    ):
        params = _window_params(
            p.name,
            operand,
            window_dimensions,
            window_strides,
            padding,
            base_dilation,
            window_dilation,
        )
        return p.bind(operand, **params)

    reducer.__name__ = reducer.__qualname__ = p.name
    reducer.__doc__ = doc
    return reducer


# -- reduce_window_sum -------------------------------------------------------------
reduce_window_sum_p = _window_primitive("reduce_window_sum", NUMERIC, np.sum, _sum_identity)
jvp_rules[reduce_window_sum_p] = linear_jvp(reduce_window_sum_p)
transpose_rules[reduce_window_sum_p] = _reduce_window_sum_transpose
reduce_window_sum = _window_reducer(reduce_window_sum_p, "The sum of each window.")

# -- reduce_window_max -------------------------------------------------------------
reduce_window_max_p = _window_primitive("reduce_window_max", ALL, np.max, _max_identity)
jvp_rules[reduce_window_max_p] = _window_chooser_jvp(reduce_window_max_p, _max_identity)
reduce_window_max = _window_reducer(reduce_window_max_p, "The maximum of each window.")

# -- reduce_window_min -------------------------------------------------------------
reduce_window_min_p = _window_primitive("reduce_window_min", ALL, np.min, _min_identity)
jvp_rules[reduce_window_min_p] = _window_chooser_jvp(reduce_window_min_p, _min_identity)
reduce_window_min = _window_reducer(reduce_window_min_p, "The minimum of each window.")


# -- reduce_window (the general form) ----------------------------------------------
# Binary primitives a computation may consist of, with the windowed primitive that
# computes it and the identity that makes ``init_value`` redundant. On bool, ``or``
# and ``and`` are max and min.
_MONOIDS = {
    "add": (reduce_window_sum_p, _sum_identity),
    "max": (reduce_window_max_p, _max_identity),
    "min": (reduce_window_min_p, _min_identity),
}
_BOOL_MONOIDS = {
    "or": (reduce_window_max_p, _max_identity),
    "and": (reduce_window_min_p, _min_identity),
}


def _recognise(computation, dt: np.dtype):
    """The (primitive, identity) of a computation that is a single add/max/min of its two
    arguments, found by tracing it on scalars; None for anything else."""
    from plax.interpreters.partial_eval import trace_to_jaxpr

    scalar = ShapedArray((), dt)

    def flat(x, y):
        return [computation(x, y)]

    closed = trace_to_jaxpr(flat, [scalar, scalar])
    jaxpr = closed.jaxpr
    if len(jaxpr.eqns) != 1 or len(jaxpr.outvars) != 1:
        return None
    (eqn,) = jaxpr.eqns
    if set(eqn.invars) != set(jaxpr.invars) or len(eqn.invars) != 2:
        return None
    if tuple(eqn.outvars) != tuple(jaxpr.outvars):
        return None
    table = dict(_MONOIDS, **_BOOL_MONOIDS) if dt == dtypes.bool_ else _MONOIDS
    return table.get(eqn.primitive.name)


def _is_identity(init_value, identity, dt: np.dtype) -> bool:
    if isinstance(init_value, core.Tracer):
        return False
    value = np.asarray(init_value)
    return value.shape == () and bool(value == np.asarray(identity(dt), dtype=dt))


def reduce_window(
    operand,
    init_value,
    computation,
    window_dimensions,
    window_strides=None,
    padding="VALID",
    base_dilation=None,
    window_dilation=None,
):
    """Reduce each window with ``computation``, starting from ``init_value``.

    ``computation`` must be an addition, maximum or minimum of its two arguments
    (``lax.add``, ``lax.max``, ``lax.min``, ``lambda a, b: a + b``, ...); a
    non-identity ``init_value`` is combined into each window's result.
    """
    if isinstance(operand, (tuple, list)):
        raise NotImplementedError(
            "lax.reduce_window over several operands is not supported yet; reduce each "
            "operand separately"
        )
    aval = core.get_aval(operand)
    init_aval = core.get_aval(init_value)
    if init_aval.shape != ():
        raise TypeError(
            f"lax.reduce_window: init_value must be a scalar, got shape {init_aval.shape}"
        )
    found = _recognise(computation, aval.dtype)
    if found is None:
        name = getattr(computation, "__name__", repr(computation))
        raise NotImplementedError(
            f"lax.reduce_window supports computations that add, or take the maximum or "
            f"minimum of, their two arguments (lax.add, lax.max, lax.min); got {name}. "
            "Express other reductions with those, e.g. a windowed mean as "
            "reduce_window(x, 0., lax.add, ...) / window_size"
        )
    primitive, identity = found
    params = _window_params(
        "reduce_window",
        operand,
        window_dimensions,
        window_strides,
        padding,
        base_dilation,
        window_dilation,
    )
    out = primitive.bind(operand, **params)
    if _is_identity(init_value, identity, aval.dtype):
        return out
    return computation(out, init_value)
