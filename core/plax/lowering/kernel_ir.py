"""The kernel IR: what the fusion pass hands a backend to compile.

A ``Kernel`` is a loop nest over typed, C-contiguous buffers. It is small on
purpose, so that a backend renders it with a table per concept:

Buffers (``Buffer``)
    A kernel parameter: ``name``, ``dtype``, ``shape`` and ``role`` -- ``"in"``
    (read only), ``"out"`` (written, never read before it is written) or
    ``"scratch"`` (kernel-private memory the runtime allocates; read and written).
    Buffers are C-contiguous and addressed by a flat element index; every index a
    kernel computes is in bounds.

Expressions (``Expr``; each has a ``dtype``)
    ``Const(value, dtype)``; ``Sym(name, dtype)``, a loop index (dtype ``INDEX``,
    int64) or a scalar bound by ``Let``/``Accum``; ``Load(buffer, index, dtype)``;
    ``Op(op, args, dtype, attrs)``, an ALU operation.

    ALU ops are named after the lax elementwise primitive they implement
    (``add``, ``exp``, ``select_n``, ``convert_element_type``...) and have exactly
    its semantics (see ``plax.lax``): integer ``div``/``rem`` never trap
    (x / 0 == -1, INT_MIN / -1 == INT_MIN, x rem 0 == x), shifts by amounts outside
    [0, bits) give 0 or the sign fill, ``max``/``min`` propagate NaN and order -0.0
    below +0.0, float to integer conversion truncates and saturates (NaN -> 0).
    ``OPS`` lists them with their arity. Index arithmetic uses the same ops on
    ``INDEX`` values, which are never negative where they are divided.

    float16 and bfloat16 values are computed in float32 and rounded to their
    dtype after every op, which gives the correctly rounded result of each op
    exactly as numpy's narrow-float loops do.

    ``Reduce(op, axes, body, dtype)`` exists only while a kernel is built; the
    pass ``plax.lowering.passes.lower_reductions`` turns it into statements.

Statements (``Stmt``)
    ``Loop(var, extent, body, parallel)``: ``for var in range(extent)``; at most
    one loop per kernel is ``parallel``: the outermost statement, whose
    iterations are independent, so a runtime may split its range across threads.
    ``Store(buffer, index, value)``.
    ``Let(name, value)``: an immutable scalar.
    ``Accum(name, dtype, init)``: a mutable scalar; ``Update(name, op, value)``
    sets it to ``op(name, value)`` (``op`` one of ``REDUCE_OPS``; a renderer may
    reassociate float ``add``/``mul`` updates, e.g. to vectorise a sum).
    argmax/argmin lower to two such loops: the extreme value, then the smallest
    index holding it (NaN counts as the extreme, as in lax).

``kernel_text(kernel)`` prints a kernel; the text is stable, so backends key
their compiled-code caches on it. The extent of the parallel loop is printed
as ``?``: a backend passes it at run time (a ``[start, end)`` range), so one
compiled kernel serves every size of a flat elementwise loop.
"""

from __future__ import annotations

import numpy as np

from plax import dtypes

__all__ = [
    "INDEX",
    "OPS",
    "REDUCE_OPS",
    "ARG_REDUCE_OPS",
    "Expr",
    "Const",
    "Sym",
    "Load",
    "Op",
    "Reduce",
    "Stmt",
    "Loop",
    "Store",
    "Let",
    "Accum",
    "Update",
    "Buffer",
    "Kernel",
    "kernel_text",
    "expr_text",
    "walk_exprs",
    "free_syms",
    "reduce_identity",
]

INDEX = np.dtype(np.int64)

