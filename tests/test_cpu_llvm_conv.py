"""cpu_llvm's conv_general_dilated library step (plax_cpu_llvm.conv, conv_gemm)
against the reference backend: layouts, strides, padding, dilations, groups, dtypes,
tiling, threads, every plan (im2col in each packing order, shifted GEMMs, the
depthwise direct path) and the convolutions that grad produces. Inputs are small
whole numbers wherever the comparison should be exact (every summation order gives
the same float result); ordinary floats are compared with a tolerance for the
summation order."""

import math

import numpy as np
import pytest

import plax
from plax import dtypes, lax

pytest.importorskip("llvmlite")

from plax_cpu_llvm import conv as cpu_conv  # noqa: E402
from plax_cpu_llvm import conv_gemm  # noqa: E402

from tests.test_cpu_llvm_ops import assert_close  # noqa: E402

RNG = np.random.default_rng(0)


def ints(*shape, dtype=np.float32):
    return RNG.integers(-3, 4, shape).astype(dtype)


def floats(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


@pytest.fixture
def paths(monkeypatch):
    """The plans the library step makes, in order: "gemm", "shift", "phases", "direct"
    or "reference"."""
    made = []
    original = cpu_conv._make_plan

    def recording(*args, **kwargs):
        plan = original(*args, **kwargs)
        if plan is None:
            made.append("reference")
        elif isinstance(plan, conv_gemm.GemmPlan):
            made.append("gemm")
        elif isinstance(plan, conv_gemm.ShiftPlan):
            made.append("shift")
        elif isinstance(plan, cpu_conv._PhasePlan):
            made.append("phases")
        else:
            made.append("direct")
        return plan

    monkeypatch.setattr(cpu_conv, "_make_plan", recording)
    return made


def run_both(f, *args):
    want = plax.jit(f, backend="reference")(*args)
    got = plax.jit(f, backend="cpu_llvm")(*args)
    return got, want


def check(f, *args, ulp=0, atol=0):
    got, want = run_both(f, *args)
    got = plax.tree_util.tree_leaves(got)
    want = plax.tree_util.tree_leaves(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_close(g, w, ulp, atol)


def conv_fn(**params):
    def f(x, w):
        return lax.conv_general_dilated(x, w, **params)

    return f


# ----------------------------------------------------------------------------
# A table of convolutions: (lhs shape, rhs shape, params). Shapes follow the
# layout strings (or NC.../OI... without them).

CASES = {
    "nchw_same": ((2, 3, 7, 6), (4, 3, 3, 3), dict(window_strides=(1, 1), padding="SAME")),
    "nchw_valid_strided": ((2, 3, 9, 8), (4, 3, 3, 2),
                           dict(window_strides=(2, 3), padding="VALID")),
    "explicit_pads": ((1, 2, 6, 7), (3, 2, 2, 3),
                      dict(window_strides=(1, 2), padding=((1, 2), (0, 3)))),
    "negative_pads": ((2, 2, 7, 6), (3, 2, 2, 2),
                      dict(window_strides=(1, 1), padding=((-1, 2), (2, -2)))),
    "rhs_dilation": ((2, 3, 9, 9), (2, 3, 3, 2),
                     dict(window_strides=(1, 1), padding="SAME", rhs_dilation=(2, 3))),
    "lhs_dilation": ((2, 2, 5, 4), (3, 2, 3, 2),
                     dict(window_strides=(1, 2), padding=((2, 1), (1, 1)),
                          lhs_dilation=(2, 3))),
    "both_dilations_strides": ((1, 3, 6, 7), (2, 3, 2, 3),
                               dict(window_strides=(2, 2), padding=((1, 1), (2, 0)),
                                    lhs_dilation=(3, 1), rhs_dilation=(1, 2))),
    "nhwc_hwio": ((2, 6, 5, 4), (3, 3, 4, 5),
                  dict(window_strides=(1, 1), padding="SAME",
                       dimension_numbers=("NHWC", "HWIO", "NHWC"))),
    "nhwc_strided": ((2, 7, 8, 3), (2, 3, 3, 4),
                     dict(window_strides=(2, 2), padding=((0, 1), (1, 0)),
                          dimension_numbers=("NHWC", "HWIO", "NHWC"))),
    "mixed_layouts": ((5, 2, 3, 6), (2, 4, 3, 3),
                      dict(window_strides=(1, 2), padding="SAME",
                           dimension_numbers=("HNCW", "OHWI", "WCNH"))),
    "integer_specs": ((6, 2, 3, 5), (2, 3, 2, 2),
                      dict(window_strides=(1, 1), padding="VALID",
                           dimension_numbers=((2, 1, 0, 3), (1, 2, 0, 3), (3, 0, 2, 1)))),
    "conv1d_nwc": ((2, 9, 3), (3, 3, 4),
                   dict(window_strides=(2,), padding="SAME",
                        dimension_numbers=("NWC", "WIO", "NWC"))),
    "conv1d_ncw_dilated": ((2, 3, 11), (2, 3, 4),
                           dict(window_strides=(1,), padding=((2, 1),), rhs_dilation=(2,))),
    "conv3d": ((1, 2, 4, 5, 4), (3, 2, 2, 3, 2),
               dict(window_strides=(1, 2, 1), padding="SAME")),
    "conv3d_ndhwc": ((2, 4, 3, 5, 2), (2, 2, 3, 2, 3),
                     dict(window_strides=(1, 1, 2), padding="VALID",
                          dimension_numbers=("NDHWC", "DHWIO", "NDHWC"))),
    "no_spatial": ((4, 5), (3, 5), dict(window_strides=(), padding=())),
    "one_by_one": ((2, 4, 5, 6), (3, 4, 1, 1), dict(window_strides=(1, 1), padding="VALID")),
    "one_by_one_nhwc": ((2, 5, 6, 4), (1, 1, 4, 3),
                        dict(window_strides=(1, 1), padding="VALID",
                             dimension_numbers=("NHWC", "HWIO", "NHWC"))),
    "one_by_one_strided": ((2, 4, 5, 6), (3, 4, 1, 1),
                           dict(window_strides=(2, 2), padding="VALID")),
    "window_larger_than_padding": ((1, 2, 3, 3), (2, 2, 3, 3),
                                   dict(window_strides=(1, 1), padding=((2, 2), (2, 2)))),
    "feature_groups": ((2, 6, 5, 5), (6, 2, 3, 2),
                       dict(window_strides=(1, 1), padding="SAME", feature_group_count=3)),
    "feature_groups_nhwc": ((2, 5, 4, 4), (2, 2, 2, 4),
                            dict(window_strides=(1, 1), padding="SAME", feature_group_count=2,
                                 dimension_numbers=("NHWC", "HWIO", "NHWC"))),
    "batch_groups": ((4, 3, 5, 5), (4, 3, 2, 2),
                     dict(window_strides=(1, 1), padding="VALID", batch_group_count=2)),
    "batch_groups_strided": ((6, 2, 6, 5), (6, 2, 3, 2),
                             dict(window_strides=(2, 1), padding="SAME", batch_group_count=3)),
    "depthwise": ((2, 4, 6, 7), (4, 1, 3, 3),
                  dict(window_strides=(1, 1), padding="SAME", feature_group_count=4)),
    "depthwise_multiplier": ((2, 3, 6, 5), (6, 1, 2, 3),
                             dict(window_strides=(2, 1), padding="SAME", feature_group_count=3)),
    "depthwise_dilated_nhwc": ((2, 7, 6, 3), (3, 3, 1, 3),
                               dict(window_strides=(1, 1), padding=((2, 0), (-1, 1)),
                                    lhs_dilation=(1, 2), rhs_dilation=(2, 1),
                                    feature_group_count=3,
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))),
    "single_channel": ((2, 1, 5, 6), (3, 1, 2, 2),
                       dict(window_strides=(1, 1), padding="SAME")),
}


def case_fn(name):
    lhs_shape, rhs_shape, params = CASES[name]
    return conv_fn(**params), lhs_shape, rhs_shape


@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_against_reference(name, paths):
    f, lhs_shape, rhs_shape = case_fn(name)
    check(f, ints(*lhs_shape), ints(*rhs_shape))
    assert paths and "reference" not in paths


@pytest.mark.parametrize("name", sorted(CASES))
def test_floats_against_reference(name):
    f, lhs_shape, rhs_shape = case_fn(name)
    # Sums of at most a few dozen products near 1: a few eps absolute covers any
    # summation order.
    check(f, floats(*lhs_shape), floats(*rhs_shape), ulp=4, atol=64)


def geometry(lhs_shape, rhs_shape, **params):
    nsp = len(lhs_shape) - 2
    spec = params.pop("dimension_numbers", None)
    full = {
        "dimension_numbers": lax.conv_dimension_numbers(lhs_shape, rhs_shape, spec),
        "feature_group_count": 1,
        "batch_group_count": 1,
        "padding": ((1, 1),) * nsp,
        "window_strides": (1,) * nsp,
        "lhs_dilation": (1,) * nsp,
        "rhs_dilation": (1,) * nsp,
    }
    full.update(params)
    return conv_gemm.Geometry.of(lhs_shape, rhs_shape, full)


GEMM_CASES = ["nchw_same", "lhs_dilation", "both_dilations_strides", "nhwc_strided",
              "mixed_layouts", "conv3d_ndhwc", "feature_groups", "batch_groups_strided",
              "negative_pads", "conv1d_nwc", "no_spatial", "one_by_one_nhwc"]


@pytest.mark.parametrize("order", conv_gemm._ORDERS)
@pytest.mark.parametrize("name", GEMM_CASES)
@pytest.mark.parametrize("tile", [conv_gemm.TILE_ELEMENTS, 1, 40])
def test_im2col_in_every_packing_order_and_tiling(order, name, tile, monkeypatch, paths):
    # A tiny tile budget splits the work into image, row and channel blocks.
    monkeypatch.setattr(cpu_conv, "shift_applies", lambda geo: False)
    monkeypatch.setattr(conv_gemm.GemmPlan, "_pick_order", lambda self, x: order)
    monkeypatch.setattr(conv_gemm, "TILE_ELEMENTS", tile)
    f, lhs_shape, rhs_shape = case_fn(name)
    check(f, ints(*lhs_shape), ints(*rhs_shape))
    assert paths == ["gemm"]


SHIFT_CASES = ["nchw_same", "negative_pads", "rhs_dilation", "nhwc_hwio", "integer_specs",
               "conv1d_ncw_dilated", "window_larger_than_padding", "feature_groups",
               "feature_groups_nhwc", "batch_groups", "lhs_dilation_unit",
               "conv3d_unit"]
CASES["lhs_dilation_unit"] = ((2, 3, 4, 5), (2, 3, 3, 2),
                              dict(window_strides=(1, 1), padding=((2, 1), (0, 2)),
                                   lhs_dilation=(2, 3), rhs_dilation=(1, 2)))
CASES["conv3d_unit"] = ((2, 3, 3, 4, 5), (2, 2, 2, 3, 5),
                        dict(window_strides=(1, 1, 1), padding="SAME",
                             dimension_numbers=("NDHWC", "ODHWI", "NCDHW")))


@pytest.mark.parametrize("name", SHIFT_CASES)
@pytest.mark.parametrize("tile", [conv_gemm.TILE_ELEMENTS, 1, 60])
def test_shifted_gemms_in_every_layout_and_tiling(name, tile, monkeypatch, paths):
    # Shifted GEMMs normally need 16 channels and a narrow padded grid; allow any.
    monkeypatch.setattr(conv_gemm, "SHIFT_MIN_CHANNELS", 1)
    monkeypatch.setattr(conv_gemm, "SHIFT_MAX_WASTE", math.inf)
    monkeypatch.setattr(conv_gemm, "TILE_ELEMENTS", tile)
    f, lhs_shape, rhs_shape = case_fn(name)
    check(f, ints(*lhs_shape), ints(*rhs_shape))
    assert paths == ["shift"]


def test_shifted_gemms_for_many_channels(paths):
    f = conv_fn(window_strides=(1, 1), padding="SAME", rhs_dilation=(1, 2))
    check(f, floats(2, 32, 4, 30), floats(5, 32, 3, 2), ulp=4, atol=512)
    nhwc = conv_fn(window_strides=(1, 1), padding="SAME",
                   dimension_numbers=("NHWC", "HWIO", "NHWC"))
    check(nhwc, ints(2, 4, 30, 32), ints(3, 3, 32, 4))
    assert paths == ["shift", "shift"]


PHASE_CASES = {
    "transposed_2d": ((2, 3, 4, 5), (4, 3, 3, 3),
                      dict(window_strides=(1, 1), padding=((2, 2), (2, 2)), lhs_dilation=(2, 2))),
    "transposed_uneven": ((1, 2, 5, 4), (3, 2, 4, 3),
                          dict(window_strides=(1, 1), padding=((3, 1), (0, 2)),
                               lhs_dilation=(3, 2))),
    "kernel_smaller_than_dilation": ((2, 2, 4, 3), (2, 2, 2, 1),
                                     dict(window_strides=(1, 1), padding=((1, 1), (0, 0)),
                                          lhs_dilation=(3, 4))),
    "negative_pads": ((2, 2, 6, 5), (3, 2, 3, 2),
                      dict(window_strides=(1, 1), padding=((-2, 1), (1, -3)),
                           lhs_dilation=(2, 2))),
    "one_dilated_dim_strided_other": ((2, 3, 5, 9), (2, 3, 2, 3),
                                      dict(window_strides=(1, 2), padding=((1, 1), (1, 0)),
                                           lhs_dilation=(2, 1), rhs_dilation=(1, 2))),
    "nhwc_groups": ((2, 4, 3, 4), (3, 3, 2, 4),
                    dict(window_strides=(1, 1), padding=((1, 2), (0, 1)), lhs_dilation=(2, 2),
                         feature_group_count=2, dimension_numbers=("NHWC", "HWIO", "NHWC"))),
    "batch_groups_1d": ((4, 3, 7), (4, 3, 3),
                        dict(window_strides=(1,), padding=((2, 2),), lhs_dilation=(3,),
                             batch_group_count=2)),
}


@pytest.mark.parametrize("name", sorted(PHASE_CASES))
def test_lhs_dilation_in_phases(name, paths):
    lhs_shape, rhs_shape, params = PHASE_CASES[name]
    f = conv_fn(**params)
    check(f, ints(*lhs_shape), ints(*rhs_shape))
    check(f, floats(*lhs_shape), floats(*rhs_shape), ulp=4, atol=64)
    assert paths == ["phases", "phases"]


def test_lhs_dilation_with_infinite_weights_keeps_the_holes(paths):
    # Holes times an infinite weight are NaN in the reference; the phases would skip
    # them, so such a call runs the undivided convolution.
    lhs_shape, rhs_shape, params = PHASE_CASES["transposed_2d"]
    f = conv_fn(**params)
    w = ints(*rhs_shape)
    w[1, 2, 1, 0] = np.inf
    w[0, 0, 2, 2] = np.nan
    x = ints(*lhs_shape)
    check(f, x, w)
    check(f, x, ints(*rhs_shape))  # finite weights again
    assert set(paths) == {"phases"}


@pytest.mark.parametrize("name", ["nchw_same", "nhwc_strided", "feature_groups",
                                  "batch_groups_strided", "conv1d_nwc", "no_spatial"])
@pytest.mark.parametrize("shift", [False, True])
def test_tiles_on_threads(name, shift, monkeypatch, paths):
    # Parallel tiles even for tiny convolutions, many tiles per thread.
    monkeypatch.setattr(conv_gemm, "PARALLEL_FLOPS", 0)
    monkeypatch.setattr(conv_gemm, "TILE_ELEMENTS", 40)
    if shift:
        monkeypatch.setattr(conv_gemm, "SHIFT_MIN_CHANNELS", 1)
        monkeypatch.setattr(conv_gemm, "SHIFT_MAX_WASTE", math.inf)
    f, lhs_shape, rhs_shape = case_fn(name)
    threads = conv_gemm._BlasThreads()
    before = threads._get() if threads.available else None
    check(f, ints(*lhs_shape), ints(*rhs_shape))
    if threads.available:
        assert threads._get() == before  # the BLAS thread count is given back
    assert "reference" not in paths


@pytest.mark.parametrize("budget", [1, 50, 500, 5000, 1 << 30])
@pytest.mark.parametrize("shapes", [((4, 8, 10, 6), (5, 8, 3, 3)),
                                    ((6, 3, 12, 12), (4, 3, 10, 10)),
                                    ((3, 5, 7), (2, 5, 3))])
def test_tiles_cover_the_output_once_within_the_budget(budget, shapes, monkeypatch):
    monkeypatch.setattr(conv_gemm, "TILE_ELEMENTS", budget)
    lhs_shape, rhs_shape = shapes
    geo = geometry(lhs_shape, rhs_shape)
    plan = conv_gemm.GemmPlan(geo, np.zeros(lhs_shape, np.float32), np.float32, None)
    rows_total = geo.out_sizes[0]
    covered = np.zeros((geo.out_batch, rows_total), int)
    for g, n0, n1, r0, r1 in plan.tiles:
        covered[n0:n1, r0:r1] += 1
        patches = (n1 - n0) * (r1 - r0) * math.prod(geo.out_sizes[1:]) * plan.channel_block
        # A tile of one row of one image and one channel is the smallest there is.
        smallest = math.prod(geo.out_sizes[1:]) * geo.taps
        assert patches * geo.taps <= max(budget, smallest)
    assert (covered == 1).all()
    assert plan.channel_block <= geo.group_in


def test_tile_shapes_follow_the_memory_traffic(monkeypatch):
    monkeypatch.setattr(conv_gemm, "PARALLEL_FLOPS", 1 << 62)  # one thread: no extra split
    # NCHW forward convolution: whole channels, output rows split.
    fwd = conv_gemm.GemmPlan(geometry((8, 64, 56, 56), (64, 64, 3, 3)),
                             np.zeros((8, 64, 56, 56), np.float32), np.float32, None)
    assert fwd.channel_block == 64 and fwd.image_block == 1 and fwd.row_block < 56
    # A weight gradient's convolution (3x3 output, 56x56 windows): channel blocks, and
    # many images per tile so the large kernel matrix is read few times.
    dw = conv_gemm.GemmPlan(geometry((64, 8, 56, 56), (64, 8, 56, 56)),
                            np.zeros((64, 8, 56, 56), np.float32), np.float32, None)
    assert dw.channel_block < 8 and dw.image_block > 1 and dw.row_block == 3


def test_packing_order_follows_the_layout():
    def order(lhs_shape, rhs_shape, **params):
        geo = geometry(lhs_shape, rhs_shape, **params)
        x = np.zeros(lhs_shape, np.float32)
        return conv_gemm.GemmPlan(geo, x, np.float32, None).order

    assert order((8, 64, 56, 56), (64, 64, 3, 3)) == "cols"  # NCHW: runs along rows
    nhwc = ("NHWC", "HWIO", "NHWC")
    assert order((8, 56, 56, 64), (3, 3, 64, 64), dimension_numbers=nhwc) == "channels"
    # The weight gradient's convolution: a 3x3 output, windows as large as the image.
    assert order((64, 8, 56, 56), (64, 8, 56, 56)) == "taps"


def test_plan_choice():
    def plan(lhs_shape, rhs_shape, **params):
        geo = geometry(lhs_shape, rhs_shape, **params)
        if cpu_conv._direct_applies(geo, np.dtype(np.float32)):
            return "direct"
        return "shift" if conv_gemm.shift_applies(geo) else "gemm"

    assert plan((8, 64, 56, 56), (64, 64, 3, 3)) == "shift"  # the benchmark's convolution
    assert plan((8, 64, 56, 56), (64, 64, 3, 3), window_strides=(2, 2)) == "gemm"
    assert plan((8, 8, 56, 56), (64, 8, 3, 3)) == "gemm"  # too few channels per tap
    assert plan((8, 64, 6, 6), (64, 64, 3, 3)) == "gemm"  # padded grid 8 wide for 6
    assert plan((64, 8, 56, 56), (64, 8, 56, 56)) == "gemm"  # weight gradient
    assert plan((8, 64, 56, 56), (64, 1, 3, 3), feature_group_count=64) == "direct"
    assert plan((8, 64, 56, 56), (64, 1, 9, 9), feature_group_count=64) == "gemm"


# ----------------------------------------------------------------------------
# Dtypes.


@pytest.mark.parametrize("dt", ["float16", "bfloat16", "float64"])
@pytest.mark.parametrize("name", ["nchw_same", "nhwc_strided", "depthwise", "batch_groups"])
def test_other_float_types(dt, name, x64, paths):
    f, lhs_shape, rhs_shape = case_fn(name)
    check(f, ints(*lhs_shape, dtype=dt), ints(*rhs_shape, dtype=dt))
    assert paths and "reference" not in paths


@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
def test_half_types_round_once(dt, x64):
    # Float32 accumulation rounded once to the half type, exactly as the reference.
    f, lhs_shape, rhs_shape = case_fn("nchw_same")
    check(f, floats(*lhs_shape, dtype=dt), floats(*rhs_shape, dtype=dt), ulp=1)


@pytest.mark.parametrize("dt", ["int32", "int8", "uint8"])
def test_integers_keep_the_reference(dt, paths):
    f, lhs_shape, rhs_shape = case_fn("nchw_valid_strided")
    check(f, ints(*lhs_shape, dtype="int32").astype(dt) if dt != "uint8"
          else RNG.integers(0, 4, lhs_shape).astype(dt),
          RNG.integers(0, 3, rhs_shape).astype(dt))
    assert paths == ["reference"]


@pytest.mark.parametrize("inputs,preferred", [("float32", "float64"), ("float16", "float32"),
                                              ("bfloat16", "float32")])
def test_preferred_element_type(inputs, preferred, x64, paths):
    lhs_shape, rhs_shape, params = CASES["feature_groups"]
    f = conv_fn(**params, preferred_element_type=dtypes.dtype(preferred))
    x, w = floats(*lhs_shape, dtype=inputs), floats(*rhs_shape, dtype=inputs)
    got, want = run_both(f, x, w)
    assert np.asarray(got).dtype == dtypes.dtype(preferred)
    assert_close(got, want, 4, 64)
    assert paths == ["gemm"]


def test_float32_accumulates_at_least_in_float32():
    # 4096 products of 1 + 2**-12: a float16 accumulator would stall at 2048.
    n = 4096
    x = np.full((1, n, 1, 1), 1 + 2.0 ** -12, np.float32)
    w = np.ones((1, n, 1, 1), np.float32)
    f = conv_fn(window_strides=(1, 1), padding="VALID")
    got = np.asarray(plax.jit(f, backend="cpu_llvm")(x, w))
    assert abs(float(got.ravel()[0]) - n * (1 + 2.0 ** -12)) <= n * 2.0 ** -23 * 4


@pytest.mark.parametrize("name", ["nchw_same", "depthwise", "nhwc_hwio", "lhs_dilation"])
def test_special_values(name):
    f, lhs_shape, rhs_shape = case_fn(name)
    x, w = ints(*lhs_shape), ints(*rhs_shape)
    x.flat[::7] = np.inf
    x.flat[3::11] = np.nan
    w.flat[::5] = 0  # inf * 0 is NaN on both backends
    x.flat[5::13] = -0.0
    check(f, x, w)


def test_empty_operands(paths):
    f = conv_fn(window_strides=(1, 1), padding="VALID")
    check(f, ints(0, 3, 4, 4), ints(2, 3, 2, 2))
    check(f, ints(2, 3, 4, 4), ints(0, 3, 2, 2))
    check(f, ints(2, 0, 4, 4), ints(2, 0, 2, 2))
    check(f, ints(2, 3, 1, 4), ints(2, 3, 2, 2))  # the window does not fit
    assert set(paths) == {"reference"}


# ----------------------------------------------------------------------------
# Paths.


def test_depthwise_takes_the_direct_path(paths):
    f, lhs_shape, rhs_shape = case_fn("depthwise_multiplier")
    check(f, ints(*lhs_shape), ints(*rhs_shape))
    assert paths == ["direct"]


def test_large_depthwise_windows_use_gemm(paths):
    f = conv_fn(window_strides=(1, 1), padding="SAME", feature_group_count=2)
    check(f, ints(1, 2, 10, 10), ints(2, 1, 9, 8))  # 72 taps
    assert paths == ["gemm"]


def test_inputs_that_are_views(paths):
    # A library step may receive non-contiguous views (outputs of host steps).
    def f(x, w):
        y = lax.rev(x, (3,))
        return lax.conv_general_dilated(lax.transpose(y, (0, 3, 1, 2)), w, (1, 1), "SAME")

    check(f, ints(2, 5, 6, 3), ints(4, 3, 3, 3))
    assert paths == ["gemm"]


def test_repeated_calls_reuse_the_plan():
    f = plax.jit(case_fn("nchw_same")[0], backend="cpu_llvm")
    x, w = ints(2, 3, 7, 6), ints(4, 3, 3, 3)
    first = np.asarray(f(x, w))
    for _ in range(3):
        np.testing.assert_array_equal(np.asarray(f(x, w)), first)
    np.testing.assert_array_equal(np.asarray(f(x + 1, w)),
                                  np.asarray(plax.jit(case_fn("nchw_same")[0],
                                                      backend="reference")(x + 1, w)))


# ----------------------------------------------------------------------------
# Gradients: grad produces convolutions with lhs dilation, swapped dimension
# numbers and feature groups turned into batch groups.

GRAD_CASES = ["nchw_same", "nchw_valid_strided", "rhs_dilation", "nhwc_strided",
              "feature_groups", "batch_groups", "depthwise_multiplier", "mixed_layouts",
              "conv1d_nwc", "conv3d"]


@pytest.mark.parametrize("name", GRAD_CASES)
def test_grad_takes_the_fast_path(name, paths):
    f, lhs_shape, rhs_shape = case_fn(name)
    x, w = ints(*lhs_shape), ints(*rhs_shape)
    ct = ints(*np.shape(plax.jit(f, backend="reference")(x, w)))

    def loss(x, w):
        return (f(x, w) * ct).sum()

    check(plax.grad(loss, argnums=(0, 1)), x, w)
    assert len(paths) == 2 and "reference" not in paths, paths  # d lhs and d rhs


def test_grad_of_the_target_shape_family(paths):
    # The benchmark's convolution, scaled down: NCHW, 3x3, SAME.
    f = conv_fn(window_strides=(1, 1), padding="SAME",
                dimension_numbers=("NCHW", "OIHW", "NCHW"))
    x, w = floats(2, 8, 10, 10), floats(8, 8, 3, 3)
    check(plax.grad(lambda x, w: (f(x, w) ** 2).sum(), argnums=(0, 1)), x, w,
          ulp=16, atol=1024)
    assert paths == ["gemm", "gemm", "gemm"]


# ----------------------------------------------------------------------------
# The library step called directly, on operands no program would hand it.


def library_step(f, *args):
    from plax.lowering.schedule import LibraryStep

    closed = plax.make_jaxpr(f)(*args)
    (eqn,) = [e for e in closed.jaxpr.eqns if e.primitive.name == "conv_general_dilated"]
    step = LibraryStep(eqn.primitive, eqn.params, (0, 1), (2,),
                       tuple(v.aval for v in eqn.outvars))
    return step, cpu_conv.conv_general_dilated(step, compile_jaxpr=None)


@pytest.mark.parametrize("name", ["nchw_same", "one_by_one", "one_by_one_nhwc", "nhwc_hwio",
                                  "batch_groups", "no_spatial", "lhs_dilation"])
def test_broadcast_reversed_and_strided_operands(name):
    from plax.interpreters import reference

    f, lhs_shape, rhs_shape = case_fn(name)
    x, w = ints(*lhs_shape), ints(*rhs_shape)
    step, run = library_step(f, x, w)
    views = [
        (np.broadcast_to(x[:1], x.shape), w),  # stride 0 along the first axis
        (x[::-1], w[..., ::-1]),  # negative strides
        (np.asfortranarray(x), np.asfortranarray(w)),
        (np.repeat(x, 2, axis=-1)[..., ::2], w),  # every other element
    ]
    for lhs, rhs in views:
        (want,) = reference.apply(step.primitive, [lhs, rhs], step.params, step.out_avals)
        (got,) = run(lhs, rhs)
        assert_close(got, want)


def test_lhs_dilation_sweep(paths):
    # Every phase arithmetic corner: kernels shorter and longer than the dilation,
    # negative and large padding, outputs with fewer positions than phases.
    rng = np.random.default_rng(7)
    for _ in range(40):
        nsp = int(rng.integers(1, 3))
        sizes = tuple(int(v) for v in rng.integers(1, 6, nsp))
        kernel = tuple(int(v) for v in rng.integers(1, 5, nsp))
        ld = tuple(int(v) for v in rng.integers(1, 4, nsp))
        pads = []
        for n, k, d in zip(sizes, kernel, ld):
            lo = int(rng.integers(-1, k + 1))
            hi = int(rng.integers(-1, k + 1))
            extent = (n - 1) * d + 1 + lo + hi
            pads.append((lo, hi + max(0, k - extent)))  # at least one output
        f = conv_fn(window_strides=(1,) * nsp, padding=tuple(pads), lhs_dilation=ld)
        check(f, ints(2, 3, *sizes), ints(2, 3, *kernel))
    assert set(paths) <= {"phases", "gemm", "shift"} and "phases" in paths
