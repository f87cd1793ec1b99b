"""lax.dot_general, lax.dot and lax.batch_matmul.

Values are checked against np.einsum (with the accumulation JAX uses), dtype
rules and accumulation against JAX (tests/data/lax_dot_cases.json, produced
by tests/data/generate_lax_structured.py); every op runs eagerly and under jit.
"""

import json
import os

import numpy as np
import pytest

import plax
from plax import dtypes, lax

from testdata import decode
from lax_testing import check

DATA = os.path.join(os.path.dirname(__file__), "data", "lax_dot_cases.json")
with open(DATA) as _f:
    TABLE = json.load(_f)
VALUE_CASES = {case["name"]: case for case in TABLE["values"]}


def einsum_reference(lhs, rhs, dimension_numbers, out_dtype):
    """dot_general from its definition, via np.einsum in a wide type."""
    (lc, rc), (lb, rb) = dimension_numbers
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    lhs_sub = [next(letters) for _ in range(lhs.ndim)]
    rhs_sub = [next(letters) for _ in range(rhs.ndim)]
    for a, b in zip(lc + lb, rc + rb):
        rhs_sub[b] = lhs_sub[a]
    batch = [lhs_sub[d] for d in lb]
    lhs_free = [lhs_sub[d] for d in range(lhs.ndim) if d not in lc and d not in lb]
    rhs_free = [rhs_sub[d] for d in range(rhs.ndim) if d not in rc and d not in rb]
    spec = f"{''.join(lhs_sub)},{''.join(rhs_sub)}->{''.join(batch + lhs_free + rhs_free)}"
    wide = np.float64 if dtypes.is_float(out_dtype) else np.int64
    out = np.einsum(spec, lhs.astype(wide), rhs.astype(wide))
    return (out != 0) if out_dtype == np.bool_ else out.astype(out_dtype)


def sample(rng, shape, dt):
    dt = dtypes.dtype(dt)
    if dt == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    low = 0 if dtypes.is_unsigned(dt) else -3
    return rng.integers(low, 4, shape).astype(dt)


# ----------------------------------------------------------------------------
# Values.

SHAPES = [
    # lhs shape, rhs shape, ((lhs_contract, rhs_contract), (lhs_batch, rhs_batch))
    ((2, 3), (3, 4), (((1,), (0,)), ((), ()))),
    ((3, 2), (3, 4), (((0,), (0,)), ((), ()))),
    ((3,), (3,), (((0,), (0,)), ((), ()))),
    ((2, 3), (3,), (((1,), (0,)), ((), ()))),
    ((2, 3), (4,), (((), ()), ((), ()))),  # outer product
    ((), (), (((), ()), ((), ()))),  # scalar product
    ((5, 2, 3), (5, 3, 4), (((2,), (1,)), ((0,), (0,)))),
    ((2, 5, 3), (4, 3, 5), (((2,), (1,)), ((1,), (2,)))),  # batch dims anywhere
    ((2, 3, 4, 5), (4, 3, 6), (((1, 2), (1, 0)), ((), ()))),  # two contracting dims
    ((3, 2, 4, 2), (2, 4, 3, 5), (((2,), (1,)), ((0, 3), (2, 0)))),  # two batch dims
    ((2, 0), (0, 3), (((1,), (0,)), ((), ()))),  # empty contraction gives zeros
    ((0, 3), (3, 2), (((1,), (0,)), ((), ()))),
    ((1, 3, 1), (1, 3), (((1,), (1,)), ((0,), (0,)))),  # size-1 dims
]
DTYPES = ["float32", "float16", "bfloat16", "int32", "int8", "uint8", "uint32", "bool"]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("lhs_shape,rhs_shape,dims", SHAPES)
def test_dot_general_values(lhs_shape, rhs_shape, dims, dt):
    rng = np.random.default_rng(abs(hash((lhs_shape, rhs_shape, dt))) % 2**32)
    lhs = sample(rng, lhs_shape, dt)
    rhs = sample(rng, rhs_shape, dt)
    out = check(lambda a, b: lax.dot_general(a, b, dims), lhs, rhs)
    expected = einsum_reference(lhs, rhs, dims, dtypes.dtype(dt))
    assert out.dtype == dtypes.dtype(dt)
    assert out.shape == expected.shape
    np.testing.assert_array_equal(np.asarray(out), expected)


