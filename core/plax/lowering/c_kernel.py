"""Writing one kernel's C body: the walk over the kernel IR behind ``CRenderer.render``.

``KernelWriter`` turns statements into lines and expressions into temporaries
(``float t3 = ...;``), each computed once per block and forgotten when a store or
an accumulator update could change it; it collects the helpers a kernel calls and
the constants it lifts. ``cooperative_plan`` decides whether a kernel's parallel
iterations can each be computed by a work-group together (see the section below).
"""

from __future__ import annotations

import math

import numpy as np

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
    reduce_identity,
    walk_exprs,
)

__all__ = ["KernelWriter", "cooperative_plan", "dtype_named"]


def _kind(dtype) -> str:
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return "b"
    if dtypes.is_float(dtype):
        return "f"
    return "i" if dtype == INDEX or dtypes.is_signed(dtype) else "u"


class _Scope(dict):
    """Expression -> C text of the value (a temporary or a literal) in one block."""



# ----------------------------------------------------------------------------
# One kernel's rendering state: temporaries, scopes, helpers, lifted params.


class KernelWriter:
    def __init__(self, renderer, kernel: Kernel, lift: bool):
        self.r = renderer
        self.kernel = kernel
        self.lift = lift
        self.params: list = []
        self._param_slot: dict = {}
        self.scopes: list[_Scope] = [_Scope()]
        self.lines: list[str] = []
        self.depth = 1
        self.temps = 0
        self.helpers: dict = {}  # name -> source, in dependency order
        self.accum_dtypes: dict = {}
        self.bufs = {b.name: b for b in kernel.buffers}
        self._reads_memo: dict = {}
        self.local_types: list = []

    # -- helpers -------------------------------------------------------------------------
    def need(self, name: str) -> str:
        if name in self.helpers:
            return name
        self.helpers[name] = None  # placeholder: keeps dependency order, breaks cycles
        source, deps = self.r.helper(name, self)
        for dep in deps:
            self.need(dep)
        # Re-insert after the dependencies so they are defined first.
        del self.helpers[name]
        self.helpers[name] = source
        return name

    def need_bitcast(self, src: str, dst: str) -> None:
        key = f"bitcast:{src}:{dst}"
        if key not in self.helpers:
            text = self.r.bitcast_helper(src, dst)
            self.helpers[key] = text

    def need_typed(self, base: str, dtype) -> str:
        dtype = np.dtype(dtype)
        return self.need(f"{base}__{dtype.name}")

    def need_pair(self, base: str, src, dst) -> str:
        return self.need(f"{base}__{np.dtype(src).name}__{np.dtype(dst).name}")

    def helper_dtype(self, name: str) -> np.dtype:
        return dtype_named(name.split("__")[1])

    def helper_type(self, name: str) -> str:
        return self.r.ctype(dtype_named(name.split("__")[1]))

    def helper_pair(self, name: str):
        parts = name.split("__")
        return dtype_named(parts[1]), dtype_named(parts[2])

    # -- lifted constants ----------------------------------------------------------------------
    def param(self, value: int) -> str:
        """``plax_p[k]`` holding the 64-bit pattern ``value``."""
        slot = self._param_slot.get(value)
        if slot is None:
            slot = self._param_slot[value] = len(self.params)
            self.params.append(value)
        return f"plax_p[{slot}]"

    def index_const(self, value: int) -> str:
        value = int(value)
        if not self.lift or value in (-1, 0, 1):
            return self.r.literal(value, INDEX)
        return self.param(value)

    def const(self, e: Const) -> str:
        """A constant: inline, or (lifted) read from ``plax_p`` by its bit pattern, so
        that kernels differing only in constants (a mean's divisor, a shape) share code."""
        dt = e.dtype
        if dt == INDEX:
            return self.index_const(e.value)
        k = _kind(dt)
        if not self.lift or k == "b":
            return self.r.literal(e.value, dt)
        if k in "iu":
            if e.value in (-1, 0, 1):
                return self.r.literal(e.value, dt)
            signed = np.asarray(e.value, dt).view(f"int{self.r.bits(dt)}")
            return f"(({self.r.ctype(dt)}){self.param(int(signed))})"
        value = float(e.value)
        if value == 1.0 or (value == 0.0 and not math.copysign(1.0, value) < 0):
            return self.r.literal(value, dt)
        ty = self.r.ctype(dt)
        if dt == np.float64:
            bits = int(np.asarray(value, np.float64).view(np.int64))
            self.need_bitcast(self.r.index_type, ty)
            return self.r.bitcast(self.param(bits), self.r.index_type, ty)
        u32 = self.r.uint_type(32)
        bits = int(np.asarray(value, np.float32).view(np.int32))
        self.need_bitcast(u32, ty)
        return self.r.bitcast(f"(({u32}){self.param(bits)})", u32, ty)

    # -- emission -----------------------------------------------------------------------------
    def emit(self, line: str) -> None:
        self.lines.append("  " * self.depth + line)

    def temp(self, ctype: str, text: str) -> str:
        name = f"t{self.temps}"
        self.temps += 1
        self.emit(f"{ctype} {name} = {text};")
        return name

    def lookup(self, e: Expr):
        for scope in reversed(self.scopes):
            hit = scope.get(e)
            if hit is not None:
                return hit
        return None

    def value(self, e: Expr) -> str:
        hit = self.lookup(e)
        if hit is not None:
            return hit
        if isinstance(e, Const):
            return self.const(e)
        if isinstance(e, Sym):
            return self.r.sym_name(e.name)
        if isinstance(e, Load):
            buf = self.bufs[e.buffer]
            index = self.value(e.index)
            text = self.r.load(self.r.buffer_name(e.buffer), index, buf.dtype)
            if buf.dtype == dtypes.float16:
                self.need_f16_io()
            elif buf.dtype == dtypes.bfloat16:
                self.need("plax_bf16_to_f32")
        elif isinstance(e, Op):
            args = [self.value(a) for a in e.args]
            text = self.r.render_op(e, args, self)
        elif isinstance(e, Reduce):
            raise ValueError("Reduce expressions must be lowered before rendering")
        else:
            raise TypeError(f"not a kernel expression: {e!r}")
        name = self.temp(self.r.ctype(e.dtype), text)
        self.scopes[-1][e] = name
        return name

    def need_f16_io(self) -> None:
        """Helpers the dialect's float16 loads/stores call (none for native ones)."""
        for helper in self.r.f16_io_helpers:
            self.need(helper)

    def reads(self, e: Expr) -> frozenset:
        """Buffers loaded and scalar symbols read by ``e``."""
        hit = self._reads_memo.get(e)
        if hit is not None:
            return hit
        if isinstance(e, Load):
            out = frozenset((("buf", e.buffer),)) | self.reads(e.index)
        elif isinstance(e, Sym):
            out = frozenset((("sym", e.name),))
        else:
            out = frozenset()
            for child in e.children():
                out = out | self.reads(child)
        self._reads_memo[e] = out
        return out

    def forget(self, key) -> None:
        for scope in self.scopes:
            stale = [e for e in scope if key in self.reads(e)]
            for e in stale:
                del scope[e]

    def local_array(self, ctype: str) -> str:
        if ctype not in self.local_types:
            self.local_types.append(ctype)
        return f"plax_red{self.local_types.index(ctype)}"

    def strided_loop(self, loop: Loop, local_size: int) -> None:
        """``loop`` with its iterations dealt out to the work-group's threads."""
        var = self.r.sym_name(loop.var)
        extent = self.index_const(loop.extent)
        self.emit(f"for ({self.r.index_type} {var} = plax_lid; {var} < {extent}; "
                  f"{var} += {local_size}) {{")
        self.block(loop.body)
        self.emit("}")

    def render_cooperative(self, plan, local_size: int) -> str:
        r = self.r
        var_name, steps = plan
        var = r.sym_name(var_name)
        it = r.index_type
        self.emit(f"const {it} plax_lid = {r.local_id};")
        self.emit(f"for ({it} {var} = {r.group_id}; {var} < plax_n; {var} += {r.group_count}) {{")
        self.depth += 1
        self.scopes.append(_Scope())
        for step in steps:
            kind = step[0]
            if kind == "reduce":
                _, accum, loop, op = step
                self.statements([accum])
                self.strided_loop(loop, local_size)
                self.forget(("sym", accum.name))
                self.combine(accum, op, local_size)
            elif kind == "split":
                self.strided_loop(step[1], local_size)
            elif kind == "let":
                self.statements([step[1]])
            else:
                store = step[1]
                buf = self.bufs[store.buffer]
                index = self.value(store.index)
                value = self.value(store.value)
                if buf.dtype == dtypes.float16:
                    self.need_f16_io()
                elif buf.dtype == dtypes.bfloat16:
                    self.need("plax_f32_to_bf16")
                self.emit(f"if (plax_lid == 0) {{ "
                          f"{r.store(r.buffer_name(store.buffer), index, value, buf.dtype)} }}")
        self.scopes.pop()
        self.depth -= 1
        self.emit("}")
        return "\n".join(self.lines) + "\n"

    def combine(self, accum: Accum, op: str, local_size: int) -> None:
        """Every thread's partial ``accum`` combined in local memory; all get the total."""
        r = self.r
        name = r.sym_name(accum.name)
        ctype = r.ctype(accum.dtype)
        red = self.local_array(ctype)
        a = Sym("plax_a", accum.dtype)
        b = Sym("plax_b", accum.dtype)
        self.emit(f"{red}[plax_lid] = {name};")
        self.emit(r.barrier)
        self.emit(f"for (int plax_s = {local_size // 2}; plax_s > 0; plax_s >>= 1) {{")
        self.depth += 1
        self.emit("if (plax_lid < plax_s) {")
        self.depth += 1
        self.emit(f"{ctype} {r.sym_name(a.name)} = {red}[plax_lid];")
        self.emit(f"{ctype} {r.sym_name(b.name)} = {red}[plax_lid + plax_s];")
        self.scopes.append(_Scope())
        combined = self.value(Op(op, [a, b], accum.dtype))
        self.scopes.pop()
        self.emit(f"{red}[plax_lid] = {combined};")
        self.depth -= 1
        self.emit("}")
        self.emit(r.barrier)
        self.depth -= 1
        self.emit("}")
        self.emit(f"{name} = {red}[0];")
        # Nobody overwrites the total before every thread has read it.
        self.emit(r.barrier)

    def render_body(self) -> str:
        par = self.kernel.parallel_loop
        r = self.r
        if par is None:
            self.statements(self.kernel.body)
        elif r.parallel_style == "chunk":
            # Each thread takes one contiguous run of iterations: an inner loop a CPU
            # compiler vectorises, reading memory in order.
            it = r.index_type
            var = r.sym_name(par.var)
            self.emit(f"const {it} plax_chunk = (plax_n + {r.thread_step} - 1) / "
                      f"{r.thread_step};")
            self.emit(f"const {it} plax_begin = {r.thread_start} * plax_chunk;")
            self.emit(f"const {it} plax_end = plax_n - plax_begin < plax_chunk ? plax_n : "
                      f"plax_begin + plax_chunk;")
            self.emit(f"for ({it} {var} = plax_begin; {var} < plax_end; {var}++) {{")
            self.block(par.body)
            self.emit("}")
        else:
            var = r.sym_name(par.var)
            self.emit(f"for ({r.index_type} {var} = {r.thread_start}; {var} < plax_n; "
                      f"{var} += {r.thread_step}) {{")
            self.block(par.body)
            self.emit("}")
        return "\n".join(self.lines) + "\n"

    def block(self, stmts) -> None:
        self.depth += 1
        self.scopes.append(_Scope())
        self.statements(stmts)
        self.scopes.pop()
        self.depth -= 1

    def statements(self, stmts) -> None:
        for s in stmts:
            if isinstance(s, Loop):
                var = self.r.sym_name(s.var)
                extent = self.index_const(s.extent)
                self.emit(f"for ({self.r.index_type} {var} = 0; {var} < {extent}; {var}++) {{")
                self.block(s.body)
                self.emit("}")
            elif isinstance(s, Store):
                buf = self.bufs[s.buffer]
                index = self.value(s.index)
                value = self.value(s.value)
                if buf.dtype == dtypes.float16:
                    self.need_f16_io()
                elif buf.dtype == dtypes.bfloat16:
                    self.need("plax_f32_to_bf16")
                self.emit(self.r.store(self.r.buffer_name(s.buffer), index, value, buf.dtype))
                self.forget(("buf", s.buffer))
            elif isinstance(s, Let):
                value = self.value(s.value)
                self.emit(f"{self.r.ctype(s.value.dtype)} {self.r.sym_name(s.name)} = {value};")
            elif isinstance(s, Accum):
                init = self.value(s.init)
                self.accum_dtypes[s.name] = s.dtype
                self.emit(f"{self.r.ctype(s.dtype)} {self.r.sym_name(s.name)} = {init};")
            elif isinstance(s, Update):
                dt = self.accum_dtypes[s.name]
                acc = Sym(s.name, dt)
                combined = Op(s.op, [acc, s.value], dt)
                value = self.value(combined)
                self.emit(f"{self.r.sym_name(s.name)} = {value};")
                self.forget(("sym", s.name))
            else:
                raise TypeError(f"not a kernel statement: {s!r}")


