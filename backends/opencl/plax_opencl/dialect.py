"""The OpenCL C dialect of the shared C renderer.

Everything but a handful of attributes comes from ``plax.lowering.c_renderer``:
OpenCL C names its types ``char``/``uchar``/.../``long``, overloads its math
functions (no ``f`` suffix), reinterprets bits with ``as_<type>``, and maps the
parallel loop to a grid-stride loop over ``get_global_id(0)``.

float16 buffers are ``half*`` read and written with ``vload_half`` and
``vstore_half_rte``, core functions of OpenCL 1.2 that need no extension; the
rounding of a float32 result to float16 after every op goes through the same
functions on private memory. float16 values compute in float32 on every device
(the kernel IR's semantics: each op's float32 result rounded once to float16 is
the correctly rounded float16 result); ``cl_khr_fp16`` only enables the pragma.
"""

from __future__ import annotations

import numpy as np
from plax import dtypes
from plax.lowering.c_renderer import CRenderer

__all__ = ["OpenCLRenderer"]


class OpenCLRenderer(CRenderer):
    name = "opencl"
    kernel_prefix = "__kernel void"
    global_qual = "__global "
    restrict = "restrict"
    helper_prefix = "static inline"
    thread_start = "(long)get_global_id(0)"
    thread_step = "(long)get_global_size(0)"
    local_qual = "__local "
    local_id = "(long)get_local_id(0)"
    group_id = "(long)get_group_id(0)"
    group_count = "(long)get_num_groups(0)"
    barrier = "barrier(CLK_LOCAL_MEM_FENCE);"
    index_type = "long"
    int64_suffix = "L"
    type_map = {
        np.dtype(np.bool_): "bool",
        np.dtype(np.int8): "char", np.dtype(np.int16): "short",
        np.dtype(np.int32): "int", np.dtype(np.int64): "long",
        np.dtype(np.uint8): "uchar", np.dtype(np.uint16): "ushort",
        np.dtype(np.uint32): "uint", np.dtype(np.uint64): "ulong",
        dtypes.float16: "float", dtypes.bfloat16: "float",
        np.dtype(np.float32): "float", np.dtype(np.float64): "double",
    }
    storage_map = {
        np.dtype(np.bool_): "uchar", dtypes.float16: "half", dtypes.bfloat16: "ushort",
    }
    math_suffix = {}
    f16_io_helpers = ()

    def __init__(self, fp64: bool = True, fp16: bool = False, local_size: int = 64,
                 cpu: bool = False):
        # CPU drivers vectorise a work-item's own loop: give each one a contiguous chunk.
        self.parallel_style = "chunk" if cpu else "stride"
        self.fp64 = fp64
        self.fp16 = fp16
        self.local_size = local_size
        pragmas = ["#pragma OPENCL FP_CONTRACT OFF"]
        if fp64:
            pragmas.append("#pragma OPENCL EXTENSION cl_khr_fp64 : enable")
        if fp16:
            pragmas.append("#pragma OPENCL EXTENSION cl_khr_fp16 : enable")
        self.preamble = "\n".join(pragmas) + "\n"
        if not fp64:
            self.type_map = {k: v for k, v in self.type_map.items() if v != "double"}

    def load_f16(self, buffer: str, index: str) -> str:
        return f"vload_half({index}, {buffer})"

    def store_f16(self, buffer: str, index: str, value: str) -> str:
        return f"vstore_half_rte({value}, {index}, {buffer});"

    def bitcast(self, value: str, src: str, dst: str) -> str:
        return f"as_{dst}({value})"

    def bitcast_helper(self, src: str, dst: str) -> str:
        return ""

    def round_narrow(self, text: str, dtype, state) -> str:
        if np.dtype(dtype) == dtypes.float16:
            return f"{state.need('plax_round_f16')}({text})"
        return super().round_narrow(text, dtype, state)

    def _helper_round_f16(self, name, state):
        # The core half conversions, on private memory: the device's own rounding
        # (hardware on GPUs), no extension needed.
        return (f"{self.helper_prefix} float {name}(float x) {{\n"
                f"  ushort h;\n"
                f"  vstore_half_rte(x, 0, (__private half*)&h);\n"
                f"  return vload_half(0, (__private half*)&h);\n}}\n"), ()

    # ---- programs ------------------------------------------------------------------------
    def dispatch_program(self, entries: list) -> tuple[str, dict]:
        """One program whose entry points each run any of their kernels: ``entries`` is
        [(entry name, [Rendered, ...]), ...], and each entry is
        ``name(int which, long plax_n, __global const long* plax_p, a0, a1, ...)``,
        calling its kernel ``which`` with the buffers ``a0...`` cast to its types.

        CPU drivers (PoCL) generate and link machine code per entry point when it is
        first launched (about 40 ms each); an entry serving many kernels pays that once.
        Kernels without a parallel loop run on work-item 0 only, so every launch can
        use the same work-group size (one code generation per size), ``local_size``,
        which is also the size of the ``__local`` arrays of cooperative kernels.
        Returns (source, {entry name: number of buffer parameters})."""
        every = [r for _, kernels in entries for r in kernels]
        parts = [self.program_head(every)]
        nbufs = {}
        count = 0
        for entry, kernels in entries:
            cases = []
            nbuf = max((len(r.pointer_types) for r in kernels), default=0)
            local_types = []
            for r in kernels:
                local_types.extend(t for t in r.local_types if t not in local_types)
            for j, r in enumerate(kernels):
                fname = f"plax_f{count}"
                count += 1
                parts.append(r.function("static void", fname))
                args = [f"({ptr})a{k}" for k, ptr in enumerate(r.pointer_types)]
                args.append("plax_n")
                if r.params:
                    args.append("plax_p")
                args.extend(f"plax_lmem{local_types.index(t)}" for t in r.local_types)
                call = f"{fname}({', '.join(args)});"
                if not r.parallel:
                    call = f"if (get_global_id(0) == 0) {call}"
                cases.append(f"  case {j}: {call} break;")
            buffers = "".join(f", __global uchar* a{k}" for k in range(nbuf))
            # __local arrays live at kernel scope (OpenCL 1.2); the kernels get pointers.
            local = "".join(f"  __local {t} plax_lmem{k}[{self.local_size}];\n"
                            for k, t in enumerate(local_types))
            parts.append(f"__kernel void {entry}(int which, long plax_n, "
                         f"__global const long* plax_p{buffers}) {{\n{local}"
                         f"  switch (which) {{\n" + "\n".join(cases) + "\n  }\n}\n")
            nbufs[entry] = nbuf
        return "\n".join(parts), nbufs