def test_dot_general_float32_random():
    rng = np.random.default_rng(0)
    lhs = rng.standard_normal((3, 4, 5)).astype(np.float32)
    rhs = rng.standard_normal((5, 3, 2)).astype(np.float32)
    dims = (((2,), (0,)), ((0,), (1,)))
    out = check(lambda a, b: lax.dot_general(a, b, dims), lhs, rhs)
    expected = einsum_reference(lhs, rhs, dims, np.float64)
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-5, atol=1e-6)


def test_float64_with_x64(x64):
    rng = np.random.default_rng(1)
    lhs = rng.standard_normal((4, 6))
    rhs = rng.standard_normal((6, 3))
    out = check(lambda a, b: lax.dot(a, b), lhs, rhs)
    assert out.dtype == np.float64
    np.testing.assert_allclose(np.asarray(out), lhs @ rhs, rtol=1e-13)


def test_int64_wraps_with_x64(x64):
    big = np.array([2**62, 2**62], np.int64)
    out = lax.dot(big, np.array([2, 2], np.int64))
    assert out.dtype == np.int64
    assert int(np.asarray(out)) == 0  # 2**64 wraps to 0


@pytest.mark.parametrize("name", sorted(VALUE_CASES))
def test_dot_values_match_jax(name):
    case = VALUE_CASES[name]
    lhs, rhs, expected = decode(case["lhs"]), decode(case["rhs"]), decode(case["expected"])
    dims = case["dimension_numbers"]
    out = check(
        lambda a, b: lax.dot_general(
            a, b, dims, preferred_element_type=case["preferred_element_type"]
        ),
        lhs,
        rhs,
    )
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(np.asarray(out), expected)


# ----------------------------------------------------------------------------
# dtype rules, against JAX.


@pytest.mark.parametrize("key", sorted(TABLE["dtype_table"]))
def test_mixed_dtypes_match_jax(key):
    lhs_name, rhs_name = key.split(",")
    expected = TABLE["dtype_table"][key]
    lhs = np.ones((2,), dtypes.dtype(lhs_name))
    rhs = np.ones((2,), dtypes.dtype(rhs_name))
    if expected == "TypeError":
        with pytest.raises(TypeError, match=f"{lhs_name} and {rhs_name}"):
            lax.dot(lhs, rhs)
    else:
        out = check(lambda a, b: lax.dot(a, b), lhs, rhs)
        assert out.dtype == dtypes.dtype(expected)
        assert float(np.asarray(out).astype(np.float64)) == (1.0 if expected == "bool" else 2.0)


@pytest.mark.parametrize("key", sorted(TABLE["preferred_table"]))
def test_preferred_element_type_matches_jax(key):
    name, preferred = key.split(",")
    expected = TABLE["preferred_table"][key]
    x = np.ones((2,), dtypes.dtype(name))
    if expected == "TypeError":
        with pytest.raises(TypeError, match="preferred_element_type"):
            lax.dot(x, x, preferred_element_type=preferred)
    else:
        out = check(lambda a: lax.dot(a, a, preferred_element_type=preferred), x)
        assert out.dtype == dtypes.dtype(expected)


def test_weak_types():
    assert lax.dot_general(1.0, 2.0, (((), ()), ((), ()))).aval.weak_type
    assert lax.dot_general(
        1.0, 2.0, (((), ()), ((), ())), preferred_element_type=np.float32
    ).aval.weak_type
    out = lax.dot_general(np.float32(1.0), 2.0, (((), ()), ((), ())))
    assert not out.aval.weak_type and out.dtype == np.float32
    # JAX's dtype rule ignores weakness: a weak int32 beats int8.
    assert lax.dot_general(1, np.int8(2), (((), ()), ((), ()))).dtype == np.int32


