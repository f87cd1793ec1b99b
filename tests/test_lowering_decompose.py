"""dot_general on a target that does not claim it: the toolkit rewrites it into
a fused reduction (``plax.lowering.decompose``), run here by the kernel-IR
interpreter and by cpu_llvm with its BLAS library step switched off, and
compared with the reference."""

import numpy as np
import pytest

import plax
from plax import dtypes, lax
from plax.backend import BackendSpec
from plax.backend.registry import register_backend, unregister_backend
from plax.lowering import interpreter, plan
from plax.lowering.fusion import Target
from plax.lowering.schedule import HostStep, KernelStep

RNG = np.random.default_rng(0)

DIMENSION_NUMBERS = [
    ((4, 5), (5, 3), (((1,), (0,)), ((), ()))),
    ((5, 4), (5, 3), (((0,), (0,)), ((), ()))),
    ((4, 5), (3, 5), (((1,), (1,)), ((), ()))),
    ((2, 4, 5), (2, 5, 3), (((2,), (1,)), ((0,), (0,)))),
    ((5, 4, 2), (2, 5, 3), (((0,), (1,)), ((2,), (0,)))),
    ((2, 3, 4, 5), (4, 5, 6), (((2, 3), (0, 1)), ((), ()))),
    ((2, 3, 4, 5), (5, 6, 4), (((3, 2), (0, 2)), ((), ()))),
    ((4,), (4,), (((0,), (0,)), ((), ()))),
    ((4,), (3,), (((), ()), ((), ()))),
    ((3, 1, 7), (3, 7, 1), (((2,), (1,)), ((0,), (0,)))),
]


def operand(shape, dt):
    dt = dtypes.dtype(dt)
    if dt == dtypes.bool_:
        return RNG.integers(0, 2, shape).astype(bool)
    if dtypes.is_integer(dt):
        info = np.iinfo(dt)
        return RNG.integers(max(info.min, -100), min(info.max, 100), shape).astype(dt)
    return RNG.standard_normal(shape).astype(dt)


def check(f, *args, target=None, rtol=1e-5):
    schedule = plan(plax.make_jaxpr(f)(*args), target or Target())
    got = interpreter.run_schedule(schedule, [np.asarray(a) for a in args])[0]
    want = np.asarray(plax.jit(f, backend="reference")(*args))
    assert got.dtype == want.dtype and got.shape == want.shape
    if dtypes.is_float(want.dtype):
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64),
                                   rtol=rtol, atol=rtol)
    else:
        np.testing.assert_array_equal(got, want)
    return schedule


@pytest.mark.parametrize("lhs_shape,rhs_shape,dims", DIMENSION_NUMBERS)
def test_dot_general_becomes_one_kernel(lhs_shape, rhs_shape, dims):
    lhs, rhs = operand(lhs_shape, "float32"), operand(rhs_shape, "float32")
    schedule = check(lambda a, b: lax.dot_general(a, b, dims), lhs, rhs)
    assert schedule.counts()["kernel"] == 1 and schedule.counts()["host"] == 0


@pytest.mark.parametrize("lhs_dt,rhs_dt,preferred", [
    ("int8", "int8", None), ("uint8", "int16", None), ("int32", "int32", None),
    ("bool", "bool", None), ("float16", "float16", None), ("bfloat16", "bfloat16", None),
    ("int8", "int8", "int32"), ("float16", "float16", "float32"), ("uint32", "uint32", None),
])
def test_dot_general_dtypes(lhs_dt, rhs_dt, preferred):
    lhs, rhs = operand((3, 6), lhs_dt), operand((6, 4), rhs_dt)
    pref = None if preferred is None else dtypes.dtype(preferred)
    check(lambda a, b: lax.dot_general(a, b, (((1,), (0,)), ((), ())),
                                       preferred_element_type=pref), lhs, rhs, rtol=1e-2)


