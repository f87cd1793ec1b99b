"""The shared C-style renderer (``plax.lowering.c_renderer``).

* Its plain C99 dialect, compiled with the host C compiler under UBSan: every integer
  op on every pair of edge values computes the reference's result, and nothing is
  undefined behaviour (signed overflow, division by zero, INT_MIN / -1, oversized
  shifts, out-of-range float -> int conversions).
* Its portable float16/bfloat16 code (integer code on bit patterns), run on the
  OpenCL device against numpy and ml_dtypes over every float16 value and the
  rounding boundaries of float32 values.
* Lifted constants and cooperative reductions, as text.
"""

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import plax
import pytest
from plax import dtypes
from plax.lowering.c_renderer import CRenderer
from plax.lowering.kernel_ir import INDEX, Accum, Buffer, Kernel, Load, Loop, Op, Store, Sym, Update


def _opencl_available() -> bool:
    try:
        import pyopencl  # noqa: F401
    except ImportError:
        return False
    return any(info.name == "opencl" and info.available for info in plax.backends())


# ----------------------------------------------------------------------------
# Plain C under UBSan.

_C_DRIVER = textwrap.dedent('''
    import ctypes, subprocess, sys, tempfile, os
    import numpy as np
    import plax
    from plax import lax
    from plax.lowering import plan
    from plax.lowering.c_renderer import CRenderer
    from plax.lowering.fusion import Target
    from plax.lowering.interpreter import run_schedule
    from plax.lowering.schedule import KernelStep
    sys.path.insert(0, os.path.dirname(sys.argv[1]))
    from test_opencl_renderer import int_program, int_inputs, float_program, float_inputs

    plax.config.update("enable_x64", True)
    renderer = CRenderer()
    dt, lift, cc = sys.argv[2], sys.argv[3] == "1", sys.argv[4]
    program, inputs = (int_program, int_inputs) if "int" in dt else (float_program, float_inputs)
    args = inputs(np.dtype(dt))
    closed = plax.make_jaxpr(program)(*args)
    schedule = plan(closed, Target(supports_op=renderer.supports))
    steps = [s for s in schedule.steps if isinstance(s, KernelStep)]
    rendered = [renderer.render(s.kernel, lift=lift) for s in steps]
    names = [f"k{j}" for j in range(len(steps))]
    source = renderer.program(rendered, names)
    tmp = tempfile.mkdtemp()
    with open(os.path.join(tmp, "k.c"), "w") as f:
        f.write(source)
    lib = os.path.join(tmp, "k.so")
    flags = ["-O1", "-shared", "-fPIC", "-std=c99", "-ffp-contract=off",
             "-fsanitize=undefined", "-fno-sanitize-recover=all", "-lm"]
    subprocess.run([cc, os.path.join(tmp, "k.c"), "-o", lib] + flags, check=True)
    so = ctypes.CDLL(lib)
    index = {id(s): j for j, s in enumerate(steps)}

    def run_kernel(step, ins):
        j = index[id(step)]
        outs = [np.empty(a.shape, a.dtype) for a in step.out_avals]
        scratch = [np.empty(size, dt) for dt, size in step.scratch]
        arrays = [np.ascontiguousarray(a) for a in ins] + outs + scratch
        extent = step.kernel.parallel_extent
        call = [ctypes.c_void_p(a.ctypes.data) for a in arrays]
        call.append(ctypes.c_int64(1 if extent is None else extent))
        params = np.asarray(rendered[j].params, np.int64)
        if rendered[j].params:
            call.append(ctypes.c_void_p(params.ctypes.data))
        getattr(so, names[j])(*call)
        return outs

    got = run_schedule(schedule, args, run_kernel=run_kernel)
    want = plax.jit(program, backend="reference")(*args)
    for k, (g, w) in enumerate(zip(got, want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (k, g.dtype, w.dtype)
        if plax.dtypes.is_float(g.dtype):
            g64, w64 = g.astype(np.float64), w.astype(np.float64)
            same = (g64 == w64) | (np.isnan(g64) & np.isnan(w64))
        else:
            same = g == w
        assert same.all(), (k, g[~same][:5], w[~same][:5], args[0][~same][:5])
    print("OK", len(steps), "kernels")
''')


