"""lax reductions: reduce_{sum,prod,max,min,and,or,xor}, argmax/argmin and
cumsum/cumprod/cummax/cummin.

Every row runs eagerly and under ``plax.jit``. Expected values come from
loop-based numpy references written here (floats computed in float64, integers
wrapping in their own dtype), or, for the edge cases JAX defines (identities of
empty reductions, NaN handling, wrap-around, accumulation precision), from
JAX 0.10.2 itself.
"""

import functools
import itertools

import ml_dtypes
import numpy as np
import plax
import pytest
from plax import lax
from plax.configuration import config
from plax.errors import ConcretizationTypeError

bfloat16 = np.dtype(ml_dtypes.bfloat16)
FLOATS = [np.dtype(d) for d in (np.float32, np.float16, bfloat16)]
INTS = [np.dtype(d) for d in (np.int8, np.int32, np.uint8, np.uint32)]
BOOL = [np.dtype(np.bool_)]
SHAPES = [(), (0,), (3,), (1, 4), (2, 0, 3), (2, 3, 4)]

# Relative tolerance per dtype for arithmetic results (float64 references).
TOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float16): 1e-2, bfloat16: 2e-2}


def sample(shape, dtype, seed=0, nan=False):
    rng = np.random.RandomState(seed)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.asarray(rng.rand(*shape) > 0.5)
    if dtype.kind in "iu":
        low = max(np.iinfo(dtype).min, -100)
        return np.asarray(rng.randint(low, 100, size=shape)).astype(dtype)
    values = np.asarray(rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1, 1], size=shape))
    values = values.astype(np.float32)
    if nan and values.size >= 3:
        values.flat[1] = np.nan
    return values.astype(dtype)


def assert_close(got, expected):
    got = np.asarray(got)
    expected = np.asarray(expected)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    tol = TOL.get(expected.dtype)
    if tol is None:
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(
            got.astype(np.float64), expected.astype(np.float64), rtol=tol, atol=tol, equal_nan=True
        )


def check(fn, args, expected):
    assert_close(fn(*args), expected)
    assert_close(plax.jit(fn)(*args), expected)


def name(dtype) -> str:
    return np.dtype(dtype).name


# ----------------------------------------------------------------------------
# Loop-based numpy references (they do not use ufunc.reduce/accumulate).


def _compute_dtype(dtype):
    return np.float64 if dtype.kind == "f" or dtype == bfloat16 else dtype


def _nan_max(a, b):
    return np.where(np.isnan(a) | np.isnan(b), np.nan, np.maximum(a, b))


def _nan_min(a, b):
    return np.where(np.isnan(a) | np.isnan(b), np.nan, np.minimum(a, b))


def _max(a, b):
    return _nan_max(a, b) if a.dtype.kind == "f" else np.maximum(a, b)


def _min(a, b):
    return _nan_min(a, b) if a.dtype.kind == "f" else np.minimum(a, b)


def _lowest(dtype):
    if dtype == np.bool_:
        return False
    return np.iinfo(dtype).min if dtype.kind in "iu" else -np.inf


def _highest(dtype):
    if dtype == np.bool_:
        return True
    return np.iinfo(dtype).max if dtype.kind in "iu" else np.inf


# name -> (lax function, binary op on columns, identity for the dtype)
REDUCTIONS = {
    "sum": (lax.reduce_sum, np.add, lambda dt: 0),
    "prod": (lax.reduce_prod, np.multiply, lambda dt: 1),
    "max": (lax.reduce_max, _max, _lowest),
    "min": (lax.reduce_min, _min, _highest),
    "and": (lax.reduce_and, np.bitwise_and, lambda dt: np.invert(np.zeros((), dt))),
    "or": (lax.reduce_or, np.bitwise_or, lambda dt: np.zeros((), dt)),
    "xor": (lax.reduce_xor, np.bitwise_xor, lambda dt: np.zeros((), dt)),
}
REDUCTION_DTYPES = {
    "sum": FLOATS + INTS,
    "prod": FLOATS + INTS,
    "max": FLOATS + INTS + BOOL,
    "min": FLOATS + INTS + BOOL,
    "and": INTS + BOOL,
    "or": INTS + BOOL,
    "xor": INTS + BOOL,
}