# ----------------------------------------------------------------------------
# Cooperative reductions: one work-group per iteration of the parallel loop.
#
# The body of the parallel loop is a sequence of statements of four kinds, each
# rendered for a work-group of ``L`` threads (``lid`` its thread):
#   * a reduction: ``Accum a = identity`` then a loop nest whose only effects are
#     updates of ``a``: each thread reduces the iterations ``lid, lid + L, ...`` of the
#     outer loop, the partial results are combined in local memory (a tree of
#     ``log2 L`` steps) and every thread continues with the total;
#   * a loop nest that stores (a softmax's output row): its outer loop is split
#     across the threads the same way;
#   * a ``Let``: every thread computes it;
#   * a ``Store`` of a per-iteration value: thread 0 writes it.
# A kernel that reads a buffer it writes, or whose statements do not fit, is
# rendered as usual.


def _updates_only(stmts, name: str) -> bool:
    for s in stmts:
        if isinstance(s, Loop):
            if not _updates_only(s.body, name):
                return False
        elif isinstance(s, Update):
            if s.name != name:
                return False
        elif not isinstance(s, Let):
            return False
    return True


def _private_loop(loop: Loop) -> bool:
    """Iterations independent: stores, and reductions declared inside the loop."""
    declared = set()

    def visit(stmts) -> bool:
        for s in stmts:
            if isinstance(s, Loop):
                if not visit(s.body):
                    return False
            elif isinstance(s, Accum):
                declared.add(s.name)
            elif isinstance(s, Update) and s.name not in declared:
                return False
        return True

    return visit(loop.body)


