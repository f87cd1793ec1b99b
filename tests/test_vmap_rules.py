"""Batching rules, one table row per primitive.

Each row is a function of per-example arguments. For several ``in_axes`` (0, 1,
-1 and mixes with None) the test stacks B examples along the mapped axes, runs
``vmap(f)`` (eagerly and under ``jit``) and compares with ``f`` applied to each
example separately and stacked.
"""

from __future__ import annotations

import itertools
from typing import Callable, NamedTuple

import numpy as np
import pytest

import plax
from plax import lax
from plax.interpreters.batching import batch_rules

B = 3
RNG_SEED = 0


class Arg(NamedTuple):
    shape: tuple
    dtype: str = "float32"
    kind: str = "normal"  # normal | int | positive | unit | bool | index


class Row(NamedTuple):
    name: str  # the primitive's name
    fn: Callable
    args: tuple
    exact: bool = True


def _example(arg: Arg, rng) -> np.ndarray:
    dt = np.dtype(arg.dtype)
    if arg.kind == "bool":
        return rng.random(arg.shape) < 0.5
    if arg.kind == "index":
        return rng.integers(-4, 6, size=arg.shape).astype(dt)
    if arg.kind == "int" or dt.kind in "iu":
        low = 0 if dt.kind == "u" else -5
        return rng.integers(low, 6, size=arg.shape).astype(dt)
    if arg.kind == "positive":
        return (rng.random(arg.shape) * 2 + 0.5).astype(dt)
    if arg.kind == "unit":
        return (rng.random(arg.shape) * 1.6 - 0.8).astype(dt)
    return rng.normal(size=arg.shape).astype(dt)


def _mapped_axes_options(args) -> list[tuple]:
    """in_axes tuples: all 0, all 1, all -1 (where ranks allow) and None mixes."""
    n = len(args)
    ranks = [len(a.shape) for a in args]
    options = [(0,) * n, tuple(-1 for _ in args)]
    options.append(tuple(1 if r >= 1 else 0 for r in ranks))
    if n > 1:
        for i in range(n):
            options.append(tuple(None if j == i else 0 for j in range(n)))
            options.append(tuple(0 if j == i else None for j in range(n)))
        options.append(tuple(-1 if j % 2 else (1 if r >= 1 else 0) for j, r in enumerate(ranks)))
    out = []
    for opt in options:
        if opt not in out and any(a is not None for a in opt):
            out.append(opt)
    return out


def _stack_inputs(examples, in_axes):
    """Per-argument batched value: examples stacked along the mapped axis, or example 0."""
    batched = []
    for per_arg, axis in zip(examples, in_axes):
        if axis is None:
            batched.append(per_arg[0])
        else:
            batched.append(np.stack(per_arg, axis=axis))
    return batched


def _expected(fn, examples, in_axes):
    outs = []
    for b in range(B):
        call = [per_arg[0] if axis is None else per_arg[b]
                for per_arg, axis in zip(examples, in_axes)]
        outs.append(fn(*call))
    leaves = [plax.tree_util.tree_leaves(o) for o in outs]
    return [np.stack([np.asarray(lv[i]) for lv in leaves]) for i in range(len(leaves[0]))]


def _compare(got, want, exact: bool, where: str):
    got = np.asarray(got)
    assert got.shape == want.shape, f"{where}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{where}: dtype {got.dtype} != {want.dtype}"
    if exact or want.dtype.kind not in "f":
        np.testing.assert_array_equal(got, want, err_msg=where)
    else:
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6, err_msg=where)


def check_row(row: Row, in_axes) -> None:
    rng = np.random.default_rng(RNG_SEED)
    examples = [[_example(a, rng) for _ in range(B)] for a in row.args]
    want = _expected(row.fn, examples, in_axes)
    batched = _stack_inputs(examples, in_axes)
    for label, fun in (("eager", plax.vmap(row.fn, in_axes=in_axes)),
                       ("jit", plax.jit(plax.vmap(row.fn, in_axes=in_axes)))):
        got = plax.tree_util.tree_leaves(fun(*batched))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _compare(g, w, row.exact, f"{row.name} {label} in_axes={in_axes}")


