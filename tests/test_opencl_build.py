"""How the opencl backend builds programs: PoCL builds with a trimmed header (only the
builtin declarations a program uses), the fallback when a trimmed build fails, dtype
siblings learned from requests, and the entry-point kernels launches share."""

import numpy as np
import plax
import pytest
from plax import lax

from tests.opencl_testing import pytestmark, device_state as _state  # noqa: F401


def _pocl_headers():
    state = _state()
    if state.programs.headers is None:
        pytest.skip("not PoCL, or its opencl-c.h was not found")
    return state.programs.headers


SOURCE = """\
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
__kernel void k(__global float* a, __global half* h, __global double* d) {
  long i = get_global_id(0);
  a[i] = sin(a[i]) + exp(a[i]) + as_float(as_uint(a[i]) ^ 1u) + vload_half(i, h);
  vstore_half_rte(a[i], i, h);
  d[i] = log1p(d[i]) + nextafter(d[i], 1.0) + (isnan(a[i]) ? 1.0 : 0.0);
}
"""


def test_trimmed_header_keeps_only_used_declarations():
    headers = _pocl_headers()
    text = headers.header(SOURCE)
    for name in ("sin", "exp", "vload_half", "vstore_half_rte", "log1p", "nextafter",
                 "isnan", "get_global_id"):
        assert f" {name}(" in text
    assert " cos(" not in text and " atan2(" not in text
    assert len(text) < 60_000  # opencl-c.h is about a megabyte


def test_trimmed_and_plain_builds_compute_the_same():
    import pyopencl as cl

    state = _state()
    headers = _pocl_headers()
    ctx, queue = state.context, state.queue
    n = 64
    a = np.linspace(-3, 3, n).astype(np.float32)
    h = np.linspace(-1, 1, n).astype(np.float16)
    d = np.linspace(0, 2, n)
    results = []
    for text, options in ((SOURCE, ""), (headers.header(SOURCE) + SOURCE, headers.options)):
        program = cl.Program(ctx, text).build(options=options, cache_dir=False)
        mf = cl.mem_flags
        bufs = [cl.Buffer(ctx, mf.READ_WRITE | mf.COPY_HOST_PTR, hostbuf=x) for x in (a, h, d)]
        program.k(queue, (n,), None, *bufs)
        outs = [np.empty_like(x) for x in (a, h, d)]
        for out, buf in zip(outs, bufs):
            cl.enqueue_copy(queue, out, buf)
        results.append(outs)
    for plain, trimmed in zip(*results):
        np.testing.assert_array_equal(plain.view(np.uint8), trimmed.view(np.uint8))


def test_failed_trimmed_build_falls_back_to_plain(monkeypatch):
    from plax_opencl import compiler
    from plax_opencl.pocl_headers import PoclHeaders

    state = _state()
    headers = _pocl_headers()
    programs = compiler.ProgramCache(state.cl, state.context, state.info, state.renderer)
    assert programs.headers is not None
    # A header without the declarations: the trimmed build fails, the plain one works,
    # and builds stay plain from then on.
    monkeypatch.setattr(PoclHeaders, "header", lambda self, source: "")
    programs.headers = headers
    programs.program("__kernel void f(__global float* a) { a[get_global_id(0)] = 1.0f; }")
    assert programs.stats["header_fallbacks"] == 1 and programs.headers is None
    # A wrong program is reported once, with its log.
    programs.headers = headers
    with pytest.raises(plax.errors.BackendCompileError, match="Build log"):
        programs.program("__kernel void g(__global float* a) { a[0] = ; }")


def _pad_rev(x):
    return lax.rev(lax.pad(x, np.zeros((), x.dtype), ((1, 2, 1), (0, 1, 0))), (0,))


def test_siblings_learned_across_dtypes():
    """The same kernel asked for with two dtypes: the next dtypes need no build."""
    state = _state()
    stats = state.programs.stats
    device = plax.devices("opencl")[0]

    def run(dtype):
        x = np.arange(6, dtype=dtype).reshape(2, 3)
        got = np.asarray(_pad_rev(plax.device_put(x, device)))
        want = np.asarray(plax.jit(_pad_rev, backend="reference")(x))
        np.testing.assert_array_equal(got, want)

    run(np.int16)
    run(np.float32)  # another family: the kernel's shape is now known to vary by dtype
    before = stats["programs"]
    for dtype in (np.uint8, np.int32, np.float64):
        run(dtype)
    assert stats["programs"] == before


def test_launches_share_the_entry_kernel():
    """Steps of one entry point share its pyopencl Kernel and still get their own
    fixed arguments (interleaved calls of two programs built together)."""
    device = plax.devices("opencl")[0]
    x = plax.device_put(np.arange(8, dtype=np.float32), device)
    f = plax.jit(lambda a: (a * 3 + 1, a - 2))
    g = plax.jit(lambda a: (a * a, -a))
    for _ in range(3):
        fa, fb = f(x)
        ga, gb = g(x)
        np.testing.assert_array_equal(np.asarray(fa), np.arange(8) * 3 + 1)
        np.testing.assert_array_equal(np.asarray(gb), -np.arange(8))
        np.testing.assert_array_equal(np.asarray(ga), np.arange(8) ** 2)
        np.testing.assert_array_equal(np.asarray(fb), np.arange(8) - 2)
