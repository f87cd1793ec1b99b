"""``x[index]`` and ``x.at[index]`` updates against numpy (and JAX 0.10.2 where they differ:
clamped traced indices, dropped out-of-range updates), eager and under jit."""

import numpy as np
import pytest

import plax
import plax.numpy as pnp
from plax.errors import ConcretizationTypeError

X = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
V = np.arange(5, dtype=np.int32)


def check(fn, args, expected):
    expected = np.asarray(expected)
    plax_args = [pnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
    for mode, out in (("eager", fn(*plax_args)), ("jit", plax.jit(fn)(*plax_args))):
        got = np.asarray(out)
        assert got.dtype == expected.dtype, (mode, got.dtype, expected.dtype)
        assert got.shape == expected.shape, (mode, got.shape, expected.shape)
        np.testing.assert_array_equal(got, expected, err_msg=mode)


BASIC_INDICES = [
    1, -1, (0, 2), (1, -1, 3), slice(None), slice(1, None), slice(None, None, -1),
    slice(None, None, 2), (slice(None), slice(2, 0, -1)), (Ellipsis, 1), (0, Ellipsis),
    (None, 0), (slice(None), None, 1), (Ellipsis, None), (1, slice(None, None, -2), None),
    (slice(-10, 10), slice(5, 1)), (slice(0, 2, 3), 2, slice(None, None, -3)), (),
    (None, Ellipsis, None), np.int64(1), (np.int32(-2), slice(None)),
]


@pytest.mark.parametrize("index", BASIC_INDICES, ids=[repr(i) for i in BASIC_INDICES])
def test_basic_indexing(index):
    check(lambda x: x[index], [X], X[index])


ARRAY_INDICES = [
    np.array([0, 1, -1]), np.array([[1, 0], [0, 1]]), [1, 0, 1],
    (slice(None), np.array([2, 0])), (0, slice(None), np.array([1, 2])),
    (slice(None), 0, np.array([1, 2])), (np.array([1, 0]), slice(None), 0),
    (Ellipsis, np.array([3, 3, 0])), (None, np.array([1]), 1),
    (np.array([], dtype=np.int32),),
]


@pytest.mark.parametrize("index", ARRAY_INDICES, ids=[repr(i) for i in ARRAY_INDICES])
def test_integer_array_indexing(index):
    check(lambda x: x[index], [X], X[index])
    check(lambda x, i: x[i], [V, np.array([4, 0, -2, 1], np.int32)], V[[4, 0, -2, 1]])


def test_integer_array_index_matches_jax_clamping():
    # JAX clamps out-of-range gather indices (after wrapping negative ones).
    check(lambda x, i: x[i], [V, np.array([0, 7, -1, -9], np.int32)],
          np.array([0, 4, 4, 0], np.int32))
    b = np.array([True, False, True])
    check(lambda x: x[np.array([2, 2, 0])], [b], b[[2, 2, 0]])
    neg_zero = np.array([-0.0, 1.0], np.float32)
    out = np.asarray(pnp.asarray(neg_zero)[np.array([0])])
    assert np.signbit(out[0])  # the lookup is exact, sign of zero included


def test_traced_scalar_indices():
    f = plax.jit(lambda x, i: x[i])
    for i in (0, 2, -1, 7, -9):
        expected = V[min(max(i + 5 if i < 0 else i, 0), 4)]  # JAX clamps traced indices
        assert int(f(pnp.asarray(V), i)) == expected
    g = plax.jit(lambda x, i: x[1, i, ::-1])
    np.testing.assert_array_equal(np.asarray(g(pnp.asarray(X), 2)), X[1, 2, ::-1])
    assert int(pnp.asarray(V)[pnp.asarray(3)]) == 3


INDEX_ERRORS = [
    (lambda x: x[5], IndexError, "index 5 is out of bounds for axis 0 with size 2"),
    (lambda x: x[0, -4], IndexError, "out of bounds for axis 1"),
    (lambda x: x[1, 2, 3, 0], IndexError, "too many indices"),
    (lambda x: x[..., ...], IndexError, "single ellipsis"),
    (lambda x: x[1.0], TypeError, "invalid index"),
    (lambda x: x[x > 3], IndexError, "boolean"),
    (lambda x: x[np.array([True, False])], IndexError, "boolean"),
    (lambda x: x[::0], ValueError, "step cannot be zero"),
    (lambda x: x[np.array([0]), np.array([1])], NotImplementedError, "gather"),
    (lambda x: x[pnp.asarray(np.array([0.5]))], TypeError, "integer"),
]


@pytest.mark.parametrize("index", range(len(INDEX_ERRORS)))
def test_index_errors(index):
    fn, error, pattern = INDEX_ERRORS[index]
    with pytest.raises(error, match=pattern):
        fn(pnp.asarray(X))


def test_traced_slice_bounds_are_refused():
    with pytest.raises(IndexError, match="static"):
        plax.jit(lambda x, i: x[i:i + 2])(pnp.asarray(V), 1)


# ----------------------------------------------------------------------------
# .at[...] updates


def np_update(x, index, values, op):
    out = np.array(x, copy=True)
    if op == "set":
        out[index] = values
    else:
        out[index] = {"add": np.add, "multiply": np.multiply, "min": np.minimum,
                      "max": np.maximum}[op](out[index], values)
    return out


AT_CASES = [
    (1, 100.0), (-1, np.arange(12.0).reshape(3, 4)), ((0, 2), -1.0), ((1, -1, 3), 7.0),
    (slice(None, None, -1), 5.0), ((slice(None), slice(2, 0, -1)), np.arange(8.0).reshape(2, 4)),
    ((Ellipsis, 1), np.array([[1.0, 2, 3], [4, 5, 6]])), ((None, 0, 1), 9.0),
    ((0, slice(None, None, 2), slice(1, None, 2)), np.array([[10.0, 20], [30, 40]])),
    ((slice(None), slice(None), slice(None, None, -3)), np.array([1.0, 2.0])),
    ((slice(5, None),), 3.0),
]


@pytest.mark.parametrize("index,values", AT_CASES, ids=[repr(c[0]) for c in AT_CASES])
@pytest.mark.parametrize("op", ["set", "add", "multiply", "min", "max"])
def test_at_updates(op, index, values):
    values = np.asarray(values, np.float32)
    check(lambda x, v: getattr(x.at[index], op)(v), [X, values], np_update(X, index, values, op))


def test_at_leaves_the_original_unchanged():
    x = pnp.asarray(V)
    y = x.at[0].set(10)
    np.testing.assert_array_equal(np.asarray(x), V)
    np.testing.assert_array_equal(np.asarray(y), [10, 1, 2, 3, 4])
    assert int(x.at[3].get()) == 3
    np.testing.assert_array_equal(np.asarray(x.at[1:3].get()), [1, 2])


def test_at_semantics_from_jax():
    x = V
    check(lambda x: x.at[7].set(10), [x], V)  # out-of-range updates are dropped
    check(lambda x: x.at[-7].add(10), [x], V)
    check(lambda x: x.at[-1].set(10), [x], np.array([0, 1, 2, 3, 10], np.int32))
    check(lambda x: x.at[1].set(2.7), [x], np.array([0, 2, 2, 3, 4], np.int32))
    check(lambda x: x.at[1].add(2.7), [x], np.array([0, 3, 2, 3, 4], np.int32))
    check(lambda x: x.at[::-2].set(np.array([7, 8, 9])), [x],
          np.array([9, 1, 8, 3, 7], np.int32))
    check(lambda x: x.at[1:4:2].set(np.array([8, 9])), [x], np.array([0, 8, 2, 9, 4], np.int32))
    check(lambda x: x.at[7].set(10, mode="clip"), [x], np.array([0, 1, 2, 3, 10], np.int32))
    f = np.arange(5, dtype=np.float32)
    check(lambda x: x.at[1].divide(2), [f], np.array([0, 0.5, 2, 3, 4], np.float32))
    check(lambda x: x.at[2].power(2), [x], np.array([0, 1, 4, 3, 4], np.int32))


def test_at_with_traced_positions():
    f = plax.jit(lambda x, i, v: x.at[i].set(v))
    for i, expected in ((2, [0, 1, 9, 3, 4]), (-1, [0, 1, 2, 3, 9]), (5, [0, 1, 2, 3, 4]),
                        (-6, [0, 1, 2, 3, 4])):
        np.testing.assert_array_equal(np.asarray(f(pnp.asarray(V), i, 9)), expected)
    g = plax.jit(lambda x, i: x.at[i, 1:].add(1.0))
    np.testing.assert_array_equal(np.asarray(g(pnp.asarray(X[0]), 1)),
                                  np_update(X[0], (1, slice(1, None)), 1.0, "add"))
    h = plax.jit(lambda x, i: x.at[i].max(100, mode="clip"))
    np.testing.assert_array_equal(np.asarray(h(pnp.asarray(V), 9)), [0, 1, 2, 3, 100])


def test_at_errors():
    x = pnp.asarray(V)
    with pytest.raises(ValueError, match=r"\(2,\).*\(5,\)"):
        x.at[:].set(pnp.asarray(np.array([1, 2])))
    with pytest.raises(ValueError, match="broadcast"):
        x.at[2].set(pnp.asarray(np.array([1, 2])))
    with pytest.raises(NotImplementedError, match="scatter"):
        x.at[np.array([0, 1])].set(0)
    with pytest.raises(TypeError, match=r"\.at"):
        x[0] = 1
    with pytest.raises(TypeError, match=r"\.at"):
        plax.jit(lambda x: x.__setitem__(0, 1))(x)
    with pytest.raises(ValueError, match="mode"):
        x.at[0].set(1, mode="wrap")


def test_traced_index_where_a_static_one_is_needed():
    with pytest.raises(ConcretizationTypeError):
        plax.jit(lambda x, n: pnp.repeat(x, n))(pnp.asarray(V), pnp.asarray(2))


def test_take_and_take_along_axis():
    idx = np.array([[0, 2], [1, 1]], np.int32)
    check(lambda x, i: pnp.take(x, i, axis=1), [X, idx], np.take(X, idx, axis=1))
    check(lambda x, i: pnp.take(x, i), [X, idx], np.take(X, idx))
    along = np.array([[[0], [3], [1]], [[2], [2], [0]]], np.int32)
    check(lambda x, i: pnp.take_along_axis(x, i, axis=2), [X, along],
          np.take_along_axis(X, along, axis=2))
    order = np.argsort(-X, axis=1).astype(np.int32)
    check(lambda x, i: pnp.take_along_axis(x, i, axis=1), [X, order],
          np.take_along_axis(X, order, axis=1))
