"""Accuracy of cpu_llvm's float32 math routines (exp, exp2, expm1, log, log1p,
tanh, logistic) over dense samples, against float64 numpy rounded once."""

import numpy as np
import pytest

import plax
from plax import lax
from plax.backend import BackendSpec
from plax.backend.registry import register_backend, unregister_backend

pytest.importorskip("llvmlite")


def _ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    def ordinal(x):
        i = x.view(np.int32).astype(np.int64)
        return np.where(i < 0, -(i & 0x7FFFFFFF), i)

    dist = np.abs(ordinal(got) - ordinal(want)).astype(np.float64)
    dist[got == want] = 0  # +0 == -0
    both = np.isnan(got) & np.isnan(want)
    dist[both] = 0
    dist[np.isnan(got) ^ np.isnan(want)] = np.inf
    return dist


def _samples() -> np.ndarray:
    rng = np.random.default_rng(42)
    bits = rng.integers(0, 2**32, 1 << 18, dtype=np.uint64).astype(np.uint32).view(np.float32)
    specials = np.float32([0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1.1754944e-38,
                           88.72283, 88.7229, -87.33655, -103.97208, -104, 1, -1, 0.5,
                           3.4028235e38, -3.4028235e38])
    return np.concatenate([bits, rng.uniform(-20, 20, 1 << 17).astype(np.float32),
                           rng.uniform(-1, 1, 1 << 17).astype(np.float32), specials])


def _logistic64(x):
    decay = np.exp(-np.abs(x))
    positive = 1.0 / (1.0 + decay)
    return np.where(x >= 0, positive, decay * positive)


CASES = [
    ("exp", np.exp, 1), ("exp2", np.exp2, 1), ("expm1", np.expm1, 1), ("log", np.log, 1),
    ("log1p", np.log1p, 2), ("tanh", np.tanh, 2), ("logistic", _logistic64, 2),
]


@pytest.mark.parametrize("op,ref,bound", CASES, ids=[c[0] for c in CASES])
def test_float32_routines_are_within_bound_ulps(op, ref, bound):
    x = _samples()
    got = np.asarray(plax.jit(getattr(lax, op), backend="cpu_llvm")(x))
    with np.errstate(all="ignore"):
        want = ref(x.astype(np.float64)).astype(np.float32)
    dist = _ulps(got, want)
    worst = int(np.argmax(dist))
    assert dist.max() <= bound, (op, x[worst], got[worst], want[worst])


def test_libm_path_agrees_too():
    from plax_cpu_llvm.backend import CpuLlvmBackend

    backend = CpuLlvmBackend(name="cpu_llvm_libm_test", own_math=False, disk_cache=False)
    register_backend(BackendSpec("cpu_llvm_libm_test", 0, load=lambda: backend))
    try:
        x = np.linspace(-10, 10, 1001, dtype=np.float32)
        for op, ref, _ in CASES:
            got = np.asarray(plax.jit(getattr(lax, op), backend="cpu_llvm_libm_test")(x))
            with np.errstate(all="ignore"):
                want = ref(x.astype(np.float64)).astype(np.float32)
            assert _ulps(got, want).max() <= 4, op
    finally:
        unregister_backend("cpu_llvm_libm_test")