def test_preferred_float64_canonicalises_without_x64():
    x = np.ones(3, np.float32)
    assert lax.dot(x, x, preferred_element_type=np.float64).dtype == np.float32


# ----------------------------------------------------------------------------
# dot and batch_matmul.


@pytest.mark.parametrize(
    "lhs_shape,rhs_shape",
    [((2, 3), (3, 4)), ((2, 3), (3,)), ((3,), (3, 4)), ((3,), (3,)), ((1, 0), (0, 2))],
)
def test_dot(lhs_shape, rhs_shape):
    rng = np.random.default_rng(2)
    lhs = sample(rng, lhs_shape, "int32")
    rhs = sample(rng, rhs_shape, "int32")
    out = check(lambda a, b: lax.dot(a, b), lhs, rhs)
    np.testing.assert_array_equal(np.asarray(out), np.dot(lhs, rhs))


def test_dot_positional_precision_and_dimension_numbers():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = lax.dot(x, x.T, lax.Precision.HIGHEST)
    np.testing.assert_array_equal(np.asarray(out), x @ x.T)
    out = lax.dot(x, x, dimension_numbers=(((1,), (1,)), ((0,), (0,))))
    np.testing.assert_array_equal(np.asarray(out), (x * x).sum(1))


@pytest.mark.parametrize(
    "lhs_shape,rhs_shape",
    [
        ((2, 3, 4), (2, 4, 5)),
        ((3, 4), (4, 2)),
        ((2, 1, 3, 4), (2, 1, 4, 1)),
        ((0, 2, 3), (0, 3, 2)),
    ],
)
def test_batch_matmul(lhs_shape, rhs_shape):
    rng = np.random.default_rng(3)
    lhs = sample(rng, lhs_shape, "float32")
    rhs = sample(rng, rhs_shape, "float32")
    out = check(lambda a, b: lax.batch_matmul(a, b), lhs, rhs)
    np.testing.assert_array_equal(np.asarray(out), np.matmul(lhs, rhs))


def test_precision_params():
    x = np.ones((2, 2), np.float32)

    def params_of(precision):
        closed = plax.make_jaxpr(lambda a: lax.dot(a, a, precision=precision))(x)
        return closed.jaxpr.eqns[0].params

    assert params_of(None)["precision"] is None
    assert params_of("highest")["precision"] == (lax.Precision.HIGHEST,) * 2
    assert params_of("float32")["precision"] == (lax.Precision.HIGHEST,) * 2
    assert params_of(("default", lax.Precision.HIGH))["precision"] == (
        lax.Precision.DEFAULT,
        lax.Precision.HIGH,
    )
    params = params_of(None)
    assert params["dimension_numbers"] == (((1,), (0,)), ((), ()))
    assert params["preferred_element_type"] is None
    with pytest.raises(ValueError, match="precision"):
        lax.dot(x, x, precision="fastest-ever")
    with pytest.raises(ValueError, match="precision"):
        lax.dot(x, x, precision=3)


def test_jaxpr_text():
    x = np.ones((2, 3), np.float32)
    y = np.ones((3, 4), np.float32)
    text = str(plax.make_jaxpr(lambda a, b: lax.dot(a, b))(x, y))
    assert "dot_general[" in text
    assert "f32[2,4]" in text


# ----------------------------------------------------------------------------
# Errors.