def _trips(loop: Loop) -> int:
    inner = [s for s in loop.body if isinstance(s, Loop)]
    return loop.extent * max((_trips(s) for s in inner), default=1)


def cooperative_plan(kernel: Kernel, min_elements: int):
    """The parallel loop's statements tagged for cooperative rendering, or None."""
    par = kernel.parallel_loop
    if par is None:
        return None
    stored = set()
    loaded = set()
    for e in walk_exprs(par.body):
        if isinstance(e, Load):
            loaded.add(e.buffer)
    stack = list(par.body)
    while stack:
        s = stack.pop()
        if isinstance(s, Loop):
            stack.extend(s.body)
        elif isinstance(s, Store):
            stored.add(s.buffer)
    if stored & loaded:
        return None
    body = list(par.body)
    plan = []
    biggest = 0
    k = 0
    while k < len(body):
        s = body[k]
        following = body[k + 1] if k + 1 < len(body) else None
        if isinstance(s, Accum):
            if not (isinstance(following, Loop) and _updates_only(following.body, s.name)):
                return None
            ops = {u.op for u in walk_updates(following.body)}
            if len(ops) != 1:
                return None
            (op,) = ops
            identity = Const(reduce_identity(op, s.dtype), s.dtype)
            if s.init != identity:
                return None
            plan.append(("reduce", s, following, op))
            biggest = max(biggest, _trips(following))
            k += 2
            continue
        if isinstance(s, Loop):
            if not _private_loop(s):
                return None
            plan.append(("split", s))
        elif isinstance(s, Let):
            plan.append(("let", s))
        elif isinstance(s, Store):
            plan.append(("store", s))
        else:
            return None
        k += 1
    if biggest < min_elements:
        return None
    return par.var, plan


def walk_updates(stmts):
    for s in stmts:
        if isinstance(s, Loop):
            yield from walk_updates(s.body)
        elif isinstance(s, Update):
            yield s


def dtype_named(name: str) -> np.dtype:
    if name == "bfloat16":
        return dtypes.bfloat16
    if name == "int64" or name == "index":
        return np.dtype(np.int64)
    return np.dtype(name)
