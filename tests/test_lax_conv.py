"""lax.conv_general_dilated and its helpers.

Values are checked against JAX (tests/data/lax_conv_cases.json, produced by
tests/data/generate_lax_structured.py) and against a direct loop-per-output
definition of XLA's convolution; every op runs eagerly and under jit.
"""

import itertools
import json
import os

import numpy as np
import pytest

import plax
from plax import dtypes, lax

from testdata import decode, decode_padding
from lax_testing import check

DATA = os.path.join(os.path.dirname(__file__), "data", "lax_conv_cases.json")
with open(DATA) as _f:
    TABLE = json.load(_f)
CASES = {case["name"]: case for case in TABLE["cases"]}


def _dnums(value):
    return None if value is None else tuple(value)


# ----------------------------------------------------------------------------
# Against JAX.


@pytest.mark.parametrize("name", sorted(CASES))
def test_conv_matches_jax(name):
    case = CASES[name]
    lhs, rhs, expected = decode(case["lhs"]), decode(case["rhs"]), decode(case["expected"])

    def f(x, y):
        return lax.conv_general_dilated(
            x,
            y,
            case["window_strides"],
            decode_padding(case["padding"]),
            lhs_dilation=case["lhs_dilation"],
            rhs_dilation=case["rhs_dilation"],
            dimension_numbers=_dnums(case["dimension_numbers"]),
            feature_group_count=case["feature_group_count"],
            batch_group_count=case["batch_group_count"],
            preferred_element_type=case["preferred_element_type"],
        )

    out = check(f, lhs, rhs)
    assert out.dtype == expected.dtype
    assert out.shape == expected.shape
    # Inputs are small integers, so every sum is exact in its type.
    np.testing.assert_array_equal(np.asarray(out), expected)


@pytest.mark.parametrize("key", sorted(TABLE["dtype_table"]))
def test_conv_result_dtype_matches_jax(key):
    name, preferred = key.split(",")
    preferred = None if preferred == "None" else preferred
    expected = TABLE["dtype_table"][key]
    x = np.ones((1, 1, 2), dtypes.dtype(name))
    if expected in ("TypeError", "ValueError"):
        with pytest.raises(TypeError, match="preferred_element_type"):
            lax.conv_general_dilated(x, x, (1,), "VALID", preferred_element_type=preferred)
    else:
        out = lax.conv_general_dilated(x, x, (1,), "VALID", preferred_element_type=preferred)
        assert out.dtype == np.dtype(dtypes.dtype(expected))


def test_conv_is_cross_correlation():
    x = np.array([1, 2, 1], np.float32).reshape(1, 1, 3)
    y = np.ones(10).reshape(1, 1, 10)
    out = check(
        lambda a, b: lax.conv_general_dilated(a, b, window_strides=(1,), padding=[(9, 9)]), x, y
    )
    np.testing.assert_array_equal(np.asarray(out).ravel(), [1, 3, 4, 4, 4, 4, 4, 4, 4, 4, 3, 1])
    # An asymmetric kernel shows the window is not flipped.
    out = lax.conv_general_dilated(
        np.arange(4.0, dtype=np.float32).reshape(1, 1, 4),
        np.array([1.0, 0.0], np.float32).reshape(1, 1, 2),
        (1,),
        "VALID",
    )
    np.testing.assert_array_equal(np.asarray(out).ravel(), [0, 1, 2])


# ----------------------------------------------------------------------------
# Against a direct definition (one loop per output element).