def test_integer_products_wrap_like_the_reference():
    lhs = np.full((2, 300), 127, np.int8)
    check(lambda a, b: lax.dot_general(a, b, (((1,), (0,)), ((), ()))), lhs, lhs.T.copy())


def test_float64_under_x64(x64):
    lhs, rhs = operand((3, 5), "float64"), operand((5, 2), "float64")
    check(lambda a, b: a @ b, lhs, rhs, rtol=1e-12)


def test_claimed_or_unsupported_dot_is_left_alone():
    lhs, rhs = operand((3, 5), "float32"), operand((5, 2), "float32")
    claimed = check(lambda a, b: a @ b, lhs, rhs,
                    target=Target(library=frozenset({"dot_general"})))
    assert claimed.counts()["library"] == 1
    no_mul = Target(supports_op=lambda op, ins, out: op != "mul")
    host = check(lambda a, b: a @ b, lhs, rhs, target=no_mul)
    assert any(isinstance(s, HostStep) and s.primitive.name == "dot_general"
               for s in host.steps)


def test_fuses_with_its_consumers():
    lhs, rhs, bias = operand((4, 8), "float32"), operand((8, 6), "float32"), operand((6,),
                                                                                    "float32")
    schedule = check(lambda a, b, c: plax.numpy.tanh(a @ b + c), lhs, rhs, bias)
    assert len([s for s in schedule.steps if isinstance(s, KernelStep)]) == 1


def test_cpu_llvm_without_blas_compiles_the_reduction():
    pytest.importorskip("llvmlite")
    from plax_cpu_llvm.backend import CpuLlvmBackend

    backend = CpuLlvmBackend(name="cpu_llvm_no_blas", disk_cache=False)
    backend.target.library = backend.target.library - {"dot_general"}
    register_backend(BackendSpec("cpu_llvm_no_blas", 0, load=lambda: backend))
    try:
        for lhs_shape, rhs_shape, dims in DIMENSION_NUMBERS[:6]:
            lhs, rhs = operand(lhs_shape, "float32"), operand(rhs_shape, "float32")
            f = lambda a, b: lax.dot_general(a, b, dims)  # noqa: E731
            got = np.asarray(plax.jit(f, backend="cpu_llvm_no_blas")(lhs, rhs))
            want = np.asarray(plax.jit(f, backend="reference")(lhs, rhs))
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        text = plax.jit(lambda a, b: a @ b, backend="cpu_llvm_no_blas").lower(
            operand((3, 4), "float32"), operand((4, 2), "float32")).compile().as_text()
        assert "library dot_general" not in text and "kernel" in text
    finally:
        unregister_backend("cpu_llvm_no_blas")


@pytest.mark.parametrize("name", ["reduce_window_sum", "reduce_window_max", "reduce_window_min"])
@pytest.mark.parametrize("dt", ["float32", "int32", "float16", "uint8"])
@pytest.mark.parametrize("window,strides,padding,base,wdil", [
    ((2, 2), (2, 2), "VALID", None, None),
    ((3, 3), (1, 1), "SAME", None, None),
    ((3, 1), (2, 1), ((1, 2), (0, 0)), (1, 2), (2, 1)),
    ((1, 4), (1, 3), ((0, 0), (3, 1)), None, None),
])
def test_reduce_window_becomes_one_kernel(name, dt, window, strides, padding, base, wdil):
    if name == "reduce_window_sum" and dt == "uint8":
        dt = "int8"
    x = operand((7, 9), dt)
    fn = getattr(lax, name)

    def f(x):
        return fn(x, window, strides, padding, base_dilation=base, window_dilation=wdil)

    schedule = check(f, x, rtol=1e-2 if dt == "float16" else 1e-5)
    assert schedule.counts() == {"kernel": 1, "host": 0, "library": 0, "alloc": 0}


def test_large_windows_stay_host_steps():
    x = operand((4, 100), "float32")
    schedule = check(lambda x: lax.reduce_window_sum(x, (1, 50), (1, 1), "VALID"), x)
    assert schedule.counts()["host"] == 1
