"""Running a schedule: buffers are numpy arrays, kernels are ctypes calls.

Each step of the schedule becomes a small closure over the slot list ``env``;
``CpuExecutable.execute`` runs them in order and drops dead slots as the
schedule says. Kernels receive a tuple of C-contiguous arrays (or their data
pointers) and a ``[start, end)`` range of their parallel loop; ctypes releases
the GIL during the call, so a large kernel's range is split across a small
thread pool. Host steps call the reference implementation on the arrays
directly, library steps (``library.py``) call numpy.
"""

from __future__ import annotations

import ctypes
import functools
import math
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from plax.backend import Executable
from plax.interpreters import reference
from plax.jaxpr import Literal
from plax.lowering.schedule import AllocStep, HostStep, KernelStep, LibraryStep, Schedule


__all__ = ["CpuExecutable", "ThreadPool", "pyobject_offsets", "freeze", "default_threads",
           "contiguous"]


def freeze(array: np.ndarray) -> np.ndarray:
    if array.flags.writeable:
        array.flags.writeable = False
    return array


def pyobject_offsets() -> tuple[int, int] | None:
    """(offset of a tuple's first item, offset of an ndarray's data pointer), checked
    on live objects, or None when this Python's object layout is not the expected
    one (then kernels take an array of pointers instead)."""
    try:
        probe = np.arange(3, dtype=np.float64)
        tup = (probe, probe)
        item_offset = 3 * ctypes.sizeof(ctypes.c_void_p)  # refcount, type, size
        data_offset = 2 * ctypes.sizeof(ctypes.c_void_p)  # refcount, type
        first = ctypes.c_void_p.from_address(id(tup) + item_offset).value
        second = ctypes.c_void_p.from_address(id(tup) + item_offset + 8).value
        data = ctypes.c_void_p.from_address(id(probe) + data_offset).value
        if first == id(probe) and second == id(probe) and data == probe.ctypes.data:
            return item_offset, data_offset
    except (ValueError, TypeError, OverflowError):
        pass
    return None


