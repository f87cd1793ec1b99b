"""Derivative rules of every differentiable lax primitive, checked numerically.

One row per primitive (or per interesting parameter combination): ``check_grads``
compares JVPs with central differences in float64 and checks that the VJP is
the transpose of the JVP (``<vjp(ct), t> == <ct, jvp(t)>``), to second order
where cheap. Each row is also checked to first order through ``plax.jit``.
"""

import numpy as np
import plax
import plax.numpy as pnp
import pytest
from plax import lax
from plax.test_util import check_grads

_rng = np.random.RandomState(0)


def randn(*shape):
    return _rng.standard_normal(shape)


def uniform(low, high, *shape):
    return _rng.uniform(low, high, shape)


def distinct(*shape):
    """Well-separated values (no ties for max/min/sort, no kinks near them)."""
    n = int(np.prod(shape))
    return (_rng.permutation(n) * 0.37 - n * 0.15).reshape(shape)


P = uniform(0.2, 0.9, 5)  # inside every function's domain
X = randn(3, 4)
Y = randn(3, 4)


class Row:
    def __init__(self, name, fun, args, order=2, modes=("fwd", "rev"), tol=1e-5):
        self.name = name
        self.fun = fun
        self.args = args
        self.order = order
        self.modes = modes
        self.tol = tol

    def __repr__(self):
        return self.name


def _conv(strides, padding, lhs_dil, rhs_dil, fgc=1, bgc=1, dnums=None):
    return lambda x, w: lax.conv_general_dilated(
        x, w, strides, padding, lhs_dil, rhs_dil, dnums, fgc, bgc
    )


def _window(fn, window, strides, padding, base=None, wdil=None):
    return lambda x: fn(x, window, strides, padding, base, wdil)


