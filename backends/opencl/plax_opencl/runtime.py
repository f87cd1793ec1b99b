"""Running schedules on an OpenCL device.

``DeviceState`` owns one device's context, in-order command queue, program cache
and renderer. ``CLBuffer`` is a device buffer with its shape and dtype and the
event of the last command that wrote it: kernels are enqueued and ``execute``
returns at once (the queue runs them in order), ``wait`` (``block_until_ready``)
waits for that event, and ``to_numpy`` is a blocking read, which waits for
everything before it. A buffer is released when its last reference dies
(pyopencl's ``Buffer`` releases the ``cl_mem``, and OpenCL keeps it alive until
the commands using it finish); the memory of large ones goes to a bounded
``BufferPool`` first, for the next output of the same size.

``CLExecutable`` runs a schedule step by step: kernel steps are launches with
their arguments prepared at compile time, host steps run the reference
implementation on host copies (always correct, the fallback for whatever kernels
do not cover), library steps run the backend's own kernels (``library``).
"""

from __future__ import annotations

import math
import threading

import numpy as np
from plax import dtypes
from plax.backend import Executable
from plax.interpreters import reference
from plax.jaxpr import Literal
from plax.lowering.schedule import AllocStep, KernelStep, LibraryStep

from plax_opencl.errors import BufferTooLarge, DeviceCapabilityError

__all__ = ["DeviceState", "CLBuffer", "CLExecutable", "BufferPool"]


class CLBuffer:
    """An immutable array in device memory (``mem`` is None for empty arrays)."""

    __slots__ = ("mem", "shape", "dtype", "state", "event", "__weakref__")

    def __init__(self, mem, shape, dtype, state: DeviceState, event=None):
        self.mem = mem
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.state = state
        self.event = event

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def wait(self) -> None:
        event = self.event
        if event is not None:
            event.wait()
            self.event = None

    def to_numpy(self) -> np.ndarray:
        host = np.empty(self.shape, self.dtype)
        if self.mem is not None:
            self.state.cl.enqueue_copy(self.state.queue, host, self.mem, is_blocking=True)
            self.event = None
        host.flags.writeable = False
        return host

    def __repr__(self) -> str:
        return f"CLBuffer({self.dtype.name}{list(self.shape)} on {self.state.info.label})"

    def __del__(self):
        mem = self.mem
        if mem is not None and self.nbytes >= BufferPool.MIN_BYTES:
            try:
                self.state.pool.give(mem, self.nbytes)
            except Exception:  # noqa: BLE001 -- interpreter shutdown: let it go
                pass


class BufferPool:
    """Device memory of dead large buffers, reused for new ones of the same size.

    A fresh multi-megabyte buffer costs a page fault per page when first written (on
    CPU devices), often more than the kernel that fills it. Reuse is safe on the one
    in-order queue: commands still reading a dead buffer were enqueued before any
    command that writes its memory again, and host reads block."""

    MIN_BYTES = 1 << 20

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.total = 0
        self._free: dict = {}
        self._lock = threading.Lock()

    def give(self, mem, nbytes: int) -> None:
        with self._lock:
            if self.total + nbytes > self.max_bytes:
                return
            self._free.setdefault(nbytes, []).append(mem)
            self.total += nbytes

    def take(self, nbytes: int):
        with self._lock:
            free = self._free.get(nbytes)
            if free:
                self.total -= nbytes
                return free.pop()
        return None

    def clear(self) -> None:
        with self._lock:
            self._free.clear()
            self.total = 0


def local_size_for(info) -> int:
    """One work-group size for every launch (PoCL, and some GPU drivers, compile a kernel
    once per size it is launched with); a power of two, for cooperative reductions."""
    size = 64 if info.kind == "cpu" else 256
    while size > max(1, info.max_work_group_size):
        size //= 2
    return size


