"""Kernel IR -> LLVM IR.

Types come from ``llvm_types`` (float16/bfloat16 compute as float32 and are
rounded back after every op that can leave their type; bfloat16 rounding is
integer code, so no libcall is needed on any target), ops from the tables and
emitters of ``ops``. Statements map directly: a ``Loop`` is a counted loop (the
parallel loop runs over ``[start, end)`` given at run time), ``Accum`` an alloca
that mem2reg turns into a register (so the vectoriser sees a reduction), float
``add``/``mul`` updates carry ``reassoc`` so sums vectorise. Only innermost loops
are marked vectorisable (see ``ModuleBuilder.text``).

ABI: each kernel becomes an internal ``<name>.core(ptr noalias %buf..., i64 %start,
i64 %end)`` (inlined) behind an entry point that receives its buffers either as
an array of data pointers (``"pointers"``) or as a Python tuple of numpy arrays
(``"pyobjects"``: the entry reads each array's data pointer itself, which saves
the Python-side work of extracting pointers; the layout offsets are checked at
start-up, see ``runtime.pyobject_offsets``).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir

from plax import dtypes
from plax.lowering.kernel_ir import (
    INDEX,
    Accum,
    Const,
    Expr,
    Kernel,
    Let,
    Load,
    Loop,
    Op,
    Reduce,
    Store,
    Sym,
    Update,
)

from plax_cpu_llvm import mathlib
from plax_cpu_llvm.llvm_types import (
    COMPUTE_TYPE, F16, F32, F64, I1, I8, I16, I32, I64, NARROW, PTR, STORAGE_TYPE, VOID, kind,
    suffix,
)
from plax_cpu_llvm.ops import EMITTERS, EXACT_IN_NARROW, supports_op

__all__ = ["ModuleBuilder", "supports_op", "COMPUTE_TYPE", "STORAGE_TYPE"]

_NO_VECTORIZE = "plax.loop.novectorize"
_MD_BASE = 1_000_000

# ----------------------------------------------------------------------------
# Attribute sets llvmlite does not know (memory effects, vector variants).


class _RawFnAttributes(ir.values.FunctionAttributes):
    def add(self, name):
        set.add(self, name)


class _RawCallAttributes(list):
    def _to_list(self, ret_type):
        return list(self)


# ----------------------------------------------------------------------------
# The module builder.


class ModuleBuilder:
    """Accumulates kernels into one LLVM module.

    ``abi`` is ``"pointers"`` or ``"pyobjects"`` (see the module docstring);
    ``offsets`` = (tuple item offset, array data offset) for the latter.
    ``vector_math`` maps float32 libm names to their SIMD variants.
    """

    def __init__(self, name: str, abi: str = "pointers", offsets=(24, 16), vector_math=None,
                 own_math: bool = True):
        self.module = ir.Module(name=name)
        self.abi = abi
        self.offsets = offsets
        self.vector_math = vector_math or {}
        self.own_math = own_math
        self._intrinsics: dict = {}
        self._libm: dict = {}
        self._used: list = []
        self.mathlib = mathlib.MathLib(self.module, self.intrinsic)

    # -- declarations ---------------------------------------------------------------
    def intrinsic(self, name: str, ret, arg_types) -> ir.Function:
        fn = self._intrinsics.get(name)
        if fn is None:
            fn = ir.Function(self.module, ir.FunctionType(ret, list(arg_types)), name=name)
            self._intrinsics[name] = fn
        return fn

    def libm(self, name: str, ty, nargs: int) -> tuple:
        """The declaration of ``plax.libm.<name>`` and its call-site attributes."""
        hit = self._libm.get(name)
        if hit is not None:
            return hit
        fn = ir.Function(self.module, ir.FunctionType(ty, [ty] * nargs), name=f"plax.libm.{name}")
        fn.attributes = _RawFnAttributes(["nounwind", "willreturn", "memory(none)"])
        call_attrs = ["nounwind", "willreturn", "memory(none)"]
        variants = self.vector_math.get(name, ())
        if variants:
            mangled = []
            for isa, lanes, symbol, _addr in variants:
                vec = ir.VectorType(ty, lanes)
                decl = self.module.globals.get(symbol)
                if decl is None:
                    decl = ir.Function(self.module, ir.FunctionType(vec, [vec] * nargs),
                                       name=symbol)
                    decl.attributes = _RawFnAttributes(["nounwind", "willreturn",
                                                        "memory(none)"])
                    self._used.append(decl)
                params = "v" * nargs
                mangled.append(f"_ZGV{isa}N{lanes}{params}_plax.libm.{name}({symbol})")
            call_attrs.append('"vector-function-abi-variant"="' + ",".join(mangled) + '"')
        self._libm[name] = (fn, call_attrs)
        return self._libm[name]

    def text(self) -> str:
        """The module's LLVM IR text, with loop metadata llvmlite cannot express."""
        lines = str(self.finish()).splitlines()
        out = []
        marks = 0
        pending = False
        for line in lines:
            if line.strip() == "; " + _NO_VECTORIZE:
                pending = True
                continue
            if pending and line.lstrip().startswith("br label"):
                line = f"{line}, !llvm.loop !{_MD_BASE + 1 + marks}"
                marks += 1
            pending = False
            out.append(line)
        if marks:
            out.append(f'!{_MD_BASE} = !{{!"llvm.loop.vectorize.enable", i1 false}}')
            for k in range(marks):
                node = _MD_BASE + 1 + k
                out.append(f"!{node} = distinct !{{!{node}, !{_MD_BASE}}}")
        return "\n".join(out) + "\n"

    def finish(self) -> ir.Module:
        if self._used and "llvm.compiler.used" not in self.module.globals:
            arr_ty = ir.ArrayType(PTR, len(self._used))
            used = ir.GlobalVariable(self.module, arr_ty, name="llvm.compiler.used")
            used.linkage = "appending"
            used.section = "llvm.metadata"
            used.initializer = ir.Constant(arr_ty, self._used)
        return self.module

    # -- kernels ---------------------------------------------------------------------
    def add_core(self, kernel: Kernel, name: str) -> ir.Function:
        """Emit ``kernel`` as the internal, always-inlined function ``name``:
        ``void name(ptr noalias %buffer..., i64 %start, i64 %end)``."""
        n = len(kernel.buffers)
        core_ty = ir.FunctionType(VOID, [PTR] * n + [I64, I64])
        core = ir.Function(self.module, core_ty, name=name)
        core.linkage = "internal"
        core.attributes.add("alwaysinline")
        core.attributes.add("nounwind")
        for arg in core.args[:n]:
            arg.add_attribute("noalias")
        _KernelEmitter(self, kernel, core).emit()
        return core

    def add_kernel(self, kernel: Kernel, symbol: str) -> str:
        """Emit ``kernel`` as the exported function ``symbol``."""
        n = len(kernel.buffers)
        core = self.add_core(kernel, f"{symbol}.core")

        entry = ir.Function(self.module, ir.FunctionType(VOID, [PTR, I64, I64]), name=symbol)
        entry.attributes.add("nounwind")
        b = ir.IRBuilder(entry.append_basic_block("entry"))
        table, start, end = entry.args
        ptrs = []
        item_offset, data_offset = self.offsets
        for k in range(n):
            if self.abi == "pyobjects":
                slot = b.gep(table, [ir.Constant(I64, item_offset + 8 * k)], inbounds=True,
                             source_etype=I8)
                obj = b.load(slot, typ=PTR, align=8)
                field = b.gep(obj, [ir.Constant(I64, data_offset)], inbounds=True,
                              source_etype=I8)
                ptrs.append(b.load(field, typ=PTR, align=8))
            else:
                slot = b.gep(table, [ir.Constant(I64, k)], inbounds=True, source_etype=PTR)
                ptrs.append(b.load(slot, typ=PTR, align=8))
        b.call(core, ptrs + [start, end])
        b.ret_void()
        return symbol


