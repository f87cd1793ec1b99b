"""plax.numpy products (matmul, dot, einsum, ...), convolve/correlate and sorting against
numpy, eager and under jit; dtypes as JAX 0.10.2 gives them."""

import ml_dtypes
import numpy as np
import pytest

import plax
import plax.numpy as pnp

bfloat16 = np.dtype(ml_dtypes.bfloat16)
F32 = np.dtype(np.float32)
I32 = np.dtype(np.int32)


def check(fn, args, expected, dtype=None, tol=1e-5):
    expected = np.asarray(expected)
    dtype = np.dtype(dtype) if dtype is not None else expected.dtype
    plax_args = [pnp.asarray(a) for a in args]
    for mode, out in (("eager", fn(*plax_args)), ("jit", plax.jit(fn)(*plax_args))):
        got = np.asarray(out)
        assert got.dtype == dtype, (mode, got.dtype, dtype)
        assert got.shape == expected.shape, (mode, got.shape, expected.shape)
        np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64),
                                   rtol=tol, atol=tol, equal_nan=True, err_msg=mode)


def normal(*shape, seed=0, dtype=np.float32):
    return np.random.RandomState(seed).normal(size=shape).astype(dtype)


MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)), ((1, 2, 3), (4, 3, 5)), ((0, 3), (3, 2)),
]


@pytest.mark.parametrize("a_shape,b_shape", MATMUL_SHAPES)
def test_matmul(a_shape, b_shape):
    a, b = normal(*a_shape, seed=1), normal(*b_shape, seed=2)
    check(pnp.matmul, [a, b], a @ b)
    check(lambda a, b: a @ b, [a, b], a @ b)


DOT_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((5, 2, 3), (4, 3, 2)),
              ((2, 3), ()), ((), (4,))]


@pytest.mark.parametrize("a_shape,b_shape", DOT_SHAPES)
def test_dot(a_shape, b_shape):
    a, b = normal(*a_shape, seed=3), normal(*b_shape, seed=4)
    check(pnp.dot, [a, b], np.dot(a, b))


def test_product_dtypes_follow_promotion():
    i8 = np.ones((2, 3), np.int8)
    check(pnp.matmul, [i8, np.ones(3, np.int8)], [3, 3], np.int8)
    check(pnp.matmul, [i8 > 0, np.ones(3, bool)], [True, True], np.bool_)
    check(pnp.matmul, [i8.astype(np.float16), np.ones(3, np.int32)], [3, 3], np.float16)
    check(pnp.dot, [np.arange(3, dtype=np.int32), np.arange(3, dtype=np.int32)], 5, I32)


OTHER_PRODUCTS = [
    ("vdot", pnp.vdot, np.vdot, [(2, 2), (4,)]),
    ("inner", pnp.inner, np.inner, [(2, 3), (4, 3)]),
    ("inner 1d", pnp.inner, np.inner, [(3,), (3,)]),
    ("outer", pnp.outer, np.outer, [(2, 3), (4,)]),
    ("kron", pnp.kron, np.kron, [(2, 2), (3, 1)]),
    ("tensordot", pnp.tensordot, np.tensordot, [(2, 3, 4), (3, 4, 5)]),
    ("tensordot 1", lambda a, b: pnp.tensordot(a, b, 1), lambda a, b: np.tensordot(a, b, 1),
     [(2, 3), (3, 4)]),
    ("tensordot pairs", lambda a, b: pnp.tensordot(a, b, ((0, 2), (2, 0))),
     lambda a, b: np.tensordot(a, b, ((0, 2), (2, 0))), [(2, 3, 4), (4, 5, 2)]),
    ("vecdot", pnp.vecdot, lambda a, b: np.sum(a * b, axis=-1), [(2, 3), (3,)]),
]


@pytest.mark.parametrize("name,fn,np_fn,shapes", OTHER_PRODUCTS,
                         ids=[c[0] for c in OTHER_PRODUCTS])
def test_other_products(name, fn, np_fn, shapes):
    args = [normal(*s, seed=i) for i, s in enumerate(shapes)]
    check(fn, args, np_fn(*args))


EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iij->j", [(3, 3, 2)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("i,i", [(1,), (3,)]),
    ("...i,...i", [(2, 1, 3), (4, 3)]),
    ("i...->...", [(2, 3, 4)]),
    ("bij,bjk->bik", [(5, 2, 3), (5, 3, 4)]),
    ("ijk,kj->i", [(2, 3, 4), (4, 3)]),
    ("i,j,k->ijk", [(2,), (3,), (4,)]),
    ("abc,cd,da->b", [(2, 3, 4), (4, 5), (5, 2)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("ba,ca->bc", [(2, 3), (4, 3)]),
]


@pytest.mark.parametrize("subscripts,shapes", EINSUM, ids=[c[0] for c in EINSUM])
def test_einsum(subscripts, shapes):
    args = [normal(*s, seed=i) for i, s in enumerate(shapes)]
    check(lambda *a: pnp.einsum(subscripts, *a), args, np.einsum(subscripts, *args))


def test_einsum_integer_dtype_and_errors():
    a = np.ones((2, 3), np.int8)
    check(lambda a, b: pnp.einsum("ij,j", a, b), [a, np.ones(3, np.int8)], [3, 3], np.int8)
    with pytest.raises(ValueError, match="operands"):
        pnp.einsum("ij,jk", pnp.ones((2, 3)))
    with pytest.raises(ValueError, match="differs"):
        pnp.einsum("ij,jk", pnp.ones((2, 3)), pnp.ones((4, 2)))
    with pytest.raises(ValueError, match="'...'"):
        pnp.einsum("...i->i", pnp.ones((2, 3)))
    with pytest.raises(ValueError, match="invalid character"):
        pnp.einsum("i2,i", pnp.ones((2, 3)), pnp.ones(2))


def test_product_errors():
    with pytest.raises(ValueError, match="ndim at least 1"):
        pnp.matmul(pnp.ones(()), pnp.ones(3))
    with pytest.raises(ValueError, match=r"\(3,\) and \(4,\)"):
        pnp.matmul(pnp.ones((2, 3)), pnp.ones((4, 5)))
    with pytest.raises(ValueError, match="matmul"):
        pnp.matmul(pnp.ones((2, 2, 3)), pnp.ones((3, 3, 4)))
    with pytest.raises(ValueError, match="contracting"):
        pnp.tensordot(pnp.ones((2, 3)), pnp.ones((2, 3)), 1)


# ----------------------------------------------------------------------------
# convolve / correlate


def test_convolve_required_case():
    out = pnp.convolve(pnp.array([1, 2, 1]), pnp.ones(10))
    assert out.dtype == F32
    np.testing.assert_array_equal(np.asarray(out), [1, 3, 4, 4, 4, 4, 4, 4, 4, 4, 3, 1])


@pytest.mark.parametrize("la,lv", [(5, 3), (3, 5), (4, 4), (1, 6), (6, 1), (2, 7)])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("name", ["convolve", "correlate"])
def test_convolve_correlate(name, mode, la, lv):
    a, v = normal(la, seed=5), normal(lv, seed=6)
    check(lambda a, v: getattr(pnp, name)(a, v, mode), [a, v], getattr(np, name)(a, v, mode))


def test_convolve_integers_and_errors():
    check(pnp.convolve, [np.array([1, 2]), np.array([1, 1])], [1.0, 3.0, 2.0], F32)
    with pytest.raises(ValueError, match="mode"):
        pnp.convolve(pnp.ones(3), pnp.ones(2), "circular")
    with pytest.raises(ValueError, match="1-D"):
        pnp.correlate(pnp.ones((2, 2)), pnp.ones(2))
    with pytest.raises(ValueError, match="empty"):
        pnp.convolve(pnp.ones(0), pnp.ones(2))


# ----------------------------------------------------------------------------
# Sorting


SORT_INPUTS = [
    np.array([3.0, 1.0, np.nan, 2.0, -0.0, 0.0, 1.0], F32),
    np.array([[3, 1, 1], [0, 2, -5]], np.int32),
    np.array([5, 0, 255, 7], np.uint8),
    np.array([True, False, True]),
]


@pytest.mark.parametrize("x", SORT_INPUTS, ids=[str(x.dtype) for x in SORT_INPUTS])
def test_sort_and_argsort(x):
    for axis in (-1, 0, None):
        check(lambda x: pnp.sort(x, axis=axis), [x], np.sort(x, axis=axis, kind="stable"))
        check(lambda x: pnp.argsort(x, axis=axis), [x],
              np.argsort(x, axis=axis, kind="stable").astype(np.int32))
    check(lambda x: x.sort(), [x], np.sort(x, kind="stable"))


def test_descending_sort_keeps_ties_in_order():
    x = np.array([3, 1, 1, 2], np.int32)
    check(lambda x: pnp.argsort(x, descending=True), [x], np.array([0, 3, 1, 2], np.int32))
    check(lambda x: pnp.sort(x, descending=True), [x], np.array([3, 2, 1, 1], np.int32))


def test_searchsorted():
    a = np.array([1.0, 2.0, 2.0, 3.0, np.nan], F32)
    v = np.array([[0.0, 2.0], [5.0, np.nan]], F32)
    for side in ("left", "right"):
        check(lambda a, v: pnp.searchsorted(a, v, side=side), [a, v],
              np.searchsorted(a, v, side=side).astype(np.int32))
    unsorted = np.array([3, 1, 2], np.int32)
    check(lambda a, v, s: pnp.searchsorted(a, v, sorter=s),
          [unsorted, np.array([2], np.int32), np.argsort(unsorted).astype(np.int32)],
          np.searchsorted(unsorted, [2], sorter=np.argsort(unsorted)).astype(np.int32))


def test_unique_is_refused():
    with pytest.raises(NotImplementedError, match="depends on the data"):
        pnp.unique(pnp.ones(3))