def np_reduce(x, axes, op, identity):
    dtype = x.dtype
    kept = [d for d in range(x.ndim) if d not in axes]
    moved = np.transpose(x, kept + list(axes)).astype(_compute_dtype(dtype))
    out_shape = tuple(x.shape[d] for d in kept)
    count = int(np.prod([x.shape[d] for d in axes], dtype=np.int64))
    columns = moved.reshape(out_shape + (count,))
    result = np.full(out_shape, identity(dtype), dtype=columns.dtype)
    for k in range(columns.shape[-1]):
        result = op(result, columns[..., k]).astype(columns.dtype)
    return result.astype(dtype)


def np_arg_reduce(x, axis, index_dtype, better):
    moved = np.moveaxis(x.astype(_compute_dtype(x.dtype)), axis, -1)
    out = np.zeros(moved.shape[:-1], dtype=np.int64)
    for index in np.ndindex(*moved.shape[:-1]):
        row = list(moved[index])
        nans = [i for i, v in enumerate(row) if np.isnan(v)]
        if nans:
            out[index] = nans[0]
            continue
        best = 0
        for i, v in enumerate(row):
            if better(v, row[best]):
                best = i
        out[index] = best
    return out.astype(index_dtype)


def np_cumulative(x, axis, reverse, op):
    moved = np.moveaxis(x.astype(_compute_dtype(x.dtype)), axis, 0)
    if reverse:
        moved = moved[::-1]
    out = moved.copy()
    for k in range(1, moved.shape[0]):
        out[k] = op(out[k - 1], moved[k])
    if reverse:
        out = out[::-1]
    return np.moveaxis(out, 0, axis).astype(x.dtype)


CUMULATIVE = {
    "cumsum": (lax.cumsum, np.add),
    "cumprod": (lax.cumprod, np.multiply),
    "cummax": (lax.cummax, _max),
    "cummin": (lax.cummin, _min),
}


# ----------------------------------------------------------------------------
# Rows: (id, fn, args, expected).


def _axes_choices(nd):
    out = [()] + [(d,) for d in range(nd)]
    if nd > 1:
        out += [tuple(range(nd)), (nd - 1, 0), (-1,)]
    return out


def _reduction_rows():
    for op, (fn, binop, identity) in REDUCTIONS.items():
        for dtype, shape in itertools.product(REDUCTION_DTYPES[op], SHAPES):
            x = sample(shape, dtype, nan=op in ("max", "min"))
            for axes in _axes_choices(len(shape)):
                norm = tuple(a % len(shape) for a in axes)
                yield (
                    f"reduce_{op}-{name(dtype)}{list(shape)}-{axes}",
                    lambda a, f=fn, ax=axes: f(a, ax),
                    (x,),
                    np_reduce(x, norm, binop, identity),
                )


def _arg_rows():
    for op, better in (("argmax", lambda a, b: a > b), ("argmin", lambda a, b: a < b)):
        fn = getattr(lax, op)
        for dtype, shape in itertools.product(FLOATS + INTS + BOOL, SHAPES):
            x = sample(shape, dtype, nan=True)
            for axis in range(len(shape)):
                if shape[axis] == 0:
                    continue
                for index_dtype in (np.int32, np.uint8):
                    yield (
                        f"{op}-{name(dtype)}{list(shape)}-{axis}-{name(index_dtype)}",
                        lambda a, f=fn, ax=axis, i=index_dtype: f(a, ax, i),
                        (x,),
                        np_arg_reduce(x, axis, index_dtype, better),
                    )
        # Ties: many equal values, the first one wins.
        ties = np.array([[1, 3, 3, 0], [2, 2, 2, 2]], np.int32)
        yield (
            f"{op}-ties",
            lambda a, f=fn: f(a, 1, np.int32),
            (ties,),
            np_arg_reduce(ties, 1, np.int32, better),
        )


def _cumulative_rows():
    for op, (fn, binop) in CUMULATIVE.items():
        for dtype, shape in itertools.product(FLOATS + INTS, SHAPES):
            x = sample(shape, dtype, nan=op in ("cummax", "cummin"))
            for axis, reverse in itertools.product(range(len(shape)), (False, True)):
                yield (
                    f"{op}-{name(dtype)}{list(shape)}-{axis}-{reverse}",
                    lambda a, f=fn, ax=axis, r=reverse: f(a, ax, r),
                    (x,),
                    np_cumulative(x, axis, reverse, binop),
                )
        x = sample((2, 3), np.float32)
        yield (
            f"{op}-negative-axis",
            lambda a, f=fn: f(a, axis=-1),
            (x,),
            np_cumulative(x, 1, False, binop),
        )


