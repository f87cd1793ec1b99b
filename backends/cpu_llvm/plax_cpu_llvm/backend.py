"""The ``cpu_llvm`` backend: numpy buffers, fused LLVM kernels.

Only the public plugin API is used: ``plax.backend`` for the interfaces,
``plax.lowering`` to fuse jaxprs into kernels, and the reference interpreter
(through host steps) for the primitives kernels do not cover yet.
"""

from __future__ import annotations

import numpy as np

from plax import dtypes
from plax.backend import Backend, Capabilities, Device, Executable
from plax.lowering import dump as plax_dump
from plax.lowering import plan
from plax.lowering.fusion import Target

from plax_cpu_llvm import codegen, library, runtime
from plax_cpu_llvm.compiler import Compiler

__all__ = ["CpuLlvmBackend"]

# Kernels estimated to do fewer element-operations run on the calling thread.
PARALLEL_WORK = 1_000_000


class CpuLlvmBackend(Backend):
    name = "cpu_llvm"
    platform = "cpu"

    def __init__(self, threads: int | None = None, abi: str | None = None,
                 name: str = "cpu_llvm", **compiler_options):
        self.name = name  # tests register extra instances under other names
        offsets = runtime.pyobject_offsets()
        if abi is None:
            abi = "pyobjects" if offsets is not None else "pointers"
        self.compiler = Compiler(abi=abi, offsets=offsets or (24, 16), **compiler_options)
        self.threads = runtime.default_threads() if threads is None else threads
        self.pool = runtime.ThreadPool(self.threads)
        self.buffers = runtime.BufferPool()
        self.target = Target(
            supports_op=self._supports_op,
            supports_dtype=self._supports_dtype,
            library=library.PRIMITIVES,
            threads=self.threads,
        )
        self._functions: dict = {}
        self._device = Device(self.name, 0, "cpu", f"{self.compiler.cpu}, {self.threads} threads")

    # -- what kernels can do ----------------------------------------------------------
    def _supports_dtype(self, dt) -> bool:
        if dt == dtypes.float16 and not self.compiler.has_f16c:
            return False  # half conversions would need compiler-rt helpers
        return dt in codegen.COMPUTE_TYPE or dt == np.dtype(np.int64)

    def _supports_op(self, op, in_dtypes, out_dtype) -> bool:
        return codegen.supports_op(op, in_dtypes, out_dtype)

    # -- the Backend interface ------------------------------------------------------------
    def devices(self) -> list[Device]:
        return [self._device]

    def capabilities(self) -> Capabilities:
        return Capabilities(
            dtypes=frozenset(dtypes.ALL),
            notes=(("compiler", f"LLVM {self.compiler.info()['llvm']}"),
                   ("threads", str(self.threads)),
                   ("vector_math", self.compiler.info()["vector_math"])),
        )

    def buffer_from_numpy(self, array: np.ndarray, device: Device):
        return runtime.freeze(np.array(array, copy=True, order="C"))

    def buffer_to_numpy(self, buffer) -> np.ndarray:
        return buffer

    def compile(self, closed_jaxpr, device: Device, schedule=None) -> Executable:
        """``schedule``: the program's plan when the caller made it already."""
        name = "program"
        if schedule is None:
            schedule = self.plan(closed_jaxpr)
        text = schedule.text()
        kernels = schedule.kernels
        functions = {}
        if kernels:
            notes = {s.kernel.text(): s.note for s in schedule.steps if s.kind == "kernel"}
            addresses = self.compiler.compile(kernels, name, notes)
            for kernel_text, address in addresses.items():
                fn = self._functions.get(address)
                if fn is None:
                    fn = self._functions[address] = self.compiler.function(address)
                functions[kernel_text] = fn
        return runtime.CpuExecutable(closed_jaxpr, schedule, functions, self.pool,
                                     self.compiler.abi, PARALLEL_WORK, text, self.buffers,
                                     compile_jaxpr=_SubCompiler(self, device))

    def plan(self, closed_jaxpr):
        """The kernel schedule of a program (dumped with ``PLAX_DUMP``)."""
        if plax_dump.enabled():
            plax_dump.dump("jaxpr", "program", str(closed_jaxpr))
        schedule = plan(closed_jaxpr, self.target)
        plax_dump.dump("schedule", "program", schedule.text())
        return schedule

    def info(self) -> dict:
        info = dict(self.compiler.info())
        info["threads"] = self.threads
        info["abi"] = self.compiler.abi
        return info


class _SubCompiler:
    """What library steps use to compile sub-jaxprs (loop bodies, branches)."""

    parallel_work = PARALLEL_WORK

    def __init__(self, backend: CpuLlvmBackend, device: Device):
        self.backend = backend
        self.device = device

    def __call__(self, closed_jaxpr, schedule=None) -> Executable:
        return self.backend.compile(closed_jaxpr, self.device, schedule)

    def plan(self, closed_jaxpr):
        """Only the schedule: a loop that runs natively never needs its bodies compiled
        on their own (the driver inlines their kernels)."""
        return self.backend.plan(closed_jaxpr)
