"""lax data movement and dynamic indexing: transpose, squeeze, expand_dims,
concatenate, pad, slice, rev, iota, full, dynamic_slice, dynamic_update_slice
and their *_in_dim helpers.

Every row runs eagerly and under ``plax.jit`` and must match its expected value
exactly (these ops move data; they never round). Expected values come from
numpy references written here, or, where JAX defines the edge case (clamped
start indices, negative padding, iota rounding), from JAX 0.10.2 itself.
"""

import itertools
import re

import ml_dtypes
import numpy as np
import plax
import pytest
from plax import lax
from plax.errors import ConcretizationTypeError

bfloat16 = np.dtype(ml_dtypes.bfloat16)
DTYPES = [
    np.dtype(d)
    for d in (np.float32, np.float16, bfloat16, np.int8, np.int32, np.uint8, np.uint32, np.bool_)
]
SHAPES = [(), (0,), (3,), (1, 4), (2, 0, 3), (2, 3, 4)]


def sample(shape, dtype, seed=0):
    """Deterministic data of ``dtype``: small values, a NaN and -0.0 in floats."""
    rng = np.random.RandomState(seed)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.asarray(rng.rand(*shape) > 0.5)
    if dtype.kind in "iu":
        low = max(np.iinfo(dtype).min, -100)
        return np.asarray(rng.randint(low, 100, size=shape)).astype(dtype)
    values = np.asarray(rng.randn(*shape)).astype(np.float32)
    if values.size >= 3:
        values.flat[1] = np.nan
        values.flat[2] = -0.0
    return values.astype(dtype)


def assert_same(got, expected):
    got = np.asarray(got)
    expected = np.asarray(expected)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    if expected.dtype.kind == "f" or expected.dtype == bfloat16:
        got = got.astype(np.float64)
        expected = expected.astype(np.float64)
        # -0.0 and 0.0 must not be confused by data movement.
        np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))
    np.testing.assert_array_equal(got, expected)


def check(fn, args, expected):
    """``fn(*args)`` eagerly and under jit both equal ``expected``."""
    assert_same(fn(*args), expected)
    assert_same(plax.jit(fn)(*args), expected)


def name(dtype) -> str:
    return np.dtype(dtype).name


# ----------------------------------------------------------------------------
# numpy references that do not share code with the implementations.