def _jax_rows():
    """Edge cases whose expected values were computed with JAX 0.10.2."""
    f32 = np.float32
    nan = np.nan
    for dtype, max_id, min_id, and_id in [
        (np.float32, -np.inf, np.inf, None),
        (np.float16, -np.inf, np.inf, None),
        (bfloat16, -np.inf, np.inf, None),
        (np.int8, -128, 127, -1),
        (np.uint16, 0, 65535, 65535),
        (np.bool_, False, True, True),
    ]:
        empty = np.zeros((0,), dtype)
        tag = name(dtype)
        yield (
            f"jax-empty-max-{tag}",
            lambda a: lax.reduce_max(a, (0,)),
            (empty,),
            np.array(max_id, dtype),
        )
        yield (
            f"jax-empty-min-{tag}",
            lambda a: lax.reduce_min(a, (0,)),
            (empty,),
            np.array(min_id, dtype),
        )
        if and_id is not None:
            yield (
                f"jax-empty-and-{tag}",
                lambda a: lax.reduce_and(a, (0,)),
                (empty,),
                np.array(and_id, dtype),
            )
            yield (
                f"jax-empty-or-{tag}",
                lambda a: lax.reduce_or(a, (0,)),
                (empty,),
                np.array(0, dtype),
            )
        if dtype != np.bool_:
            yield (
                f"jax-empty-sum-{tag}",
                lambda a: lax.reduce_sum(a, (0,)),
                (empty,),
                np.array(0, dtype),
            )
            yield (
                f"jax-empty-prod-{tag}",
                lambda a: lax.reduce_prod(a, (0,)),
                (empty,),
                np.array(1, dtype),
            )
    i8 = np.int8
    u8 = np.uint8
    rows = [
        ("sum-wraps", lambda: lax.reduce_sum(np.array([127, 1], i8), (0,)), np.array(-128, i8)),
        ("prod-wraps", lambda: lax.reduce_prod(np.array([16, 16], i8), (0,)), np.array(0, i8)),
        ("sum-nan", lambda: lax.reduce_sum(np.array([1, nan, 3], f32), (0,)), np.array(nan, f32)),
        ("max-nan", lambda: lax.reduce_max(np.array([1, nan, 3], f32), (0,)), np.array(nan, f32)),
        ("min-nan", lambda: lax.reduce_min(np.array([1, nan, 3], f32), (0,)), np.array(nan, f32)),
        (
            "max-inf-nan",
            lambda: lax.reduce_max(np.array([-np.inf, nan], f32), (0,)),
            np.array(nan, f32),
        ),
        (
            "max-bf16-nan",
            lambda: lax.reduce_max(np.array([nan, 1], bfloat16), (0,)),
            np.array(nan, bfloat16),
        ),
        ("max-bool", lambda: lax.reduce_max(np.array([True, False, True]), (0,)), np.array(True)),
        ("min-bool", lambda: lax.reduce_min(np.array([True, False, True]), (0,)), np.array(False)),
        (
            "and-int",
            lambda: lax.reduce_and(np.array([1, 2], np.int32), (0,)),
            np.array(0, np.int32),
        ),
        ("or-int", lambda: lax.reduce_or(np.array([1, 2], np.int32), (0,)), np.array(3, np.int32)),
        ("xor-bool", lambda: lax.reduce_xor(np.array([True, False, True]), (0,)), np.array(False)),
        ("sum-0d", lambda: lax.reduce_sum(np.float32(3), ()), np.array(3, f32)),
        (
            "sum-unsorted-axes",
            lambda: lax.reduce_sum(np.arange(6, dtype=f32).reshape(2, 3), (1, 0)),
            np.array(15, f32),
        ),
        (
            "sum-f16-accumulates-f32",
            lambda: lax.reduce_sum(np.ones(3000, np.float16), (0,)),
            np.array(3000, np.float16),
        ),
        (
            "sum-bf16-accumulates-f32",
            lambda: lax.reduce_sum(np.ones(3000, bfloat16), (0,)),
            np.array(3008, bfloat16),
        ),
        (
            "cumsum-bf16-accumulates-f32",
            lambda: lax.slice(lax.cumsum(np.ones(3000, bfloat16)), (2999,), (3000,)),
            np.array([3008], bfloat16),
        ),
        (
            "argmax-nan",
            lambda: lax.argmax(np.array([1, nan, 3, nan], f32), 0, np.int32),
            np.array(1, np.int32),
        ),
        (
            "argmin-nan",
            lambda: lax.argmin(np.array([1, nan, -3, nan], f32), 0, np.int32),
            np.array(1, np.int32),
        ),
        (
            "argmax-ties",
            lambda: lax.argmax(np.array([3, 1, 3], f32), 0, np.int32),
            np.array(0, np.int32),
        ),
        (
            "argmin-ties",
            lambda: lax.argmin(np.array([1, 1, 3], f32), 0, np.int32),
            np.array(0, np.int32),
        ),
        (
            "argmax-signed-zeros",
            lambda: lax.argmax(np.array([-0.0, 0.0], f32), 0, np.int32),
            np.array(0, np.int32),
        ),
        (
            "argmax-all-minus-inf",
            lambda: lax.argmax(np.array([-np.inf] * 2, f32), 0, np.int32),
            np.array(0, np.int32),
        ),
        (
            "argmax-bool",
            lambda: lax.argmax(np.array([False, True, True]), 0, np.int32),
            np.array(1, np.int32),
        ),
        (
            "argmax-bf16-nan",
            lambda: lax.argmax(np.array([1, nan, 3], bfloat16), 0, np.int32),
            np.array(1, np.int32),
        ),
        (
            "argmax-2d",
            lambda: lax.argmax(np.array([[1, 5, 2], [7, 0, 7]], np.int32), 1, np.int32),
            np.array([1, 0], np.int32),
        ),
        (
            "argmax-index-wraps",
            lambda: lax.argmax(np.arange(300, dtype=f32), 0, np.int8),
            np.array(43, np.int8),
        ),
        (
            "argmax-int64-index-canonical",
            lambda: lax.argmax(np.ones(2, f32), 0, np.int64),
            np.array(0, np.int32),
        ),
        (
            "argmax-empty-other-axis",
            lambda: lax.argmax(np.zeros((0, 3), f32), 1, np.int32),
            np.zeros((0,), np.int32),
        ),
        (
            "cumsum-nan",
            lambda: lax.cumsum(np.array([1, 3, 2, nan, 5], f32)),
            np.array([1, 4, 6, nan, nan], f32),
        ),
        (
            "cumprod-nan",
            lambda: lax.cumprod(np.array([1, 3, 2, nan, 5], f32)),
            np.array([1, 3, 6, nan, nan], f32),
        ),
        (
            "cummax-nan",
            lambda: lax.cummax(np.array([1, 3, 2, nan, 5], f32)),
            np.array([1, 3, 3, nan, nan], f32),
        ),
        (
            "cummin-nan",
            lambda: lax.cummin(np.array([1, 3, 2, nan, 5], f32)),
            np.array([1, 1, 1, nan, nan], f32),
        ),
        (
            "cumsum-reverse",
            lambda: lax.cumsum(np.array([1, 3, 2, 4], f32), reverse=True),
            np.array([10, 9, 6, 4], f32),
        ),
        (
            "cumprod-reverse",
            lambda: lax.cumprod(np.array([1, 3, 2, 4], f32), reverse=True),
            np.array([24, 24, 8, 4], f32),
        ),
        (
            "cummax-reverse",
            lambda: lax.cummax(np.array([1, 3, 2, 4], f32), reverse=True),
            np.array([4, 4, 4, 4], f32),
        ),
        (
            "cummin-reverse",
            lambda: lax.cummin(np.array([1, 3, 2, 4], f32), reverse=True),
            np.array([1, 2, 2, 4], f32),
        ),
        (
            "cumsum-i8-wraps",
            lambda: lax.cumsum(np.array([100, 100, -3], i8)),
            np.array([100, -56, -59], i8),
        ),
        (
            "cumprod-i8-wraps",
            lambda: lax.cumprod(np.array([100, 100, -3], i8)),
            np.array([100, 16, -48], i8),
        ),
        (
            "cumsum-u8",
            lambda: lax.cumsum(np.array([100, 100, 3], u8)),
            np.array([100, 200, 203], u8),
        ),
        (
            "cumprod-u8-wraps",
            lambda: lax.cumprod(np.array([100, 100, 3], u8)),
            np.array([100, 16, 48], u8),
        ),
        ("cumsum-empty", lambda: lax.cumsum(np.ones((0, 3), f32)), np.ones((0, 3), f32)),
    ]
    for i, fn, want in rows:
        yield (f"jax-{i}", fn, (), want)


