"""conv_general_dilated on the opencl backend (im2col + the matmul kernel) against the
reference backend: layouts, strides, padding (negative too), both dilations, feature
and batch groups, 1-3 spatial dimensions, every dtype (float16/bfloat16 and
layouts the kernels do not cover run as host steps and must agree as well)."""

import numpy as np
import plax
import pytest
from plax import dtypes, lax

from tests.opencl_testing import pytestmark, x64_on  # noqa: F401


def _inputs(lhs_shape, rhs_shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    dtype = dtypes.bfloat16 if dtype == "bfloat16" else np.dtype(dtype)
    if dtypes.is_float(dtype):
        # Small integers: every product and sum is exact in each float type.
        lhs = rng.integers(-3, 4, lhs_shape).astype(dtype)
        rhs = rng.integers(-3, 4, rhs_shape).astype(dtype)
    else:
        lhs = rng.integers(-100, 100, lhs_shape).astype(dtype)
        rhs = rng.integers(-100, 100, rhs_shape).astype(dtype)
    return lhs, rhs


def _check(lhs, rhs, eager=True, **params):
    def f(x, w):
        return lax.conv_general_dilated(x, w, **params)

    want = np.asarray(plax.jit(f, backend="reference")(lhs, rhs))
    got = np.asarray(plax.jit(f, backend="opencl")(lhs, rhs))
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    if eager:
        device = plax.devices("opencl")[0]
        x, w = plax.device_put(lhs, device), plax.device_put(rhs, device)
        np.testing.assert_array_equal(np.asarray(f(x, w)), want)


CASES = [
    ((2, 3, 5, 6), (4, 3, 2, 3), {"window_strides": (1, 1), "padding": "VALID"}),
    ((2, 3, 5, 6), (4, 3, 2, 3), {"window_strides": (2, 1), "padding": "SAME"}),
    ((1, 2, 7, 5), (3, 2, 3, 3), {"window_strides": (1, 1), "padding": ((1, 0), (2, 1)),
                                  "rhs_dilation": (1, 2)}),
    ((1, 2, 7, 5), (3, 2, 3, 3), {"window_strides": (1, 2), "padding": ((0, 0), (1, 1)),
                                  "lhs_dilation": (2, 1)}),
    ((1, 2, 7, 5), (3, 2, 3, 3), {"window_strides": (1, 1), "padding": ((-1, 1), (1, -1))}),
    ((2, 4, 5, 5), (6, 2, 2, 2), {"window_strides": (1, 1), "padding": "VALID",
                                  "feature_group_count": 2}),
    ((4, 3, 5, 5), (4, 3, 2, 2), {"window_strides": (1, 1), "padding": "VALID",
                                  "batch_group_count": 2}),
    ((2, 5, 6, 3), (2, 3, 3, 4), {"window_strides": (1, 1), "padding": "SAME",
                                  "dimension_numbers": ("NHWC", "HWIO", "NHWC")}),
    ((2, 5, 6, 4), (2, 3, 2, 4), {"window_strides": (1, 1), "padding": "SAME",
                                  "dimension_numbers": ("NHWC", "HWIO", "NHWC"),
                                  "feature_group_count": 2}),
    ((2, 7, 3), (3, 3, 4), {"window_strides": (2,), "padding": "VALID",
                            "dimension_numbers": ("NWC", "WIO", "NWC")}),
    ((1, 2, 4, 4, 3), (2, 2, 2, 1, 2), {"window_strides": (1, 2, 1), "padding": "SAME",
                                        "rhs_dilation": (2, 1, 1)}),
    # IOHW kernel: its input features and window are not one stride apart (host step).
    ((1, 2, 5, 5), (2, 3, 2, 2), {"window_strides": (1, 1), "padding": "VALID",
                                  "dimension_numbers": ("NCHW", "IOHW", "NCHW")}),
]


@pytest.mark.parametrize("lhs_shape,rhs_shape,params", CASES)
def test_conv_layouts_float32(lhs_shape, rhs_shape, params):
    lhs, rhs = _inputs(lhs_shape, rhs_shape, "float32")
    _check(lhs, rhs, **params)


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16", "int32", "int8",
                                   "int64", "uint8"])
def test_conv_dtypes(dtype):
    for lhs_shape, rhs_shape, params in (CASES[1], CASES[5], CASES[7]):
        lhs, rhs = _inputs(lhs_shape, rhs_shape, dtype, seed=1)
        _check(lhs, rhs, eager=False, **params)


def test_conv_random_floats_close():
    rng = np.random.default_rng(3)
    lhs = rng.standard_normal((2, 8, 9, 7)).astype(np.float32)
    rhs = rng.standard_normal((5, 8, 3, 3)).astype(np.float32)

    def f(x, w):
        return lax.conv_general_dilated(x, w, (1, 1), "SAME")

    want = np.asarray(plax.jit(f, backend="reference")(lhs, rhs))
    got = np.asarray(plax.jit(f, backend="opencl")(lhs, rhs))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_conv_preferred_and_empty_fall_back():
    lhs, rhs = _inputs((1, 2, 4, 4), (3, 2, 2, 2), "int8")
    _check(lhs, rhs, eager=False, window_strides=(1, 1), padding="VALID",
           preferred_element_type=np.dtype(np.int32))
    lhs, rhs = _inputs((0, 2, 4, 4), (3, 2, 2, 2), "float32")
    _check(lhs, rhs, eager=False, window_strides=(1, 1), padding="VALID")


def test_conv_runs_on_the_device():
    """The library step runs the kernels (no host step) for a covered layout."""
    from plax_opencl.conv import _Conv

    lhs, rhs = _inputs((1, 2, 5, 5), (3, 2, 2, 2), "float32")
    compiled = plax.jit(lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "VALID"),
                        backend="opencl").lower(lhs, rhs).compile()
    assert any(isinstance(run, _Conv) for run, _ in compiled.executable.steps)
