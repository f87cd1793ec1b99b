"""A tour of the ideas plax is built on, run on the selected backend.

    python examples/tour.py                    # default backend
    PLAX_BACKEND=reference python examples/tour.py

Every number printed here is computed while the tour runs.
"""

from __future__ import annotations

import time

import numpy as np

import plax
import plax.numpy as pnp
from plax import lax


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def show(label: str, value) -> None:
    print(f"  {label:<44} {value!r}")


def best_of(fn, repeat: int = 5, number: int = 20) -> float:
    """Best per-call time in seconds over ``repeat`` rounds of ``number`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            plax.block_until_ready(fn())
        times.append((time.perf_counter() - start) / number)
    return min(times)


def backends() -> None:
    section("Backends are plugins")
    for info in plax.backends():
        state = "available" if info.available else f"unavailable ({info.reason})"
        print(f"  {info.name:<12} priority {info.priority:<4} {state}")
    print(f"  running on: {plax.default_backend()}  devices: {plax.devices()}")
    print("  the same jitted program on every available backend:")
    X = np.random.default_rng(0).normal(size=(1000, 10)).astype(np.float32)
    for info in plax.backends():
        if not info.available:
            continue
        norm = plax.jit(lambda X: (X - X.mean(0)) / X.std(0), backend=info.name)
        start = time.perf_counter()
        first = norm(X).block_until_ready()
        first_s = time.perf_counter() - start
        cached_s = best_of(lambda: norm(X))
        print(f"    {info.name:<12} norm(X)[0, :3] = {np.asarray(first)[0, :3]}  "
              f"first call {first_s * 1e3:7.1f} ms, cached {cached_s * 1e6:8.1f} us")


def numpy_versus_lax() -> None:
    section("plax.numpy promotes like numpy; plax.lax is strict")
    show("pnp.add(1, 1.0)", pnp.add(1, 1.0))
    show("pnp.add(pnp.int32(1), 1.5)", pnp.add(pnp.int32(1), 1.5))
    try:
        lax.add(1, 1.0)
    except TypeError as err:
        print(f"  lax.add(1, 1.0) raises TypeError:\n    {err}")
    show("lax.add(pnp.float32(1), 1.0)", lax.add(pnp.float32(1), 1.0))


def promotion() -> None:
    section("Type promotion with weak types (JAX's lattice)")
    half = pnp.ones(3, dtype=pnp.float16)
    show("float16 array + 1.0 (Python scalar is weak)", (half + 1.0).dtype)
    show("float16 array + float32 array", (half + pnp.ones(3, pnp.float32)).dtype)
    show("uint8 array + 1", (pnp.ones(2, pnp.uint8) + 1).dtype)
    show("int8 array + uint8 array", (pnp.ones(2, pnp.int8) + pnp.ones(2, pnp.uint8)).dtype)
    show("bfloat16 + float16", pnp.promote_types(pnp.bfloat16, pnp.float16))
    show("pnp.arange(3) without x64", pnp.arange(3).dtype)


def convolution() -> None:
    section("A convolution, both ways")
    x = pnp.array([1, 2, 1])
    y = pnp.ones(10)
    show("pnp.convolve([1, 2, 1], ones(10))", pnp.convolve(x, y))
    out = lax.conv_general_dilated(
        x.reshape(1, 1, 3).astype(pnp.float32),
        y.reshape(1, 1, 10),
        window_strides=(1,),
        padding=[(9, 9)],
    )
    show("lax.conv_general_dilated (same numbers)", out.ravel())


def immutability() -> None:
    section("Arrays are immutable: use .at[...]")
    x = pnp.arange(5)
    try:
        x[0] = 10
    except TypeError as err:
        print(f"  x[0] = 10 raises TypeError: {err}")
    y = x.at[0].set(10)
    show("y = x.at[0].set(10)", y)
    show("x is unchanged", x)
    show("x.at[1::2].add(100)", x.at[1::2].add(100))


def jit_speedup() -> None:
    section("jit: one compiled program instead of one dispatch per operation")

    def gelu(x):
        return 0.5 * x * (1.0 + pnp.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))

    x = pnp.asarray(np.random.default_rng(0).normal(size=1000).astype(np.float32))
    fast = plax.jit(gelu)
    np.testing.assert_allclose(fast(x), gelu(x), rtol=1e-5, atol=1e-6)
    eager = best_of(lambda: gelu(x))
    start = time.perf_counter()
    plax.jit(gelu)(x).block_until_ready()
    first = time.perf_counter() - start
    compiled = best_of(lambda: fast(x))
    print(f"  gelu on 1000 floats: eager {eager * 1e6:8.1f} us/call, "
          f"jit {compiled * 1e6:8.1f} us/call ({eager / compiled:.1f}x); "
          f"first jit call {first * 1e3:.1f} ms")


def static_arguments() -> None:
    section("Tracing happens once per signature; static args are part of it")

    def power(x, n):
        print(f"    (tracing power with n={n}, x={x})")
        out = x
        for _ in range(n - 1):
            out = out * x
        return out

    p = plax.jit(power, static_argnums=1)
    show("power(2.0, 3)", p(pnp.float32(2.0), 3))
    show("power(3.0, 3)  (cached: no trace)", p(pnp.float32(3.0), 3))
    show("power(2.0, 4)  (new static value)", p(pnp.float32(2.0), 4))


def jaxprs() -> None:
    section("make_jaxpr shows what jit compiles")

    def f(x, y):
        return pnp.sum(pnp.sin(x) * y, axis=0)

    print(plax.make_jaxpr(f)(pnp.ones((2, 3)), 2.0))


def control_flow_limits() -> None:
    section("Python control flow sees tracers, not values")

    def relu(x):
        if x > 0:
            return x
        return 0.0 * x

    try:
        plax.jit(relu)(pnp.float32(1.0))
    except plax.errors.ConcretizationTypeError as err:
        first = str(err).splitlines()
        print(f"  jit(relu) raises {type(err).__name__}:")
        for line in first[:2]:
            print(f"    {line}")
    show("jit(relu, static_argnums=0)(-3.0)", plax.jit(relu, static_argnums=0)(-3.0))
    show("branch-free: pnp.where(x > 0, x, 0)", plax.jit(lambda x: pnp.where(x > 0, x, 0.0))(
        pnp.array([-1.0, 2.0])))
    relu_cond = plax.jit(lambda x: lax.cond(x > 0, lambda v: v, lambda v: v - v, x))
    show("lax.cond(x > 0, ...) under jit, x = -3.0", relu_cond(pnp.float32(-3.0)))
    show("grad of that at 2.0", plax.grad(relu_cond)(pnp.float32(2.0)))


def main() -> None:
    print(f"plax {plax.__version__} tour")
    backends()
    numpy_versus_lax()
    promotion()
    convolution()
    immutability()
    jit_speedup()
    static_arguments()
    jaxprs()
    control_flow_limits()
    print("\nTour complete.")


if __name__ == "__main__":
    main()
