"""cpu_llvm runs while/scan/fori loops as one native call (``native_loops``).

Every program is compared with the reference backend, and each test checks
that the loop really took the native path (or, where it must not, the Python
loop): ``native_loops.STATS`` counts both.
"""

import numpy as np
import pytest

import plax
import plax.numpy as pnp
from plax import lax

pytest.importorskip("llvmlite")

from plax_cpu_llvm import blas, native_loops  # noqa: E402

from tests.test_cpu_llvm_ops import assert_close  # noqa: E402

RNG = np.random.default_rng(0)


def rand(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def run_both(f, *args, native=True, ulp=4, atol=8):
    """Compare cpu_llvm with the reference; check which loop path compiled."""
    before = dict(native_loops.STATS)
    got = plax.jit(f, backend="cpu_llvm")(*args)
    after = native_loops.STATS
    want = plax.jit(f, backend="reference")(*args)
    g, gt = plax.tree_util.tree_flatten(got)
    w, wt = plax.tree_util.tree_flatten(want)
    assert gt == wt
    for a, b in zip(g, w):
        assert_close(a, b, ulp, atol)
    took = "native" if native else "python"
    assert after[took] > before[took], f"expected the {took} loop path, STATS={after}"
    return got


# ----------------------------------------------------------------------------
# while


def test_while_newton():
    x = np.abs(rand(1000)) + 1

    def newton(x):
        def body(c):
            i, y = c
            return i + 1, 0.5 * (y + x / y)

        return lax.while_loop(lambda c: c[0] < 20, body, (0, x))

    i, y = run_both(newton, x)
    assert int(i) == 20
    np.testing.assert_allclose(np.asarray(y), np.sqrt(x), rtol=1e-6)


def test_while_zero_iterations_returns_the_initial_carry():
    x = rand(5)
    out = run_both(lambda x: lax.while_loop(lambda c: c[0] > 0, lambda c: (c[0], c[1] * 2),
                                            (0, x)), x)
    np.testing.assert_array_equal(np.asarray(out[1]), x)


def test_while_permuted_and_duplicated_carries():
    # (a, b, c) -> (b, a, a + c): carries take each other's inputs, two take the same.
    def f(a, b, c):
        def body(s):
            i, a, b, c = s
            return i + 1, b, a, a + c

        return lax.while_loop(lambda s: s[0] < 7, body, (0, a, b, c))

    run_both(f, rand(3), rand(3), rand(3))


def test_while_same_value_twice_and_unchanged_carry():
    def f(x, y):
        def body(s):
            i, a, b, keep = s
            t = a * 1.5 + 1.0
            return i + 1, t, t, keep

        return lax.while_loop(lambda s: s[0] < 4, body, (0, x, x, y))

    x, y = rand(4, 2), rand(3)
    out = run_both(f, x, y)
    np.testing.assert_array_equal(np.asarray(out[3]), y)


def test_while_does_not_write_the_callers_arrays():
    x = plax.device_put(rand(16))
    before = np.asarray(x).copy()
    f = plax.jit(lambda x: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] + 1.0),
                                          (0, x)))
    f(x)
    f(x)
    np.testing.assert_array_equal(np.asarray(x), before)


def test_while_bool_carry_is_the_predicate_and_body_consts():
    table = rand(6)

    def f(x):
        def body(s):
            go, i, acc = s
            acc = acc + pnp.asarray(table)[i] * x
            return i + 1 < 6, i + 1, acc

        return lax.while_loop(lambda s: s[0], body, (True, 0, pnp.zeros_like(x)))

    run_both(f, rand(6))


@pytest.mark.parametrize("dt", ["float16", "bfloat16", "int8", "uint32", "float64"])
def test_while_other_dtypes(dt, x64):
    x = (np.arange(12) % 5).astype(dt)

    def f(x):
        return lax.while_loop(lambda c: c[0] < 5, lambda c: (c[0] + 1, c[1] * 2 + x), (0, x))

    run_both(f, x)


def test_while_with_matmul_in_body():
    w = rand(8, 8) * 0.3

    def f(h):
        def body(s):
            i, h = s
            return i + 1, pnp.tanh(h @ w)

        return lax.while_loop(lambda s: s[0] < 10, body, (0, h))

    run_both(f, rand(4, 8))