ROWS = [
    pytest.param(fn, args, want, id=i)
    for i, fn, args, want in itertools.chain(
        _reduction_rows(), _arg_rows(), _cumulative_rows(), _jax_rows()
    )
]


@pytest.mark.parametrize("fn,args,expected", ROWS)
def test_op(fn, args, expected):
    check(fn, args, expected)


# ----------------------------------------------------------------------------
# Weak types: reductions keep the operand's flag; argmax/argmin are strong.

_weak = lax.full((3,), 1.0)
_weak_int = lax.full((3,), 1)

WEAK_ROWS = [
    ("reduce_sum", lambda: lax.reduce_sum(_weak, (0,)), True),
    ("reduce_max", lambda: lax.reduce_max(_weak, (0,)), True),
    ("reduce_and", lambda: lax.reduce_and(_weak_int, (0,)), True),
    ("reduce_sum-strong", lambda: lax.reduce_sum(np.ones(3, np.float32), (0,)), False),
    ("argmax", lambda: lax.argmax(_weak, 0, np.int32), False),
    ("cumsum", lambda: lax.cumsum(_weak), True),
    ("cummax", lambda: lax.cummax(_weak_int), True),
]


@pytest.mark.parametrize("fn,weak", [pytest.param(f, w, id=i) for i, f, w in WEAK_ROWS])
def test_weak_type(fn, weak):
    assert fn().weak_type == weak
    assert plax.jit(fn)().weak_type == weak


