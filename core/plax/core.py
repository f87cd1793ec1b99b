"""The tracing core: primitives, traces, tracers and ``bind``.

This follows JAX's "Autodidax" design. Every operation is a ``Primitive``
applied with ``bind``. ``bind`` finds the innermost active trace among the
arguments (each transformation that is running owns one ``MainTrace`` on the
stack), lifts the arguments into it and lets that trace interpret the
primitive. The bottom of the stack is the evaluation trace, which executes
the primitive on a backend. A jaxpr-building trace, a JVP trace and a batching
trace are all just ``Trace`` subclasses; they nest by level.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Callable

import numpy as np

from plax import errors
from plax.abstract import ShapedArray, aval_of_constant, is_python_scalar  # noqa: F401


class Primitive:
    """A named operation. Its behaviour lives in rule tables keyed by the primitive."""

    def __init__(self, name: str, multiple_results: bool = False):
        self.name = name
        self.multiple_results = multiple_results

    def bind(self, *args, **params):
        return bind(self, *args, **params)

    def abstract_eval(self, *avals: ShapedArray, **params) -> list[ShapedArray]:
        rule = abstract_eval_rules.get(self)
        if rule is None:
            raise NotImplementedError(f"primitive {self.name!r} has no abstract evaluation rule")
        return rule(*avals, **params)

    def __repr__(self) -> str:
        return self.name


# Shape/dtype rules: ``rule(*avals, **params) -> list[ShapedArray]``.
abstract_eval_rules: dict[Primitive, Callable[..., list[ShapedArray]]] = {}


# ----------------------------------------------------------------------------
# Traces and tracers.


class MainTrace:
    """One running transformation: its level on the stack and its private state."""

    __slots__ = ("level", "trace_type", "payload", "active")

    def __init__(self, level: int, trace_type: type, payload=None):
        self.level = level
        self.trace_type = trace_type
        self.payload = payload
        self.active = True

    def __repr__(self) -> str:
        return f"MainTrace({self.level}, {self.trace_type.__name__})"


class Trace:
    """Interprets primitives applied to its tracers."""

    def __init__(self, main: MainTrace):
        self.main = main

    def pure(self, val) -> "Tracer":
        """Box a value that does not belong to any trace."""
        raise NotImplementedError

    def lift(self, tracer: "Tracer") -> "Tracer":
        """Box a tracer of an outer (lower-level) trace."""
        raise NotImplementedError

    def process_primitive(self, primitive: Primitive, tracers, params) -> list:
        raise NotImplementedError


class Tracer:
    """A stand-in for an array while a transformation runs."""

    __slots__ = ("_trace",)
    __array_priority__ = 1000

    @property
    def aval(self) -> ShapedArray:
        raise NotImplementedError

    def full_lower(self):
        return self

    @property
    def shape(self):
        return self.aval.shape

    @property
    def dtype(self):
        return self.aval.dtype

    @property
    def ndim(self):
        return self.aval.ndim

    @property
    def size(self):
        return self.aval.size

    @property
    def weak_type(self):
        return self.aval.weak_type

    def __bool__(self):
        raise errors.TracerBoolConversionError(self)

    def __int__(self):
        raise errors.TracerIntegerConversionError(self)

    def __index__(self):
        raise errors.TracerIntegerConversionError(self)

    def __float__(self):
        raise errors.TracerArrayConversionError(self, "float")

    def __complex__(self):
        raise errors.TracerArrayConversionError(self, "complex")

    def __array__(self, dtype=None, copy=None):
        raise errors.TracerArrayConversionError(self, "numpy.asarray")

    def tolist(self):
        raise errors.TracerArrayConversionError(self, "tolist")

    def item(self, *args):
        raise errors.TracerArrayConversionError(self, "item")

    def __len__(self):
        if not self.aval.shape:
            raise TypeError("len() of unsized object (a 0-d traced array)")
        return self.aval.shape[0]

    def __iter__(self):
        if not self.aval.shape:
            raise TypeError("iteration over a 0-d traced array")
        return (self[i] for i in range(self.aval.shape[0]))

    __hash__ = None  # tracers, like arrays, are unhashable

    def __repr__(self) -> str:
        return f"Traced<{self.aval.str_short()}>with<{type(self._trace).__name__}>"


class _TraceState(threading.local):
    def __init__(self):
        self.stack: list[MainTrace] = [MainTrace(0, EvalTrace)]
        self.dynamic: MainTrace = self.stack[0]




@contextlib.contextmanager
def new_main(trace_type: type, payload=None, dynamic: bool = False):
    """Push a new transformation; ``dynamic`` makes it capture every bind (jit)."""
    stack = _state.stack
    main = MainTrace(len(stack), trace_type, payload)
    stack.append(main)
    previous_dynamic = _state.dynamic
    if dynamic:
        _state.dynamic = main
    try:
        yield main
    finally:
        main.active = False
        _state.dynamic = previous_dynamic
        stack.pop()


def at_top_level() -> bool:
    """True when no transformation is running (plain eager execution)."""
    return len(_state.stack) == 1


def _leaked_tracer_error(tracer: Tracer) -> errors.UnexpectedTracerError:
    return errors.UnexpectedTracerError(
        f"Encountered an unexpected tracer: {tracer!r}. A value traced inside a "
        f"transformation ({tracer._trace.main.trace_type.__name__}) was used after that "
        "transformation finished, e.g. because it was stored in a global variable, a "
        "closure or an object attribute. Return traced values from the transformed "
        "function instead of saving them."
    )


def find_top_trace(args) -> Trace:
    top = _state.dynamic
    for x in args:
        if isinstance(x, Tracer):
            main = x._trace.main
            if not main.active:
                raise _leaked_tracer_error(x)
            if main.level > top.level:
                top = main
    return top.trace_type(top)


def full_raise(trace: Trace, val):
    if not isinstance(val, Tracer):
        return trace.pure(val)
    main = val._trace.main
    if main is trace.main:
        return val
    if not main.active:
        raise _leaked_tracer_error(val)
    if main.level < trace.main.level:
        return trace.lift(val)
    raise errors.UnexpectedTracerError(
        f"cannot lift {val!r} from level {main.level} to the outer level {trace.main.level}; "
        "a tracer escaped from an inner transformation"
    )


def full_lower(val):
    return val.full_lower() if isinstance(val, Tracer) else val


def bind(primitive: Primitive, *args, **params):
    trace = find_top_trace(args)
    tracers = [full_raise(trace, a) for a in args]
    outs = trace.process_primitive(primitive, tracers, params)
    outs = [full_lower(o) for o in outs]
    return outs if primitive.multiple_results else outs[0]


# ----------------------------------------------------------------------------
# The evaluation trace: runs each primitive on a backend, one at a time.

_eval_handler: Callable | None = None


def set_eval_handler(handler: Callable) -> None:
    """Installed by ``plax.dispatch``: ``handler(primitive, args, params) -> list``."""
    global _eval_handler
    _eval_handler = handler


class EvalTrace(Trace):
    def pure(self, val):
        return val

    lift = pure

    def process_primitive(self, primitive, values, params):
        return _eval_handler(primitive, values, params)


_state = _TraceState()


# ----------------------------------------------------------------------------
# Helpers shared by every layer.


def get_aval(x) -> ShapedArray:
    aval = getattr(x, "aval", None)  # tracers and Arrays: the hot path of eager ops
    if type(aval) is ShapedArray:
        return aval
    return aval_of_constant(x)


def is_concrete(x) -> bool:
    return not isinstance(x, Tracer)


def concrete_or_error(convert: Callable | None, value, context: str = ""):
    """``convert(value)`` for a concrete value; a ConcretizationTypeError for a tracer."""
    if isinstance(value, Tracer):
        raise errors.ConcretizationTypeError(value, context)
    return value if convert is None else convert(value)


def to_numpy_constant(x) -> np.ndarray:
    """A concrete value as a numpy array of its canonical dtype."""
    aval = aval_of_constant(x)
    return np.asarray(x, dtype=aval.dtype)