# ALU ops and their arity (None: any number of operands). Names are lax primitive names.
OPS: dict[str, int | None] = {
    # arithmetic
    "neg": 1, "sign": 1, "abs": 1, "add": 2, "sub": 2, "mul": 2, "div": 2, "rem": 2,
    "max": 2, "min": 2, "square": 1, "floor": 1, "ceil": 1, "round": 1, "nextafter": 2,
    "is_finite": 1,
    # comparisons (bool results)
    "eq": 2, "ne": 2, "lt": 2, "le": 2, "gt": 2, "ge": 2,
    # logical and bitwise
    "not": 1, "and": 2, "or": 2, "xor": 2, "shift_left": 2, "shift_right_logical": 2,
    "shift_right_arithmetic": 2, "population_count": 1, "clz": 1,
    # selection and conversion
    "select_n": None, "clamp": 3, "convert_element_type": 1, "bitcast_convert_type": 1,
    # transcendental
    "exp": 1, "exp2": 1, "log": 1, "log1p": 1, "expm1": 1, "pow": 2, "sqrt": 1, "rsqrt": 1,
    "cbrt": 1, "sin": 1, "cos": 1, "tan": 1, "asin": 1, "acos": 1, "atan": 1, "atan2": 2,
    "sinh": 1, "cosh": 1, "tanh": 1, "asinh": 1, "acosh": 1, "atanh": 1, "logistic": 1,
    "erf": 1, "erfc": 1, "erf_inv": 1, "lgamma": 1, "digamma": 1,
}

# Combiners of Update (and of Reduce), with lax's semantics of the binary op.
REDUCE_OPS = ("add", "mul", "max", "min", "and", "or", "xor")
ARG_REDUCE_OPS = ("argmax", "argmin")


# ----------------------------------------------------------------------------
# Expressions. Nodes are immutable and compare structurally; the hash is cached
# because kernels use expressions as dictionary keys (CSE, hoisting).


class Expr:
    __slots__ = ("dtype", "_hash")

    def _key(self) -> tuple:
        raise NotImplementedError

    def __eq__(self, other) -> bool:
        if self is other:
            return True
        if type(self) is not type(other) or hash(self) != hash(other):
            return False
        return self._key() == other._key()

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = self._hash = hash((type(self).__name__,) + self._key())
        return h

    def __repr__(self) -> str:
        return expr_text(self)

    def children(self) -> tuple:
        return ()


class Const(Expr):
    __slots__ = ("value",)

    def __init__(self, value, dtype):
        self.dtype = np.dtype(dtype)
        self.value = _canonical_scalar(value, self.dtype)
        self._hash = None

    def _key(self):
        # Bits, not values: -0.0 != 0.0 and NaN == NaN for caching purposes.
        return (self.dtype, np.asarray(self.value, self.dtype).tobytes())


class Sym(Expr):
    __slots__ = ("name",)

    def __init__(self, name: str, dtype=INDEX):
        self.name = name
        self.dtype = np.dtype(dtype)
        self._hash = None

    def _key(self):
        return (self.name, self.dtype)


class Load(Expr):
    __slots__ = ("buffer", "index")

    def __init__(self, buffer: str, index: Expr, dtype):
        self.buffer = buffer
        self.index = index
        self.dtype = np.dtype(dtype)
        self._hash = None

    def _key(self):
        return (self.buffer, self.index, self.dtype)

    def children(self):
        return (self.index,)


class Op(Expr):
    __slots__ = ("op", "args", "attrs")

    def __init__(self, op: str, args, dtype, attrs: tuple = ()):
        if op not in OPS:
            raise ValueError(f"unknown kernel ALU op {op!r}")
        arity = OPS[op]
        args = tuple(args)
        if arity is not None and len(args) != arity:
            raise ValueError(f"ALU op {op!r} takes {arity} operands, got {len(args)}")
        self.op = op
        self.args = args
        self.dtype = np.dtype(dtype)
        self.attrs = tuple(attrs)
        self._hash = None

    def _key(self):
        return (self.op, self.args, self.dtype, self.attrs)

    def children(self):
        return self.args

    def attr(self, name: str, default=None):
        for key, value in self.attrs:
            if key == name:
                return value
        return default


class Reduce(Expr):
    """``op`` over the loop variables ``axes`` ((name, extent), ...) of ``body``.
    For ``argmax``/``argmin`` the result is the flat index over ``axes`` in ``dtype``;
    otherwise it is the combination of the body values, accumulated in ``dtype``."""

    __slots__ = ("op", "axes", "body")

    def __init__(self, op: str, axes, body: Expr, dtype):
        if op not in REDUCE_OPS and op not in ARG_REDUCE_OPS:
            raise ValueError(f"unknown reduction {op!r}")
        self.op = op
        self.axes = tuple((str(n), int(e)) for n, e in axes)
        self.body = body
        self.dtype = np.dtype(dtype)
        self._hash = None

    def _key(self):
        return (self.op, self.axes, self.body, self.dtype)

    def children(self):
        return (self.body,)


