"""lax.reduce_window (and its sum/max/min primitives), lax.sort, sort_key_val, top_k.

Values are checked against JAX (tests/data/lax_reduce_window_cases.json and
lax_sort_cases.json, produced by tests/data/generate_lax_structured.py) and
against numpy; every op runs eagerly and under jit.
"""

import json
import os

import numpy as np
import pytest

import plax
from plax import dtypes, lax

from testdata import decode, decode_padding
from lax_testing import check, comparable

DATA_DIR = os.path.join(os.path.dirname(__file__), "data")
with open(os.path.join(DATA_DIR, "lax_reduce_window_cases.json")) as _f:
    WINDOW_CASES = {case["name"]: case for case in json.load(_f)["cases"]}
with open(os.path.join(DATA_DIR, "lax_sort_cases.json")) as _f:
    SORT_CASES = {f"{c['kind']}_{c['name']}": c for c in json.load(_f)["cases"]}


def assert_same(actual, expected):
    """Equal values, dtypes and shapes; NaN matches NaN, and zeros' signs must agree."""
    actual = np.asarray(actual)
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    actual, expected = comparable(actual), comparable(expected)
    np.testing.assert_array_equal(actual, expected)
    if dtypes.is_float(expected.dtype):
        # Zeros must carry the right sign; a NaN's sign is not specified by reductions.
        numbers = ~np.isnan(expected)
        np.testing.assert_array_equal(np.signbit(actual[numbers]), np.signbit(expected[numbers]))


# ----------------------------------------------------------------------------
# reduce_window against JAX.

WRAPPERS = {
    "sum": lax.reduce_window_sum,
    "max": lax.reduce_window_max,
    "min": lax.reduce_window_min,
}
# lax.max / lax.min come from the elementwise module; lambdas stand in where needed.
COMPUTATIONS = {
    "sum": lambda a, b: a + b,
    "max": getattr(lax, "max", None),
    "min": getattr(lax, "min", None),
}


def _window_args(case) -> tuple:
    """A recorded case's window_dimensions, strides, padding and dilations, in order."""
    return (
        case["window_dimensions"],
        case["window_strides"],
        decode_padding(case["padding"]),
        case["base_dilation"],
        case["window_dilation"],
    )


def _identity(op, dt):
    if op == "sum":
        return np.zeros((), dt)
    if dt == np.bool_:
        return np.array(op == "min")
    if dtypes.is_integer(dt):
        info = np.iinfo(dt)
        return np.array(info.min if op == "max" else info.max, dt)
    return np.array(-np.inf if op == "max" else np.inf, dt)


@pytest.mark.parametrize("name", sorted(WINDOW_CASES))
def test_reduce_window_primitives_match_jax(name):
    case = WINDOW_CASES[name]
    x, expected = decode(case["operand"]), decode(case["expected"])
    wrapper = WRAPPERS[case["op"]]
    out = check(lambda a: wrapper(a, *_window_args(case)), x)
    assert_same(out, expected)


@pytest.mark.parametrize("name", sorted(WINDOW_CASES))
def test_reduce_window_general_matches_jax(name):
    case = WINDOW_CASES[name]
    computation = COMPUTATIONS[case["op"]]
    if computation is None:
        pytest.skip(f"lax.{case['op']} is not defined yet")
    x, expected = decode(case["operand"]), decode(case["expected"])
    init = _identity(case["op"], x.dtype)
    out = check(lambda a: lax.reduce_window(a, init, computation, *_window_args(case)), x)
    assert_same(out, expected)


# ----------------------------------------------------------------------------
# The general reduce_window wrapper.

X10 = np.arange(10, dtype=np.float32)


@pytest.mark.parametrize(
    "computation", [lax.add, lambda a, b: a + b, lambda a, b: b + a], ids=["lax.add", "a+b", "b+a"]
)
def test_reduce_window_recognises_additions(computation):
    out = check(lambda a: lax.reduce_window(a, 0.0, computation, (3,), (2,), [(1, 1)]), X10)
    np.testing.assert_array_equal(np.asarray(out), [1, 6, 12, 18, 24])
    jaxpr = plax.make_jaxpr(lambda a: lax.reduce_window(a, 0.0, computation, (3,), (2,), "SAME"))(
        X10
    )
    (eqn,) = jaxpr.jaxpr.eqns
    assert eqn.primitive.name == "reduce_window_sum"
    assert eqn.params == {
        "window_dimensions": (3,),
        "window_strides": (2,),
        "padding": ((0, 1),),
        "base_dilation": (1,),
        "window_dilation": (1,),
    }