def test_while_with_data_dependent_condition():
    def collatz_steps(n):
        def body(s):
            k, n = s
            return k + 1, pnp.where(n % 2 == 0, n // 2, 3 * n + 1)

        return lax.while_loop(lambda s: s[1] != 1, body, (0, n))[0]

    assert int(run_both(collatz_steps, np.int32(27))) == 111


# ----------------------------------------------------------------------------
# scan and fori_loop


def rnn(h0, xs, w, u, b):
    def step(h, x):
        h = pnp.tanh(h @ w + x @ u + b)
        return h, h

    return lax.scan(step, h0, xs)


def test_scan_rnn_with_two_matmuls_per_step():
    args = (rand(4, 16), rand(30, 4, 8), rand(16, 16) * 0.2, rand(8, 16) * 0.2, rand(16))
    run_both(rnn, *args, ulp=64, atol=64)


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_cumulative_outputs(reverse):
    def f(xs, scale):
        def step(c, x):
            c = c * scale + x
            return c, (c, x * 2)

        return lax.scan(step, pnp.zeros(xs.shape[1:], xs.dtype), xs, reverse=reverse)

    run_both(f, rand(9, 3, 2), np.float32(0.5))


def test_scan_length_zero():
    xs = np.zeros((0, 3), np.float32)
    carry, ys = run_both(lambda xs: lax.scan(lambda c, x: (c + x, c * x), pnp.ones(3), xs), xs)
    np.testing.assert_array_equal(np.asarray(carry), np.ones(3))
    assert ys.shape == (0, 3)


def test_scan_without_xs_and_with_length():
    out = run_both(lambda c: lax.scan(lambda c, _: (c * 2, c), c, None, length=5),
                   np.int32(3))
    np.testing.assert_array_equal(np.asarray(out[1]), [3, 6, 12, 24, 48])


def test_scan_y_is_the_carry_input():
    out = run_both(lambda xs: lax.scan(lambda c, x: (c + x, c), np.float32(0), xs),
                   np.arange(5, dtype=np.float32))
    np.testing.assert_array_equal(np.asarray(out[1]), [0, 0, 1, 3, 6])


def test_fori_loop_static_trip_count():
    def f(x):
        return lax.fori_loop(0, 12, lambda i, v: v * 0.5 + i.astype(v.dtype), x)

    run_both(f, rand(7))


def test_fori_loop_dynamic_trip_count():
    def f(n, x):
        return lax.fori_loop(0, n, lambda i, v: v + i.astype(v.dtype), x)

    out = run_both(f, np.int32(6), rand(3))
    assert out.shape == (3,)


def test_grad_through_scan_and_vmap_of_while():
    xs = rand(6, 3)

    def loss(w):
        c, _ = lax.scan(lambda c, x: (pnp.sin(c * w + x), None), pnp.zeros(3), xs)
        return pnp.sum(c)

    run_both(plax.grad(loss), rand(3), ulp=64, atol=64)

    def countdown(x):
        return lax.while_loop(lambda c: c[0] > 0, lambda c: (c[0] - 1, c[1] * 1.1),
                              (x.astype(np.int32), x))

    run_both(plax.vmap(countdown), np.array([0.0, 3.0, 5.0], np.float32))


# ----------------------------------------------------------------------------
# What keeps the Python loop.


def test_host_step_in_body_keeps_the_python_loop():
    def f(x):
        return lax.fori_loop(0, 3, lambda i, v: pnp.sort(v[::-1] + 1), x)

    run_both(f, rand(8), native=False)


def test_nested_loops_run_the_inner_loop_natively():
    def f(x):
        def outer(i, v):
            return lax.fori_loop(0, 4, lambda j, w: w * 0.9 + 1.0, v) + i.astype(v.dtype)

        return lax.fori_loop(0, 3, outer, x)

    before = dict(native_loops.STATS)
    run_both(f, rand(5), native=False)
    assert native_loops.STATS["native"] > before["native"]


def test_big_kernels_keep_the_thread_pool():
    x = rand(1 << 21)

    def f(x):
        return lax.fori_loop(0, 2, lambda i, v: pnp.sin(v) * 2.0 + pnp.cos(v), x)

    backend = plax.backend.registry.get_backend("cpu_llvm")
    native = backend.threads == 1
    run_both(f, x, native=native)


# ----------------------------------------------------------------------------
# The GEMM layouts BLAS can take without copies.


@pytest.mark.parametrize("lhs_shape,rhs_shape,dims", [
    ((4, 5), (5, 6), (((1,), (0,)), ((), ()))),
    ((5, 4), (5, 6), (((0,), (0,)), ((), ()))),
    ((4, 5), (6, 5), (((1,), (1,)), ((), ()))),
    ((5, 4), (6, 5), (((0,), (1,)), ((), ()))),
    ((3, 4, 5), (3, 5, 6), (((2,), (1,)), ((0,), (0,)))),
    ((2, 4, 5, 7), (5, 7, 3), (((2, 3), (0, 1)), ((), ()))),
    ((4,), (4, 6), (((0,), (0,)), ((), ()))),
    ((4, 5), (6,), (((), ()), ((), ()))),
])
def test_gemm_layout_matches_dot_general(lhs_shape, rhs_shape, dims):
    lhs, rhs = rand(*lhs_shape), rand(*rhs_shape)
    layout = blas.gemm_layout(lhs_shape, rhs_shape, dims)
    assert layout is not None
    batch, m, n, k, ta, tb = layout
    a = lhs.reshape(batch, k, m).transpose(0, 2, 1) if ta else lhs.reshape(batch, m, k)
    b = rhs.reshape(batch, n, k).transpose(0, 2, 1) if tb else rhs.reshape(batch, k, n)
    want = np.asarray(lax.dot_general(lhs, rhs, dims))
    np.testing.assert_allclose((a @ b).reshape(want.shape), want, rtol=1e-5, atol=1e-5)


def test_gemm_layout_refuses_interleaved_dimensions():
    assert blas.gemm_layout((4, 5, 6), (5, 7), (((1,), (0,)), ((), ()))) is None
    assert blas.gemm_layout((2, 4, 5), (5, 2, 3), (((2,), (0,)), ((0,), (1,)))) is None