# ----------------------------------------------------------------------------
# The table.

F = "float32"
I32 = "int32"
V = Arg((4,))
M = Arg((3, 4))
T = Arg((2, 3, 4))


def _unary(name, fn, kind="normal", dtype=F, shape=(3, 4), exact=True):
    return Row(name, fn, (Arg(shape, dtype, kind),), exact)


def _binary(name, fn, kind="normal", dtype=F, shape=(3, 4), exact=True):
    return Row(name, fn, (Arg(shape, dtype, kind), Arg(shape, dtype, kind)), exact)


ELEMENTWISE = [
    _unary("neg", lax.neg),
    _unary("sign", lax.sign),
    _unary("abs", lax.abs),
    _unary("square", lax.square),
    _unary("floor", lax.floor),
    _unary("ceil", lax.ceil),
    _unary("round", lambda x: lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN)),
    _unary("is_finite", lax.is_finite),
    _unary("integer_pow", lambda x: lax.integer_pow(x, 3)),
    _unary("not", lax.bitwise_not, "int", I32),
    _unary("population_count", lax.population_count, "int", I32),
    _unary("clz", lax.clz, "int", I32),
    _binary("add", lax.add),
    _binary("sub", lax.sub),
    _binary("mul", lax.mul),
    _binary("div", lax.div, "positive"),
    _binary("rem", lax.rem, "positive"),
    _binary("max", lax.max),
    _binary("min", lax.min),
    _binary("nextafter", lax.nextafter),
    _binary("eq", lax.eq, "int", I32),
    _binary("ne", lax.ne, "int", I32),
    _binary("lt", lax.lt),
    _binary("le", lax.le),
    _binary("gt", lax.gt),
    _binary("ge", lax.ge),
    _binary("and", lax.bitwise_and, "int", I32),
    _binary("or", lax.bitwise_or, "int", I32),
    _binary("xor", lax.bitwise_xor, "int", I32),
    _binary("shift_left", lambda x, y: lax.shift_left(x, lax.abs(y)), "int", I32),
    _binary("shift_right_logical", lambda x, y: lax.shift_right_logical(x, lax.abs(y)),
            "int", I32),
    _binary("shift_right_arithmetic", lambda x, y: lax.shift_right_arithmetic(x, lax.abs(y)),
            "int", I32),
    Row("select_n", lambda p, x, y: lax.select(p, x, y), (Arg((3, 4), "bool", "bool"), M, M)),
    Row("select_n", lambda w, x, y, z: lax.select_n(w, x, y, z),
        (Arg((3, 4), I32, "int"), M, M, M)),
    Row("clamp", lax.clamp, (M, M, M)),
    Row("clamp", lambda lo, x: lax.clamp(lo, x, 1.0), (Arg(()), M)),
]

# Compiled backends may evaluate transcendental functions a few ulps differently in
# differently shaped kernels, so these rows compare with a tolerance.
TRANSCENDENTAL = [
    _unary(name, getattr(lax, name), kind, exact=False)
    for name, kind in [
        ("exp", "normal"), ("exp2", "normal"), ("log", "positive"), ("log1p", "positive"),
        ("expm1", "normal"), ("sqrt", "positive"), ("rsqrt", "positive"), ("cbrt", "normal"),
        ("sin", "normal"), ("cos", "normal"), ("tan", "unit"), ("asin", "unit"),
        ("acos", "unit"), ("atan", "normal"), ("sinh", "normal"), ("cosh", "normal"),
        ("tanh", "normal"), ("asinh", "normal"), ("acosh", "positive"), ("atanh", "unit"),
        ("logistic", "normal"), ("erf", "normal"), ("erfc", "normal"), ("erf_inv", "unit"),
        ("lgamma", "positive"), ("digamma", "positive"),
    ]
] + [
    _binary("atan2", lax.atan2, exact=False),
    _binary("pow", lax.pow, "positive", exact=False),
    Row("pow", lax.pow, (Arg((3, 4), F, "positive"), Arg((3, 4), I32, "int")), exact=False),
]
# acosh needs x >= 1.
TRANSCENDENTAL = [
    r if r.name != "acosh" else Row("acosh", lambda x: lax.acosh(x + 1.0), r.args, exact=False)
    for r in TRANSCENDENTAL
]