def _canonical_scalar(value, dtype: np.dtype):
    arr = np.asarray(value).astype(dtype) if np.asarray(value).dtype != dtype else np.asarray(
        value
    )
    if dtype == dtypes.bool_:
        return bool(arr)
    if dtypes.is_integer(dtype):
        return int(arr)
    return float(arr)


# ----------------------------------------------------------------------------
# Statements.


class Stmt:
    __slots__ = ()

    def __repr__(self) -> str:
        return "\n".join(_stmt_lines(self, 0, {}))


class Loop(Stmt):
    __slots__ = ("var", "extent", "body", "parallel")

    def __init__(self, var: str, extent: int, body, parallel: bool = False):
        self.var = var
        self.extent = int(extent)
        self.body = tuple(body)
        self.parallel = bool(parallel)


class Store(Stmt):
    __slots__ = ("buffer", "index", "value")

    def __init__(self, buffer: str, index: Expr, value: Expr):
        self.buffer = buffer
        self.index = index
        self.value = value


class Let(Stmt):
    __slots__ = ("name", "value")

    def __init__(self, name: str, value: Expr):
        self.name = name
        self.value = value


class Accum(Stmt):
    __slots__ = ("name", "dtype", "init")

    def __init__(self, name: str, dtype, init: Expr):
        self.name = name
        self.dtype = np.dtype(dtype)
        self.init = init


class Update(Stmt):
    __slots__ = ("name", "op", "value")

    def __init__(self, name: str, op: str, value: Expr):
        if op not in REDUCE_OPS:
            raise ValueError(f"unknown accumulator update {op!r}")
        self.name = name
        self.op = op
        self.value = value


class Buffer:
    __slots__ = ("name", "dtype", "shape", "role")

    def __init__(self, name: str, dtype, shape, role: str):
        if role not in ("in", "out", "scratch"):
            raise ValueError(f"buffer role must be in/out/scratch, got {role!r}")
        self.name = name
        self.dtype = np.dtype(dtype)
        self.shape = tuple(int(d) for d in shape)
        self.role = role

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __repr__(self) -> str:
        return f"Buffer({self.name}, {self.dtype.name}{list(self.shape)}, {self.role})"


class Kernel:
    """A loop nest over buffers. ``parallel_extent`` is the extent of the parallel
    outer loop (None when the kernel has none): the runtime calls the kernel
    with a sub-range of ``[0, parallel_extent)``; otherwise with ``[0, 1)``."""

    __slots__ = ("name", "buffers", "body", "_text")

    def __init__(self, name: str, buffers, body):
        self.name = name
        self.buffers = tuple(buffers)
        self.body = tuple(body)
        self._text = None

    @property
    def parallel_loop(self) -> Loop | None:
        if len(self.body) == 1 and isinstance(self.body[0], Loop) and self.body[0].parallel:
            return self.body[0]
        return None

    @property
    def parallel_extent(self) -> int | None:
        loop = self.parallel_loop
        return None if loop is None else loop.extent

    def buffer(self, name: str) -> Buffer:
        for b in self.buffers:
            if b.name == name:
                return b
        raise KeyError(name)

    def text(self) -> str:
        """The kernel printed without its name: the key of compiled-code caches."""
        if self._text is None:
            self._text = kernel_text(self, with_name=False)
        return self._text

    def __repr__(self) -> str:
        return kernel_text(self)


# ----------------------------------------------------------------------------
# Traversal helpers.