ROWS = [
    # -- elementwise arithmetic ---------------------------------------------------------
    Row("neg", lax.neg, (X,)),
    Row("abs", lax.abs, (X,)),
    Row("add", lax.add, (X, Y)),
    Row("sub", lax.sub, (X, Y)),
    Row("mul", lax.mul, (X, Y)),
    Row("div", lax.div, (X, Y + 3.0)),
    Row("rem", lax.rem, (X * 3.0, P[:4] + 0.1 * np.ones((3, 4)))),
    Row("max", lax.max, (distinct(3, 4), distinct(3, 4) + 0.1)),
    Row("min", lax.min, (distinct(3, 4), distinct(3, 4) + 0.1)),
    Row("integer_pow_3", lambda x: lax.integer_pow(x, 3), (X,)),
    Row("integer_pow_-2", lambda x: lax.integer_pow(x, -2), (X + 3.0,)),
    Row("integer_pow_1", lambda x: lax.integer_pow(x, 1), (X,)),
    Row("square", lax.square, (X,)),
    Row("reciprocal", lax.reciprocal, (X + 3.0,)),
    Row("select_bool", lambda p, a, b: lax.select(p, a, b), (X > 0, X, Y)),
    Row(
        "select_n_int",
        lambda a, b, c: lax.select_n(np.array([[0, 1, 2, 1]] * 3, np.int32), a, b, c),
        (X, Y, X * Y),
    ),
    Row(
        "clamp",
        lambda lo, x, hi: lax.clamp(lo, x, hi),
        (np.full((3, 4), -0.5), distinct(3, 4) / 7, uniform(0.6, 0.8, 3, 4)),
    ),
    Row("clamp_scalar_bounds", lambda x: lax.clamp(-0.5, x, 0.5), (distinct(3, 4) / 7,)),
    # -- transcendental -----------------------------------------------------------------
    *[
        Row(name, getattr(lax, name), (P,))
        for name in (
            "exp",
            "exp2",
            "log",
            "log1p",
            "expm1",
            "sqrt",
            "rsqrt",
            "cbrt",
            "sin",
            "cos",
            "tan",
            "asin",
            "acos",
            "atan",
            "sinh",
            "cosh",
            "tanh",
            "asinh",
            "atanh",
            "logistic",
            "erf",
            "erfc",
            "erf_inv",
            "lgamma",
            "digamma",
        )
    ],
    Row("acosh", lax.acosh, (P + 1.5,)),
    Row("cbrt_negative", lax.cbrt, (-P,)),
    Row("digamma_negative", lax.digamma, (-P * 0.5 - 0.2,)),
    Row("lgamma_negative", lax.lgamma, (-P * 0.5 - 0.2,)),
    Row("pow", lax.pow, (P, randn(5))),
    Row("pow_integer_exponent", lambda x: lax.pow(x, np.int32(3)), (randn(5),)),
    Row("atan2", lax.atan2, (randn(5), P)),
    # -- conversion ----------------------------------------------------------------------
    Row(
        "convert_f64_f32",
        lambda x: lax.convert_element_type(x, np.float32) * 2.0,
        (X,),
        order=1,
        tol=1e-3,
    ),
    Row("convert_weak", lambda x: lax.convert_element_type(x, np.float64), (X,)),
    # -- shapes --------------------------------------------------------------------------
    Row("broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (2, 3, 4), (1, 2)), (X,)),
    Row(
        "broadcast_in_dim_stretch",
        lambda x: lax.broadcast_in_dim(x, (3, 5, 4), (0, 1, 2)),
        (randn(3, 1, 4),),
    ),
    Row("reshape", lambda x: lax.reshape(x, (2, 6)), (X,)),
    Row("reshape_dimensions", lambda x: lax.reshape(x, (4, 3), (1, 0)), (X,)),
    Row("transpose", lambda x: lax.transpose(x, (2, 0, 1)), (randn(2, 3, 4),)),
    Row("squeeze", lambda x: lax.squeeze(x, (1,)), (randn(3, 1, 4),)),
    Row("expand_dims", lambda x: lax.expand_dims(x, (0, 2)), (X,)),
    Row("concatenate", lambda a, b: lax.concatenate([a, b, a], 1), (X, randn(3, 2))),
    Row("pad", lambda x, v: lax.pad(x, v, ((1, 2, 0), (0, 1, 2))), (X, np.float64(0.7))),
    Row(
        "pad_negative", lambda x, v: lax.pad(x, v, ((-1, 1, 1), (2, -2, 0))), (X, np.float64(-0.3))
    ),
    Row("slice", lambda x: lax.slice(x, (1, 0), (3, 4)), (X,)),
    Row("slice_strided", lambda x: lax.slice(x, (0, 1), (3, 4), (2, 2)), (X,)),
    Row("rev", lambda x: lax.rev(x, (0, 1)), (X,)),
    # -- dynamic indexing ----------------------------------------------------------------
    Row("dynamic_slice", lambda x: lax.dynamic_slice(x, (1, 1), (2, 2)), (X,)),
    Row("dynamic_slice_clamped", lambda x: lax.dynamic_slice(x, (-1, 7), (2, 3)), (X,)),
    Row(
        "dynamic_update_slice",
        lambda x, u: lax.dynamic_update_slice(x, u, (1, 2)),
        (X, randn(2, 2)),
    ),
    Row(
        "dynamic_update_slice_clamped",
        lambda x, u: lax.dynamic_update_slice(x, u, (np.int32(5), np.int32(-9))),
        (X, randn(2, 3)),
    ),
    # -- reductions ----------------------------------------------------------------------
    Row("reduce_sum", lambda x: lax.reduce_sum(x, (1,)), (X,)),
    Row("reduce_sum_all", lambda x: lax.reduce_sum(x, (0, 1)), (X,)),
    Row("reduce_prod", lambda x: lax.reduce_prod(x, (1,)), (X,)),
    Row(
        "reduce_prod_with_zero",
        lambda x: lax.reduce_prod(x, (0, 1)),
        (np.array([[1.5, 0.0, -2.0], [0.5, 3.0, 1.2]]),),
    ),
    Row(
        "reduce_prod_two_zeros",
        lambda x: lax.reduce_prod(x, (0,)),
        (np.array([0.0, 0.7, 0.0, 2.0]),),
        order=1,
    ),
    Row("reduce_max", lambda x: lax.reduce_max(x, (0,)), (distinct(3, 4),)),
    Row("reduce_min", lambda x: lax.reduce_min(x, (0, 1)), (distinct(3, 4),)),
    Row("cumsum", lambda x: lax.cumsum(x, 1), (X,)),
    Row("cumsum_reverse", lambda x: lax.cumsum(x, 0, reverse=True), (X,)),
    Row("cumprod", lambda x: lax.cumprod(x, 1), (X,)),
    Row("cumprod_reverse", lambda x: lax.cumprod(x, 0, reverse=True), (X,)),
    Row("cummax", lambda x: lax.cummax(x, 1), (distinct(3, 4),)),
    Row("cummin_reverse", lambda x: lax.cummin(x, 1, reverse=True), (distinct(3, 4),)),
    # -- contractions --------------------------------------------------------------------
    Row("dot", lax.dot, (randn(3, 4), randn(4, 5))),
    Row("dot_vector", lax.dot, (randn(4), randn(4, 2))),
    Row(
        "dot_general_batch",
        lambda a, b: lax.dot_general(a, b, (((2,), (1,)), ((0,), (0,)))),
        (randn(2, 3, 4), randn(2, 4, 5)),
    ),
    Row(
        "dot_general_mixed",
        lambda a, b: lax.dot_general(a, b, (((0, 2), (2, 1)), ((1,), (0,)))),
        (randn(4, 2, 3), randn(2, 3, 4, 5)),
    ),
    Row(
        "dot_general_permuted_batch",
        lambda a, b: lax.dot_general(a, b, (((1,), (3,)), ((2, 0), (0, 2)))),
        (randn(2, 6, 3, 4), randn(3, 5, 2, 6)),
    ),
    # -- convolution ---------------------------------------------------------------------
    Row(
        "conv",
        _conv((1, 1), ((0, 0), (0, 0)), (1, 1), (1, 1)),
        (randn(2, 3, 5, 6), randn(4, 3, 3, 2)),
    ),
    Row(
        "conv_strided_padded",
        _conv((2, 3), ((1, 2), (0, 1)), (1, 1), (1, 1)),
        (randn(2, 3, 7, 6), randn(4, 3, 3, 2)),
    ),
    Row(
        "conv_rhs_dilation",
        _conv((1, 2), ((1, 0), (2, 1)), (1, 1), (2, 2)),
        (randn(2, 3, 7, 6), randn(4, 3, 3, 2)),
    ),
    Row(
        "conv_lhs_dilation",
        _conv((2, 1), ((1, 1), (0, 2)), (2, 1), (1, 2)),
        (randn(2, 3, 5, 6), randn(4, 3, 3, 2)),
    ),
    Row(
        "conv_feature_groups",
        _conv((2, 1), ((1, 1), (0, 0)), (1, 1), (1, 1), fgc=2),
        (randn(2, 6, 7, 6), randn(4, 3, 3, 2)),
    ),
    Row(
        "conv_feature_groups_dilated_cropped",
        _conv((1, 2), ((2, 1), (1, -1)), (1, 2), (2, 1), fgc=3),
        (randn(2, 6, 7, 6), randn(6, 2, 3, 2)),
    ),
    Row(
        "conv_batch_groups",
        _conv((2, 1), ((1, 1), (0, 0)), (1, 1), (1, 1), bgc=2),
        (randn(4, 3, 7, 6), randn(6, 3, 3, 2)),
    ),
    Row(
        "conv_batch_groups_dilated",
        _conv((1, 2), ((0, 1), (1, 1)), (1, 1), (2, 1), bgc=3),
        (randn(6, 3, 7, 6), randn(6, 3, 2, 2)),
    ),
    Row(
        "conv_nhwc",
        _conv((2, 1), ((1, 1), (0, 2)), (1, 1), (1, 2), dnums=("NHWC", "HWIO", "NHWC")),
        (randn(2, 7, 6, 3), randn(3, 2, 3, 4)),
    ),
    Row(
        "conv_mixed_layouts_groups",
        _conv((2, 1), ((1, 1), (0, 2)), (1, 2), (1, 1), fgc=2, dnums=("NHWC", "HWIO", "NCHW")),
        (randn(2, 7, 6, 4), randn(3, 2, 2, 4)),
    ),
    Row("conv_1d", _conv((3,), ((2, 1),), (2,), (2,)), (randn(2, 3, 9), randn(4, 3, 3))),
    Row(
        "conv_3d",
        _conv((1, 1, 2), ((0, 0), (1, 0), (0, 1)), (1, 1, 1), (1, 1, 1)),
        (randn(2, 2, 4, 3, 5), randn(2, 2, 2, 1, 2)),
    ),
    # -- windowed reductions -------------------------------------------------------------
    Row(
        "reduce_window_sum",
        _window(lax.reduce_window_sum, (2, 3), (2, 1), ((1, 0), (0, 2))),
        (randn(5, 6),),
    ),
    Row(
        "reduce_window_sum_dilated",
        _window(lax.reduce_window_sum, (3, 2), (1, 2), ((1, 1), (0, 1)), (2, 1), (1, 2)),
        (randn(4, 5),),
    ),
    Row(
        "reduce_window_max",
        _window(lax.reduce_window_max, (2, 2), (2, 2), "VALID"),
        (distinct(4, 6),),
    ),
    Row(
        "reduce_window_max_overlapping_padded",
        _window(lax.reduce_window_max, (3, 2), (1, 2), ((1, 1), (0, 1)), (2, 1), (1, 2)),
        (distinct(4, 5),),
    ),
    Row(
        "reduce_window_min",
        _window(lax.reduce_window_min, (2, 3), (1, 1), "SAME"),
        (distinct(4, 5),),
    ),
    Row(
        "reduce_window_general",
        lambda x: lax.reduce_window(x, 0.0, lax.add, (2,), (1,), "VALID"),
        (randn(6),),
    ),
    # -- sorting -------------------------------------------------------------------------
    Row("sort", lambda x: lax.sort(x, 1), (distinct(3, 5),)),
    Row("sort_dimension_0", lambda x: lax.sort(x, 0), (distinct(3, 5),)),
    Row("sort_key_val", lambda k, v: lax.sort_key_val(k, v, 1), (distinct(3, 5), randn(3, 5))),
    Row(
        "sort_two_keys",
        lambda a, b: lax.sort((a, b, a * b), 0, num_keys=2),
        (distinct(6), randn(6)),
    ),
    Row("top_k", lambda x: lax.top_k(x, 3)[0], (distinct(3, 5),)),
    Row("top_k_axis_0", lambda x: lax.top_k(x, 2, axis=0)[0], (distinct(4, 3),)),
    # -- calls and custom rules ----------------------------------------------------------
    Row("jit", plax.jit(lambda x, y: pnp.sin(x) * y + x), (X, Y)),
    Row("nested_jit", plax.jit(lambda x: plax.jit(pnp.tanh)(x) * x), (X,)),
    Row("checkpoint", plax.checkpoint(lambda x: pnp.sin(pnp.cos(x) * x)), (X,)),
]


@pytest.fixture(autouse=True)
def _x64(x64):
    yield


@pytest.mark.parametrize("row", ROWS, ids=repr)
def test_rule(row):
    check_grads(row.fun, row.args, row.order, modes=row.modes, atol=row.tol, rtol=row.tol)


@pytest.mark.parametrize("row", ROWS, ids=repr)
def test_rule_under_jit(row):
    check_grads(plax.jit(row.fun), row.args, 1, modes=row.modes, atol=row.tol, rtol=row.tol)


# ----------------------------------------------------------------------------
# Primitives with zero derivatives.

ZERO_ROWS = [
    ("sign", lax.sign),
    ("floor", lax.floor),
    ("ceil", lax.ceil),
    ("round", lax.round),
    ("stop_gradient", lax.stop_gradient),
    ("argmax_convert", lambda x: lax.convert_element_type(lax.argmax(x, 1, np.int32), x.dtype)),
    ("compare_convert", lambda x: lax.convert_element_type(lax.gt(x, 0.0), x.dtype)),
    (
        "int_roundtrip",
        lambda x: lax.convert_element_type(lax.convert_element_type(x * 10.0, np.int32), x.dtype),
    ),
]


@pytest.mark.parametrize("name,fun", ZERO_ROWS, ids=[r[0] for r in ZERO_ROWS])
def test_zero_derivative(name, fun):
    x = randn(3, 4) * 3
    out, t = plax.jvp(fun, (x,), (np.ones_like(x),))
    np.testing.assert_array_equal(np.asarray(t), np.zeros(np.shape(out)))
    g = plax.grad(lambda v: pnp.sum(fun(v)))(x)
    np.testing.assert_array_equal(np.asarray(g), np.zeros_like(x))


INTEGER_OUTPUT_ROWS = [
    ("eq", lambda x: lax.eq(x, x)),
    ("argmax", lambda x: lax.argmax(x, 1, np.int32)),
    ("argmin", lambda x: lax.argmin(x, 0, np.int32)),
    ("is_finite", lax.is_finite),
    ("convert_to_int", lambda x: lax.convert_element_type(x, np.int32)),
    ("sort_indices", lambda x: lax.sort((x, lax.broadcasted_iota(np.int32, x.shape, 1)), 1)[1]),
    ("top_k_indices", lambda x: lax.top_k(x, 2)[1]),
]


@pytest.mark.parametrize("name,fun", INTEGER_OUTPUT_ROWS, ids=[r[0] for r in INTEGER_OUTPUT_ROWS])
def test_integer_outputs_have_float0_tangents(name, fun):
    x = distinct(3, 4)
    out, t = plax.jvp(fun, (x,), (np.ones_like(x),))
    assert t.dtype == plax.autodiff.float0
    assert t.shape == np.shape(out)


def test_rules_cover_every_differentiable_primitive():
    """Every primitive with floating outputs has a JVP rule (or is documented as
    non-differentiable, as in JAX)."""
    from plax import core
    from plax.interpreters.jvp import jvp_rules

    without = {"nextafter", "bitcast_convert_type", "iota", "custom_lin"}
    missing = []
    for module in (
        lax.elementwise,
        lax.comparisons,
        lax.bitwise,
        lax.transcendental,
        lax.shapes,
        lax.indexing,
        lax.reductions,
        lax.linalg,
        lax.convolution,
        lax.windowed,
        lax.sorting,
        lax.convert,
    ):
        for value in vars(module).values():
            if isinstance(value, core.Primitive) and value not in jvp_rules:
                missing.append(value.name)
    float_free = {
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "is_finite",
        "not",
        "and",
        "or",
        "xor",
        "shift_left",
        "shift_right_logical",
        "shift_right_arithmetic",
        "population_count",
        "clz",
        "reduce_and",
        "reduce_or",
        "reduce_xor",
        "argmax",
        "argmin",
    }
    assert sorted(set(missing) - without - float_free) == []