def naive_conv(lhs, rhs, strides, pads, lhs_dil, rhs_dil, fgc, bgc):
    """XLA's convolution in NC.../OI... layout, straight from its definition."""
    n = lhs.shape[0]
    o, i = rhs.shape[:2]
    spatial = lhs.shape[2:]
    kernel = rhs.shape[2:]
    out_spatial = []
    for size, k, s, (lo, hi), ld, rd in zip(spatial, kernel, strides, pads, lhs_dil, rhs_dil):
        dilated = (size - 1) * ld + 1 if size else 0
        window = (k - 1) * rd + 1
        padded = dilated + lo + hi
        out_spatial.append(0 if padded < window else (padded - window) // s + 1)
    out = np.zeros((n // bgc, o) + tuple(out_spatial), dtype=np.float64)
    out_per_group = o // (fgc * bgc)
    for b, f in itertools.product(range(n // bgc), range(o)):
        group = f // out_per_group
        for pos in itertools.product(*(range(s) for s in out_spatial)):
            total = 0.0
            for ci, kpos in itertools.product(range(i), itertools.product(*map(range, kernel))):
                index = []
                for d, (p, kp) in enumerate(zip(pos, kpos)):
                    dilated_at = p * strides[d] + kp * rhs_dil[d] - pads[d][0]
                    if dilated_at < 0 or dilated_at % lhs_dil[d]:
                        break
                    at = dilated_at // lhs_dil[d]
                    if at >= spatial[d]:
                        break
                    index.append(at)
                else:
                    batch = b + group * (n // bgc) if bgc > 1 else b
                    feature = ci + group * i if fgc > 1 else ci
                    total += lhs[(batch, feature) + tuple(index)] * rhs[(f, ci) + kpos]
            out[(b, f) + pos] = total
    return out


def _random_configs():
    rng = np.random.default_rng(42)
    configs = []
    for trial in range(24):
        nsp = 1 + trial % 2
        fgc, bgc = [(1, 1), (2, 1), (1, 2), (3, 1)][trial % 4]
        n = bgc * int(rng.integers(1, 3))
        i = int(rng.integers(1, 3))
        o = fgc * bgc * int(rng.integers(1, 3))
        spatial = tuple(int(v) for v in rng.integers(1, 6, nsp))
        kernel = tuple(int(v) for v in rng.integers(1, 4, nsp))
        strides = tuple(int(v) for v in rng.integers(1, 3, nsp))
        lhs_dil = tuple(int(v) for v in rng.integers(1, 3, nsp))
        rhs_dil = tuple(int(v) for v in rng.integers(1, 3, nsp))
        pads = tuple((int(lo), int(hi)) for lo, hi in rng.integers(-1, 3, (nsp, 2)))
        configs.append(
            ((n, i * fgc) + spatial, (o, i) + kernel, strides, pads, lhs_dil, rhs_dil, fgc, bgc)
        )
    return configs


@pytest.mark.parametrize("config", _random_configs())
def test_conv_matches_direct_definition(config):
    lhs_shape, rhs_shape, strides, pads, lhs_dil, rhs_dil, fgc, bgc = config
    rng = np.random.default_rng(7)
    lhs = rng.integers(-3, 4, lhs_shape).astype(np.float32)
    rhs = rng.integers(-3, 4, rhs_shape).astype(np.float32)
    expected = naive_conv(lhs, rhs, strides, pads, lhs_dil, rhs_dil, fgc, bgc)
    out = check(
        lambda a, b: lax.conv_general_dilated(
            a, b, strides, pads, lhs_dil, rhs_dil, feature_group_count=fgc, batch_group_count=bgc
        ),
        lhs,
        rhs,
    )
    np.testing.assert_array_equal(np.asarray(out), expected)


@pytest.mark.parametrize(
    "layout",
    [
        ("NHWC", "HWIO", "NHWC"),
        ("NCHW", "OIHW", "NHWC"),
        ("HWCN", "OHWI", "CNWH"),
        ("NHWC", "OIWH", "NCHW"),
    ],
)
def test_layouts_are_transposes(layout):
    """Any layout equals the NCHW computation with the operands moved around."""
    lhs_spec, rhs_spec, out_spec = layout
    rng = np.random.default_rng(3)
    canon_lhs = rng.integers(-3, 4, (2, 3, 5, 4)).astype(np.float32)  # N C H W
    canon_rhs = rng.integers(-3, 4, (2, 3, 2, 3)).astype(np.float32)  # O I H W
    spatial_order = [ch for ch in rhs_spec if ch not in "OI"]
    strides = {"H": 2, "W": 1}
    expected_nchw = lax.conv_general_dilated(canon_lhs, canon_rhs, (2, 1), "SAME")
    lhs = np.transpose(canon_lhs, ["NCHW".index(ch) for ch in lhs_spec])
    rhs = np.transpose(canon_rhs, ["OIHW".index(ch) for ch in rhs_spec])
    out = check(
        lambda a, b: lax.conv_general_dilated(
            a, b, [strides[ch] for ch in spatial_order], "SAME", dimension_numbers=layout
        ),
        lhs,
        rhs,
    )
    expected = np.transpose(np.asarray(expected_nchw), ["NCHW".index(ch) for ch in out_spec])
    np.testing.assert_array_equal(np.asarray(out), expected)


def test_float64_with_x64(x64):
    rng = np.random.default_rng(5)
    lhs = rng.standard_normal((1, 2, 6))
    rhs = rng.standard_normal((3, 2, 3))
    out = check(lambda a, b: lax.conv_general_dilated(a, b, (1,), "SAME"), lhs, rhs)
    assert out.dtype == np.float64
    expected = naive_conv(lhs, rhs, (1,), ((1, 1),), (1,), (1,), 1, 1)
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-12)


def test_float16_accumulates_in_float32():
    # 3000 ones: a float16 running sum would stop at 2048.
    lhs = np.ones((1, 1, 3000), np.float16)
    out = lax.conv_general_dilated(lhs, lhs, (1,), "VALID")
    assert out.dtype == np.float16
    assert float(np.asarray(out).ravel()[0]) == 3000.0


# ----------------------------------------------------------------------------
# Wrappers and helpers.


def test_params_are_canonical():
    lhs = np.ones((1, 5, 6, 2), np.float32)
    rhs = np.ones((3, 3, 2, 4), np.float32)
    closed = plax.make_jaxpr(
        lambda a, b: lax.conv_general_dilated(
            a, b, [2, 1], "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
    )(lhs, rhs)
    (eqn,) = closed.jaxpr.eqns
    assert eqn.primitive.name == "conv_general_dilated"
    params = eqn.params
    assert params["padding"] == ((1, 1), (1, 1))
    assert params["window_strides"] == (2, 1)
    assert params["lhs_dilation"] == (1, 1) and params["rhs_dilation"] == (1, 1)
    assert tuple(params["dimension_numbers"]) == ((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
    assert params["feature_group_count"] == 1 and params["batch_group_count"] == 1
    for value in params.values():
        hash(value)
    assert eqn.outvars[0].aval.shape == (1, 3, 6, 4)


def test_conv_dimension_numbers():
    dn = lax.conv_dimension_numbers((1, 2, 5, 6), (3, 2, 2, 2), ("NHWC", "HWIO", "NHWC"))
    assert dn == lax.ConvDimensionNumbers((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
    assert dn.lhs_spec == (0, 3, 1, 2)
    iota = lax.conv_dimension_numbers((1, 2, 5, 6), (3, 2, 2, 2), None)
    assert iota == lax.ConvDimensionNumbers((0, 1, 2, 3), (0, 1, 2, 3), (0, 1, 2, 3))
    assert lax.conv_dimension_numbers((1, 2, 5, 6), (3, 2, 2, 2), dn) == dn
    assert lax.conv_dimension_numbers((1, 2, 5), (3, 2, 2), ("NCW", "OIW", "NWC")) == (
        (0, 1, 2),
        (0, 1, 2),
        (0, 2, 1),
    )


@pytest.mark.parametrize(
    "padding,expected",
    [
        ("SAME", [(0, 1), (0, 1)]),
        ("same", [(0, 1), (0, 1)]),
        ("SAME_LOWER", [(1, 0), (1, 0)]),
        ("VALID", [(0, 0), (0, 0)]),
    ],
)
def test_padtype_to_pads(padding, expected):
    assert lax.padtype_to_pads((5, 6), (2, 3), (2, 2), padding) == expected


def test_padtype_to_pads_edges():
    assert lax.padtype_to_pads((5, 6), (7, 3), (2, 2), "SAME") == [(3, 3), (0, 1)]
    assert lax.padtype_to_pads((0, 6), (7, 3), (2, 2), "SAME") == [(2, 3), (0, 1)]
    with pytest.raises(ValueError, match="FOO"):
        lax.padtype_to_pads((5,), (2,), (1,), "FOO")


def test_conv_and_conv_with_general_padding():
    rng = np.random.default_rng(11)
    lhs = rng.integers(-3, 4, (2, 3, 6, 5)).astype(np.float32)
    rhs = rng.integers(-3, 4, (4, 3, 3, 2)).astype(np.float32)
    simple = check(lambda a, b: lax.conv(a, b, (1, 2), "SAME"), lhs, rhs)
    general = lax.conv_general_dilated(lhs, rhs, (1, 2), "SAME")
    np.testing.assert_array_equal(np.asarray(simple), np.asarray(general))
    padded = check(
        lambda a, b: lax.conv_with_general_padding(a, b, (1, 1), [(1, 0), (0, 2)], (2, 1), (1, 2)),
        lhs,
        rhs,
    )
    expected = naive_conv(lhs, rhs, (1, 1), ((1, 0), (0, 2)), (2, 1), (1, 2), 1, 1)
    np.testing.assert_array_equal(np.asarray(padded), expected)


def test_precision_is_recorded():
    x = np.ones((1, 1, 3), np.float32)
    closed = plax.make_jaxpr(lambda a: lax.conv(a, a, (1,), "VALID", precision="highest"))(x)
    assert closed.jaxpr.eqns[0].params["precision"] == (lax.Precision.HIGHEST,) * 2


# ----------------------------------------------------------------------------
# Errors.

F32 = np.float32
ERRORS = [
    # (description, lhs shape, rhs shape, kwargs, exception, message fragment)
    ("rank mismatch", (1, 2, 5), (3, 2, 2, 2), {}, TypeError, "same rank"),
    ("rank too small", (5,), (3,), {"window_strides": ()}, TypeError, "rank at least 2"),
    (
        "feature groups do not divide",
        (1, 4, 5),
        (3, 2, 2),
        {"feature_group_count": 3},
        ValueError,
        "must divide the lhs feature",
    ),
    (
        "feature groups vs rhs in",
        (1, 4, 5),
        (4, 4, 2),
        {"feature_group_count": 2},
        ValueError,
        "rhs input feature",
    ),
    (
        "out features not multiple",
        (1, 4, 5),
        (3, 2, 2),
        {"feature_group_count": 2},
        ValueError,
        "multiple of feature_group_count",
    ),
    (
        "batch groups do not divide",
        (3, 2, 5),
        (4, 2, 2),
        {"batch_group_count": 2},
        ValueError,
        "must divide the lhs batch",
    ),
    (
        "both groups",
        (4, 4, 5),
        (4, 2, 2),
        {"batch_group_count": 2, "feature_group_count": 2},
        ValueError,
        "at most one",
    ),
    (
        "zero groups",
        (1, 2, 5),
        (3, 2, 2),
        {"feature_group_count": 0},
        ValueError,
        "positive integer",
    ),
    ("feature mismatch", (1, 2, 5), (3, 3, 2), {}, ValueError, "rhs input feature"),
    (
        "strides length",
        (1, 2, 5),
        (3, 2, 2),
        {"window_strides": (1, 1)},
        TypeError,
        "window_strides",
    ),
    (
        "zero stride",
        (1, 2, 5),
        (3, 2, 2),
        {"window_strides": (0,)},
        ValueError,
        "window_strides must be positive",
    ),
    (
        "zero stride SAME",
        (1, 2, 5),
        (3, 2, 2),
        {"window_strides": (0,), "padding": "SAME"},
        ValueError,
        "window_strides must be positive",
    ),
    (
        "zero rhs dilation",
        (1, 2, 5),
        (3, 2, 2),
        {"rhs_dilation": (0,)},
        ValueError,
        "rhs_dilation must be positive",
    ),
    ("unknown padding", (1, 2, 5), (3, 2, 2), {"padding": "FULL"}, ValueError, "FULL"),
    (
        "padding pair count",
        (1, 2, 5),
        (3, 2, 2),
        {"padding": [(1, 1), (1, 1)]},
        ValueError,
        "one \\(low, high\\) pair per spatial",
    ),
    (
        "padding not pairs",
        (1, 2, 5),
        (3, 2, 2),
        {"padding": [(1,)]},
        ValueError,
        "\\(low, high\\) pairs",
    ),
    (
        "negative padding too big",
        (1, 2, 5),
        (3, 2, 2),
        {"padding": [(-3, -3)]},
        ValueError,
        "negative padding",
    ),
    (
        "string padding with lhs dilation",
        (1, 2, 5),
        (3, 2, 2),
        {"padding": "SAME", "lhs_dilation": (2,)},
        ValueError,
        "lhs_dilation",
    ),
    ("empty kernel", (1, 2, 5), (3, 2, 0), {}, ValueError, "kernel spatial dimensions"),
    (
        "layout length",
        (1, 2, 5),
        (3, 2, 2),
        {"dimension_numbers": ("NCHW", "OIHW", "NCHW")},
        TypeError,
        "one letter per operand dimension",
    ),
    (
        "layout repeats",
        (1, 2, 5),
        (3, 2, 2),
        {"dimension_numbers": ("NCC", "OIH", "NCH")},
        TypeError,
        "exactly once",
    ),
    (
        "layout spatial names",
        (1, 2, 5),
        (3, 2, 2),
        {"dimension_numbers": ("NCH", "OIW", "NCH")},
        TypeError,
        "same spatial dimensions",
    ),
    (
        "layout not a permutation",
        (1, 2, 5),
        (3, 2, 2),
        {"dimension_numbers": ((0, 1, 1), (0, 1, 2), (0, 1, 2))},
        TypeError,
        "permutation",
    ),
    (
        "layout wrong type",
        (1, 2, 5),
        (3, 2, 2),
        {"dimension_numbers": "NCH"},
        TypeError,
        "dimension_numbers",
    ),
]


@pytest.mark.parametrize(
    "desc,lhs_shape,rhs_shape,kwargs,exc,match", ERRORS, ids=[e[0] for e in ERRORS]
)
def test_conv_errors(desc, lhs_shape, rhs_shape, kwargs, exc, match):
    kwargs = dict(kwargs)
    strides = kwargs.pop("window_strides", (1,) * (len(lhs_shape) - 2))
    padding = kwargs.pop("padding", "VALID")
    with pytest.raises(exc, match=match):
        lax.conv_general_dilated(
            np.ones(lhs_shape, F32), np.ones(rhs_shape, F32), strides, padding, **kwargs
        )


def test_conv_error_names_shapes():
    with pytest.raises(ValueError) as info:
        lax.conv_general_dilated(
            np.ones((1, 4, 5), F32), np.ones((3, 2, 2), F32), (1,), "VALID", feature_group_count=3
        )
    assert "(1, 4, 5)" in str(info.value) and "(3, 2, 2)" in str(info.value)


def test_conv_dtype_mismatch():
    with pytest.raises(TypeError, match="float32 and float16"):
        lax.conv_general_dilated(
            np.ones((1, 2, 5), F32), np.ones((3, 2, 2), np.float16), (1,), "VALID"
        )


def test_conv_traced_strides_are_rejected():
    x = np.ones((1, 1, 5), F32)
    with pytest.raises(plax.errors.ConcretizationTypeError):
        plax.jit(lambda a, s: lax.conv_general_dilated(a, a, (s,), "VALID"))(x, 1)
