"""Column reductions as parallel kernels (``plax_opencl.columns``): the rewrite against
the kernel IR interpreter, and the rewritten kernels run on the device (the backend
uses them on GPUs; on CPU devices it keeps the serial form, faster there, so the test
turns them on)."""

import numpy as np
import plax
import plax.numpy as pnp
import pytest
from plax import lax

from tests.opencl_testing import pytestmark, device_state as _state  # noqa: F401


PROGRAMS = [
    (lambda a: pnp.sum(a, axis=0), (37, 5), "float32"),
    (lambda a: pnp.max(a * 2, axis=0), (300, 3), "float32"),  # long columns: work-groups
    (lambda a: pnp.sum(a, axis=(0, 2)), (4, 5, 6, 3), "int8"),
    (lambda a: lax.reduce_prod(a, (0, 2)), (3, 4, 2, 5), "int16"),
    (lambda a: pnp.min(a, axis=0), (9, 4), "uint8"),
    (lambda a: pnp.sum(a, axis=0), (33, 6), "float16"),
    (lambda a: pnp.mean(a, axis=0), (700, 2), "float64"),
]


def _input(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.integers(-8, 8, shape).astype(dtype)  # exact sums in any order
    return rng.integers(0, 7, shape).astype(dtype)


@pytest.mark.parametrize("f,shape,dtype", PROGRAMS)
def test_rewrite_matches_the_interpreter(f, shape, dtype):
    from plax.lowering import plan
    from plax.lowering.interpreter import interpret_kernel
    from plax.lowering.schedule import KernelStep
    from plax_opencl.columns import parallel_columns

    x = _input(shape, dtype)
    closed = plax.jit(f, backend="reference").lower(x).jaxpr
    schedule = plan(closed, _state().target)
    rewritten = 0
    for step in schedule.steps:
        if not isinstance(step, KernelStep):
            continue
        kernel = step.kernel
        new = parallel_columns(kernel)
        if new is kernel:
            continue
        rewritten += 1
        assert new.parallel_extent is not None and kernel.parallel_extent is None
        buffers = {}
        for b in kernel.buffers:
            data = (np.arange(b.size) % 7 - 3).astype(b.dtype) if b.role == "in" else (
                np.zeros(b.size, b.dtype))
            buffers[b.name] = data
        want = {k: v.copy() for k, v in buffers.items()}
        got = {k: v.copy() for k, v in buffers.items()}
        interpret_kernel(kernel, want)
        interpret_kernel(new, got)
        for b in kernel.buffers:
            if b.role == "out":
                np.testing.assert_array_equal(got[b.name], want[b.name])
    assert rewritten >= 1


def test_other_kernels_are_left_alone():
    from plax.lowering import plan
    from plax.lowering.schedule import KernelStep
    from plax_opencl.columns import parallel_columns

    x = np.ones((6, 4), np.float32)
    for f in (lambda a: pnp.sum(a, axis=1), lambda a: a * 2 + 1, lambda a: pnp.sum(a)):
        closed = plax.jit(f, backend="reference").lower(x).jaxpr
        for step in plan(closed, _state().target).steps:
            if isinstance(step, KernelStep):
                assert parallel_columns(step.kernel) is step.kernel


@pytest.fixture
def parallel_columns_on():
    state = _state()
    previous = state.parallel_columns
    state.parallel_columns = True
    yield
    state.parallel_columns = previous


@pytest.mark.parametrize("f,shape,dtype", PROGRAMS)
def test_parallel_columns_on_the_device(parallel_columns_on, f, shape, dtype):
    previous = plax.config.read("enable_x64")
    plax.config.update("enable_x64", True)
    try:
        # A shape of its own, so the programs are compiled with the rewrite on.
        shape = (shape[0] + 1,) + shape[1:]
        x = _input(shape, dtype, seed=1)
        want = np.asarray(plax.jit(f, backend="reference")(x))
        got = np.asarray(plax.jit(f, backend="opencl")(x))
        np.testing.assert_array_equal(got, want)
    finally:
        plax.config.update("enable_x64", previous)