class BufferPool:
    """Reuses the memory of large freed buffers.

    A fresh multi-megabyte numpy array costs a page fault per page on first write,
    often more than the kernel that fills it. Large outputs are therefore carved
    from pooled blocks; a block is free again when nothing but the pool refers to
    it (every array made from it keeps it alive through ``.base``), which
    ``sys.getrefcount`` tells without any hook into array deallocation.
    """

    def __init__(self, min_bytes: int = 1 << 20, max_bytes: int = 1 << 28):
        self.min_bytes = min_bytes
        self.max_bytes = max_bytes
        self._blocks: dict[int, list] = {}
        self._total = 0
        self._lock = threading.Lock()

    def empty(self, shape, dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        if nbytes < self.min_bytes:
            return np.empty(shape, dtype)
        with self._lock:
            blocks = self._blocks.setdefault(nbytes, [])
            for block in blocks:
                # References: the list, this loop variable, getrefcount's argument.
                if sys.getrefcount(block) == 3:
                    return block.view(dtype).reshape(shape)
            self._evict(nbytes)
            block = np.empty(nbytes, np.uint8)
            blocks.append(block)
            self._total += nbytes
        return block.view(dtype).reshape(shape)

    def _evict(self, incoming: int) -> None:
        if self._total + incoming <= self.max_bytes:
            return
        for size, blocks in list(self._blocks.items()):
            keep = []
            for block in blocks:
                if sys.getrefcount(block) == 3 and self._total + incoming > self.max_bytes:
                    self._total -= size
                else:
                    keep.append(block)
            self._blocks[size] = keep

    def clear(self) -> None:
        with self._lock:
            self._blocks.clear()
            self._total = 0


class ThreadPool:
    """Workers that run kernel chunks; the calling thread runs the first chunk."""

    def __init__(self, threads: int):
        self.threads = max(1, threads)
        self._pool = None
        self._lock = threading.Lock()

    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.threads - 1,
                                                    thread_name_prefix="plax-cpu")
        return self._pool

    def run(self, fn, args, extent: int) -> None:
        chunks = self.threads
        step = -(-extent // chunks)
        bounds = [(s, min(s + step, extent)) for s in range(0, extent, step)]
        pool = self.pool()
        futures = [pool.submit(fn, args, lo, hi) for lo, hi in bounds[1:]]
        lo, hi = bounds[0]
        fn(args, lo, hi)
        for f in futures:
            f.result()


def default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class CpuExecutable(Executable):
    """Runs a schedule. ``execute`` is generated Python: one straight-line function
    per schedule, with each step's kernel, shapes and slots bound as constants,
    so a small program costs little more than its ctypes calls."""

    def __init__(self, closed_jaxpr, schedule: Schedule, functions: dict, pool: ThreadPool,
                 abi: str, parallel_work: int, text: str = "", buffers: BufferPool | None = None,
                 compile_jaxpr=None):
        self.in_avals = closed_jaxpr.in_avals
        self.out_avals = closed_jaxpr.out_avals
        self.schedule = schedule
        self._text = text
        self.source, namespace = _generate(schedule, functions, pool, abi, parallel_work,
                                           buffers or BufferPool(max_bytes=0), compile_jaxpr)
        self.execute = namespace["execute"]

    def execute(self, buffers):  # replaced per instance by the generated function
        raise NotImplementedError

    def as_text(self) -> str:
        return self._text


def contiguous(a):
    """A C-contiguous, aligned array (host steps may return views); keeps 0-d as 0-d,
    which np.ascontiguousarray does not."""
    a = np.asarray(a)
    if a.flags.c_contiguous and a.flags.aligned:
        return a
    return np.array(a, copy=True, order="C")


def _host_runner(step, compile_jaxpr):
    if isinstance(step, LibraryStep):
        from plax_cpu_llvm import library  # library steps build on this module

        return library.FACTORIES[step.primitive.name](step, compile_jaxpr)
    params = step.params
    avals = step.out_avals
    primitive = step.primitive
    return lambda *args: reference.apply(primitive, list(args), params, avals)


def _generate(schedule: Schedule, functions: dict, pool: ThreadPool, abi: str,
              parallel_work: int, buffers: BufferPool, compile_jaxpr=None):
    """Python source of ``execute(buffers)`` for a schedule, and its namespace."""
    ns = {"np": np, "empty": np.empty, "contiguous": contiguous, "pooled": buffers.empty}
    ns["_min_pooled"] = buffers.min_bytes
    lines = ["def execute(buffers):"]
    ins = [f"s{slot}" for slot in schedule.input_slots]
    if ins:
        lines.append(f"    {', '.join(ins)}{',' if len(ins) == 1 else ''} = buffers")
    for slot, value in schedule.consts:
        ns[f"c{slot}"] = contiguous(value)
        lines.append(f"    s{slot} = c{slot}")
    producers = {}
    for n, (step, frees) in enumerate(zip(schedule.steps, schedule.frees)):
        if isinstance(step, KernelStep):
            lines.extend(_kernel_lines(n, step, functions, pool, abi, parallel_work, producers,
                                       ns))
        elif isinstance(step, AllocStep):
            for slot, aval in zip(step.outputs, step.out_avals):
                ns[f"dt{slot}"] = aval.dtype
                lines.append(f"    s{slot} = empty({aval.shape!r}, dt{slot})")
        else:
            ns[f"host{n}"] = _host_runner(step, compile_jaxpr)
            args = []
            for k, item in enumerate(step.inputs):
                if isinstance(item, Literal):
                    ns[f"lit{n}_{k}"] = item.val
                    args.append(f"lit{n}_{k}")
                else:
                    args.append(f"s{item}")
            outs = ", ".join(f"s{slot}" for slot in step.outputs)
            lines.append(f"    {outs}{',' if len(step.outputs) == 1 else ''} = "
                         f"host{n}({', '.join(args)})")
        for slot in step.outputs:
            producers[slot] = step
        if frees:
            lines.append(f"    {' = '.join(f's{slot}' for slot in frees)} = None")
    outs = []
    for k, item in enumerate(schedule.outputs):
        if isinstance(item, Literal):
            ns[f"out{k}"] = np.array(item.val)
            outs.append(f"out{k}")
        elif isinstance(producers.get(item), (HostStep, LibraryStep)):
            # Buffers leave the program contiguous: the next program's kernels rely on it.
            outs.append(f"contiguous(s{item})")
        else:
            outs.append(f"s{item}")
    lines.append(f"    return [{', '.join(outs)}]")
    source = "\n".join(lines) + "\n"
    exec(_compiled(source), ns)
    return source, ns


@functools.lru_cache(maxsize=4096)
def _compiled(source: str):
    # Programs of the same structure share their source text (constants are names).
    return compile(source, "<plax_cpu_llvm program>", "exec")


def _kernel_lines(n, step: KernelStep, functions, pool, abi, parallel_work, producers, ns):
    kernel = step.kernel
    ns[f"k{n}"] = functions[kernel.text()]
    lines = []
    args = []
    for slot in step.inputs:
        name = f"s{slot}"
        # Only arrays made by host/library steps can be non-contiguous views.
        if isinstance(producers.get(slot), (HostStep, LibraryStep)):
            lines.append(f"    {name} = contiguous({name})")
        args.append(name)
    for slot, aval in zip(step.outputs, step.out_avals):
        ns[f"dt{slot}"] = aval.dtype
        alloc = "pooled" if aval.size * aval.dtype.itemsize >= ns["_min_pooled"] else "empty"
        lines.append(f"    s{slot} = {alloc}({aval.shape!r}, dt{slot})")
        args.append(f"s{slot}")
    for k, (dt, size) in enumerate(step.scratch):
        ns[f"sdt{n}_{k}"] = np.dtype(dt)
        args.append(f"empty({size}, sdt{n}_{k})")
    if abi == "pointers":
        ns[f"ptrs{n}"] = ctypes.c_void_p * len(kernel.buffers)
        packed = f"ptrs{n}(" + ", ".join(f"{a}.ctypes.data" for a in args) + ")"
        if step.scratch:  # keep scratch arrays alive during the call
            lines.append(f"    keep{n} = ({', '.join(args)},)")
            packed = f"ptrs{n}(*[a.ctypes.data for a in keep{n}])"
    else:
        packed = "(" + ", ".join(args) + ("," if len(args) == 1 else "") + ")"
    extent = kernel.parallel_extent
    if extent is not None and extent > 1 and step.work >= parallel_work and pool.threads > 1:
        ns[f"pool{n}"] = pool
        lines.append(f"    pool{n}.run(k{n}, {packed}, {extent})")
    else:
        lines.append(f"    k{n}({packed}, 0, {1 if extent is None else extent})")
    return lines