def test_reduce_window_non_identity_init():
    # Values from JAX: the init value joins each window once; padding adds nothing.
    out = check(lambda a: lax.reduce_window(a, 1.0, lax.add, (3,), (2,), [(1, 1)]), X10)
    np.testing.assert_array_equal(np.asarray(out), [2, 7, 13, 19, 25])
    zeros = np.zeros(3, np.float32)
    out = lax.reduce_window(zeros, 1.0, lax.add, (3,), (1,), [(2, 2)])
    np.testing.assert_array_equal(np.asarray(out), [1, 1, 1, 1, 1])
    # A traced init value works too.
    out = plax.jit(lambda i: lax.reduce_window(zeros, i, lax.add, (3,), (1,), [(2, 2)]))(1.0)
    np.testing.assert_array_equal(np.asarray(out), [1, 1, 1, 1, 1])


@pytest.mark.skipif(not hasattr(lax, "max"), reason="lax.max is not defined yet")
def test_reduce_window_max_with_non_identity_init():
    zeros = np.zeros(3, np.float32)
    out = check(lambda a: lax.reduce_window(a, 100.0, lax.max, (3,), (1,), [(2, 2)]), zeros)
    np.testing.assert_array_equal(np.asarray(out), [100] * 5)


def test_reduce_window_bool_or_and():
    x = np.array([False, True, False, False, False])
    if hasattr(lax, "bitwise_or"):
        out = check(lambda a: lax.reduce_window(a, False, lax.bitwise_or, (2,), (1,)), x)
        np.testing.assert_array_equal(np.asarray(out), [True, True, False, False])
    out = check(lambda a: lax.reduce_window_max(a, (2,), (1,)), x)
    np.testing.assert_array_equal(np.asarray(out), [True, True, False, False])
    out = check(lambda a: lax.reduce_window_min(a, (2,), (1,), [(1, 0)]), ~x)
    np.testing.assert_array_equal(np.asarray(out), [True, False, False, True, True])


def test_reduce_window_defaults_and_weak_type():
    out = lax.reduce_window_sum(X10, (10,))
    np.testing.assert_array_equal(np.asarray(out), [45])
    scalar = lax.reduce_window_sum(np.float32(3), ())
    assert scalar.shape == () and float(np.asarray(scalar)) == 3.0