class _KernelEmitter:
    def __init__(self, mb: ModuleBuilder, kernel: Kernel, fn: ir.Function):
        self.mb = mb
        self.kernel = kernel
        self.fn = fn
        n = len(kernel.buffers)
        self.entry_block = fn.append_basic_block("entry")
        self.b = ir.IRBuilder(self.entry_block)
        self.bufs = {buf.name: (arg, buf.dtype) for buf, arg in zip(kernel.buffers, fn.args[:n])}
        self.start, self.end = fn.args[n], fn.args[n + 1]
        self.syms: dict = {}
        self.accum_dtypes: dict = {}
        self.scopes: list[dict] = [{}]
        self.alloca_builder = ir.IRBuilder(self.entry_block)

    def emit(self):
        par = self.kernel.parallel_loop
        self.emit_block(self.kernel.body, par)
        self.b.ret_void()

    # -- helpers used by op emitters ----------------------------------------------------
    def call_intrinsic(self, name: str, ty, args):
        fn = self.mb.intrinsic(f"{name}.{suffix(ty)}", ty, [a.type for a in args])
        return self.b.call(fn, args)

    def call_libm(self, op: str, args):
        ty = args[0].type
        names = mathlib.LIBM[op]
        name = names[0] if ty == F32 else names[1]
        fn, attrs = self.mb.libm(name, ty, len(args))
        call = self.b.call(fn, args)
        call.attributes = _RawCallAttributes(attrs)
        return call

    def call_math(self, op: str, args):
        ty = args[0].type
        if ty == F32 and op in mathlib.OWN_F32 and self.mb.own_math:
            return self.b.call(self.mb.mathlib.get(op), args)
        if op == "logistic":
            return self._logistic(args[0])
        return self.call_libm(op, args)

    def _logistic(self, x):
        b = self.b
        ty = x.type
        a = self.call_intrinsic("llvm.fabs", ty, [x])
        decay = self.call_libm("exp", [b.fneg(a)])
        positive = b.fdiv(ir.Constant(ty, 1.0), b.fadd(ir.Constant(ty, 1.0), decay))
        negative = b.fmul(decay, positive)
        return b.select(b.fcmp_ordered(">=", x, ir.Constant(ty, 0.0)), positive, negative)

    # -- storage and conversions -----------------------------------------------------------
    def to_storage(self, v, dt):
        dt = np.dtype(dt)
        b = self.b
        if dt == dtypes.bool_:
            return b.zext(v, I8)
        if dt == dtypes.float16:
            return b.fptrunc(v, F16)
        if dt == dtypes.bfloat16:
            return self._bf16_bits(v)
        return v

    def from_storage(self, v, dt):
        dt = np.dtype(dt)
        b = self.b
        if dt == dtypes.bool_:
            return b.icmp_unsigned("!=", v, ir.Constant(I8, 0))
        if dt == dtypes.float16:
            return b.fpext(v, F32)
        if dt == dtypes.bfloat16:
            return b.bitcast(b.shl(b.zext(v, I32), ir.Constant(I32, 16)), F32)
        return v

    def _bf16_bits(self, v):
        """float32 -> bfloat16 bits, round to nearest even; NaN stays (quiet) NaN."""
        b = self.b
        bits = b.bitcast(v, I32)
        lsb = b.and_(b.lshr(bits, ir.Constant(I32, 16)), ir.Constant(I32, 1))
        rounded = b.lshr(b.add(b.add(bits, ir.Constant(I32, 0x7FFF)), lsb), ir.Constant(I32, 16))
        quiet = b.or_(b.lshr(bits, ir.Constant(I32, 16)), ir.Constant(I32, 0x40))
        out = b.select(b.fcmp_unordered("uno", v, v), quiet, rounded)
        return b.trunc(out, I16)

    def round_narrow(self, v, dt):
        """Round a float32 value to float16/bfloat16 (kept in float32)."""
        return self.from_storage(self.to_storage(v, dt), dt)

    def _f64_to_f32_odd(self, v):
        """float64 -> float32 rounding to odd, so that a second rounding to a narrower
        type is the correctly rounded result."""
        b = self.b
        f = b.fptrunc(v, F32)
        back = b.fpext(f, F64)
        away = b.fcmp_ordered(">", self.call_intrinsic("llvm.fabs", F64, [back]),
                              self.call_intrinsic("llvm.fabs", F64, [v]))
        bits = b.bitcast(f, I32)
        bits = b.sub(bits, b.zext(away, I32))
        inexact = b.or_(away, b.fcmp_ordered("!=", back, v))
        bits = b.or_(bits, b.zext(inexact, I32))
        return b.bitcast(bits, F32)

    def convert(self, v, src, dst):
        src = np.dtype(src)
        dst = np.dtype(dst)
        if src == dst:
            return v
        b = self.b
        ks = kind(src)
        kd = kind(dst)
        target = COMPUTE_TYPE[dst] if dst != INDEX else I64
        if kd == "b":
            if ks == "f":
                return b.fcmp_unordered("!=", v, ir.Constant(v.type, 0.0))
            return b.icmp_unsigned("!=", v, ir.Constant(v.type, 0))
        if kd in "iu":
            if ks == "f":
                name = "llvm.fptosi.sat" if kd == "i" else "llvm.fptoui.sat"
                fn = self.mb.intrinsic(f"{name}.{suffix(target)}.{suffix(v.type)}", target,
                                       [v.type])
                return b.call(fn, [v])
            if v.type.width == target.width:
                return v
            if v.type.width > target.width:
                return b.trunc(v, target)
            return b.sext(v, target) if ks == "i" else b.zext(v, target)
        # to float
        if ks == "f":
            if v.type == F64 and dst == dtypes.float16:
                return self.round_narrow(self._f64_to_f32_odd(v), dst)
            if v.type == target:
                out = v
            elif v.type == F64:
                out = b.fptrunc(v, target)
            else:
                out = b.fpext(v, target)
        elif ks == "i":
            out = b.sitofp(v, target)
        else:
            out = b.uitofp(v, target)
        if dst in NARROW:
            out = self.round_narrow(out, dst)
        return out

    # -- expressions -------------------------------------------------------------------------
    def lookup(self, e: Expr):
        for scope in reversed(self.scopes):
            v = scope.get(e)
            if v is not None:
                return v
        return None

    def value(self, e: Expr):
        v = self.lookup(e)
        if v is not None:
            return v
        if isinstance(e, Const):
            v = self.constant(e.value, e.dtype)
        elif isinstance(e, Sym):
            v = self.read_sym(e)
        elif isinstance(e, Load):
            v = self.load(e)
        elif isinstance(e, Op):
            v = self.op(e)
        elif isinstance(e, Reduce):
            raise ValueError("Reduce expressions must be lowered before code generation")
        else:
            raise TypeError(f"not a kernel expression: {e!r}")
        if not isinstance(e, Sym):
            self.scopes[-1][e] = v
        return v

    def constant(self, value, dt):
        dt = np.dtype(dt)
        ty = COMPUTE_TYPE[dt] if dt != INDEX else I64
        if dt == dtypes.bool_:
            return ir.Constant(I1, int(bool(value)))
        if dtypes.is_float(dt):
            # The value is already representable in dt (Const canonicalises it).
            return ir.Constant(ty, float(value))
        raw = int(value) & ((1 << ty.width) - 1)
        if raw >= 1 << (ty.width - 1):
            raw -= 1 << ty.width  # LLVM prints integer constants signed
        return ir.Constant(ty, raw)

    def read_sym(self, e: Sym):
        kind, v = self.syms[e.name]
        if kind == "slot":
            return self.b.load(v, typ=v.allocated_type)
        return v

    def load(self, e: Load):
        base, dt = self.bufs[e.buffer]
        ty = STORAGE_TYPE[dt]
        ptr = self.b.gep(base, [self.value(e.index)], inbounds=True, source_etype=ty)
        raw = self.b.load(ptr, typ=ty, align=np.dtype(dt).itemsize)
        return self.from_storage(raw, dt)

    def op(self, e: Op):
        args = [self.value(a) for a in e.args]
        dts = [a.dtype for a in e.args]
        emitter = EMITTERS.get(e.op)
        if emitter is None:
            raise NotImplementedError(
                f"backend 'cpu_llvm' cannot lower kernel op {e.op!r} for "
                f"{[np.dtype(d).name for d in dts]}; make it a host step (codegen.supports_op)"
            )
        out = emitter(self, e, args, dts)
        if e.dtype in NARROW and e.op not in EXACT_IN_NARROW:
            out = self.round_narrow(out, e.dtype)
        return out

    # -- statements --------------------------------------------------------------------------
    def emit_block(self, stmts, parallel_loop=None):
        for s in stmts:
            if isinstance(s, Loop):
                ranged = s is parallel_loop
                self.emit_loop(s, ranged)
            elif isinstance(s, Store):
                base, dt = self.bufs[s.buffer]
                ty = STORAGE_TYPE[dt]
                value = self.to_storage(self.value(s.value), dt)
                ptr = self.b.gep(base, [self.value(s.index)], inbounds=True, source_etype=ty)
                self.b.store(value, ptr, align=np.dtype(dt).itemsize)
                # A store may change what later loads of this buffer see.
                self._forget_loads(s.buffer)
            elif isinstance(s, Let):
                self.syms[s.name] = ("value", self.value(s.value))
            elif isinstance(s, Accum):
                ty = COMPUTE_TYPE[s.dtype] if s.dtype != INDEX else I64
                with self.b.goto_block(self.entry_block):
                    self.b.position_at_start(self.entry_block)
                    slot = self.b.alloca(ty, name=s.name)
                self.b.store(self.value(s.init), slot)
                self.syms[s.name] = ("slot", slot)
                self.accum_dtypes[s.name] = s.dtype
            elif isinstance(s, Update):
                self.emit_update(s)
            else:
                raise TypeError(f"not a kernel statement: {s!r}")

    def _forget_loads(self, buffer: str):
        for scope in self.scopes:
            stale = [e for e in scope if isinstance(e, Load) and e.buffer == buffer]
            for e in stale:
                del scope[e]
            if stale:
                # Expressions computed from those loads are stale too.
                for e in [e for e in scope if not isinstance(e, (Const, Load))]:
                    del scope[e]

    def emit_loop(self, loop: Loop, ranged: bool):
        b = self.b
        lo = self.start if ranged else ir.Constant(I64, 0)
        hi = self.end if ranged else ir.Constant(I64, loop.extent)
        pre = b.block
        header = self.fn.append_basic_block(f"{loop.var}.head")
        body = self.fn.append_basic_block(f"{loop.var}.body")
        exit_ = self.fn.append_basic_block(f"{loop.var}.exit")
        b.branch(header)
        b.position_at_end(header)
        i = b.phi(I64, name=loop.var)
        i.add_incoming(lo, pre)
        b.cbranch(b.icmp_signed("<", i, hi), body, exit_)
        b.position_at_end(body)
        self.syms[loop.var] = ("value", i)
        self.scopes.append({})
        self.emit_block(loop.body)
        self.scopes.pop()
        nxt = b.add(i, ir.Constant(I64, 1), flags=["nuw", "nsw"])
        i.add_incoming(nxt, b.block)
        if any(isinstance(s, Loop) for s in loop.body):
            # Only innermost loops are vectorised: vectorising an outer loop after its
            # short inner loop is unrolled strides memory with gathers and scatters.
            b.comment(_NO_VECTORIZE)
        b.branch(header)
        b.position_at_end(exit_)
        # Values computed inside the loop do not dominate what follows it.

    def emit_update(self, s: Update):
        _, slot = self.syms[s.name]
        ty = slot.allocated_type
        dt = self.accum_dtypes[s.name]
        cur = self.b.load(slot, typ=ty)
        val = self.value(s.value)
        if kind(dt) == "f" and s.op in ("add", "mul"):
            # Reassociation lets the vectoriser keep several partial sums.
            instr = {"add": self.b.fadd, "mul": self.b.fmul}[s.op]
            new = instr(cur, val, flags=("reassoc", "nsz", "contract"))
        else:
            new = EMITTERS[s.op](self, Op(s.op, [Const(0, dt), Const(0, dt)], dt), [cur, val],
                                 [dt, dt])
            if dt in NARROW and s.op not in EXACT_IN_NARROW:
                new = self.round_narrow(new, dt)
        self.b.store(new, slot)