CONVERT = [
    Row("convert_element_type", lambda x: lax.convert_element_type(x, np.int32), (M,)),
    Row("bitcast_convert_type", lambda x: lax.bitcast_convert_type(x, np.int32), (M,)),
    Row("bitcast_convert_type", lambda x: lax.bitcast_convert_type(x, np.int16), (M,)),
    Row("bitcast_convert_type", lambda x: lax.bitcast_convert_type(x, np.float32),
        (Arg((3, 2), "int16", "int"),)),
]

SHAPES = [
    Row("broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (2, 3, 5, 4), (1, 3)), (M,)),
    Row("broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (3, 4, 2), (0, 1)), (M,)),
    Row("broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (3, 4), ()), (Arg(()),)),
    Row("broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (3, 4), (0, 1)),
        (Arg((1, 4)),)),
    Row("reshape", lambda x: lax.reshape(x, (4, 3)), (M,)),
    Row("reshape", lambda x: lax.reshape(x, (6, 4), (1, 0, 2)), (T,)),
    Row("transpose", lambda x: lax.transpose(x, (2, 0, 1)), (T,)),
    Row("squeeze", lambda x: lax.squeeze(x, (0, 2)), (Arg((1, 3, 1, 4)),)),
    Row("concatenate", lambda x, y: lax.concatenate([x, y, x], 1), (M, Arg((3, 2)))),
    Row("pad", lambda x, v: lax.pad(x, v, ((1, 2, 1), (-1, 0, 0))), (M, Arg(()))),
    Row("slice", lambda x: lax.slice(x, (0, 1), (3, 4), (2, 1)), (M,)),
    Row("slice", lambda x: lax.slice(x, (1, 0), (2, 3)), (M,)),
    Row("rev", lambda x: lax.rev(x, (0, 2)), (T,)),
    Row("iota", lambda x: x + lax.broadcasted_iota(np.float32, (3, 4), 1), (M,)),
]

INDEXING = [
    Row("dynamic_slice", lambda x, i, j: lax.dynamic_slice(x, (i, j), (2, 3)),
        (Arg((5, 6)), Arg((), I32, "index"), Arg((), I32, "index"))),
    Row("dynamic_slice", lambda x, i: lax.dynamic_slice(x, (i, np.int8(1)), (3, 4)),
        (Arg((5, 6)), Arg((), "int8", "index"))),
    Row("dynamic_slice", lambda x, i: lax.dynamic_slice_in_dim(x, i, 2, axis=1),
        (Arg((3, 5), I32, "int"), Arg((), "uint8", "int"))),
    Row("dynamic_update_slice",
        lambda x, u, i, j: lax.dynamic_update_slice(x, u, (i, j)),
        (Arg((5, 6)), Arg((2, 3)), Arg((), I32, "index"), Arg((), I32, "index"))),
    Row("dynamic_update_slice", lambda x, u, i: lax.dynamic_update_slice(x, u, (i, 0)),
        (Arg((4, 3), "bool", "bool"), Arg((2, 3), "bool", "bool"), Arg((), I32, "index"))),
]

def _reduce_over_0_2(op):
    reduce = getattr(lax, f"reduce_{op}")
    return lambda x: reduce(x, (0, 2))


REDUCTIONS = [
    Row(f"reduce_{op}", _reduce_over_0_2(op), (Arg((2, 3, 4), dt, kind),), exact=dt != F)
    for op, dt, kind in [("sum", F, "normal"), ("prod", F, "normal"), ("max", F, "normal"),
                         ("min", F, "normal"), ("and", I32, "int"), ("or", I32, "int"),
                         ("xor", I32, "int")]
] + [
    Row("reduce_sum", lambda x: lax.reduce_sum(x, (1,)), (M,), exact=False),
    Row("argmax", lambda x: lax.argmax(x, 1, np.int32), (T,)),
    Row("argmin", lambda x: lax.argmin(x, 0, np.int32), (M,)),
    Row("cumsum", lambda x: lax.cumsum(x, 1), (T,), exact=False),
    Row("cumprod", lambda x: lax.cumprod(x, 0, reverse=True), (M,), exact=False),
    Row("cummax", lambda x: lax.cummax(x, 1), (M,)),
    Row("cummin", lambda x: lax.cummin(x, 2, reverse=True), (T,)),
]

LINALG = [
    Row("dot_general", lax.dot, (M, Arg((4, 2))), exact=False),
    Row("dot_general", lax.dot, (V, V), exact=False),
    Row("dot_general",
        lambda x, y: lax.dot_general(x, y, (((2,), (1,)), ((0,), (0,)))),
        (T, Arg((2, 4, 5))), exact=False),
    Row("dot_general",
        lambda x, y: lax.dot_general(x, y, (((0,), (2,)), ((), ()))),
        (M, Arg((2, 5, 3))), exact=False),
]

_CONV_DN = ("NHWC", "HWIO", "NHWC")
CONVOLUTION = [
    Row("conv_general_dilated",
        lambda x, w: lax.conv_general_dilated(x, w, (1,), "SAME"),
        (Arg((2, 3, 7)), Arg((4, 3, 3))), exact=False),
    Row("conv_general_dilated",
        lambda x, w: lax.conv_general_dilated(x, w, (2, 1), ((1, 0), (0, 1)),
                                              rhs_dilation=(1, 2), dimension_numbers=_CONV_DN),
        (Arg((2, 6, 5, 3)), Arg((3, 2, 3, 4))), exact=False),
    Row("conv_general_dilated",
        lambda x, w: lax.conv_general_dilated(x, w, (1,), "VALID", feature_group_count=2),
        (Arg((2, 4, 6)), Arg((6, 2, 3))), exact=False),
    Row("conv_general_dilated",
        lambda x, w: lax.conv_general_dilated(x, w, (1,), "VALID", batch_group_count=2),
        (Arg((4, 3, 6)), Arg((6, 3, 2))), exact=False),
    Row("conv_general_dilated",
        lambda x, w: lax.conv_general_dilated(x, w, (1,), ((1, 1),), lhs_dilation=(2,),
                                              dimension_numbers=("NWC", "WOI", "NCW")),
        (Arg((2, 5, 3)), Arg((3, 4, 3))), exact=False),
]

WINDOWED = [
    Row("reduce_window_sum",
        lambda x: lax.reduce_window_sum(x, (2, 2), (1, 2), "SAME"), (Arg((4, 5)),),
        exact=False),
    Row("reduce_window_max",
        lambda x: lax.reduce_window_max(x, (2, 3), None, ((1, 0), (0, 1)),
                                        base_dilation=(2, 1)), (Arg((4, 5)),)),
    Row("reduce_window_min",
        lambda x: lax.reduce_window_min(x, (1, 2), (1, 1), "VALID",
                                        window_dilation=(1, 2)), (Arg((4, 5), I32, "int"),)),
]

SORTING = [
    Row("sort", lambda x: lax.sort(x, 0), (M,)),
    Row("sort", lambda x: lax.sort(x, 1), (M,)),
    Row("sort", lambda k, v: lax.sort_key_val(k, v, 1), (Arg((3, 4), I32, "int"), M)),
    Row("sort", lambda a, b, c: lax.sort((a, b, c), 0, num_keys=2),
        (Arg((4, 2), I32, "int"), Arg((4, 2), I32, "int"), Arg((4, 2)))),
    Row("top_k", lambda x: lax.top_k(x, 2), (M,)),
]

ROWS = (ELEMENTWISE + TRANSCENDENTAL + CONVERT + SHAPES + INDEXING + REDUCTIONS + LINALG
        + CONVOLUTION + WINDOWED + SORTING)

CASES = [
    pytest.param(row, axes, id=f"{row.name}-{i}-{axes}")
    for i, row in enumerate(ROWS)
    for axes in _mapped_axes_options(row.args)
]


@pytest.mark.parametrize("row,in_axes", CASES)
def test_batching_rule(row, in_axes):
    check_row(row, in_axes)


def _lax_primitives():
    from plax import core

    modules = [lax.elementwise, lax.comparisons, lax.bitwise, lax.transcendental, lax.convert,
               lax.shapes, lax.indexing, lax.reductions, lax.linalg, lax.convolution,
               lax.windowed, lax.sorting]
    prims = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, core.Primitive):
                prims[value.name] = value
    return prims


def test_every_lax_primitive_has_a_rule_and_a_row():
    prims = _lax_primitives()
    # iota has no operands, so it is never batched.
    missing_rules = sorted(n for n, p in prims.items() if p not in batch_rules and n != "iota")
    assert missing_rules == []
    covered = {row.name for row in ROWS}
    assert sorted(set(prims) - covered) == []


# ----------------------------------------------------------------------------
# Batch axes are moved only where a rule needs it.


def _primitive_names(fun, *args):
    return [eqn.primitive.name for eqn in plax.make_jaxpr(fun)(*args).eqns]


def test_elementwise_chain_keeps_batch_axis_in_place():
    x = np.ones((4, 3), np.float32)
    f = plax.vmap(lambda v: lax.exp(lax.sin(v) * v) + 1.0, in_axes=1, out_axes=1)
    assert "transpose" not in _primitive_names(f, x)


def test_reductions_and_slices_keep_batch_axis_in_place():
    x = np.ones((4, 3, 5), np.float32)

    def per_example(v):  # v: (4, 5)
        return lax.reduce_sum(lax.rev(lax.slice(v, (0, 1), (4, 5)), (1,)), (1,))

    f = plax.vmap(per_example, in_axes=1, out_axes=0)
    names = _primitive_names(f, x)
    assert names.count("transpose") <= 1  # at most the final move to out_axes
    np.testing.assert_allclose(np.asarray(f(x)), np.full((3, 4), 4.0, np.float32))


def test_dot_general_batches_without_loops_or_moves():
    x = np.ones((2, 3, 4), np.float32)
    w = np.ones((4, 5, 3), np.float32)
    f = plax.vmap(lambda a, b: lax.dot(a, b), in_axes=(1, 2))
    names = _primitive_names(f, x, w)
    assert names == ["dot_general"]


def test_conv_batches_without_loops():
    x = np.ones((3, 2, 3, 7), np.float32)
    w = np.ones((3, 4, 3, 3), np.float32)
    f = plax.vmap(lambda a, b: lax.conv_general_dilated(a, b, (1,), "SAME"))
    names = _primitive_names(f, x, w)
    assert names.count("conv_general_dilated") == 1


def test_unbatched_start_indices_keep_dynamic_slice():
    x = np.ones((3, 5, 6), np.float32)
    f = plax.vmap(lambda a, i: lax.dynamic_slice(a, (i, 1), (2, 3)), in_axes=(0, None))
    names = _primitive_names(f, x, np.int32(1))
    assert names == ["dynamic_slice"]


def test_batched_padding_value():
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    v = np.array([-1.0, -2.0, -3.0], np.float32)
    out = plax.vmap(lambda a, p: lax.pad(a, p, ((1, 1, 1),)))(x, v)
    for b in range(3):
        np.testing.assert_array_equal(
            np.asarray(out[b]), np.asarray(lax.pad(x[b], v[b], ((1, 1, 1),)))
        )


def test_zero_sized_batch_conv():
    x = np.ones((0, 2, 3, 7), np.float32)
    w = np.ones((0, 4, 3, 3), np.float32)
    out = plax.vmap(lambda a, b: lax.conv_general_dilated(a, b, (1,), "SAME"))(x, w)
    assert out.shape == (0, 2, 4, 7)


@pytest.mark.parametrize("in_axes", list(itertools.product((0, None), repeat=2))[:-1])
def test_dynamic_update_slice_mixed(in_axes):
    row = INDEXING[3]
    full_axes = in_axes + (0, None)
    check_row(row, full_axes)
