"""Generated code never reads outside its buffers.

Inputs are placed so that they end exactly at a page boundary, and the page
after them is made inaccessible (``mprotect(PROT_NONE)``): any read past the
end crashes the process. The programs run in a child process so that a crash is
a test failure rather than the end of the test session. Dynamic starts are out
of range in both directions, so clamping must happen before any load.
"""

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("llvmlite")

CHILD = textwrap.dedent("""
    import ctypes, mmap
    import numpy as np
    import plax
    import plax.numpy as pnp
    from plax import lax
    from plax.backend.registry import get_backend

    PAGE = mmap.PAGESIZE
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    keep = []

    def at_page_end(values):
        values = np.ascontiguousarray(values)
        pages = -(-values.nbytes // PAGE) + 1
        region = mmap.mmap(-1, (pages + 1) * PAGE)
        keep.append(region)
        base = ctypes.addressof(ctypes.c_char.from_buffer(region))
        end = base + pages * PAGE
        if libc.mprotect(end, PAGE, 0) != 0:
            raise OSError(ctypes.get_errno(), "mprotect failed")
        offset = pages * PAGE - values.nbytes
        out = np.frombuffer(region, values.dtype, values.size, offset).reshape(values.shape)
        out[...] = values
        return out

    backend = get_backend("cpu_llvm")
    device = backend.devices()[0]

    def check(f, *args):
        closed = plax.make_jaxpr(f)(*args)
        exe = backend.compile(closed, device)
        got = exe.execute([at_page_end(np.asarray(a)) for a in args])
        want = plax.jit(f, backend="reference")(*args)
        want = plax.tree_util.tree_leaves(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(np.asarray(g), np.asarray(w))

    x = np.arange(37, dtype=np.float32)
    m = np.arange(5 * 7, dtype=np.int32).reshape(5, 7)
    for start in (-100, -3, 0, 30, 36, 1000):
        s = np.int32(start)
        check(lambda x, s: lax.dynamic_slice(x, (s,), (8,)), x, s)
        check(lambda x, s: lax.dynamic_slice(x, (s,), (8,)).reshape(2, 4) * 2, x, s)
        check(lambda x, s: lax.dynamic_update_slice(x, x[:5] + 1, (s,)), x, s)
        check(lambda m, s: lax.dynamic_slice(m, (s, s), (2, 3)), m, s)
        check(lambda m, s: lax.dynamic_update_slice(m, m[:2, :2], (s, s // 2)), m, s)
    check(lambda x, s: lax.dynamic_slice(x, (s,), (4,)), x, np.uint32(2**32 - 1))
    check(lambda x, s: lax.dynamic_slice(x, (s,), (4,)), x, np.int8(-128))
    check(lambda x: lax.pad(x, np.float32(-1), [(3, 4, 1)])[::-1] + x[-1], x)
    check(lambda x: pnp.concatenate([x, x[::2]])[1:] * pnp.sum(x), x)
    check(lambda m: pnp.cumsum(m, axis=1).max(axis=0), m)
    check(lambda m, i: lax.fori_loop(0, 9, lambda k, a: lax.dynamic_update_slice(
        a, lax.dynamic_slice(a, (k - 2, i), (2, 3)) + 1, (k, k)), m), m, np.int32(6))
    print("OK")
""")


def test_no_reads_past_the_end_of_inputs():
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, (
        f"child exited with {result.returncode} (negative: killed by that signal)\n"
        f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    assert result.stdout.strip().endswith("OK")