def int_inputs(dt):
    info = np.iinfo(dt)
    candidates = {info.min, info.min + 1, -1, 0, 1, 2, 7, 31, 32, 63, 64, info.max - 1, info.max}
    values = sorted(v for v in candidates if info.min <= v <= info.max)
    x, y = np.meshgrid(np.array(values, dtype=object), np.array(values, dtype=object))
    return [x.ravel().astype(dt), y.ravel().astype(dt)]


def int_program(x, y):
    from plax import lax

    out = [lax.add(x, y), lax.sub(x, y), lax.mul(x, y), lax.div(x, y), lax.rem(x, y),
           lax.neg(x), lax.shift_left(x, y), lax.shift_right_logical(x, y),
           lax.shift_right_arithmetic(x, y), lax.population_count(x), lax.clz(x),
           lax.max(x, y), lax.sign(x), lax.integer_pow(x, 5), lax.square(x),
           lax.convert_element_type(x, np.float32)]
    if dtypes.is_signed(x.dtype):
        out.append(lax.abs(x))
    return out


def float_inputs(dt):
    values = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.5, 1e-40, 3e9, -3e9, 2.0 ** 31,
                       -(2.0 ** 63), 1e20, 255.9, -128.5], np.float64).astype(dt)
    return [values]


def float_program(x):
    from plax import lax

    targets = ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64")
    return [lax.convert_element_type(x, np.dtype(t)) for t in targets] + [
        lax.max(x, lax.neg(x)), lax.sign(x), lax.nextafter(x, lax.neg(x)),
        lax.convert_element_type(x, dtypes.float16), lax.convert_element_type(x, dtypes.bfloat16),
        lax.round(x), lax.rem(x, lax.full_like(x, 3))]


_CC = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")


def _ubsan_works() -> bool:
    if _CC is None:
        return False
    probe = subprocess.run([_CC, "-fsanitize=undefined", "-x", "c", "-", "-o", os.devnull,
                            "-shared", "-fPIC"], input="int f(int a){return a+1;}\n",
                           capture_output=True, text=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _ubsan_works(), reason="no C compiler with -fsanitize=undefined")
@pytest.mark.parametrize("dt,lift", [("int8", False), ("uint16", True), ("int32", False),
                                     ("uint32", True), ("int64", False), ("uint64", True),
                                     ("float32", True), ("float64", False)])
