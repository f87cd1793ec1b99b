"""cpu_llvm on whole programs: fusion, layouts, reductions, host and library
steps, threads, caches, the ABI and the plugin. Results are compared with the
reference backend."""

import os

import numpy as np
import pytest

import plax
import plax.numpy as pnp
from plax import dtypes, lax
from plax.backend.registry import register_backend, unregister_backend
from plax.backend import BackendSpec

pytest.importorskip("llvmlite")

from tests.test_cpu_llvm_ops import assert_close, check  # noqa: E402

RNG = np.random.default_rng(0)


def rand(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


# ----------------------------------------------------------------------------
# Multi-op programs.


def softmax(x):
    m = pnp.max(x, axis=-1, keepdims=True)
    e = pnp.exp(x - m)
    return e / pnp.sum(e, axis=-1, keepdims=True)


def layernorm(x):
    m = pnp.mean(x, axis=-1, keepdims=True)
    v = pnp.mean((x - m) ** 2, axis=-1, keepdims=True)
    return (x - m) / pnp.sqrt(v + 1e-5)


def norm(x):
    return (x - x.mean(0)) / x.std(0)


def gelu(x):
    return 0.5 * x * (1 + pnp.tanh(0.7978845608 * (x + 0.044715 * x ** 3)))


@pytest.mark.parametrize("fn", [softmax, layernorm, norm, gelu], ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [(7, 33), (2, 3, 5), (1, 1), (130,)])
def test_programs(fn, shape):
    # Reductions sum in another order than numpy: results near zero (x - mean) differ
    # by a few eps in absolute terms.
    check(fn, rand(*shape), ulp=8, atol=16)


@pytest.mark.parametrize("dt", ["float16", "bfloat16", "float64"])
def test_programs_in_other_float_types(dt):
    plax.config.update("enable_x64", True)
    try:
        x = rand(6, 17).astype(dt)
        for fn in (softmax, layernorm, gelu):
            check(fn, x, ulp=4 if dt != "float64" else 8, atol=16)
    finally:
        plax.config.update("enable_x64", False)


def test_multiple_outputs_inputs_literals_and_scalars():
    def f(x, s):
        y = x * s
        return y, x, 2.0, pnp.sum(y), y[0, 0], y.T

    check(f, rand(4, 5), np.float32(3), ulp=4)


def test_zero_dim_and_empty_arrays():
    check(lambda x: x * 2 + 1, np.float32(3.5))
    check(lambda x: (x * 2, pnp.sum(x), pnp.max(x, axis=1, initial=-1.0)),
          np.zeros((0, 3), np.float32))
    check(lambda x: pnp.sum(x, axis=0), np.zeros((0, 3), np.float32))
    check(lambda x: pnp.concatenate([x, x]), np.zeros((0,), np.int32))


def test_non_contiguous_layouts():
    x = rand(6, 8)

    def f(x):
        t = x.T  # transpose
        s = x[1::2, ::-3]  # strided slice and reversal
        return t * 2, s + 1, t[:, 1:4] @ x[1:4, :2], pnp.sum(t, axis=1)

    check(f, x, ulp=4)


def test_layout_primitives():
    x = rand(3, 4, 5)
    check(lambda x: lax.transpose(x, (2, 0, 1)) + 1, x)
    check(lambda x: lax.reshape(x, (5, 12), dimensions=(2, 0, 1)) * 2, x)
    check(lambda x: lax.pad(x, np.float32(-1), ((1, 0, 2), (-1, 2, 0), (0, 0, 1))), x)
    check(lambda x: lax.concatenate([x, x[:, :1], -x], 1), x)
    check(lambda x: lax.rev(x, (0, 2)) - x, x)
    check(lambda x: lax.slice(x, (0, 1, 0), (3, 4, 5), (2, 2, 3)) * 3, x)
    check(lambda x: pnp.expand_dims(x, 1) + pnp.squeeze(x[:, :1, :])[:, None, None, :], x)
    check(lambda x: lax.broadcast_in_dim(x[:, 0, :], (3, 2, 5), (0, 2)) * 2, x)
    check(lambda x: lax.broadcasted_iota(np.int32, (3, 4), 0) * 10 + x[:, :, 0].astype(np.int32), x)


@pytest.mark.parametrize("axes", [(0,), (1,), (2,), (0, 1), (1, 2), (0, 2), (0, 1, 2)])
def test_reductions_over_axes(axes):
    x = rand(4, 5, 6)
    check(lambda x: lax.reduce_sum(x, axes), x, ulp=4, atol=64)
    check(lambda x: lax.reduce_max(x, axes), x)
    check(lambda x: lax.reduce_min(x, axes), x)
    check(lambda x: lax.reduce_prod(x, axes), x, ulp=16)
    xi = (x * 10).astype(np.int32)
    check(lambda x: lax.reduce_sum(x, axes), xi)
    check(lambda x: lax.reduce_and(x, axes), xi)
    check(lambda x: lax.reduce_or(x > 0, axes), xi)
    check(lambda x: lax.reduce_xor(x, axes), xi)


@pytest.mark.parametrize("dt", ["float16", "bfloat16", "int8", "uint16", "bool"])
def test_reductions_in_narrow_types(dt):
    x = (rand(5, 7) * 4).astype(dt)
    if dt != "bool":
        check(lambda x: (lax.reduce_sum(x, (1,)), lax.reduce_sum(x, (0,))), x, ulp=1)
    check(lambda x: (lax.reduce_max(x, (1,)), lax.reduce_min(x, (0,))), x)


def test_argmax_argmin_with_nans_and_ties():
    x = np.array([[1, 3, 3, 2], [np.nan, 1, np.nan, 5], [-np.inf, -np.inf, -np.inf, -np.inf],
                  [0, -0.0, 2, np.nan]], np.float32)
    for axis in (0, 1):
        check(lambda v: lax.argmax(v, axis, np.int32), x)
        check(lambda v: lax.argmin(v, axis, np.int32), x)
        check(lambda v: lax.argmax(v, axis, np.int8), x.astype("bfloat16"))
    xi = np.array([[5, 5, 1], [-3, 7, 7]], np.int16)
    check(lambda v: (lax.argmax(v, 1, np.int32), lax.argmin(v, 0, np.int32)), xi)
    check(lambda v: pnp.argmax(v), rand(9, 11))


def test_large_full_reductions_split_across_threads():
    x = rand(300_001)  # not a multiple of the chunk size
    check(lambda v: (pnp.sum(v), pnp.max(v), pnp.min(v), pnp.mean(v)), x, ulp=64)
    check(lambda v: pnp.sum(v), (x * 100).astype(np.int32))
    check(lambda v: pnp.argmax(v), x)


def test_nested_jit_and_host_steps():
    inner = plax.jit(lambda x: pnp.cumsum(x, axis=0) * 2)

    def f(x):
        return pnp.sort(inner(x) + 1, axis=1), lax.erf_inv(pnp.tanh(x) * 0.5)

    check(f, rand(5, 6), ulp=32)


@pytest.mark.parametrize("dt", ["float32", "float64", "float16", "int32"])
def test_dot_general_library_step(dt):
    plax.config.update("enable_x64", True)
    try:
        a = (rand(2, 3, 4) * 3).astype(dt)
        b = (rand(2, 4, 5) * 3).astype(dt)
        check(lambda a, b: lax.dot_general(a, b, (((2,), (1,)), ((0,), (0,)))), a, b, ulp=16)
        check(lambda a, b: pnp.tanh(a[0] @ b[1]) + 1, a, b, ulp=16)
        check(lambda a: a[0].T @ a[1], a, ulp=16)
    finally:
        plax.config.update("enable_x64", False)


def test_integer_programs_wrap_and_divide_like_xla():
    x = np.array([np.iinfo(np.int32).min, -7, -1, 0, 5, np.iinfo(np.int32).max], np.int32)
    y = np.array([-1, 0, 2, 0, -3, 2], np.int32)
    check(lambda a, b: (a // b, a % b, lax.div(a, b), lax.rem(a, b), a * a + b), x, y)
    check(lambda a, b: (a >> b, a << b, lax.shift_right_logical(a, b)), x, y)


# ----------------------------------------------------------------------------
# The backend's machinery.


def _backend():
    return plax.backends and plax.devices("cpu_llvm")[0].backend


def test_plugin_is_registered_and_available():
    info = {b.name: b for b in plax.backends()}
    assert info["cpu_llvm"].available, info["cpu_llvm"].reason
    assert info["cpu_llvm"].package == "plax-cpu-llvm"
    from plax_cpu_llvm import plugin

    assert info["cpu_llvm"].priority == plugin.PRIORITY


def test_compile_cache_hits_in_memory():
    backend = _backend()
    before = dict(backend.compiler.stats)
    f = plax.jit(lambda x: x * 3.25 - 1, backend="cpu_llvm")
    f(rand(10))
    after_first = dict(backend.compiler.stats)
    f(rand(11))  # another shape: a new program, the same flat kernel
    after = backend.compiler.stats
    assert after["memory_hits"] > after_first["memory_hits"]
    assert after["compiled"] + after["disk_hits"] <= before["compiled"] + before["disk_hits"] + 1


def test_disk_cache_round_trip_and_corruption(tmp_path, monkeypatch):
    from plax.lowering.disk_cache import DiskCache
    from plax_cpu_llvm.backend import CpuLlvmBackend

    monkeypatch.setenv("PLAX_CACHE_DIR", str(tmp_path))
    b1 = CpuLlvmBackend(name="cpu_llvm_cache_test")
    register_backend(BackendSpec("cpu_llvm_cache_test", 0, load=lambda: b1))
    try:
        f = plax.jit(lambda x: pnp.exp(x) * 7.5, backend="cpu_llvm_cache_test")
        want = np.asarray(f(rand(5)))
        assert b1.compiler.stats["compiled"] == 1
        files = [p for p in tmp_path.rglob("*.bin")]
        assert len(files) == 1
        # A fresh backend (a new process) loads the object from disk.
        b2 = CpuLlvmBackend(name="cpu_llvm_cache_test")
        unregister_backend("cpu_llvm_cache_test")
        register_backend(BackendSpec("cpu_llvm_cache_test", 0, load=lambda: b2))
        g = plax.jit(lambda x: pnp.exp(x) * 7.5, backend="cpu_llvm_cache_test")
        x = rand(5)
        ref = plax.jit(lambda x: pnp.exp(x) * 7.5, backend="reference")(x)
        assert_close(g(x), ref, ulp=4)
        assert b2.compiler.stats == {"memory_hits": 0, "disk_hits": 1, "compiled": 0}
        # A truncated entry is discarded and rebuilt.
        data = files[0].read_bytes()
        files[0].write_bytes(data[: len(data) // 2])
        b3 = CpuLlvmBackend(name="cpu_llvm_cache_test")
        unregister_backend("cpu_llvm_cache_test")
        register_backend(BackendSpec("cpu_llvm_cache_test", 0, load=lambda: b3))
        h = plax.jit(lambda x: pnp.exp(x) * 7.5, backend="cpu_llvm_cache_test")
        np.testing.assert_array_equal(np.asarray(h(x)), np.asarray(g(x)))
        assert b3.compiler.stats["compiled"] == 1
        assert want.shape == (5,)
    finally:
        unregister_backend("cpu_llvm_cache_test")
    cache = DiskCache("unit", "v1", directory=str(tmp_path))
    cache.put("k", b"payload")
    assert cache.get("k") == b"payload"
    assert DiskCache("unit", "v2", directory=str(tmp_path)).get("k") is None


def test_dump_writes_jaxpr_schedule_and_llvm_ir(tmp_path, monkeypatch):
    from plax_cpu_llvm.backend import CpuLlvmBackend

    monkeypatch.setenv("PLAX_DUMP", str(tmp_path))
    monkeypatch.setenv("PLAX_CACHE_DIR", "off")
    backend = CpuLlvmBackend(name="cpu_llvm_dump_test")
    register_backend(BackendSpec("cpu_llvm_dump_test", 0, load=lambda: backend))
    try:
        plax.jit(lambda x: pnp.sin(x) + 1.125, backend="cpu_llvm_dump_test")(rand(3))
    finally:
        unregister_backend("cpu_llvm_dump_test")
    kinds = sorted(os.path.splitext(p)[1] for p in os.listdir(tmp_path))
    assert kinds == [".jaxpr", ".ll", ".ll", ".s", ".schedule"]


@pytest.mark.parametrize("abi", ["pointers", "pyobjects"])
def test_both_kernel_abis_and_thread_splitting(abi, monkeypatch):
    from plax_cpu_llvm import backend as backend_module
    from plax_cpu_llvm.backend import CpuLlvmBackend

    monkeypatch.setattr(backend_module, "PARALLEL_WORK", 1)
    name = f"cpu_llvm_{abi}_test"
    b = CpuLlvmBackend(threads=3, abi=abi, name=name)
    register_backend(BackendSpec(name, 0, load=lambda: b))
    try:
        x = rand(37, 5)
        for fn in (softmax, gelu, lambda v: pnp.sum(v, axis=0), lambda v: v.T + 1):
            want = plax.jit(fn, backend="reference")(x)
            got = plax.jit(fn, backend=name)(x)
            assert_close(got, want, ulp=8)
    finally:
        unregister_backend(name)


def test_results_are_read_only():
    y = plax.jit(lambda x: x + 1, backend="cpu_llvm")(rand(3))
    assert not np.asarray(y).flags.writeable


def test_compiled_text_shows_the_schedule():
    f = plax.jit(lambda x: pnp.exp(x) + 1, backend="cpu_llvm")
    text = f.lower(rand(4)).compile().as_text()
    assert "kernel" in text and "exp" in text


def test_all_dtypes_are_declared():
    caps = _backend().capabilities()
    assert caps.float64 and all(caps.supports_dtype(d) for d in dtypes.ALL)


def test_host_step_views_leave_programs_contiguous():
    # Eagerly, a host step's result (a strided view) is the next program's input.
    dev = plax.devices("cpu_llvm")[0]
    x = plax.device_put(np.arange(20, dtype=np.int32).reshape(4, 5), dev)
    s = lax.dynamic_slice(x, (1, 2), (2, 2))
    np.testing.assert_array_equal(np.asarray(s * 2), np.arange(20).reshape(4, 5)[1:3, 2:4] * 2)


def test_reading_empty_arrays_and_zero_d_library_results():
    check(lambda x: pnp.trace(x), np.zeros((0, 2), np.int32))
    check(lambda a, b: pnp.dot(a, b), rand(5), rand(5), ulp=4)


def test_long_chains_are_split_into_kernels():
    def f(x):
        for _ in range(300):
            x = x * 1.0001 + 0.5
        return x

    check(f, rand(7), ulp=64)


def test_control_flow_runs_compiled_bodies():
    def loop(x):
        return lax.fori_loop(0, 20, lambda i, c: c * 1.01 + pnp.sin(c) * 0.1, x)

    def scan(x):
        def step(c, xi):
            c = c + xi * 2
            return c, (c * c, xi > 0)

        return lax.scan(step, x[0], x), lax.scan(step, x[0], x, reverse=True)

    def while_(x):
        return lax.while_loop(lambda c: c[0] < 100, lambda c: (c[0] * 2 + 1, c[1] + 1),
                              (x.sum(), 0))

    def switch(x, i):
        return lax.switch(i, [lambda v: v * 2, lambda v: -v, lambda v: pnp.exp(v)], x)

    x = rand(6)
    check(loop, x, ulp=16)
    check(scan, x, ulp=4)
    check(while_, x, ulp=4)
    for i in (-1, 0, 1, 2, 5):
        check(switch, x, np.int32(i), ulp=4)
    check(lambda m: lax.scan(lambda c, row: (c + row.sum(), row * c), 0.0, m), rand(4, 3),
          ulp=4)