# ----------------------------------------------------------------------------
# Bad input.

_x = np.zeros((2, 3), np.float32)
_b = np.zeros((2, 3), np.bool_)

ERROR_ROWS = [
    (
        "sum-bool",
        lambda: lax.reduce_sum(_b, (0,)),
        TypeError,
        r"lax.reduce_sum does not accept dtype bool for its operand; it accepts numeric dtypes",
    ),
    ("prod-bool", lambda: lax.reduce_prod(_b, (0,)), TypeError, r"reduce_prod .* dtype bool"),
    (
        "and-float",
        lambda: lax.reduce_and(_x, (0,)),
        TypeError,
        r"lax.reduce_and does not accept dtype float32 .* integer or boolean dtypes",
    ),
    ("or-float", lambda: lax.reduce_or(_x, (0,)), TypeError, r"reduce_or .* float32"),
    (
        "xor-bf16",
        lambda: lax.reduce_xor(_x.astype(bfloat16), (0,)),
        TypeError,
        r"reduce_xor .* bfloat16",
    ),
    (
        "sum-axis-out-of-range",
        lambda: lax.reduce_sum(_x, (2,)),
        ValueError,
        r"lax.reduce_sum: axes \(2,\) include 2, which is out of range for an operand of rank 2 "
        + r"\(valid values are in \[-2, 2\)\)",
    ),
    (
        "sum-axis-negative-out-of-range",
        lambda: lax.reduce_sum(_x, (-3,)),
        ValueError,
        r"axes \(-3,\) include -3, which is out of range for an operand of rank 2",
    ),
    (
        "sum-0d-axis",
        lambda: lax.reduce_sum(np.float32(1), (0,)),
        ValueError,
        r"out of range for an operand of rank 0 \(a 0-d array has no axes\)",
    ),
    (
        "max-repeated-axes",
        lambda: lax.reduce_max(_x, (1, -1)),
        ValueError,
        r"lax.reduce_max: axes \(1, -1\) name the same axis twice",
    ),
    ("sum-float-axis", lambda: lax.reduce_sum(_x, (0.5,)), TypeError, r"must be an integer"),
    (
        "argmax-empty-axis",
        lambda: lax.argmax(np.zeros((0,), np.float32), 0, np.int32),
        ValueError,
        r"lax.argmax of an empty axis: axis 0 of operand shape \(0,\) has size 0",
    ),
    (
        "argmin-0d",
        lambda: lax.argmin(np.float32(1), 0, np.int32),
        ValueError,
        r"lax.argmin: axis 0 is out of range for an operand of rank 0",
    ),
    (
        "argmax-axis",
        lambda: lax.argmax(_x, 2, np.int32),
        ValueError,
        r"axis 2 is out of range for an operand of rank 2",
    ),
    (
        "argmax-float-index",
        lambda: lax.argmax(_x, 0, np.float32),
        TypeError,
        r"index_dtype must be an integer dtype, got float32",
    ),
    (
        "argmax-bool-index",
        lambda: lax.argmax(_x, 0, np.bool_),
        TypeError,
        r"index_dtype must be an integer dtype, got bool",
    ),
    ("cumsum-bool", lambda: lax.cumsum(_b), TypeError, r"lax.cumsum does not accept dtype bool"),
    ("cummax-bool", lambda: lax.cummax(_b), TypeError, r"lax.cummax does not accept dtype bool"),
    (
        "cumsum-0d",
        lambda: lax.cumsum(np.float32(1)),
        ValueError,
        r"lax.cumsum: axis 0 is out of range for an operand of rank 0",
    ),
    (
        "cumprod-axis",
        lambda: lax.cumprod(_x, axis=2),
        ValueError,
        r"lax.cumprod: axis 2 is out of range for an operand of rank 2",
    ),
]