class DeviceState:
    """One OpenCL device in use: context, queue, programs, launch geometry."""

    def __init__(self, cl, info, renderer, programs):
        self.cl = cl
        self.info = info
        self.context = programs.context
        self.queue = cl.CommandQueue(self.context, info.cl_device)
        self.renderer = renderer
        self.programs = programs
        self.lock = threading.Lock()
        self.local_size = local_size_for(info)
        self.max_groups = max(1, info.compute_units) * (8 if info.kind == "cpu" else 32)
        self.pool = BufferPool(min(info.global_mem // 8, 1 << 30))
        self._dummy = None

    # -- memory ---------------------------------------------------------------------------
    def check_dtype(self, dtype, what: str) -> None:
        dtype = np.dtype(dtype)
        if dtype == dtypes.float64 and not self.info.fp64:
            raise DeviceCapabilityError(
                f"backend 'opencl': {self.info.label} does not support float64 (it has no "
                f"cl_khr_fp64), needed for {what}. Use float32 (plax.config.update("
                f"'enable_x64', False)), another device (PLAX_OPENCL_DEVICE) or another backend."
            )
        if dtype.itemsize == 8 and dtypes.is_integer(dtype) and not self.info.int64:
            raise DeviceCapabilityError(
                f"backend 'opencl': {self.info.label} does not support 64-bit integers "
                f"(embedded profile without cles_khr_int64), needed for {what}."
            )

    def check_size(self, nbytes: int, what: str) -> None:
        if nbytes > self.info.max_alloc:
            raise BufferTooLarge(
                f"backend 'opencl': {self.info.label} cannot hold {what} of {nbytes} bytes: "
                f"its largest buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE) is {self.info.max_alloc} "
                f"bytes. Split the computation into smaller arrays, or use another device "
                f"(PLAX_OPENCL_DEVICE) or backend."
            )

    def alloc(self, nbytes: int):
        mf = self.cl.mem_flags
        return self.cl.Buffer(self.context, mf.READ_WRITE, max(int(nbytes), 1))

    def upload(self, array: np.ndarray, what: str = "an array") -> CLBuffer:
        array = np.asarray(array)
        self.check_dtype(array.dtype, what)
        self.check_size(array.nbytes, what)
        if array.size == 0:
            return CLBuffer(None, array.shape, array.dtype, self)
        host = np.ascontiguousarray(array)
        mf = self.cl.mem_flags
        mem = self.cl.Buffer(self.context, mf.READ_WRITE | mf.COPY_HOST_PTR, hostbuf=host)
        return CLBuffer(mem, array.shape, array.dtype, self)

    def empty(self, shape, dtype) -> CLBuffer:
        size = math.prod(shape)
        if size == 0:
            return CLBuffer(None, shape, dtype, self)
        nbytes = size * np.dtype(dtype).itemsize
        mem = self.pool.take(nbytes) if nbytes >= BufferPool.MIN_BYTES else None
        if mem is None:
            mem = self.alloc(nbytes)
        return CLBuffer(mem, shape, dtype, self)

    @property
    def dummy(self):
        """A one-byte buffer passed where a kernel parameter is an empty array."""
        if self._dummy is None:
            self._dummy = self.alloc(16)
        return self._dummy

    # -- launches ---------------------------------------------------------------------------
    def geometry(self, extent: int | None, cooperative: bool = False) -> tuple[tuple, tuple]:
        if extent is None:
            return (1,), (1,)
        if cooperative:
            # A work-group per iteration (groups stride over the rest).
            groups = min(max(1, extent), self.max_groups * 4)
        else:
            groups = min(max(1, -(-extent // self.local_size)), self.max_groups)
        return (groups * self.local_size,), (self.local_size,)

    def launch(self, kernel, args, global_size, local_size):
        with self.lock:
            kernel.set_args(*args)
            return self.cl.enqueue_nd_range_kernel(self.queue, kernel, global_size, local_size)


# ----------------------------------------------------------------------------
# Executables.


_CTYPE_BYTES = {"bool": 1, "char": 1, "uchar": 1, "short": 2, "ushort": 2, "int": 4, "uint": 4,
                "long": 8, "ulong": 8, "float": 4, "double": 8}


class _KernelLaunch:
    """A kernel step, prepared: the ``pyopencl.Kernel`` of its entry point, its fixed
    arguments (the extent, lifted constants, local memory, the case of a dispatching
    entry), and its launch geometry. A launch sets the fixed arguments again when
    another step used the kernel last, then the buffers, and enqueues.

    Steps start on the kernel their entry point shares (making a ``pyopencl.Kernel``
    costs pyopencl 0.1-0.7 ms, more than most first runs); a step that keeps finding
    another's arguments there (steps of one program taking turns, run again and again)
    gets a kernel of its own, whose fixed arguments are set once."""

    SHARED_SWITCHES = 2

    __slots__ = ("entry", "kernel", "first", "inputs", "outputs", "out_avals", "scratch",
                 "gsize", "lsize", "state", "fixed", "own", "switches")

    def __init__(self, state: DeviceState, step: KernelStep, handle, params, rendered, kernel):
        self.state = state
        self.entry = handle.entry
        self.kernel = handle.entry.kernel
        self.inputs = step.inputs
        self.outputs = step.outputs
        self.out_avals = step.out_avals
        self.scratch = tuple((np.dtype(dt), int(size)) for dt, size in step.scratch)
        # ``kernel``: the kernel IR as rendered (the backend may rewrite the step's).
        extent = kernel.parallel_extent
        n = np.int64(1 if extent is None else extent)
        nbuf = len(kernel.buffers)
        if handle.which is None:
            # Its own __kernel: buffers, then the extent, the lifted constants and the
            # local memory of cooperative reductions.
            self.first = 0
            values = [n] if params is None else [n, params]
            for ctype in rendered.local_types:
                values.append(state.cl.LocalMemory(_CTYPE_BYTES[ctype] * state.local_size))
            fixed = [(nbuf + k, value) for k, value in enumerate(values)]
            self.gsize, self.lsize = state.geometry(extent, rendered.cooperative)
        else:
            # A case of a dispatching entry: (which, n, params, buffers..., padding).
            self.first = 3
            head = [np.int32(handle.which), n, state.dummy if params is None else params]
            fixed = list(enumerate(head))
            fixed += [(3 + k, state.dummy) for k in range(nbuf, handle.nbuf)]
            # Every launch of the entry uses one work-group size (see dispatch_program).
            self.gsize, self.lsize = state.geometry(1 if extent is None else extent,
                                                    rendered.cooperative)
        # A kernel argument does not keep its buffer alive: this does.
        self.fixed = tuple(fixed)
        self.own = False
        self.switches = 0

    def __call__(self, env: list) -> None:
        state = self.state
        kernel = self.kernel
        k = self.first
        outs = [state.empty(aval.shape, aval.dtype) for aval in self.out_avals]
        with state.lock:
            entry = self.entry
            if not self.own and entry.owner is not self:
                self.switches += 1
                if self.switches > self.SHARED_SWITCHES:
                    kernel = self.kernel = state.cl.Kernel(entry.program, entry.name)
                    self.own = True
                else:
                    entry.owner = self
                for index, value in self.fixed:
                    kernel.set_arg(index, value)
            for slot in self.inputs:
                mem = env[slot].mem
                kernel.set_arg(k, state.dummy if mem is None else mem)
                k += 1
            for out in outs:
                kernel.set_arg(k, out.mem)
                k += 1
            # Scratch memory must outlive the enqueue (then the command holds it).
            scratch = [state.alloc(size * dt.itemsize) for dt, size in self.scratch]
            for mem in scratch:
                kernel.set_arg(k, mem)
                k += 1
            event = state.cl.enqueue_nd_range_kernel(state.queue, kernel, self.gsize,
                                                     self.lsize)
        for slot, out in zip(self.outputs, outs):
            out.event = event
            env[slot] = out


class _HostRun:
    """A host step: the reference implementation on host copies."""

    __slots__ = ("primitive", "params", "inputs", "outputs", "out_avals", "state")

    def __init__(self, state: DeviceState, step):
        self.state = state
        self.primitive = step.primitive
        self.params = step.params
        self.inputs = step.inputs
        self.outputs = step.outputs
        self.out_avals = step.out_avals

    def __call__(self, env: list) -> None:
        args = [item.val if isinstance(item, Literal) else env[item].to_numpy()
                for item in self.inputs]
        results = reference.apply(self.primitive, args, self.params, self.out_avals)
        for slot, value, aval in zip(self.outputs, results, self.out_avals):
            env[slot] = self.state.upload(np.asarray(value, aval.dtype))


class _Alloc:
    __slots__ = ("outputs", "out_avals", "state")

    def __init__(self, state: DeviceState, step: AllocStep):
        self.state = state
        self.outputs = step.outputs
        self.out_avals = step.out_avals

    def __call__(self, env: list) -> None:
        for slot, aval in zip(self.outputs, self.out_avals):
            env[slot] = self.state.empty(aval.shape, aval.dtype)


class CLExecutable(Executable):
    def __init__(self, closed_jaxpr, schedule, state: DeviceState, runners: list, text: str):
        self.in_avals = closed_jaxpr.in_avals
        self.out_avals = closed_jaxpr.out_avals
        self.schedule = schedule
        self.state = state
        self._text = text
        self.num_slots = schedule.num_slots
        self.input_slots = schedule.input_slots
        self.consts = [(slot, state.upload(np.asarray(value), "a program constant"))
                       for slot, value in schedule.consts]
        self.steps = list(zip(runners, schedule.frees))
        self.outputs = []
        for item, aval in zip(schedule.outputs, schedule.out_avals):
            if isinstance(item, Literal):
                value = np.asarray(item.val, aval.dtype)
                self.outputs.append(("const", state.upload(value, "a program constant")))
            else:
                self.outputs.append(("slot", item))

    def execute(self, buffers):
        env: list = [None] * self.num_slots
        for slot, buf in zip(self.input_slots, buffers):
            env[slot] = buf
        for slot, buf in self.consts:
            env[slot] = buf
        for run, frees in self.steps:
            run(env)
            for slot in frees:
                env[slot] = None
        return [value if kind == "const" else env[value] for kind, value in self.outputs]

    def as_text(self) -> str:
        return self._text


def make_runner(state: DeviceState, schedule, step, kernels: dict, library_runner):
    """The callable running one schedule step."""
    if isinstance(step, KernelStep):
        handle, params, rendered, kernel = kernels[id(step)]
        return _KernelLaunch(state, step, handle, params, rendered, kernel)
    if isinstance(step, AllocStep):
        return _Alloc(state, step)
    if isinstance(step, LibraryStep):
        in_avals = [None if isinstance(item, Literal) else schedule.slot_avals.get(item)
                    for item in step.inputs]
        runner = library_runner(state, step, in_avals)
        if runner is not None:
            return runner
    return _HostRun(state, step)
