"""The shared C-style renderer: kernel IR -> source for C-like targets.

``CRenderer.render(kernel)`` turns one ``Kernel`` into the text of a function a
C-like compiler (OpenCL C, CUDA C, plain C99) builds. A dialect is a subclass
that changes class attributes and, for the few things that are not a name, a
method:

* ``type_map`` / ``storage_map``: the type a dtype computes in / is stored in.
  bool is stored as a byte; float16 and bfloat16 compute in float32 (rounded to
  their dtype after every op, as the kernel IR specifies) and are stored as
  16-bit patterns (a dialect with native half loads maps float16 to ``half``
  and overrides ``load_f16``/``store_f16``).
* ``kernel_prefix``, ``global_qual``, ``const_qual``, ``restrict``: the kernel
  signature (``__kernel void``, ``__global ``, ...); ``helper_prefix`` for the
  small helper functions a kernel uses.
* ``thread_start`` / ``thread_step`` (a thread's index and the thread count) and
  ``parallel_style``: how the parallel loop maps to threads, over the run-time
  extent ``plax_n`` so that one compiled kernel serves every size (the kernel's
  text hides that extent too): a grid-stride loop
  ``for (i = thread_start; i < plax_n; i += thread_step)`` (``"stride"``, for
  GPUs), or one contiguous chunk per thread (``"chunk"``, for CPUs, where the
  chunk's loop vectorises). Plain C uses ``0`` and ``1``: one thread, all of it.
* ``math_names``: the function each transcendental op calls (OpenCL and CUDA
  differ only in suffixes: ``exp`` versus ``expf``); ``math_suffix`` per
  compute type.
* ``bitcast(expr, src, dst)`` (and ``bitcast_helper``), ``round_f16(expr)``,
  ``load_f16``/``store_f16`` (and the helpers they call, ``f16_io_helpers``): how
  bits are reinterpreted and half precision is converted.
* ``index_type``: the C type of ``INDEX`` values (64-bit).

Every op keeps plax's semantics without undefined behaviour: signed integer
arithmetic wraps (it is done in the unsigned type), integer division and
remainder are guarded (x / 0 == -1, INT_MIN / -1 == INT_MIN, x rem 0 == x),
shifts by amounts outside [0, bits) give 0 or the sign fill, float -> integer
conversion truncates and saturates (NaN -> 0), max/min propagate NaN and order
-0.0 below +0.0. Float contraction (a*b+c -> fma) must be off in the dialect's
preamble: every op is rounded on its own, as the reference computes it.

``OP_RENDERERS`` maps each kernel ALU op to a method name; a new op is one
entry there and one small method (or a row in ``INFIX``/``MATH_OPS``).

The module has two companions: ``c_kernel`` walks a kernel's statements and
expressions (``KernelWriter``: temporaries, scopes, lifted constants, the
cooperative work-group form of reductions), ``c_helpers`` holds the small C
functions kernels call (half-precision conversions, NaN-propagating max/min,
saturating float -> int, ...), generated per dialect and only when used.

Constants can be *lifted* (``render(kernel, lift=True)``): every constant
other than booleans, -1, 0 and 1 (and +0.0 and 1.0) and every serial loop extent
is read from a parameter array ``plax_p`` of 64-bit patterns instead of being
written into the source, so kernels that differ only in their shapes (or in a
mean's divisor) share one compiled program: compilers like PoCL and NVRTC take a
large fraction of a second per program. The values come back in
``Rendered.params``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from plax import dtypes
from plax.lowering.c_helpers import CHelpers
from plax.lowering.c_kernel import KernelWriter, cooperative_plan
from plax.lowering.kernel_ir import INDEX, Const, Kernel, Op

__all__ = ["CRenderer", "Rendered", "UnsupportedOp", "NARROW", "OP_RENDERERS", "kind_of"]

NARROW = (dtypes.float16, dtypes.bfloat16)
_BOOL = np.dtype(np.bool_)

# Ops whose result is exact in float16/bfloat16 when the operands are: no rounding.
EXACT_IN_NARROW = {
    "neg", "abs", "max", "min", "select_n", "clamp", "floor", "ceil", "round", "sign",
    "bitcast_convert_type", "convert_element_type", "nextafter",
}

# Transcendental ops: op -> C99 function name (the float32 version adds math_suffix).
MATH_OPS = {
    "exp": "exp", "exp2": "exp2", "log": "log", "log1p": "log1p", "expm1": "expm1",
    "sqrt": "sqrt", "cbrt": "cbrt", "sin": "sin", "cos": "cos", "tan": "tan", "asin": "asin",
    "acos": "acos", "atan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "asinh": "asinh", "acosh": "acosh", "atanh": "atanh", "erf": "erf", "erfc": "erfc",
    "lgamma": "lgamma", "floor": "floor", "ceil": "ceil", "atan2": "atan2", "pow": "pow",
    "fmod": "fmod", "fabs": "fabs", "copysign": "copysign", "round": "round", "rint": "rint",
}

# Binary operators written infix, and comparisons.
INFIX = {"add": "+", "sub": "-", "mul": "*", "and": "&", "or": "|", "xor": "^"}
COMPARE = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


class UnsupportedOp(NotImplementedError):
    """The renderer has no rule for an op at these dtypes."""


def kind_of(dtype) -> str:
    """``b`` bool, ``i`` signed integer (INDEX included), ``u`` unsigned, ``f`` float.
    INDEX is int64: index arithmetic is rendered exactly like int64 data (it never
    overflows, so wrapping costs nothing), and divisions by constants are plain."""
    dtype = np.dtype(dtype)
    if dtype == _BOOL:
        return "b"
    if dtypes.is_float(dtype):
        return "f"
    return "i" if dtypes.is_signed(dtype) else "u"


@dataclass
class Rendered:
    """A rendered kernel: its parts and the facts a runtime needs to launch it.

    ``source`` is a whole program (preamble, helpers, the kernel function);
    ``function(prefix, name)`` renders the function alone with another prefix or
    name (to put several kernels in one program, as ``CRenderer.program`` does, or to
    call them from a dispatching kernel). ``pointer_types`` are the C types of the
    buffer parameters, in order; after them come ``index_type plax_n`` (the parallel
    loop's extent) and, when ``params`` is not empty, the lifted constants
    ``plax_p``, then one ``__local`` array of ``local_size`` elements per type in
    ``local_types``. ``parallel`` says whether the kernel has a parallel loop (else
    one thread must run it); ``cooperative`` whether a work-group computes each of its
    iterations together (launch at least one group per iteration, or fewer: groups
    stride over the iterations)."""

    preamble: str
    helpers: tuple
    prefix: str
    name: str
    parameters: tuple  # declarations, in order
    pointer_types: tuple
    body: str
    params: tuple
    parallel: bool
    local_types: tuple = ()  # C types of the __local scratch arrays a cooperative kernel takes
    cooperative: bool = False

    def function(self, prefix: str | None = None, name: str | None = None) -> str:
        prefix = self.prefix if prefix is None else prefix
        name = self.name if name is None else name
        return f"{prefix} {name}({', '.join(self.parameters)}) {{\n{self.body}}}\n"

    @property
    def source(self) -> str:
        return self.preamble + "".join(text for _, text in self.helpers) + self.function()


class CRenderer(CHelpers):
    # ---- dialect hooks -------------------------------------------------------------
    name = "c"
    preamble = "#include <stdint.h>\n#include <stdbool.h>\n#include <math.h>\n"
    kernel_prefix = "void"
    global_qual = ""
    const_qual = "const "
    restrict = "restrict"
    helper_prefix = "static inline"
    thread_start = "0"
    thread_step = "1"
    # "stride": thread t runs iterations t, t + T, ... (coalesced on GPUs); "chunk": one
    # contiguous run per thread (vectorised, in memory order, on CPUs).
    parallel_style = "stride"
    # Cooperative (work-group) reductions: None disables them; a dialect that has
    # work-groups sets these (see ``c_kernel.KernelWriter.render_cooperative``).
    local_qual = None
    local_id = None
    group_id = None
    group_count = None
    barrier = None
    index_type = "int64_t"
    type_map = {
        np.dtype(np.bool_): "bool",
        np.dtype(np.int8): "int8_t", np.dtype(np.int16): "int16_t",
        np.dtype(np.int32): "int32_t", np.dtype(np.int64): "int64_t",
        np.dtype(np.uint8): "uint8_t", np.dtype(np.uint16): "uint16_t",
        np.dtype(np.uint32): "uint32_t", np.dtype(np.uint64): "uint64_t",
        dtypes.float16: "float", dtypes.bfloat16: "float",
        np.dtype(np.float32): "float", np.dtype(np.float64): "double",
    }
    storage_map = {
        np.dtype(np.bool_): "uint8_t", dtypes.float16: "uint16_t", dtypes.bfloat16: "uint16_t",
    }
    math_names = MATH_OPS
    f16_io_helpers = ("plax_f16_to_f32", "plax_f32_to_f16")
    int64_suffix = "LL"
    math_suffix = {"float": "f", "double": ""}
    literal_suffix = {"float": "f", "double": ""}

    # ---- rendering ------------------------------------------------------------------
    def render(self, kernel: Kernel, name: str = "plax_kernel", lift: bool = False,
               local_size: int | None = None, min_cooperative: int = 256) -> Rendered:
        """The source of ``kernel`` as a function called ``name``.

        With ``local_size`` (a power of two) and a dialect that has work-groups, a kernel
        whose parallel iterations each reduce at least ``min_cooperative`` elements is
        rendered cooperatively: one work-group per iteration, its reductions split
        across the group and combined in local memory."""
        state = KernelWriter(self, kernel, lift)
        plan = None
        if local_size and self.local_qual is not None:
            plan = cooperative_plan(kernel, min_cooperative)
        if plan is not None:
            body = state.render_cooperative(plan, local_size)
        else:
            body = state.render_body()
        parameters = [self.buffer_param(b) for b in kernel.buffers]
        pointers = [self.buffer_pointer(b) for b in kernel.buffers]
        parameters.append(f"{self.index_type} plax_n")
        if state.params:
            parameters.append(f"{self.global_qual}const {self.index_type}* {self.restrict} "
                              f"plax_p")
        for k, ty in enumerate(state.local_types):
            parameters.append(f"{self.local_qual}{ty}* plax_red{k}")
        helpers = tuple((key, text) for key, text in state.helpers.items() if text)
        return Rendered(self.preamble, helpers, self.kernel_prefix, name, tuple(parameters),
                        tuple(pointers), body, tuple(state.params),
                        kernel.parallel_loop is not None, tuple(state.local_types),
                        plan is not None)

    def program(self, kernels: list, names: list, prefix: str | None = None) -> str:
        """One program holding several rendered kernels, renamed to ``names`` (and given
        ``prefix`` instead of ``kernel_prefix`` if set); helpers are shared."""
        return (self.program_head(kernels)
                + "\n".join(r.function(prefix, name) for r, name in zip(kernels, names)))

    def program_head(self, kernels: list) -> str:
        """The preamble and the union of the kernels' helpers (in dependency order)."""
        helpers: dict = {}
        for rendered in kernels:
            for key, text in rendered.helpers:
                helpers.setdefault(key, text)
        preamble = kernels[0].preamble if kernels else self.preamble
        return preamble + "".join(helpers.values())

    def buffer_pointer(self, buffer) -> str:
        qual = self.const_qual if buffer.role == "in" else ""
        return f"{self.global_qual}{qual}{self.storage_type(buffer.dtype)}*"

    def buffer_param(self, buffer) -> str:
        return f"{self.buffer_pointer(buffer)} {self.restrict} {self.buffer_name(buffer.name)}"

    # ---- names and types ---------------------------------------------------------------
    def ctype(self, dtype) -> str:
        dtype = np.dtype(dtype)
        if dtype == INDEX:
            return self.index_type
        try:
            return self.type_map[dtype]
        except KeyError:
            raise UnsupportedOp(f"renderer {self.name!r} has no type for {dtype.name}") from None

    def storage_type(self, dtype) -> str:
        dtype = np.dtype(dtype)
        return self.storage_map.get(dtype) or self.ctype(dtype)

    def uint_type(self, bits: int) -> str:
        return self.type_map[np.dtype(f"uint{bits}")]

    def int_type(self, bits: int) -> str:
        return self.type_map[np.dtype(f"int{bits}")]

    @staticmethod
    def bits(dtype) -> int:
        return np.dtype(dtype).itemsize * 8

    def wide_uint(self, dtype) -> str:
        """The unsigned type signed/unsigned arithmetic wraps in (no int promotion)."""
        return self.uint_type(64 if self.bits(dtype) == 64 else 32)

    @staticmethod
    def buffer_name(name: str) -> str:
        return f"b_{name}"

    @staticmethod
    def sym_name(name: str) -> str:
        return f"s_{name}"

    def math(self, op: str, compute_type: str) -> str:
        return self.math_names[op] + self.math_suffix.get(compute_type, "")

    # ---- literals --------------------------------------------------------------------------
    def literal(self, value, dtype) -> str:
        dtype = np.dtype(dtype)
        if dtype == _BOOL:
            return "true" if value else "false"
        ty = self.ctype(dtype)
        if kind_of(dtype) == "f":
            value = float(value)
            if math.isnan(value):
                return f"(({ty})NAN)"
            if math.isinf(value):
                return f"(({ty})INFINITY)" if value > 0 else f"(-({ty})INFINITY)"
            text = value.hex()  # exact; -0.0 keeps its sign
            return f"{text}{self.literal_suffix.get(ty, '')}"
        value = int(value)
        bits = self.bits(dtype)
        suffix = self.int64_suffix if bits == 64 else ""
        if kind_of(dtype) == "u":
            return f"(({ty}){value}U{suffix})"
        if value == -(1 << (bits - 1)):
            return f"(({ty})(-{(1 << (bits - 1)) - 1}{suffix} - 1))"
        if value < 0:
            return f"(({ty})(-{-value}{suffix}))"
        return f"(({ty}){value}{suffix})"

    # ---- memory (dialect hooks) ---------------------------------------------------------
    def load(self, buffer: str, index: str, dtype) -> str:
        dtype = np.dtype(dtype)
        ref = f"{buffer}[{index}]"
        if dtype == _BOOL:
            return f"({ref} != 0)"
        if dtype == dtypes.float16:
            return self.load_f16(buffer, index)
        if dtype == dtypes.bfloat16:
            return f"plax_bf16_to_f32({ref})"
        return ref

    def store(self, buffer: str, index: str, value: str, dtype) -> str:
        dtype = np.dtype(dtype)
        ref = f"{buffer}[{index}]"
        if dtype == _BOOL:
            return f"{ref} = ({self.storage_type(dtype)})({value});"
        if dtype == dtypes.float16:
            return self.store_f16(buffer, index, value)
        if dtype == dtypes.bfloat16:
            return f"{ref} = plax_f32_to_bf16({value});"
        return f"{ref} = {value};"

    def load_f16(self, buffer: str, index: str) -> str:
        return f"plax_f16_to_f32({buffer}[{index}])"

    def store_f16(self, buffer: str, index: str, value: str) -> str:
        return f"{buffer}[{index}] = plax_f32_to_f16({value});"

    def bitcast(self, value: str, src: str, dst: str) -> str:
        """Reinterpret the bits of ``value`` (C type ``src``) as C type ``dst``."""
        return f"plax_bitcast_{src.replace(' ', '_')}_{dst.replace(' ', '_')}({value})"

    def bitcast_helper(self, src: str, dst: str) -> str:
        name = f"plax_bitcast_{src.replace(' ', '_')}_{dst.replace(' ', '_')}"
        return (f"{self.helper_prefix} {dst} {name}({src} x) {{\n"
                f"  union {{ {src} a; {dst} b; }} u; u.a = x; return u.b;\n}}\n")

    def round_f16(self, value: str) -> str:
        """A float32 value rounded to the nearest float16 (kept in float32)."""
        return f"plax_f16_to_f32(plax_f32_to_f16({value}))"

    # ---- bits of a value (for bitcasts and nextafter) ---------------------------------------
    def to_bits(self, value: str, dtype, state) -> str:
        dtype = np.dtype(dtype)
        width = self.bits(dtype)
        ut = self.uint_type(width)
        if dtype == dtypes.float16:
            state.need("plax_f32_to_f16")
            return f"plax_f32_to_f16({value})"
        if dtype == dtypes.bfloat16:
            state.need("plax_f32_to_bf16")
            return f"plax_f32_to_bf16({value})"
        ty = self.ctype(dtype)
        if ty == ut:
            return value
        if kind_of(dtype) == "f":
            state.need_bitcast(ty, ut)
            return self.bitcast(value, ty, ut)
        return f"(({ut}){value})"

    def from_bits(self, value: str, dtype, state) -> str:
        dtype = np.dtype(dtype)
        width = self.bits(dtype)
        ut = self.uint_type(width)
        if dtype == dtypes.float16:
            state.need("plax_f16_to_f32")
            return f"plax_f16_to_f32({value})"
        if dtype == dtypes.bfloat16:
            state.need("plax_bf16_to_f32")
            return f"plax_bf16_to_f32({value})"
        ty = self.ctype(dtype)
        if ty == ut:
            return value
        if kind_of(dtype) == "f":
            state.need_bitcast(ut, ty)
            return self.bitcast(value, ut, ty)
        return f"(({ty}){value})"

    # ---- ops --------------------------------------------------------------------------------
    def supports(self, op: str, in_dtypes, out_dtype) -> bool:
        """Whether the renderer has a rule for ``op`` at these dtypes."""
        method = OP_RENDERERS.get(op)
        if method is None:
            return False
        dts = [np.dtype(d) for d in in_dtypes] + [np.dtype(out_dtype)]
        if any(d != INDEX and d not in self.type_map for d in dts):
            return False
        if op in MATH_OPS and op not in self.math_names:
            return False
        return True

    def render_op(self, e: Op, args: list, state) -> str:
        method = OP_RENDERERS.get(e.op)
        if method is None or (e.op in MATH_OPS and e.op not in self.math_names):
            raise UnsupportedOp(
                f"renderer {self.name!r} cannot render kernel op {e.op!r} for "
                f"{[a.dtype.name for a in e.args]}: add it to the dialect's op table")
        text = getattr(self, method)(e, args, [a.dtype for a in e.args], state)
        if e.dtype in NARROW and e.op not in EXACT_IN_NARROW:
            text = self.round_narrow(text, e.dtype, state)
        return text

    def round_narrow(self, text: str, dtype, state) -> str:
        if np.dtype(dtype) == dtypes.float16:
            state.need("plax_f32_to_f16")
            state.need("plax_f16_to_f32")
            return self.round_f16(text)
        state.need("plax_round_bf16")
        return f"plax_round_bf16({text})"

    def _wrap(self, e: Op, dts, text: str) -> str:
        return f"(({self.ctype(e.dtype)})({text}))"

    def op_arith(self, e, a, dts, state):
        k = kind_of(dts[0])
        sym = INFIX[e.op]
        if k == "f":
            return f"({a[0]} {sym} {a[1]})"
        if k == "b":
            sym = {"add": "|", "mul": "&", "sub": "^"}.get(e.op, sym)
            return f"({a[0]} {sym} {a[1]})"
        if e.op in ("and", "or", "xor"):
            return self._wrap(e, dts, f"{a[0]} {sym} {a[1]}")
        u = self.wide_uint(dts[0])
        return self._wrap(e, dts, f"({u}){a[0]} {sym} ({u}){a[1]}")

    def op_div(self, e, a, dts, state):
        k = kind_of(dts[0])
        x, y = a
        if k == "f":
            return f"({x} / {y})"
        ty = self.ctype(dts[0])
        divisor = e.args[1]
        if isinstance(divisor, Const) and divisor.value not in (0, -1):
            return self._wrap(e, dts, f"{x} / {y}")
        if k == "u":
            return f"({y} == 0 ? ({ty})-1 : ({ty})({x} / {y}))"
        u = self.wide_uint(dts[0])
        return (f"({y} == 0 ? ({ty})-1 : ({y} == ({ty})-1 ? ({ty})(({u})0 - ({u}){x}) "
                f": ({ty})({x} / {y})))")

    def op_rem(self, e, a, dts, state):
        k = kind_of(dts[0])
        x, y = a
        if k == "f":
            return f"{self.math('fmod', self.ctype(dts[0]))}({x}, {y})"
        ty = self.ctype(dts[0])
        divisor = e.args[1]
        if isinstance(divisor, Const) and divisor.value not in (0, -1):
            return self._wrap(e, dts, f"{x} % {y}")
        if k == "u":
            return f"({y} == 0 ? {x} : ({ty})({x} % {y}))"
        return f"({y} == 0 ? {x} : ({y} == ({ty})-1 ? ({ty})0 : ({ty})({x} % {y})))"

    def op_minmax(self, e, a, dts, state):
        k = kind_of(dts[0])
        x, y = a
        if k == "f":
            fn = state.need_typed("plax_fmax" if e.op == "max" else "plax_fmin", dts[0])
            return f"{fn}({x}, {y})"
        if k == "b":
            return f"({x} {'|' if e.op == 'max' else '&'} {y})"
        cmp = ">" if e.op == "max" else "<"
        return f"({x} {cmp} {y} ? {x} : {y})"

    def op_neg(self, e, a, dts, state):
        k = kind_of(dts[0])
        if k == "f":
            return f"(-{a[0]})"
        if k == "b":
            return a[0]
        u = self.wide_uint(dts[0])
        return self._wrap(e, dts, f"({u})0 - ({u}){a[0]}")

    def op_abs(self, e, a, dts, state):
        k = kind_of(dts[0])
        if k == "f":
            return f"{self.math('fabs', self.ctype(dts[0]))}({a[0]})"
        if k in "ub":
            return a[0]
        u = self.wide_uint(dts[0])
        return f"({a[0]} < 0 ? {self._wrap(e, dts, f'({u})0 - ({u}){a[0]}')} : {a[0]})"

    def op_sign(self, e, a, dts, state):
        k = kind_of(dts[0])
        if k == "f":
            return f"{state.need_typed('plax_sign', dts[0])}({a[0]})"
        if k in "ub":
            return self._wrap(e, dts, f"{a[0]} != 0")
        return self._wrap(e, dts, f"({a[0]} > 0) - ({a[0]} < 0)")

    def op_square(self, e, a, dts, state):
        if kind_of(dts[0]) == "f":
            return f"({a[0]} * {a[0]})"
        u = self.wide_uint(dts[0])
        return self._wrap(e, dts, f"({u}){a[0]} * ({u}){a[0]}")

    def op_compare(self, e, a, dts, state):
        return f"({a[0]} {COMPARE[e.op]} {a[1]})"

    def op_not(self, e, a, dts, state):
        if kind_of(dts[0]) == "b":
            return f"(!{a[0]})"
        return self._wrap(e, dts, f"~{a[0]}")

    def op_shift(self, e, a, dts, state):
        x, y = a
        dt = dts[0]
        width = self.bits(dt)
        un = self.uint_type(width)
        ty = self.ctype(dt)
        u = self.wide_uint(dt)
        amount = f"({un}){y}"
        if e.op == "shift_right_arithmetic":
            signed = self.int_type(width)
            clamped = f"({amount} < {width}u ? {amount} : {width - 1}u)"
            return f"(({ty})(({signed}){x} >> {clamped}))"
        if e.op == "shift_left":
            shifted = f"({ty})(({u}){x} << {amount})"
        else:
            shifted = f"({ty})(({un}){x} >> {amount})"
        return f"({amount} < {width}u ? {shifted} : ({ty})0)"

    def op_popcount(self, e, a, dts, state):
        un = self.uint_type(self.bits(dts[0]))
        state.need("plax_popcount")
        return self._wrap(e, dts, f"plax_popcount(({self.uint_type(64)})({un}){a[0]})")

    def op_clz(self, e, a, dts, state):
        width = self.bits(dts[0])
        un = self.uint_type(width)
        state.need("plax_clz")
        return self._wrap(e, dts, f"plax_clz(({self.uint_type(64)})({un}){a[0]}) - {64 - width}")

    def op_select_n(self, e, a, dts, state):
        which, cases = a[0], a[1:]
        if len(cases) == 1:
            return cases[0]
        if kind_of(dts[0]) == "b":
            return f"({which} ? {cases[1]} : {cases[0]})"
        out = cases[-1]
        for k in range(len(cases) - 2, -1, -1):
            out = f"({which} <= {k} ? {cases[k]} : {out})"
        return out

    def op_clamp(self, e, a, dts, state):
        lo, x, hi = a
        k = kind_of(dts[1])
        if k == "f":
            fmax = state.need_typed("plax_fmax", dts[1])
            fmin = state.need_typed("plax_fmin", dts[1])
            return f"{fmin}({fmax}({x}, {lo}), {hi})"
        if k == "b":
            return f"(({x} | {lo}) & {hi})"
        up = f"({x} > {lo} ? {x} : {lo})"
        return f"({up} < {hi} ? {up} : {hi})"

    def op_round(self, e, a, dts, state):
        fn = "rint" if int(e.attr("rounding_method", 0)) == 1 else "round"
        return f"{self.math(fn, self.ctype(dts[0]))}({a[0]})"

    def op_is_finite(self, e, a, dts, state):
        ty = self.ctype(dts[0])
        return f"({self.math('fabs', ty)}({a[0]}) < ({ty})INFINITY)"

    def op_rsqrt(self, e, a, dts, state):
        ty = self.ctype(dts[0])
        one = self.literal(1.0, np.float64 if ty == "double" else np.float32)
        return f"({one} / {self.math('sqrt', ty)}({a[0]}))"

    def op_math(self, e, a, dts, state):
        return f"{self.math(e.op, self.ctype(dts[0]))}({', '.join(a)})"

    def op_pow(self, e, a, dts, state):
        x, y = a
        ty = self.ctype(dts[0])
        if kind_of(dts[1]) != "f":
            y = f"(({ty}){y})"
        return f"{self.math('pow', ty)}({x}, {y})"

    def op_logistic(self, e, a, dts, state):
        return f"{state.need_typed('plax_logistic', dts[0])}({a[0]})"

    def op_nextafter(self, e, a, dts, state):
        return f"{state.need_typed('plax_nextafter', dts[0])}({a[0]}, {a[1]})"

    def op_convert(self, e, a, dts, state):
        return self.convert(a[0], dts[0], e.dtype, state)

    def op_bitcast(self, e, a, dts, state):
        bits = self.to_bits(a[0], dts[0], state)
        return self.from_bits(bits, e.dtype, state)

    # ---- conversions ---------------------------------------------------------------------
    def convert(self, value: str, src, dst, state) -> str:
        src, dst = np.dtype(src), np.dtype(dst)
        if src == dst:
            return value
        ks, kd = kind_of(src), kind_of(dst)
        dty = self.ctype(dst)
        if kd == "b":
            return f"({value} != 0)"
        if ks == "b":
            return f"(({dty})({value} ? 1 : 0))"
        if kd in "iu":
            if ks == "f":
                return f"{state.need_pair('plax_f2i', src, dst)}({value})"
            return f"(({dty}){value})"
        # To a float type. Narrow floats compute in float32, so widening them is free.
        if src == np.float64 and dst == dtypes.float16:
            # Correctly rounded, as numpy converts (bfloat16 goes through float32, as
            # ml_dtypes does).
            state.need("plax_f64_to_f32_odd")
            return self.round_narrow(f"plax_f64_to_f32_odd({value})", dst, state)
        out = value if self.ctype(src) == dty else f"(({dty}){value})"
        if dst in NARROW:
            out = self.round_narrow(out, dst, state)
        return out


# op -> CRenderer method. A new op: one entry here (and a method, or a MATH_OPS row).
OP_RENDERERS = {
    "add": "op_arith", "sub": "op_arith", "mul": "op_arith", "and": "op_arith",
    "or": "op_arith", "xor": "op_arith", "div": "op_div", "rem": "op_rem",
    "max": "op_minmax", "min": "op_minmax", "neg": "op_neg", "abs": "op_abs",
    "sign": "op_sign", "square": "op_square", "not": "op_not",
    "shift_left": "op_shift", "shift_right_logical": "op_shift",
    "shift_right_arithmetic": "op_shift", "population_count": "op_popcount", "clz": "op_clz",
    "select_n": "op_select_n", "clamp": "op_clamp", "round": "op_round",
    "is_finite": "op_is_finite", "rsqrt": "op_rsqrt", "pow": "op_pow",
    "logistic": "op_logistic", "nextafter": "op_nextafter",
    "convert_element_type": "op_convert", "bitcast_convert_type": "op_bitcast",
}
for _op in COMPARE:
    OP_RENDERERS[_op] = "op_compare"
for _op in ("exp", "exp2", "log", "log1p", "expm1", "sqrt", "cbrt", "sin", "cos", "tan",
            "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf",
            "erfc", "lgamma", "floor", "ceil", "atan2"):
    OP_RENDERERS[_op] = "op_math"