def walk_exprs(node):
    """Every expression in a statement list, statement or expression (pre-order,
    with repeats)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, Expr):
            yield item
            stack.extend(reversed(item.children()))
        elif isinstance(item, Loop):
            stack.extend(reversed(item.body))
        elif isinstance(item, Store):
            stack.extend((item.value, item.index))
        elif isinstance(item, (Let, Update)):
            stack.append(item.value)
        elif isinstance(item, Accum):
            stack.append(item.init)


def free_syms(expr: Expr, _cache: dict | None = None) -> frozenset:
    """Names of the Syms an expression reads, minus the axes its Reduces bind."""
    cache = {} if _cache is None else _cache
    hit = cache.get(expr)
    if hit is not None:
        return hit
    if isinstance(expr, Sym):
        out = frozenset((expr.name,))
    elif isinstance(expr, Reduce):
        bound = {name for name, _ in expr.axes}
        out = free_syms(expr.body, cache) - bound
    else:
        out = frozenset()
        for child in expr.children():
            out = out | free_syms(child, cache)
    cache[expr] = out
    return out


def reduce_identity(op: str, dtype) -> object:
    """The identity of a combiner in ``dtype`` (what reducing nothing gives)."""
    dtype = np.dtype(dtype)
    if op == "add" or op == "or" or op == "xor":
        return False if dtype == dtypes.bool_ else 0
    if op == "mul":
        return True if dtype == dtypes.bool_ else 1
    if op == "and":
        return True if dtype == dtypes.bool_ else int(np.invert(np.zeros((), dtype)))
    if op in ("max", "argmax"):
        if dtype == dtypes.bool_:
            return False
        return int(np.iinfo(dtype).min) if dtypes.is_integer(dtype) else -np.inf
    if op in ("min", "argmin"):
        if dtype == dtypes.bool_:
            return True
        return int(np.iinfo(dtype).max) if dtypes.is_integer(dtype) else np.inf
    raise ValueError(f"no identity for {op!r}")


# ----------------------------------------------------------------------------
# Printing.


def _dt(dtype) -> str:
    return dtypes.SHORT_NAMES.get(np.dtype(dtype), np.dtype(dtype).name)


def expr_text(expr: Expr) -> str:
    if isinstance(expr, Const):
        return f"{expr.value!r}:{_dt(expr.dtype)}"
    if isinstance(expr, Sym):
        return expr.name if expr.dtype == INDEX else f"{expr.name}:{_dt(expr.dtype)}"
    if isinstance(expr, Load):
        return f"{expr.buffer}[{expr_text(expr.index)}]"
    if isinstance(expr, Op):
        args = ", ".join(expr_text(a) for a in expr.args)
        attrs = "".join(f", {k}={v!r}" for k, v in expr.attrs)
        return f"{expr.op}:{_dt(expr.dtype)}({args}{attrs})"
    if isinstance(expr, Reduce):
        axes = ", ".join(f"{n}<{e}" for n, e in expr.axes)
        return f"reduce_{expr.op}:{_dt(expr.dtype)}[{axes}]({expr_text(expr.body)})"
    raise TypeError(f"not a kernel expression: {expr!r}")


def _stmt_lines(stmt: Stmt, depth: int, opts: dict) -> list[str]:
    pad = "  " * depth
    if isinstance(stmt, Loop):
        extent = "?" if stmt.parallel and opts.get("hide_parallel_extent") else stmt.extent
        head = f"{pad}{'parallel ' if stmt.parallel else ''}for {stmt.var} < {extent}:"
        lines = [head]
        for s in stmt.body:
            lines.extend(_stmt_lines(s, depth + 1, opts))
        return lines
    if isinstance(stmt, Store):
        return [f"{pad}{stmt.buffer}[{expr_text(stmt.index)}] = {expr_text(stmt.value)}"]
    if isinstance(stmt, Let):
        return [f"{pad}let {stmt.name}:{_dt(stmt.value.dtype)} = {expr_text(stmt.value)}"]
    if isinstance(stmt, Accum):
        return [f"{pad}acc {stmt.name}:{_dt(stmt.dtype)} = {expr_text(stmt.init)}"]
    if isinstance(stmt, Update):
        return [f"{pad}{stmt.name} = {stmt.op}({stmt.name}, {expr_text(stmt.value)})"]
    raise TypeError(f"not a kernel statement: {stmt!r}")


def kernel_text(kernel: Kernel, with_name: bool = True) -> str:
    params = ", ".join(
        f"{b.role} {b.name}:{_dt(b.dtype)}"
        + ("" if b.role == "in" or b.role == "out" else f"[{b.size}]")
        for b in kernel.buffers
    )
    name = kernel.name if with_name else "kernel"
    lines = [f"{name}({params}):"]
    opts = {"hide_parallel_extent": not with_name}
    for stmt in kernel.body:
        lines.extend(_stmt_lines(stmt, 1, opts))
    return "\n".join(lines)