ERRORS = [
    # (description, lhs shape, rhs shape, dimension numbers, exception, message fragments)
    (
        "contracting sizes",
        (2, 3),
        (2, 3),
        (((1,), (0,)), ((), ())),
        TypeError,
        [
            "contracting dimensions must have the same sizes",
            "(3,)",
            "(2,)",
            "lhs shape (2, 3)",
            "rhs shape (2, 3)",
        ],
    ),
    (
        "batch sizes",
        (2, 3),
        (4, 3),
        (((1,), (1,)), ((0,), (0,))),
        TypeError,
        ["batch dimensions must have the same sizes", "(2, 3)", "(4, 3)"],
    ),
    (
        "repeated contracting",
        (2, 3),
        (3, 3),
        (((1, 1), (0, 1)), ((), ())),
        TypeError,
        ["lhs_contracting dimensions must be distinct"],
    ),
    (
        "repeated batch",
        (2, 2, 3),
        (2, 2, 3),
        (((2,), (2,)), ((0, 0), (0, 1))),
        TypeError,
        ["lhs_batch dimensions must be distinct"],
    ),
    (
        "out of range",
        (2, 3),
        (3, 4),
        (((5,), (0,)), ((), ())),
        TypeError,
        ["lhs dimension 5", "rank 2"],
    ),
    ("negative", (2, 3), (3, 4), (((-1,), (0,)), ((), ())), TypeError, ["non-negative"]),
    ("rhs out of range", (2, 3), (3, 4), (((1,), (2,)), ((), ())), TypeError, ["rhs dimension 2"]),
    (
        "batch count",
        (2, 3),
        (2, 3),
        (((1,), (1,)), ((0,), ())),
        TypeError,
        ["equally many batch dimensions"],
    ),
    (
        "contract count",
        (2, 3),
        (2, 3),
        (((0, 1), (1,)), ((), ())),
        TypeError,
        ["equally many contracting dimensions"],
    ),
    (
        "batch and contract overlap",
        (2, 3),
        (2, 3),
        (((1,), (1,)), ((1,), (0,))),
        TypeError,
        ["must be disjoint"],
    ),
    ("bad structure", (2, 3), (3, 4), ((1, 0),), TypeError, ["must have the form"]),
    ("non-integer dims", (2, 3), (3, 4), (((1.0,), (0,)), ((), ())), TypeError, ["integers"]),
]


@pytest.mark.parametrize(
    "desc,lhs_shape,rhs_shape,dims,exc,fragments", ERRORS, ids=[e[0] for e in ERRORS]
)
def test_dot_general_errors(desc, lhs_shape, rhs_shape, dims, exc, fragments):
    with pytest.raises(exc) as info:
        lax.dot_general(np.ones(lhs_shape, np.float32), np.ones(rhs_shape, np.float32), dims)
    message = str(info.value)
    assert message.startswith("lax.dot_general")
    for fragment in fragments:
        assert fragment in message


def test_dot_errors():
    with pytest.raises(TypeError, match=r"\(2, 3\) and \(2, 3\)"):
        lax.dot(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="rank 1 or 2"):
        lax.dot(np.ones((2, 3, 4)), np.ones((4, 5)))
    with pytest.raises(ValueError, match="rank 1 or 2"):
        lax.dot(np.float32(2), np.ones(3))


def test_batch_matmul_errors():
    with pytest.raises(ValueError, match="at least 2-D"):
        lax.batch_matmul(np.ones(3), np.ones((3, 2)))
    with pytest.raises(ValueError, match="same rank"):
        lax.batch_matmul(np.ones((2, 3, 4)), np.ones((4, 5)))
    with pytest.raises(TypeError, match="batch dimensions must have the same sizes"):
        lax.batch_matmul(np.ones((2, 3, 4)), np.ones((3, 4, 5)))


def test_preferred_narrower_integer():
    x = np.ones(3, np.int32)
    with pytest.raises(TypeError, match="narrower"):
        lax.dot(x, x, preferred_element_type=np.int16)
    with pytest.raises(TypeError, match="preferred_element_type"):
        lax.dot(x, x, preferred_element_type="complex64")


def test_errors_under_jit():
    f = plax.jit(lambda a, b: lax.dot_general(a, b, (((1,), (0,)), ((), ()))))
    with pytest.raises(TypeError, match="contracting dimensions"):
        f(np.ones((2, 3), np.float32), np.ones((2, 3), np.float32))
