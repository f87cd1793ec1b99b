"""Fusion: from a ClosedJaxpr to a ``Schedule`` of kernels, host and library steps.

The plan, in order:

1. **Inline** nested ``jit`` equations, so fusion sees one flat program, and
   rewrite primitives the target does not claim into ones kernels compute
   (``plax.lowering.decompose``: dot_general becomes a fused reduction).
2. **Classify** each equation: *fusible* (an elementwise or layout primitive with
   a rule in ``plax.lowering.rules.FUSIBLE`` whose ALU op and dtypes the target
   supports), a *reduction* (``reduce_*``, ``argmax``/``argmin``), a *library*
   primitive the target runs itself (``dot_general``, control flow), or a *host* step (the
   primitive's numpy reference implementation) for everything else. Host steps
   keep every program correct while the kernel path grows.
3. **Materialise** (give a buffer to) program outputs, the operands and results
   of host/library steps, and values whose consumers cannot share them cheaply:
   a value read by several equations is recomputed in each only if its fused
   expression is cheap (``Target.dup_cost_limit``), so duplication is bounded.
   Reductions whose operand's last axis is kept ("column" reductions) are always
   materialised and computed by accumulating over the operand in memory order.
   A costly value broadcast along an outer dimension (a column mean subtracted
   from every row) is materialised, not recomputed per row; and fused chains are
   cut every ``MAX_FUSED_DEPTH`` equations so expressions stay shallow.
4. **Build** one kernel per materialised fusible value: a loop nest over its
   shape storing the value's expression, in which every non-materialised
   producer is inlined through its rule. A reduction inlined into a consumer
   becomes a ``Reduce`` computed once per row of the consumer (softmax and
   layernorm become one pass per row). If a reduction would be recomputed (it is
   used by several kernels, or its result varies along an inner loop), it is
   materialised instead and the kernels are rebuilt.
5. **Lower** each kernel (``passes.lower_reductions``, ``passes.merge_loops``);
   split a large full reduction into parallel partial sums plus a small final
   reduction.
6. **Schedule**: slots for buffers, steps in program order, and the slots to free
   after each step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from plax import passes as core_passes
from plax.abstract import ShapedArray
from plax.jaxpr import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Var
from plax.lowering import index as ix
from plax.lowering import passes
from plax.lowering.decompose import decompose
from plax.lowering.kernel_ir import (
    INDEX,
    Accum,
    Buffer,
    Const,
    Expr,
    Kernel,
    Load,
    Loop,
    Op,
    Reduce,
    Store,
    Sym,
    Update,
    free_syms,
    reduce_identity,
)
from plax.lowering.rules import FUSIBLE, REDUCTIONS, RuleContext, accumulation_dtype
from plax.lowering.schedule import (
    AllocStep,
    HostStep,
    KernelStep,
    LibraryStep,
    Schedule,
)

__all__ = ["Target", "plan", "inline_calls"]

# Primitives whose equations call a sub-jaxpr that is inlined before fusion.
CALL_PRIMITIVES = ("jit", "pjit", "closed_call", "core_call")


@dataclass
class Target:
    """What a backend tells the fusion pass about itself.

    ``supports_op(op, in_dtypes, out_dtype)`` says whether the backend compiles a
    kernel ALU op for those dtypes; ``supports_dtype`` whether it can load and
    store a dtype; ``library`` names primitives it runs as library steps.
    """

    supports_op: object = None
    supports_dtype: object = None
    library: frozenset = frozenset()
    threads: int = 1
    dup_cost_limit: int = 24
    split_min_elements: int = 1 << 16
    max_partials: int = 64

    def op_ok(self, op: str, in_dtypes, out_dtype) -> bool:
        if self.supports_op is None:
            return True
        return bool(self.supports_op(op, tuple(in_dtypes), out_dtype))

    def dtype_ok(self, dtype) -> bool:
        if self.supports_dtype is None:
            return True
        return bool(self.supports_dtype(np.dtype(dtype)))


# ----------------------------------------------------------------------------
# 1. Inlining calls.


def inline_calls(jaxpr: Jaxpr, consts) -> tuple[Jaxpr, list]:
    """``jaxpr`` with nested call equations replaced by their bodies (with fresh
    vars, since one body may be inlined twice); consts of inlined closed jaxprs
    become extra constvars."""
    if not any(e.primitive.name in CALL_PRIMITIVES for e in jaxpr.eqns):
        return jaxpr, list(consts)
    constvars = list(jaxpr.constvars)
    consts = list(consts)
    eqns: list = []

    def read(env: dict, atom):
        return env.get(atom, atom) if isinstance(atom, Var) else atom

    def run(body: Jaxpr, body_consts, env: dict) -> list:
        for var, value in zip(body.constvars, body_consts):
            fresh = Var(var.aval)
            constvars.append(fresh)
            consts.append(value)
            env[var] = fresh
        for eqn in body.eqns:
            ins = tuple(read(env, a) for a in eqn.invars)
            call = _call_body(eqn) if eqn.primitive.name in CALL_PRIMITIVES else None
            if call is not None:
                results = run(call[0], call[1], dict(zip(call[0].invars, ins)))
                for old, new in zip(eqn.outvars, results):
                    env[old] = new
                continue
            outs = tuple(Var(v.aval) for v in eqn.outvars)
            for old, new in zip(eqn.outvars, outs):
                env[old] = new
            eqns.append(JaxprEqn(eqn.primitive, ins, eqn.params, outs))
        return [read(env, v) for v in body.outvars]

    outvars = run(jaxpr, [], {})
    return Jaxpr(constvars, jaxpr.invars, outvars, eqns), consts


def _call_body(eqn):
    body = eqn.params.get("jaxpr", eqn.params.get("call_jaxpr"))
    if isinstance(body, ClosedJaxpr):
        return body.jaxpr, body.consts
    if isinstance(body, Jaxpr):
        return body, []
    return None


# ----------------------------------------------------------------------------
# 2. Classification.

FUSE, REDUCE, LIBRARY, HOST = "fuse", "reduce", "library", "host"


def _classify(eqn: JaxprEqn, target: Target) -> str:
    name = eqn.primitive.name
    avals = [v.aval for v in eqn.invars] + [v.aval for v in eqn.outvars]
    if name in target.library:
        return LIBRARY
    if eqn.primitive.multiple_results or len(eqn.outvars) != 1:
        return HOST
    if not all(target.dtype_ok(a.dtype) for a in avals):
        return HOST
    if name in REDUCTIONS:
        x = eqn.invars[0].aval
        acc = accumulation_dtype(x.dtype)
        op = REDUCTIONS[name]
        combiner = "max" if op == "argmax" else "min" if op == "argmin" else op
        if not target.op_ok(combiner, (acc, acc), acc):
            return HOST
        return REDUCE
    rule = FUSIBLE.get(name)
    if rule is None:
        return HOST
    if name == "bitcast_convert_type" and eqn.invars[0].aval.shape != eqn.outvars[0].aval.shape:
        return HOST
    if rule.alu_op is not None:
        in_dtypes = tuple(a.dtype for a in avals[:-1]) or (INDEX,)
        if not target.op_ok(rule.alu_op, in_dtypes, eqn.outvars[0].aval.dtype):
            return HOST
    return FUSE


MEDIUM_COST = 4
MAX_FUSED_DEPTH = 48


def _repeats_outer(eqn: JaxprEqn) -> bool:
    """True when a broadcast repeats its operand along a dimension outside (before)
    one the operand varies along: in a row-major loop nest the operand's values
    would be recomputed for every outer index."""
    x = eqn.invars[0].aval
    shape = eqn.params["shape"]
    dims = eqn.params["broadcast_dimensions"]
    varying = [d for size, d in zip(x.shape, dims) if size != 1 and shape[d] != 1]
    if not varying:
        return False
    mapped = {d for size, d in zip(x.shape, dims) if size != 1}
    repeated = [d for d in range(len(shape)) if d not in mapped and shape[d] != 1]
    return any(d < max(varying) for d in repeated)


def _is_row_reduction(eqn: JaxprEqn) -> bool:
    """True when the operand's innermost non-unit axis is reduced (or there is none):
    such a reduction walks contiguous memory as an inner loop."""
    if REDUCTIONS[eqn.primitive.name] in ("argmax", "argmin"):
        return True
    x = eqn.invars[0].aval
    axes = set(eqn.params["axes"])
    for d in reversed(range(x.ndim)):
        if x.shape[d] != 1:
            return d in axes
    return True


# ----------------------------------------------------------------------------
# 4. Building kernels.


def _convert(e: Expr, dt) -> Expr:
    dt = np.dtype(dt)
    if e.dtype == dt:
        return e
    return Op("convert_element_type", [e], dt)


class _KernelBuilder:
    """Builds the expression of one kernel by inlining producers."""

    def __init__(self, plan: "_Planner", root: Var):
        self.plan = plan
        self.root = root
        self.names = passes.Names()
        self.ranges: dict = {}
        self.inputs: list[Var] = []  # materialised vars read, in order of first read
        self.input_names: dict = {}
        self.memo: dict = {}
        self.reduce_of: dict = {}  # Reduce node -> the jaxpr var it computes
        self.eqns_used: list = []

    def load(self, var: Var, index) -> Expr:
        const = self.plan.scalar_consts.get(var)
        if const is not None:
            return Const(const, var.aval.dtype)
        name = self.input_names.get(var)
        if name is None:
            name = f"in{len(self.inputs)}"
            self.input_names[var] = name
            self.inputs.append(var)
        return Load(name, ix.flat_index(index, var.aval.shape), var.aval.dtype)

    def value(self, atom, index: tuple) -> Expr:
        if isinstance(atom, Literal):
            return Const(atom.val, atom.aval.dtype)
        if atom.aval.size == 0:
            # An empty array is only ever read inside a loop of zero trips (a reduction
            # over an empty axis): its value is never used.
            return Const(0, atom.aval.dtype)
        if atom is not self.root and (atom in self.plan.materialised):
            return self.load(atom, index)
        key = (atom, index)
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        eqn = self.plan.producer[atom]
        self.eqns_used.append(eqn)
        if self.plan.kinds[id(eqn)] == REDUCE:
            out = self.reduction(eqn, index)
        else:
            rule = FUSIBLE[eqn.primitive.name]
            ctx = RuleContext(eqn, lambda k, idx: self.value(eqn.invars[k], idx), self.ranges)
            out = rule.fn(ctx, index)
        self.memo[key] = out
        return out

    def reduction(self, eqn: JaxprEqn, index: tuple) -> Expr:
        x = eqn.invars[0]
        out_aval = eqn.outvars[0].aval
        axes = set(eqn.params["axes"])
        op = REDUCTIONS[eqn.primitive.name]
        it = iter(index)
        full = []
        raxes = []
        for d, n in enumerate(x.aval.shape):
            if d not in axes:
                full.append(next(it))
            elif n == 1:
                full.append(ix.const(0))
            else:
                name = self.names.fresh("r")
                self.ranges[name] = n
                raxes.append((name, n))
                full.append(Sym(name))
        acc = accumulation_dtype(x.aval.dtype)
        body = _convert(self.value(x, tuple(full)), acc)
        if op in ("argmax", "argmin"):
            if not raxes:
                return Const(0, out_aval.dtype)
            node = Reduce(op, raxes, body, out_aval.dtype)
            self.reduce_of[node] = eqn.outvars[0]
            return node
        if not raxes:
            return _convert(body, out_aval.dtype)
        node = Reduce(op, raxes, body, acc)
        self.reduce_of[node] = eqn.outvars[0]
        return _convert(node, out_aval.dtype)

    def domain(self, shape) -> tuple[list, tuple]:
        """Loop variables for ``shape`` (size-1 dims get the constant 0)."""
        loops = []
        idx = []
        for n in shape:
            if n == 1:
                idx.append(ix.const(0))
                continue
            name = self.names.fresh("i")
            self.ranges[name] = n
            loops.append((name, n))
            idx.append(Sym(name))
        return loops, tuple(idx)


def _nest(loops, body, parallel: bool) -> list:
    for k, (name, extent) in reversed(list(enumerate(loops))):
        body = [Loop(name, extent, body, parallel=parallel and k == 0)]
    return body


def _reduce_placements(value: Expr, loops) -> list:
    """(Reduce node, executions) for each Reduce in ``value`` inside ``loops``."""
    depth_of = {name: d for d, (name, _) in enumerate(loops)}
    trips = [1]
    for _, extent in loops:
        trips.append(trips[-1] * extent)
    out = []
    seen = set()
    fcache: dict = {}

    def visit(e: Expr, enclosing: tuple):
        if e in seen:
            return
        seen.add(e)
        if isinstance(e, Reduce):
            free = free_syms(e, fcache)
            runs = None
            for parent, parent_runs in reversed(enclosing):
                parent_axes = {n for n, _ in parent.axes}
                if free & parent_axes:
                    runs = parent_runs * math.prod(x for _, x in parent.axes)
                    break
            if runs is None:
                depth = max((depth_of[v] for v in free if v in depth_of), default=-1)
                runs = trips[depth + 1]
            out.append((e, runs, free))
            for child in e.children():
                visit(child, enclosing + ((e, runs),))
            return
        for child in e.children():
            visit(child, enclosing)

    visit(value, ())
    return out


# ----------------------------------------------------------------------------
# The planner.


class _Planner:
    def __init__(self, jaxpr: Jaxpr, consts, target: Target):
        self.jaxpr = jaxpr
        self.consts = consts
        self.target = target
        self.producer: dict = {}
        self.kinds: dict = {}
        self.consumers: dict = {}
        for eqn in jaxpr.eqns:
            for v in eqn.outvars:
                self.producer[v] = eqn
            self.kinds[id(eqn)] = _classify(eqn, target)
            for a in eqn.invars:
                if isinstance(a, Var):
                    self.consumers.setdefault(a, []).append(eqn)
        self.sources = set(jaxpr.invars) | set(jaxpr.constvars)
        self.scalar_consts = {}
        for var, value in zip(jaxpr.constvars, consts):
            if np.ndim(value) == 0:
                self.scalar_consts[var] = np.asarray(value, var.aval.dtype)[()]
        self.materialised: set = set()

    # -- 3. materialisation ---------------------------------------------------------
    def initial_materialisation(self):
        mat = set(self.sources)
        mat.update(v for v in self.jaxpr.outvars if isinstance(v, Var))
        cost: dict = {}
        depth: dict = {}
        for eqn in self.jaxpr.eqns:
            kind = self.kinds[id(eqn)]
            if kind in (HOST, LIBRARY):
                mat.update(v for v in eqn.invars if isinstance(v, Var))
                mat.update(eqn.outvars)
                continue
            (out,) = eqn.outvars
            if kind == REDUCE:
                if not _is_row_reduction(eqn):
                    mat.add(out)
                # A row reduction inlined into a consumer is computed once per row.
                cost[out] = 1
            else:
                own = FUSIBLE[eqn.primitive.name].cost
                cost[out] = own + sum(
                    cost.get(a, 0) for a in eqn.invars if isinstance(a, Var) and a not in mat
                )
            users = {id(e) for e in self.consumers.get(out, ())}
            if len(users) > 1 and cost[out] > self.target.dup_cost_limit:
                mat.add(out)
            if eqn.primitive.name == "broadcast_in_dim" and _repeats_outer(eqn):
                # Inlined, the operand would be recomputed for every outer index.
                operand = eqn.invars[0]
                if isinstance(operand, Var) and cost.get(operand, 0) >= MEDIUM_COST:
                    mat.add(operand)
                    cost[out] = 0
            # Long chains are cut into several kernels: expressions stay shallow.
            depth[out] = 1 + max((depth.get(a, 0) for a in eqn.invars
                                  if isinstance(a, Var) and a not in mat), default=0)
            if depth[out] >= MAX_FUSED_DEPTH:
                mat.add(out)
            if out in mat:
                cost[out] = 0
                depth[out] = 0
        self.materialised = mat

    def roots(self) -> list[Var]:
        out = []
        for eqn in self.jaxpr.eqns:
            if self.kinds[id(eqn)] in (FUSE, REDUCE):
                (var,) = eqn.outvars
                if var in self.materialised:
                    out.append(var)
        return out

    def build_root(self, root: Var) -> dict:
        b = _KernelBuilder(self, root)
        eqn = self.producer[root]
        aval = root.aval
        if aval.size == 0:
            return {"builder": b, "root": root, "empty": True}
        if self.kinds[id(eqn)] == REDUCE and not _is_row_reduction(eqn):
            return self._column_reduction(b, eqn)
        loops, idx = b.domain(aval.shape)
        value = b.value(root, idx)
        store = Store("out0", ix.flat_index(idx, aval.shape), value)
        return {"builder": b, "loops": loops, "stores": [store], "value": value, "root": root}

    def _column_reduction(self, b: _KernelBuilder, eqn: JaxprEqn) -> dict:
        """Accumulate over the operand in memory order into an output-shaped buffer."""
        x = eqn.invars[0]
        root = eqn.outvars[0]
        op = REDUCTIONS[eqn.primitive.name]
        axes = set(eqn.params["axes"])
        acc_dt = accumulation_dtype(x.aval.dtype)
        out_dt = root.aval.dtype
        acc_buf = "out0" if acc_dt == out_dt else "scratch0"
        kept_loops, kept_idx = b.domain(root.aval.shape)
        init = _nest(kept_loops, [
            Store(acc_buf, ix.flat_index(kept_idx, root.aval.shape),
                  Const(reduce_identity(op, acc_dt), acc_dt))
        ], parallel=False)
        x_loops, x_idx = b.domain(x.aval.shape)
        kept = tuple(i for d, i in enumerate(x_idx) if d not in axes)
        where = ix.flat_index(kept, root.aval.shape)
        current = Load(acc_buf, where, acc_dt)
        value = _convert(b.value(x, x_idx), acc_dt)
        accumulate = _nest(x_loops, [Store(acc_buf, where, Op(op, [current, value], acc_dt))],
                           parallel=False)
        body = init + accumulate
        if acc_buf != "out0":
            body += _nest(kept_loops, [
                Store("out0", ix.flat_index(kept_idx, root.aval.shape),
                      _convert(Load(acc_buf, ix.flat_index(kept_idx, root.aval.shape), acc_dt),
                               out_dt))
            ], parallel=False)
        scratch = () if acc_buf == "out0" else ((acc_dt, root.aval.size),)
        return {"builder": b, "body": body, "scratch": scratch, "root": root}

    def check_reductions(self, built: list) -> set:
        """Reductions that an inlining would recompute: materialise them."""
        users: dict = {}
        bad = set()
        for item in built:
            if "value" not in item:
                continue
            b = item["builder"]
            loops = item["loops"]
            nontrivial = bool(loops)
            for node, runs, free in _reduce_placements(item["value"], loops):
                var = b.reduce_of.get(node)
                if var is None or var is item["root"]:
                    continue
                users.setdefault(var, set()).add(id(item["root"]))
                if runs > max(var.aval.size, 1):
                    bad.add(var)
                elif nontrivial and not (free & {n for n, _ in loops}):
                    # Hoisted above the parallel loop: better as its own kernel.
                    bad.add(var)
        bad.update(var for var, roots in users.items() if len(roots) > 1)
        return bad


def plan(closed: ClosedJaxpr, target: Target | None = None) -> Schedule:
    """The schedule that runs ``closed`` on a backend described by ``target``."""
    target = target or Target()
    jaxpr, consts = inline_calls(closed.jaxpr, closed.consts)
    # CSE and DCE (jit has run them already; direct callers may not have).
    simplified = core_passes.simplify(ClosedJaxpr(jaxpr, consts))
    # Primitives the target does not claim become ones kernels compute (dot_general).
    simplified = decompose(simplified, target)
    jaxpr, consts = simplified.jaxpr, simplified.consts
    planner = _Planner(jaxpr, consts, target)
    planner.initial_materialisation()
    for _ in range(len(jaxpr.eqns) + 1):
        built = [planner.build_root(r) for r in planner.roots()]
        bad = planner.check_reductions(built)
        if not bad:
            break
        planner.materialised |= bad
    return _assemble(planner, built)


# ----------------------------------------------------------------------------
# 5-6. Lowering and scheduling.


def _eqn_note(builder: _KernelBuilder, root: Var, planner: _Planner) -> str:
    """The primitives a kernel computes, in program order (for dumps)."""
    eqns = {id(e): e for e in builder.eqns_used}
    eqns[id(planner.producer[root])] = planner.producer[root]
    order = {id(e): k for k, e in enumerate(planner.jaxpr.eqns)}
    return ",".join(e.primitive.name for e in sorted(eqns.values(), key=lambda e: order[id(e)]))


class _Slots:
    def __init__(self):
        self.of: dict = {}
        self.avals: dict = {}
        self.count = 0

    def new(self, aval) -> int:
        slot = self.count
        self.count += 1
        self.avals[slot] = aval
        return slot

    def get(self, var: Var) -> int:
        slot = self.of.get(var)
        if slot is None:
            slot = self.of[var] = self.new(var.aval)
        return slot


def _assemble(planner: _Planner, built: list) -> Schedule:
    jaxpr = planner.jaxpr
    slots = _Slots()
    input_slots = tuple(slots.get(v) for v in jaxpr.invars)
    const_items = [(slots.get(v), np.asarray(c)) for v, c in zip(jaxpr.constvars, planner.consts)]
    by_root = {item["root"]: item for item in built}
    steps: list = []
    kernel_count = [0]

    def kernel_name() -> str:
        name = f"k{kernel_count[0]}"
        kernel_count[0] += 1
        return name

    for eqn in jaxpr.eqns:
        kind = planner.kinds[id(eqn)]
        if kind in (HOST, LIBRARY):
            ins = tuple(a if isinstance(a, Literal) else slots.get(a) for a in eqn.invars)
            outs = tuple(slots.get(v) for v in eqn.outvars)
            avals = tuple(v.aval for v in eqn.outvars)
            cls = HostStep if kind == HOST else LibraryStep
            steps.append(cls(eqn.primitive, eqn.params, ins, outs, avals))
            continue
        (var,) = eqn.outvars
        item = by_root.get(var)
        if item is None:
            continue
        if item.get("empty"):
            steps.append(AllocStep((slots.get(var),), (var.aval,)))
            continue
        steps.extend(_lower_item(planner, item, slots, kernel_name))

    outputs = tuple(a if isinstance(a, Literal) else slots.get(a) for a in jaxpr.outvars)
    schedule = Schedule(
        num_slots=slots.count,
        input_slots=input_slots,
        consts=const_items,
        outputs=outputs,
        out_avals=tuple(a.aval for a in jaxpr.outvars),
        steps=steps,
        slot_avals=slots.avals,
    )
    schedule.frees = _liveness(schedule)
    return schedule


def _lower_item(planner: _Planner, item: dict, slots: _Slots, kernel_name) -> list:
    b: _KernelBuilder = item["builder"]
    root: Var = item["root"]
    note = _eqn_note(b, root, planner)
    if "body" in item:
        body = passes.merge_loops(item["body"])
        scratch = item["scratch"]
    else:
        nest = _nest(item["loops"], item["stores"], parallel=True)
        body = passes.lower_reductions(nest, b.names)
        body = passes.merge_loops(body)
        scratch = ()
    in_slots = tuple(slots.get(v) for v in b.inputs)
    in_buffers = [
        Buffer(b.input_names[v], v.aval.dtype, v.aval.shape, "in") for v in b.inputs
    ]
    out_buffers = [Buffer("out0", root.aval.dtype, root.aval.shape, "out")]
    scratch_buffers = [
        Buffer(f"scratch{k}", dt, (size,), "scratch") for k, (dt, size) in enumerate(scratch)
    ]
    steps = []
    split = _split_full_reduction(body, planner.target, b.names)
    if split is not None:
        partial_body, partial_dtype, count, body = split
        partial_slot = slots.new(None)
        partial_name = f"in{len(in_buffers)}"
        partial_kernel = Kernel(
            kernel_name(),
            in_buffers + [Buffer("out0", partial_dtype, (count,), "out")],
            partial_body,
        )
        partial_aval = ShapedArray((count,), partial_dtype)
        slots.avals[partial_slot] = partial_aval
        steps.append(KernelStep(partial_kernel, in_slots, (partial_slot,), (partial_aval,),
                                work=passes.estimate_work(partial_body),
                                note=note + " (partials)"))
        body = _rename_buffer(body, "partials", partial_name)
        in_buffers = in_buffers + [Buffer(partial_name, partial_dtype, (count,), "in")]
        in_slots = in_slots + (partial_slot,)
        # Buffers the final step no longer reads stay as parameters: the kernel ABI
        # is positional and unread parameters cost nothing.
    kernel = Kernel(kernel_name(), in_buffers + out_buffers + scratch_buffers, body)
    steps.append(KernelStep(kernel, in_slots, (slots.get(root),), (root.aval,),
                            scratch=tuple(scratch), work=passes.estimate_work(body), note=note))
    return steps


def _rename_buffer(body, old: str, new: str):
    def fix(e):
        return _rename_loads(e, old, new, {})

    return tuple(passes.stmt_map_exprs(s, fix, lambda e: e) for s in body)


def _rename_loads(e: Expr, old: str, new: str, memo: dict) -> Expr:
    hit = memo.get(e)
    if hit is not None:
        return hit
    if isinstance(e, Load) and e.buffer == old:
        out = Load(new, e.index, e.dtype)
    else:
        kids = e.children()
        out = passes._rebuild(e, [_rename_loads(k, old, new, memo) for k in kids]) if kids else e
    memo[e] = out
    return out


def _split_full_reduction(body, target: Target, names: passes.Names):
    """A kernel ``acc = id; for v < N: acc = op(acc, f(v)); out[0] = g(acc)`` with a
    large N becomes C partial reductions over chunks of N // C elements (a parallel
    kernel) and a final kernel combining them and the N % C elements left over:
    returns (partial body, partial dtype, C, final body) or None."""
    if target.threads < 2 or len(body) != 3:
        return None
    accum, loop, store = body
    if not (isinstance(accum, Accum) and isinstance(loop, Loop) and isinstance(store, Store)):
        return None
    if len(loop.body) != 1 or not isinstance(loop.body[0], Update):
        return None
    update = loop.body[0]
    if update.name != accum.name or loop.extent < target.split_min_elements:
        return None
    n = loop.extent
    count = min(target.max_partials, max(2 * target.threads, n // (1 << 15)))
    chunk = n // count
    rest = n - count * chunk
    var = Sym(loop.var)

    def at(position: Expr) -> Expr:
        moved = passes.substitute(update.value, {var: position})
        return passes.map_loads(moved, _canonical_index, {})

    c = Sym(names.fresh("c"))
    t = Sym(names.fresh("t"))
    partial_acc = names.fresh("acc")
    partial_body = (
        Loop(c.name, count, [
            Accum(partial_acc, accum.dtype, accum.init),
            Loop(t.name, chunk, [
                Update(partial_acc, update.op, at(ix.add(ix.mul(c, chunk), t))),
            ]),
            Store("out0", c, Sym(partial_acc, accum.dtype)),
        ], parallel=True),
    )
    k = Sym(names.fresh("c"))
    final = [
        accum,
        Loop(k.name, count, [Update(accum.name, update.op, Load("partials", k, accum.dtype))]),
    ]
    if rest:
        r = Sym(names.fresh("t"))
        final.append(Loop(r.name, rest, [
            Update(accum.name, update.op, at(ix.add(r, ix.const(count * chunk)))),
        ]))
    final.append(store)
    return partial_body, accum.dtype, count, tuple(final)


def _canonical_index(e: Expr) -> Expr:
    terms, c = ix.linear_form(e)
    return ix.from_linear(terms, c)


def _liveness(schedule: Schedule) -> list:
    last_use: dict = {}
    for i, step in enumerate(schedule.steps):
        for slot in step_inputs(step):
            last_use[slot] = i
    keep = {s for s in schedule.outputs if not isinstance(s, Literal)}
    frees = [[] for _ in schedule.steps]
    for slot, i in last_use.items():
        if slot not in keep:
            frees[i].append(slot)
    # Outputs of a step nobody reads (dead results of multi-result host steps).
    for i, step in enumerate(schedule.steps):
        for slot in step.outputs:
            if slot not in last_use and slot not in keep:
                frees[i].append(slot)
    return [tuple(sorted(f)) for f in frees]


def step_inputs(step) -> tuple:
    if isinstance(step, AllocStep):
        return ()
    return tuple(s for s in step.inputs if not isinstance(s, Literal))