def test_plain_c_dialect_matches_reference_without_undefined_behaviour(dt, lift):
    proc = subprocess.run(
        [sys.executable, "-c", _C_DRIVER, os.path.abspath(__file__), dt, "1" if lift else "0",
         _CC], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "OK" in proc.stdout


# ----------------------------------------------------------------------------
# Portable half-precision code, on the OpenCL device.


def _run_kernel(renderer, kernel, *inputs):
    """Build one rendered kernel on the default OpenCL device and run it."""
    import pyopencl as cl
    from plax.backend.registry import get_backend

    backend = get_backend("opencl")
    state = backend.state(backend.devices()[0])
    rendered = renderer.render(kernel)
    program = state.programs.program(rendered.source)
    cl_kernel = cl.Kernel(program, rendered.name)
    bufs = [state.upload(a) for a in inputs]
    outs = [state.empty(b.shape, b.dtype) for b in kernel.buffers if b.role == "out"]
    extent = kernel.parallel_extent
    args = [b.mem for b in bufs + outs] + [np.int64(extent)]
    state.launch(cl_kernel, args, *state.geometry(extent)).wait()
    return [o.to_numpy() for o in outs]


def _convert_kernel(n, src, dst, via=None):
    """out[i] = bitcast(convert(in[i], via), dst) or convert(in[i], dst)."""
    i = Sym("i0")
    value = Load("in0", i, src)
    if via is not None:
        value = Op("bitcast_convert_type", [Op("convert_element_type", [value], via)], dst)
    else:
        value = Op("convert_element_type", [value], dst)
    return Kernel("k", [Buffer("in0", src, (n,), "in"), Buffer("out0", dst, (n,), "out")],
                  [Loop("i0", n, [Store("out0", i, value)], parallel=True)])


def _float32_rounding_cases() -> np.ndarray:
    # Every float16 value, the midpoints between neighbours (ties), and values just off
    # them, across the normal, subnormal, overflow and underflow ranges.
    h = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    h = h[np.isfinite(h)].astype(np.float32)
    h = np.sort(np.unique(h))
    mid = (h[:-1].astype(np.float64) + h[1:]) / 2
    mid = mid.astype(np.float32)
    near = np.concatenate([np.nextafter(mid, np.float32(np.inf)),
                           np.nextafter(mid, np.float32(-np.inf))])
    rng = np.random.default_rng(0)
    wild = rng.integers(0, 1 << 32, 20000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    extra = np.array([65504, 65519.996, 65520, 1e-8, 2.0 ** -25, 2.0 ** -24, 3e38, np.nan,
                      np.inf, -np.inf], np.float32)
    return np.concatenate([h, mid, near, wild, extra, -extra])


@pytest.mark.skipif(not _opencl_available(), reason="no OpenCL device")
def test_portable_float16_and_bfloat16_rounding_on_device():
    from plax_opencl.dialect import OpenCLRenderer

    class PortableHalf(OpenCLRenderer):
        """The OpenCL dialect with the base renderer's integer half-precision code."""

        round_narrow = CRenderer.round_narrow

    renderer = PortableHalf()
    x = _float32_rounding_cases()
    f32 = np.dtype(np.float32)
    u16 = np.dtype(np.uint16)
    (half_bits,) = _run_kernel(renderer, _convert_kernel(x.size, f32, u16, dtypes.float16), x)
    with np.errstate(over="ignore"):
        want = x.astype(np.float16)
    nan = np.isnan(want)
    np.testing.assert_array_equal(half_bits[~nan], want.view(np.uint16)[~nan])
    assert np.isnan(half_bits[nan].view(np.float16)).all()
    (bf_bits,) = _run_kernel(renderer, _convert_kernel(x.size, f32, u16, dtypes.bfloat16), x)
    with np.errstate(invalid="ignore"):
        want = x.astype(dtypes.bfloat16)
    nan = np.isnan(want.astype(np.float32))
    np.testing.assert_array_equal(bf_bits[~nan], want.view(np.uint16)[~nan])
    # Every float16 bit pattern decodes exactly (subnormals, infinities, NaNs).
    bits = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
    i = Sym("i0")
    decode = Kernel("k", [Buffer("in0", u16, bits.shape, "in"),
                          Buffer("out0", f32, bits.shape, "out")],
                    [Loop("i0", bits.size, [Store("out0", i, Op(
                        "convert_element_type",
                        [Op("bitcast_convert_type", [Load("in0", i, u16)], dtypes.float16)],
                        f32))], parallel=True)])
    (decoded,) = _run_kernel(renderer, decode, bits)
    want = bits.view(np.float16).astype(np.float32)
    nan = np.isnan(want)
    np.testing.assert_array_equal(decoded[~nan], want[~nan])
    assert np.isnan(decoded[nan]).all()


# ----------------------------------------------------------------------------
# Text.


def _row_sum_kernel(rows, cols):
    i, r = Sym("i0"), Sym("r0")
    f32 = np.dtype(np.float32)
    index = Op("add", [Op("mul", [i, _c(cols)], INDEX), r], INDEX)
    buffers = [Buffer("in0", f32, (rows, cols), "in"), Buffer("out0", f32, (rows,), "out")]
    return Kernel("k", buffers,
                  [Loop("i0", rows, [
                      Accum("acc0", f32, _c(0.0, f32)),
                      Loop("r0", cols, [Update("acc0", "add", Load("in0", index, f32))]),
                      Store("out0", i, Sym("acc0", f32)),
                  ], parallel=True)])


def _c(value, dt=INDEX):
    from plax.lowering.kernel_ir import Const

    return Const(value, dt)


def test_lifted_constants_make_shapes_share_source():
    renderer = CRenderer()
    a = renderer.render(_row_sum_kernel(3, 5), lift=True)
    b = renderer.render(_row_sum_kernel(70, 129), lift=True)
    assert a.source == b.source
    assert a.params == (5,) and b.params == (129,)
    fixed = renderer.render(_row_sum_kernel(3, 5))
    assert fixed.params == () and "plax_p" not in fixed.source


def test_cooperative_reduction_is_rendered_only_where_a_dialect_has_work_groups():
    kernel = _row_sum_kernel(4, 4096)
    assert not CRenderer().render(kernel, local_size=64).cooperative
    dialect = pytest.importorskip("plax_opencl.dialect")
    OpenCLRenderer = dialect.OpenCLRenderer

    coop = OpenCLRenderer().render(kernel, local_size=64)
    assert coop.cooperative and coop.local_types == ("float",)
    assert "barrier(CLK_LOCAL_MEM_FENCE)" in coop.source
    small = OpenCLRenderer().render(_row_sum_kernel(4, 16), local_size=64)
    assert not small.cooperative