def test_reduce_window_float64_with_x64(x64):
    x = np.linspace(0, 1, 7)
    out = check(lambda a: lax.reduce_window_sum(a, (3,), (2,), "SAME"), x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(
        np.asarray(out), [x[0] + x[1], x[1:4].sum(), x[3:6].sum(), x[5:].sum()]
    )


def test_reduce_window_unsupported_computation():
    with pytest.raises(NotImplementedError, match="lax.reduce_window.*lax.add, lax.max"):
        lax.reduce_window(X10, 1.0, lambda a, b: a * b, (3,), (1,))
    with pytest.raises(NotImplementedError, match="several operands"):
        lax.reduce_window((X10, X10), (0.0, 0.0), lax.add, (3,), (1,))


WINDOW_ERRORS = [
    # (description, operand shape, dtype, args, exception, message fragment)
    (
        "window rank",
        (10,),
        np.float32,
        ((3, 3), (1,), "VALID"),
        TypeError,
        "window_dimensions needs one entry per operand dimension",
    ),
    (
        "stride rank",
        (10,),
        np.float32,
        ((3,), (1, 1), "VALID"),
        TypeError,
        "window_strides needs one entry",
    ),
    (
        "zero window",
        (10,),
        np.float32,
        ((0,), (1,), "VALID"),
        TypeError,
        "window_dimensions must be positive",
    ),
    (
        "zero stride",
        (10,),
        np.float32,
        ((3,), (0,), "VALID"),
        TypeError,
        "window_strides must be positive",
    ),
    (
        "negative padding too big",
        (4,),
        np.float32,
        ((1,), (1,), [(-3, -2)]),
        ValueError,
        "negative padding",
    ),
    (
        "padding count",
        (4,),
        np.float32,
        ((1,), (1,), [(0, 0), (0, 0)]),
        TypeError,
        "padding needs one entry",
    ),
    ("padding not pairs", (4,), np.float32, ((1,), (1,), [(1,)]), TypeError, "pairs"),
    ("unknown padding", (4,), np.float32, ((1,), (1,), "FULL"), ValueError, "FULL"),
    (
        "sum of bools",
        (4,),
        np.bool_,
        ((2,), (1,), "VALID"),
        TypeError,
        "reduce_window_sum does not accept dtype bool",
    ),
]


@pytest.mark.parametrize(
    "desc,shape,dt,args,exc,match", WINDOW_ERRORS, ids=[e[0] for e in WINDOW_ERRORS]
)
def test_reduce_window_errors(desc, shape, dt, args, exc, match):
    with pytest.raises(exc, match=match):
        lax.reduce_window_sum(np.ones(shape, dt), *args)


def test_reduce_window_init_must_be_scalar():
    with pytest.raises(TypeError, match="init_value must be a scalar"):
        lax.reduce_window(X10, np.zeros(2, np.float32), lax.add, (3,), (1,))


# ----------------------------------------------------------------------------
# sort against JAX and numpy.


@pytest.mark.parametrize("name", sorted(SORT_CASES))
def test_sort_and_top_k_match_jax(name):
    case = SORT_CASES[name]
    expected = [decode(e) for e in case["expected"]]
    if case["kind"] == "sort":
        operands = tuple(decode(o) for o in case["operands"])
        outs = check(
            lambda *ops: lax.sort(ops, dimension=case["dimension"], num_keys=case["num_keys"]),
            *operands,
        )
    else:
        operand = decode(case["operand"])
        outs = check(lambda a: lax.top_k(a, case["k"]), operand)
    assert len(outs) == len(expected)
    for out, exp in zip(outs, expected):
        assert_same(out, exp)


SORT_DTYPES = ["float32", "float16", "bfloat16", "int8", "int32", "uint8", "uint32", "bool"]


@pytest.mark.parametrize("dt", SORT_DTYPES)
@pytest.mark.parametrize(
    "shape,dimension",
    [
        ((7,), -1),
        ((3, 5), 0),
        ((3, 5), 1),
        ((2, 3, 4), 1),
        ((0,), 0),
        ((4, 0), 0),
        ((1, 5), 0),
        ((1,), 0),
    ],
)
def test_sort_matches_numpy(shape, dimension, dt):
    rng = np.random.default_rng(4)
    dt = dtypes.dtype(dt)
    if dt == np.bool_:
        x = rng.integers(0, 2, shape).astype(bool)
    else:
        x = rng.integers(0 if dtypes.is_unsigned(dt) else -50, 50, shape).astype(dt)
    out = check(lambda a: lax.sort(a, dimension=dimension), x)
    expected = np.sort(
        x.astype(np.float64) if dtypes.is_float(dt) else x, axis=dimension, kind="stable"
    ).astype(dt)
    assert_same(out, expected)


def test_sort_key_val_is_stable():
    keys = np.array([2, 1, 2, 1, 0, 2], np.int32)
    values = np.arange(6, dtype=np.float32)
    k, v = check(lambda a, b: lax.sort_key_val(a, b), keys, values)
    np.testing.assert_array_equal(np.asarray(k), [0, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(np.asarray(v), [4, 1, 3, 0, 2, 5])


def test_sort_key_val_along_axis():
    keys = np.array([[3, 1], [0, 2]], np.int32)
    values = np.array([[10, 11], [12, 13]], np.int32)
    k, v = check(lambda a, b: lax.sort_key_val(a, b, dimension=0), keys, values)
    np.testing.assert_array_equal(np.asarray(k), [[0, 1], [3, 2]])
    np.testing.assert_array_equal(np.asarray(v), [[12, 11], [10, 13]])


def test_sort_sequence_returns_tuple():
    a = np.array([1, 0, 1, 0], np.int32)
    b = np.array([4.0, 3.0, 2.0, 1.0], np.float32)
    outs = check(lambda x, y: lax.sort([x, y]), a, b)
    assert isinstance(outs, tuple) and len(outs) == 2
    np.testing.assert_array_equal(np.asarray(outs[1]), [3, 1, 4, 2])
    outs = check(lambda x, y: lax.sort((x, y), num_keys=2), a, b)
    np.testing.assert_array_equal(np.asarray(outs[1]), [1, 3, 2, 4])
    (single,) = lax.sort([a])
    np.testing.assert_array_equal(np.asarray(single), [0, 0, 1, 1])


def test_sort_jaxpr():
    x = np.ones(3, np.float32)
    closed = plax.make_jaxpr(lambda a, b: lax.sort((a, b), num_keys=1))(x, x)
    (eqn,) = closed.jaxpr.eqns
    assert eqn.primitive.name == "sort"
    assert eqn.params == {"dimension": 0, "is_stable": True, "num_keys": 1}
    assert len(eqn.outvars) == 2


def test_sort_keeps_weak_type():
    x = lax.dot_general(1.0, 2.0, (((), ()), ((), ())))  # a weak f32[] scalar
    assert x.aval.weak_type
    y = lax.reduce_window_sum(x, ())
    assert y.aval.weak_type


SORT_ERRORS = [
    # (description, thunk, exception, message fragment)
    ("unequal shapes", lambda: lax.sort((np.ones(4), np.ones(3))), TypeError, "equal shapes"),
    (
        "num_keys too big",
        lambda: lax.sort((np.ones(4), np.ones(4)), num_keys=3),
        ValueError,
        "num_keys=3",
    ),
    ("num_keys zero", lambda: lax.sort(np.ones(4), num_keys=0), ValueError, "num_keys=0"),
    ("rank 0", lambda: lax.sort(np.float32(3)), TypeError, "rank at least 1"),
    ("bad dimension", lambda: lax.sort(np.ones((2, 2)), dimension=2), ValueError, "out of bounds"),
    ("no operands", lambda: lax.sort([]), TypeError, "at least one operand"),
    ("is_stable not bool", lambda: lax.sort(np.ones(3), is_stable="yes"), TypeError, "is_stable"),
    (
        "sort_key_val shapes",
        lambda: lax.sort_key_val(np.ones(3), np.ones(2)),
        TypeError,
        "equal shapes",
    ),
    ("top_k too big", lambda: lax.top_k(np.ones((1, 4)), 5), ValueError, "k=5"),
    ("top_k negative", lambda: lax.top_k(np.ones(4), -1), ValueError, "non-negative"),
    ("top_k rank 0", lambda: lax.top_k(np.float32(3), 1), TypeError, "rank at least 1"),
    ("top_k non-int k", lambda: lax.top_k(np.ones(4), 1.5), TypeError, "k must be an integer"),
]


@pytest.mark.parametrize("desc,thunk,exc,match", SORT_ERRORS, ids=[e[0] for e in SORT_ERRORS])
def test_sort_errors(desc, thunk, exc, match):
    with pytest.raises(exc, match=match):
        thunk()


def test_traced_k_is_rejected():
    with pytest.raises(plax.errors.ConcretizationTypeError):
        plax.jit(lambda a, k: lax.top_k(a, k))(np.ones(4, np.float32), 2)


# ----------------------------------------------------------------------------
# top_k.


@pytest.mark.parametrize("dt", ["float32", "int32", "uint8", "bfloat16"])
@pytest.mark.parametrize(
    "shape,k,axis",
    [
        ((6,), 3, -1),
        ((2, 5), 5, -1),
        ((4, 3), 2, 0),
        ((2, 3), 0, -1),
        ((0, 4), 2, -1),
        ((3, 1), 1, 1),
    ],
)
def test_top_k_matches_numpy(shape, k, axis, dt):
    rng = np.random.default_rng(5)
    dt = dtypes.dtype(dt)
    x = rng.integers(0 if dtypes.is_unsigned(dt) else -4, 5, shape).astype(dt)
    values, indices = check(lambda a: lax.top_k(a, k, axis=axis), x)
    assert indices.dtype == np.int32
    order = np.argsort(-x.astype(np.float64), axis=axis, kind="stable")
    expected_idx = np.take(order, np.arange(k), axis=axis)
    np.testing.assert_array_equal(np.asarray(indices), expected_idx)
    np.testing.assert_array_equal(
        np.asarray(values), np.take_along_axis(x, expected_idx, axis=axis)
    )


def test_top_k_jaxpr():
    closed = plax.make_jaxpr(lambda a: lax.top_k(a, 2))(np.ones((2, 3), np.float32))
    (eqn,) = closed.jaxpr.eqns
    assert eqn.primitive.name == "top_k"
    assert eqn.params == {"k": 2, "axis": 1}
    assert [v.aval.str_short() for v in eqn.outvars] == ["f32[2,2]", "i32[2,2]"]