@pytest.mark.parametrize(
    "thunk,exc,pattern", [pytest.param(t, e, p, id=i) for i, t, e, p in ERROR_ROWS]
)
def test_error(thunk, exc, pattern):
    with pytest.raises(exc, match=pattern):
        thunk()


TRACED_STATIC_ROWS = [
    ("reduce_sum", lambda n: lax.reduce_sum(_x, (n,))),
    ("argmax", lambda n: lax.argmax(_x, n, np.int32)),
    ("cumsum", lambda n: lax.cumsum(_x, n)),
]


@pytest.mark.parametrize("fn", [pytest.param(f, id=i) for i, f in TRACED_STATIC_ROWS])
def test_traced_static_parameter(fn):
    with pytest.raises(ConcretizationTypeError, match="must be a static integer"):
        plax.jit(fn)(1)


def test_jaxpr_text():
    def f(x):
        return lax.reduce_max(x, (-1, 0)), lax.argmax(x, -1, np.int8), lax.cumsum(x, 1, True)

    got = " ".join(str(plax.make_jaxpr(f)(_x)).split())
    want = (
        "{ lambda ; a:f32[2,3]. let b:f32[] = reduce_max[axes=(1, 0)] a "
        "c:i8[2] = argmax[axes=(1,) index_dtype=int8] a "
        "d:f32[2,3] = cumsum[axis=1 reverse=True] a in (b, c, d) }"
    )
    assert got == want


# ----------------------------------------------------------------------------
# 64-bit dtypes with x64 enabled.


@pytest.fixture
def x64():
    saved = config.read("enable_x64")
    config.update("enable_x64", True)
    yield
    config.update("enable_x64", saved)


X64_ROWS = [
    (
        "sum-u64-wraps",
        lambda: lax.reduce_sum(np.array([2**64 - 1, 2], np.uint64), (0,)),
        np.array(1, np.uint64),
    ),
    (
        "max-empty-i64",
        lambda: lax.reduce_max(np.zeros((0,), np.int64), (0,)),
        np.array(np.iinfo(np.int64).min, np.int64),
    ),
    (
        "prod-f64",
        lambda: lax.reduce_prod(np.array([1.5, 2.0, 1e300], np.float64), (0,)),
        np.array(3e300, np.float64),
    ),
    (
        "argmax-int64-index",
        lambda: lax.argmax(np.array([1.0, 2.0]), 0, np.int64),
        np.array(1, np.int64),
    ),
    (
        "cumsum-i64",
        lambda: lax.cumsum(np.array([2**40, 2**40], np.int64)),
        np.array([2**40, 2**41], np.int64),
    ),
]


@pytest.mark.parametrize("fn,expected", [pytest.param(f, w, id=i) for i, f, w in X64_ROWS])
def test_x64(x64, fn, expected):
    check(fn, (), expected)


def test_reduce_matches_functools_reduce_over_python_ints():
    """Integer sums wrap exactly like Python arithmetic modulo 2**bits."""
    x = np.array([120, 100, -90, 77, 127], np.int8)
    want = functools.reduce(lambda a, b: a + b, x.astype(int).tolist())
    got = int(np.asarray(lax.reduce_sum(x, (0,))))
    assert got == (want + 128) % 256 - 128