def np_pad(x, value, config):
    """Each output position looks up its source element, or takes ``value``."""
    out = np.full([_padded(n, *c) for n, c in zip(x.shape, config)], value, dtype=x.dtype)
    for out_index in np.ndindex(*out.shape):
        source = []
        for o, n, (low, _, interior) in zip(out_index, x.shape, config):
            p = o - low
            if p < 0 or p % (interior + 1) or p // (interior + 1) >= n:
                break
            source.append(p // (interior + 1))
        else:
            out[out_index] = x[tuple(source)]
    return out


def _padded(n, low, high, interior):
    return low + high + n + max(n - 1, 0) * interior


def np_start(index, size, slice_size):
    """JAX's start-index rule: negative counts from the end, then clamp."""
    index = int(index)
    if index < 0:
        index += size
    return min(max(index, 0), size - slice_size)


def np_dynamic_slice(x, starts, sizes):
    starts = [np_start(i, n, s) for i, n, s in zip(starts, x.shape, sizes)]
    return x[tuple(slice(i, i + s) for i, s in zip(starts, sizes))]


def np_dynamic_update_slice(x, update, starts):
    starts = [np_start(i, n, s) for i, n, s in zip(starts, x.shape, update.shape)]
    out = x.copy()
    out[tuple(slice(i, i + s) for i, s in zip(starts, update.shape))] = update
    return out


# ----------------------------------------------------------------------------
# Rows: (id, fn, args, expected).


def _rows():
    for dtype, shape in itertools.product(DTYPES, SHAPES):
        x = sample(shape, dtype)
        nd = len(shape)
        tag = f"{name(dtype)}{list(shape)}"
        for perm in list(itertools.permutations(range(nd)))[:4]:
            yield (
                f"transpose-{tag}-{perm}",
                lambda a, p=perm: lax.transpose(a, p),
                (x,),
                np.transpose(x, perm),
            )
        for dims in [()] + [(d,) for d in range(nd)] + [tuple(range(nd))]:
            yield (
                f"rev-{tag}-{dims}",
                lambda a, d=dims: lax.rev(a, d),
                (x,),
                np.flip(x, dims) if dims else x,
            )
        if nd:
            yield (f"rev-neg-{tag}", lambda a: lax.rev(a, (-1,)), (x,), np.flip(x, -1))
        for d in range(nd):
            y = sample(shape[:d] + (2,) + shape[d + 1 :], dtype, seed=1)
            yield (
                f"concatenate-{tag}-{d}",
                lambda a, b, d=d: lax.concatenate([a, b, a], d),
                (x, y),
                np.concatenate([x, y, x], d),
            )
        for ex_dims in [(0,), (-1,), (0, -1)]:
            want = x
            for d in sorted(a % (nd + len(ex_dims)) for a in ex_dims):
                want = np.expand_dims(want, d)
            yield (
                f"expand_dims-{tag}-{ex_dims}",
                lambda a, d=ex_dims: lax.expand_dims(a, d),
                (x,),
                want,
            )
        ones = [d for d, n in enumerate(shape) if n == 1]
        yield (
            f"squeeze-{tag}-{ones}",
            lambda a, d=tuple(ones): lax.squeeze(a, d),
            (x,),
            np.squeeze(x, tuple(ones)),
        )
        value = sample((), dtype, seed=2)
        for cfg in [(1, 2, 0), (-1, 1, 1), (2, -2, 2), (0, 0, 3), (-2, -1, 1), (0, 0, 0)]:
            config = [cfg] * nd
            if any(_padded(n, *cfg) < 0 for n in shape):
                continue
            yield (
                f"pad-{tag}-{cfg}",
                lambda a, v, c=config: lax.pad(a, v, c),
                (x, value),
                np_pad(x, value, config),
            )
        if nd:
            starts = [min(1, n) for n in shape]
            for stride in (1, 2, 3):
                yield (
                    f"slice-{tag}-stride{stride}",
                    lambda a, s=starts, st=stride: lax.slice(a, s, a.shape, [st] * a.ndim),
                    (x,),
                    x[tuple(slice(s, None, stride) for s in starts)],
                )
            yield (
                f"slice-nostrides-{tag}",
                lambda a, s=starts: lax.slice(a, s, a.shape),
                (x,),
                x[tuple(slice(s, None) for s in starts)],
            )
        yield (f"slice-full-{tag}", lambda a: lax.slice(a, [0] * a.ndim, a.shape), (x,), x)


def _indexing_rows():
    for dtype, shape in itertools.product(DTYPES, SHAPES):
        x = sample(shape, dtype)
        nd = len(shape)
        tag = f"{name(dtype)}{list(shape)}"
        sizes = tuple(min(2, n) for n in shape)
        update = sample(sizes, dtype, seed=3)
        for start, idt in [
            (0, np.int32),
            (1, np.int32),
            (-1, np.int32),
            (-7, np.int8),
            (5, np.uint8),
            (200, np.int16),
        ]:
            if not nd and start:
                continue
            starts = [idt(start)] * nd
            yield (
                f"dynamic_slice-{tag}-{start}-{name(idt)}",
                lambda a, *i, s=sizes: lax.dynamic_slice(a, i, s),
                (x, *starts),
                np_dynamic_slice(x, starts, sizes),
            )
            yield (
                f"dynamic_update_slice-{tag}-{start}-{name(idt)}",
                lambda a, u, *i: lax.dynamic_update_slice(a, u, i),
                (x, update, *starts),
                np_dynamic_update_slice(x, update, starts),
            )
        if not nd:
            continue
        last = nd - 1
        for start in (-9, -1, 0, 2, 9):
            i = np.int32(start)
            size = min(1, shape[last])
            want = np_dynamic_slice(x, [0] * last + [i], shape[:last] + (size,))
            yield (
                f"dynamic_slice_in_dim-{tag}-{start}",
                lambda a, i, s=size: lax.dynamic_slice_in_dim(a, i, s, axis=-1),
                (x, i),
                want,
            )
            upd = sample(shape[:last] + (size,), dtype, seed=4)
            yield (
                f"dynamic_update_slice_in_dim-{tag}-{start}",
                lambda a, u, i: lax.dynamic_update_slice_in_dim(a, u, i, axis=-1),
                (x, upd, i),
                np_dynamic_update_slice(x, upd, [0] * last + [i]),
            )
            if shape[last]:
                yield (
                    f"dynamic_index_in_dim-{tag}-{start}",
                    lambda a, i: lax.dynamic_index_in_dim(a, i, -1, keepdims=False),
                    (x, i),
                    want[..., 0],
                )
                yield (
                    f"dynamic_update_index_in_dim-{tag}-{start}",
                    lambda a, u, i: lax.dynamic_update_index_in_dim(a, u, i, -1),
                    (x, upd[..., 0], i),
                    np_dynamic_update_slice(x, upd, [0] * last + [i]),
                )


def _jax_rows():
    """Edge cases whose expected values were computed with JAX 0.10.2."""
    a5 = np.arange(5, dtype=np.int32)
    a23 = np.arange(6, dtype=np.int32).reshape(2, 3)
    for start, want in [
        (-1, [3, 4]),
        (-5, [0, 1]),
        (-6, [0, 1]),
        (-10, [0, 1]),
        (3, [3, 4]),
        (4, [3, 4]),
        (7, [3, 4]),
        (100, [3, 4]),
    ]:
        yield (
            f"jax-dynamic_slice-clamp-{start}",
            lambda a, i: lax.dynamic_slice(a, (i,), (2,)),
            (a5, np.int32(start)),
            np.array(want, np.int32),
        )
        yield (
            f"jax-dynamic_slice-pyint-{start}",
            lambda a, s=start: lax.dynamic_slice(a, (s,), (2,)),
            (a5,),
            np.array(want, np.int32),
        )
    upd = np.array([10, 11], np.int32)
    for start, want in [(-1, [0, 1, 2, 10, 11]), (-7, [10, 11, 2, 3, 4]), (2, [0, 1, 10, 11, 4])]:
        yield (
            f"jax-dynamic_update_slice-{start}",
            lambda a, u, i: lax.dynamic_update_slice(a, u, (i,)),
            (a5, upd, np.int32(start)),
            np.array(want, np.int32),
        )
    yield (
        "jax-dynamic_update_slice-2d",
        lambda a, u: lax.dynamic_update_slice(a, u, (-1, 5)),
        (a23, np.full((1, 2), 9, np.int32)),
        np.array([[0, 1, 2], [3, 9, 9]], np.int32),
    )
    yield (
        "jax-dynamic_update_slice-whole",
        lambda a, u: lax.dynamic_update_slice(a, u, (3,)),
        (a5, a5 + 10),
        a5 + 10,
    )
    yield (
        "jax-dynamic_update_slice-empty-update",
        lambda a, u: lax.dynamic_update_slice(a, u, (-7,)),
        (a5, a5[:0]),
        a5,
    )
    yield (
        "jax-dynamic_slice-index-array",
        lambda a, i: lax.dynamic_slice(a, i, (2,)),
        (a5, np.array([2], np.int32)),
        np.array([2, 3], np.int32),
    )
    yield (
        "jax-dynamic_slice_in_dim",
        lambda a: lax.dynamic_slice_in_dim(a, -1, 1, axis=1),
        (a23,),
        np.array([[2], [5]], np.int32),
    )
    yield (
        "jax-dynamic_index_in_dim",
        lambda a: lax.dynamic_index_in_dim(a, -1, axis=1),
        (a23,),
        np.array([[2], [5]], np.int32),
    )
    yield (
        "jax-dynamic_update_index_in_dim",
        lambda a: lax.dynamic_update_index_in_dim(a, lax.full((2,), 7), 1, axis=1),
        (a23,),
        np.array([[0, 7, 2], [3, 7, 5]], np.int32),
    )
    yield (
        "jax-dynamic_slice-empty",
        lambda a: lax.dynamic_slice(a, (5, 1), (0, 2)),
        (np.zeros((0, 3), np.float32),),
        np.zeros((0, 2), np.float32),
    )
    yield (
        "jax-pad-crop-and-interior",
        lambda a: lax.pad(a, 0, ((1, -1, 1), (-1, 2, 0))),
        (a23,),
        np.array([[0, 0, 0, 0], [1, 2, 0, 0], [0, 0, 0, 0]], np.int32),
    )
    yield (
        "jax-pad-crop-both",
        lambda a: lax.pad(a, 0, ((-2, -2, 0),)),
        (a5,),
        np.array([2], np.int32),
    )
    yield (
        "jax-pad-crop-to-empty",
        lambda a: lax.pad(a, 0, ((-3, -2, 0),)),
        (a5,),
        np.zeros((0,), np.int32),
    )
    yield (
        "jax-pad-crop-into-interior",
        lambda a: lax.pad(a, 0, ((-4, 0, 2), (0, 0, 0))),
        (a23,),
        np.zeros((0, 3), np.int32),
    )
    yield (
        "jax-pad-empty-interior",
        lambda a: lax.pad(a, np.float32(1), ((1, 1, 3),)),
        (np.zeros((0,), np.float32),),
        np.ones((2,), np.float32),
    )
    yield (
        "jax-pad-traced-value",
        lambda v: lax.pad(a23, v, ((1, 1, 0), (0, 0, 0))),
        (np.int32(3),),
        np.array([[3, 3, 3], [0, 1, 2], [3, 4, 5], [3, 3, 3]], np.int32),
    )
    yield (
        "jax-slice-strided",
        lambda a: lax.slice(a, (0, 1), (3, 4), (2, 2)),
        (np.arange(12, dtype=np.int32).reshape(3, 4),),
        np.array([[1, 3], [9, 11]], np.int32),
    )
    yield (
        "jax-slice_in_dim-negative",
        lambda a: lax.slice_in_dim(a, -3, -1, axis=-1),
        (np.arange(12, dtype=np.int32).reshape(3, 4),),
        np.array([[1, 2], [5, 6], [9, 10]], np.int32),
    )
    yield (
        "jax-slice_in_dim-none",
        lambda a: lax.slice_in_dim(a, None, None, 2, axis=1),
        (np.arange(12, dtype=np.int32).reshape(3, 4),),
        np.array([[0, 2], [4, 6], [8, 10]], np.int32),
    )
    yield (
        "jax-index_in_dim",
        lambda a: lax.index_in_dim(a, -1, axis=1, keepdims=False),
        (np.arange(12, dtype=np.int32).reshape(3, 4),),
        np.array([3, 7, 11], np.int32),
    )
    yield (
        "jax-index_in_dim-keepdims",
        lambda a: lax.index_in_dim(a, 0, axis=0),
        (a23,),
        np.array([[0, 1, 2]], np.int32),
    )
    yield ("jax-iota-f32", lambda: lax.iota(np.float32, 4), (), np.arange(4, dtype=np.float32))
    yield ("jax-iota-empty", lambda: lax.iota(np.int32, 0), (), np.zeros((0,), np.int32))
    yield (
        "jax-iota-bf16-rounds",
        lambda: lax.slice(lax.iota(bfloat16, 300), (297,), (300,)),
        (),
        np.array([296, 298, 300], bfloat16),
    )
    yield (
        "jax-iota-f16-rounds",
        lambda: lax.slice(lax.iota(np.float16, 4100), (4097,), (4100,)),
        (),
        np.array([4096, 4096, 4100], np.float16),
    )
    yield (
        "jax-iota-u8-wraps",
        lambda: lax.slice(lax.iota(np.uint8, 300), (297,), (300,)),
        (),
        np.array([41, 42, 43], np.uint8),
    )
    yield (
        "jax-iota-i8-wraps",
        lambda: lax.slice(lax.iota(np.int8, 300), (297,), (300,)),
        (),
        np.array([41, 42, 43], np.int8),
    )
    yield (
        "jax-iota-int64-canonical",
        lambda: lax.iota(np.int64, 3),
        (),
        np.arange(3, dtype=np.int32),
    )
    yield (
        "jax-broadcasted_iota",
        lambda: lax.broadcasted_iota(np.int32, (2, 3), 1),
        (),
        np.array([[0, 1, 2], [0, 1, 2]], np.int32),
    )
    yield (
        "jax-broadcasted_iota-neg",
        lambda: lax.broadcasted_iota(np.int8, (2, 3), -2),
        (),
        np.array([[0, 0, 0], [1, 1, 1]], np.int8),
    )
    yield ("jax-full", lambda: lax.full((2,), 3), (), np.array([3, 3], np.int32))
    yield (
        "jax-full-truncates",
        lambda: lax.full((2,), 3.7, np.int32),
        (),
        np.array([3, 3], np.int32),
    )
    yield ("jax-full-wraps", lambda: lax.full((2,), 300, np.int8), (), np.array([44, 44], np.int8))
    yield ("jax-full-bool", lambda: lax.full((2,), 2, bool), (), np.array([True, True]))
    yield (
        "jax-full-traced-fill",
        lambda v: lax.full((2, 1), v, np.int32),
        (np.float32(2.5),),
        np.array([[2], [2]], np.int32),
    )
    yield (
        "jax-full_like",
        lambda a: lax.full_like(a, 3),
        (np.ones(2, np.int8),),
        np.array([3, 3], np.int8),
    )
    yield (
        "jax-full_like-shape",
        lambda a: lax.full_like(a, 3, shape=(1, 3)),
        (np.ones(2, np.int8),),
        np.array([[3, 3, 3]], np.int8),
    )
    yield (
        "jax-full_like-dtype",
        lambda a: lax.full_like(a, 3, np.float32),
        (np.ones(2, np.int8),),
        np.array([3, 3], np.float32),
    )
    yield (
        "jax-squeeze-negative",
        lambda a: lax.squeeze(a, (0, -1)),
        (np.ones((1, 2, 1), np.float32),),
        np.ones((2,), np.float32),
    )
    yield (
        "jax-expand_dims-mixed",
        lambda a: lax.expand_dims(a, (1, 3)),
        (np.ones((2, 3), np.float32),),
        np.ones((2, 1, 3, 1), np.float32),
    )
    yield (
        "jax-concatenate-negative-dim",
        lambda a: lax.concatenate([a, a], -1),
        (a23,),
        np.concatenate([a23, a23], 1),
    )


ROWS = [
    pytest.param(fn, args, want, id=i)
    for i, fn, args, want in itertools.chain(_rows(), _indexing_rows(), _jax_rows())
]


@pytest.mark.parametrize("fn,args,expected", ROWS)
def test_op(fn, args, expected):
    check(fn, args, expected)


# ----------------------------------------------------------------------------
# Weak types: data movement keeps the flag; mixed inputs give a strong result.

_weak = lax.full((3,), 1.0)
_weak_scalar = lax.full((), 2.0)
_strong = np.ones(3, np.float32)

WEAK_ROWS = [
    ("transpose", lambda: lax.transpose(_weak, (0,)), True),
    ("rev", lambda: lax.rev(_weak, (0,)), True),
    ("slice", lambda: lax.slice(_weak, (1,), (2,)), True),
    ("squeeze", lambda: lax.squeeze(lax.expand_dims(_weak, (0,)), (0,)), True),
    ("concatenate-weak", lambda: lax.concatenate([_weak, _weak], 0), True),
    ("concatenate-mixed", lambda: lax.concatenate([_weak, _strong], 0), False),
    ("pad-weak-value", lambda: lax.pad(_weak, 0.0, ((1, 1, 0),)), True),
    ("pad-strong-value", lambda: lax.pad(_weak, np.float32(0), ((1, 1, 0),)), False),
    ("pad-strong-operand", lambda: lax.pad(_strong, 0.0, ((1, 1, 0),)), False),
    ("dynamic_slice", lambda: lax.dynamic_slice(_weak, (1,), (1,)), True),
    (
        "dynamic_update_slice-index",
        lambda: lax.dynamic_update_slice(_weak, lax.full((1,), 2.0), (1,)),
        False,
    ),
    (
        "dynamic_update_slice-0d",
        lambda: lax.dynamic_update_slice(_weak_scalar, _weak_scalar, ()),
        True,
    ),
    ("iota", lambda: lax.iota(np.int32, 3), False),
    ("full-python", lambda: lax.full((2,), 3), True),
    ("full-dtype", lambda: lax.full((2,), 3, np.int32), False),
    ("full_like-weak", lambda: lax.full_like(_weak, 3), True),
    ("full_like-strong", lambda: lax.full_like(_strong, 3), False),
]


@pytest.mark.parametrize("fn,weak", [pytest.param(f, w, id=i) for i, f, w in WEAK_ROWS])
def test_weak_type(fn, weak):
    assert fn().weak_type == weak
    assert plax.jit(fn)().weak_type == weak


# ----------------------------------------------------------------------------
# Bad input: (id, thunk, exception type, message pattern).

_x = np.zeros((2, 3), np.float32)
_i = np.int32(0)

ERROR_ROWS = [
    (
        "transpose-repeat",
        lambda: lax.transpose(_x, (0, 0)),
        TypeError,
        r"lax.transpose: permutation \(0, 0\) is not a permutation .* shape \(2, 3\)",
    ),
    ("transpose-short", lambda: lax.transpose(_x, (0,)), TypeError, r"not a permutation"),
    ("transpose-negative", lambda: lax.transpose(_x, (-1, 0)), TypeError, r"not a permutation"),
    (
        "squeeze-not-one",
        lambda: lax.squeeze(np.zeros((1, 2, 1)), (1,)),
        ValueError,
        r"lax.squeeze: cannot squeeze dimensions \[1\] of operand shape \(1, 2, 1\)",
    ),
    (
        "squeeze-out-of-range",
        lambda: lax.squeeze(np.zeros((1, 2, 1)), (3,)),
        ValueError,
        r"lax.squeeze: dimensions \(3,\) include 3, which is out of range for an operand of rank 3",
    ),
    (
        "squeeze-repeat",
        lambda: lax.squeeze(np.zeros((1, 2, 1)), (0, -3)),
        ValueError,
        r"name the same axis twice",
    ),
    (
        "expand_dims-out-of-range",
        lambda: lax.expand_dims(_x, (4,)),
        ValueError,
        r"lax.expand_dims: dimensions \(4,\) include 4, which is out of range for a result of rank 3",
    ),
    (
        "expand_dims-repeat",
        lambda: lax.expand_dims(_x, (0, 0)),
        ValueError,
        r"name the same axis twice",
    ),
    ("concatenate-empty", lambda: lax.concatenate([], 0), TypeError, r"at least one operand"),
    (
        "concatenate-dtypes",
        lambda: lax.concatenate([_x, _x.astype(np.int32)], 0),
        TypeError,
        r"lax.concatenate requires operands to have the same dtypes, got float32, int32",
    ),
    (
        "concatenate-shapes",
        lambda: lax.concatenate([_x, np.zeros((2, 2), np.float32), _x], 0),
        TypeError,
        r"differ only in dimension 0, got shapes \(2, 3\), \(2, 2\), \(2, 3\)",
    ),
    (
        "concatenate-ranks",
        lambda: lax.concatenate([_x, np.zeros(3, np.float32)], 0),
        TypeError,
        r"same rank, got shapes \(2, 3\), \(3,\)",
    ),
    (
        "concatenate-dimension",
        lambda: lax.concatenate([_x, _x], 2),
        ValueError,
        r"dimension 2 is out of range for operands of rank 2",
    ),
    (
        "concatenate-0d",
        lambda: lax.concatenate([np.float32(1), np.float32(2)], 0),
        ValueError,
        r"out of range for operands of rank 0",
    ),
    (
        "pad-negative-interior",
        lambda: lax.pad(_x, 0.0, ((1, 1, -1), (0, 0, 0))),
        ValueError,
        r"interior padding must be non-negative",
    ),
    (
        "pad-crop-too-much",
        lambda: lax.pad(_x, 0.0, ((-3, 0, 0), (0, 0, 0))),
        ValueError,
        r"crops operand shape \(2, 3\) below zero \(result sizes \(-1, 3\)\)",
    ),
    (
        "pad-config-length",
        lambda: lax.pad(_x, 0.0, ((1, 1, 0),)),
        ValueError,
        r"one \(low, high, interior\) triple per operand dimension; got 1 .* \(2, 3\)",
    ),
    (
        "pad-not-triple",
        lambda: lax.pad(_x, 0.0, ((1, 1), (0, 0))),
        TypeError,
        r"must be a \(low, high, interior\) triple, got \(1, 1\)",
    ),
    (
        "pad-value-dtype",
        lambda: lax.pad(_x, np.int32(0), ((0, 0, 0), (0, 0, 0))),
        TypeError,
        r"lax.pad requires operand and padding_value to have the same dtypes, got float32 and int32",
    ),
    (
        "pad-value-shape",
        lambda: lax.pad(_x, np.zeros(2, np.float32), ((0, 0, 0),) * 2),
        TypeError,
        r"padding_value must be a scalar, got shape \(2,\)",
    ),
    (
        "slice-out-of-bounds",
        lambda: lax.slice(_x, (0, 1), (2, 4)),
        ValueError,
        r"lax.slice: need 0 <= start <= limit <= size .* limit_indices \(2, 4\) .* \(2, 3\)",
    ),
    ("slice-negative-start", lambda: lax.slice(_x, (-1, 0), (2, 3)), ValueError, r"0 <= start"),
    ("slice-start-after-limit", lambda: lax.slice(_x, (2, 0), (1, 3)), ValueError, r"<= limit"),
    (
        "slice-zero-stride",
        lambda: lax.slice(_x, (0, 0), (2, 3), (0, 1)),
        ValueError,
        r"strides \(0, 1\) must be positive",
    ),
    (
        "slice-rank",
        lambda: lax.slice(_x, (0,), (2, 3)),
        TypeError,
        r"start_indices \(0,\) must have one entry per operand dimension",
    ),
    (
        "slice_in_dim-limit",
        lambda: lax.slice_in_dim(_x, 0, 10, axis=1),
        ValueError,
        r"limit_indices \(2, 10\)",
    ),
    (
        "index_in_dim-out-of-bounds",
        lambda: lax.index_in_dim(_x, 3, axis=1),
        IndexError,
        r"index 3 is out of bounds for axis 1 with size 3",
    ),
    (
        "index_in_dim-negative",
        lambda: lax.index_in_dim(_x, -4, axis=1),
        IndexError,
        r"index -4 is out of bounds",
    ),
    (
        "rev-out-of-range",
        lambda: lax.rev(_x, (2,)),
        ValueError,
        r"lax.rev: dimensions \(2,\) include 2, which is out of range for an operand of rank 2",
    ),
    ("rev-repeat", lambda: lax.rev(_x, (0, 0)), ValueError, r"name the same axis twice"),
    ("iota-bool", lambda: lax.iota(np.bool_, 2), TypeError, r"lax.iota does not accept dtype bool"),
    ("iota-negative", lambda: lax.iota(np.int32, -1), ValueError, r"size must be non-negative"),
    ("iota-float-size", lambda: lax.iota(np.int32, 3.0), TypeError, r"must be an integer"),
    (
        "broadcasted_iota-dimension",
        lambda: lax.broadcasted_iota(np.int32, (2, 3), 2),
        ValueError,
        r"dimension 2 is out of range for an operand of rank 2",
    ),
    (
        "broadcasted_iota-0d",
        lambda: lax.broadcasted_iota(np.int32, (), 0),
        ValueError,
        r"out of range for an operand of rank 0",
    ),
    (
        "full-not-scalar",
        lambda: lax.full((2,), np.ones(2)),
        TypeError,
        r"fill_value must be a scalar, got shape \(2,\)",
    ),
    ("full-negative-shape", lambda: lax.full((-1,), 1.0), ValueError, r"negative"),
    (
        "dynamic_slice-index-count",
        lambda: lax.dynamic_slice(_x, (1,), (1, 2)),
        TypeError,
        r"one start index per operand dimension; got 1 for operand shape \(2, 3\)",
    ),
    (
        "dynamic_slice-size-too-big",
        lambda: lax.dynamic_slice(_x, (0, 0), (3, 2)),
        TypeError,
        r"slice_sizes \(3, 2\) must be non-negative and at most the operand shape \(2, 3\)",
    ),
    (
        "dynamic_slice-size-negative",
        lambda: lax.dynamic_slice(_x, (0, 0), (-1, 2)),
        TypeError,
        r"non-negative",
    ),
    (
        "dynamic_slice-sizes-rank",
        lambda: lax.dynamic_slice(_x, (0, 0), (1,)),
        TypeError,
        r"slice_sizes \(1,\) must have one entry per operand dimension",
    ),
    (
        "dynamic_slice-mixed-index-dtypes",
        lambda: lax.dynamic_slice(_x, (np.int8(1), 0), (1, 2)),
        TypeError,
        r"start indices must all have the same dtype, got int8, int32",
    ),
    (
        "dynamic_slice-float-index",
        lambda: lax.dynamic_slice(_x, (np.float32(1), _i), (1, 2)),
        TypeError,
        r"start indices must have an integer dtype, got float32, int32",
    ),
    (
        "dynamic_slice-python-float-index",
        lambda: lax.dynamic_slice(_x, (1.0, 0), (1, 2)),
        TypeError,
        r"must be integers, got the float 1.0",
    ),
    (
        "dynamic_slice-bool-index",
        lambda: lax.dynamic_slice(_x, (True, 0), (1, 2)),
        TypeError,
        r"integer dtype, got bool",
    ),
    (
        "dynamic_slice-array-index",
        lambda: lax.dynamic_slice(_x, (np.array([1]), _i), (1, 2)),
        TypeError,
        r"start indices must be scalars",
    ),
    (
        "dynamic_update_slice-dtypes",
        lambda: lax.dynamic_update_slice(_x, np.ones((1, 2), np.int32), (0, 0)),
        TypeError,
        r"same dtypes, got float32 and int32",
    ),
    (
        "dynamic_update_slice-too-big",
        lambda: lax.dynamic_update_slice(_x, np.ones((3, 2), np.float32), (0, 0)),
        TypeError,
        r"update shape \(3, 2\) must fit inside operand shape \(2, 3\)",
    ),
    (
        "dynamic_update_slice-rank",
        lambda: lax.dynamic_update_slice(_x, np.ones((2,), np.float32), (0, 0)),
        TypeError,
        r"update must have the operand's rank, got update shape \(2,\)",
    ),
    (
        "dynamic_slice_in_dim-axis",
        lambda: lax.dynamic_slice_in_dim(_x, 0, 1, axis=2),
        ValueError,
        r"axis 2 is out of range for an operand of rank 2",
    ),
]


@pytest.mark.parametrize(
    "thunk,exc,pattern", [pytest.param(t, e, p, id=i) for i, t, e, p in ERROR_ROWS]
)
def test_error(thunk, exc, pattern):
    with pytest.raises(exc, match=pattern):
        thunk()


# Static parameters given as traced values: a ConcretizationTypeError, not a crash.
TRACED_STATIC_ROWS = [
    ("transpose", lambda n: lax.transpose(_x, (n, 0))),
    ("squeeze", lambda n: lax.squeeze(np.zeros((1, 2)), (n,))),
    ("slice", lambda n: lax.slice(_x, (0, n), (2, 3))),
    ("pad", lambda n: lax.pad(_x, 0.0, ((n, 0, 0), (0, 0, 0)))),
    ("rev", lambda n: lax.rev(_x, (n,))),
    ("iota", lambda n: lax.iota(np.int32, n)),
    ("concatenate", lambda n: lax.concatenate([_x, _x], n)),
    ("dynamic_slice-sizes", lambda n: lax.dynamic_slice(_x, (0, 0), (n, 1))),
    ("dynamic_slice_in_dim-axis", lambda n: lax.dynamic_slice_in_dim(_x, 0, 1, n)),
]


@pytest.mark.parametrize("fn", [pytest.param(f, id=i) for i, f in TRACED_STATIC_ROWS])
def test_traced_static_parameter(fn):
    with pytest.raises(ConcretizationTypeError, match="must be a static integer"):
        plax.jit(fn)(1)


# ----------------------------------------------------------------------------
# The printed jaxprs: params are canonical (non-negative, sorted where order is
# irrelevant), Python-int start indices become int32 literals, no-ops vanish.

JAXPR_ROWS = [
    (
        "squeeze",
        lambda a: lax.squeeze(a, (-1, 0)),
        np.zeros((1, 2, 1), np.float32),
        """\
{ lambda ; a:f32[1,2,1]. let b:f32[2] = squeeze[dimensions=(0, 2)] a in (b,) }""",
    ),
    (
        "identity-ops",
        lambda a: lax.rev(lax.transpose(lax.concatenate([a], 0), (0, 1)), ()),
        _x,
        "{ lambda ; a:f32[2,3]. let  in (a,) }",
    ),
    (
        "pad",
        lambda a: lax.pad(a, 0.0, ((1, -1, 1), (0, 0, 0))),
        _x,
        """\
{ lambda ; a:f32[2,3]. let
    b:f32[3,3] = pad[padding_config=((1, -1, 1), (0, 0, 0))] a 0.0:f32[]
  in (b,) }""",
    ),
    (
        "dynamic_slice",
        lambda a: lax.dynamic_slice(a, (-1, 1), (1, 2)),
        _x,
        """\
{ lambda ; a:f32[2,3]. let
    b:f32[1,2] = dynamic_slice[slice_sizes=(1, 2)] a -1:i32[] 1:i32[]
  in (b,) }""",
    ),
    (
        "iota",
        lambda a: lax.broadcasted_iota(np.int8, (2, 3), -1),
        _x,
        """\
{ lambda ; a:f32[2,3]. let
    b:i8[2,3] = iota[dimension=1 dtype=int8 shape=(2, 3)]
  in (b,) }""",
    ),
]


@pytest.mark.parametrize("fn,arg,text", [pytest.param(f, a, t, id=i) for i, f, a, t in JAXPR_ROWS])
def test_jaxpr_text(fn, arg, text):
    got = str(plax.make_jaxpr(fn)(arg))
    assert re.sub(r"\s+", " ", got) == re.sub(r"\s+", " ", text)
