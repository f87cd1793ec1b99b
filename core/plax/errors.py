"""Exceptions users can catch. Names follow JAX's (``jax.errors``)."""

from __future__ import annotations

_CONTROL_FLOW_HINT = (
    "A traced value's concrete contents are not known while tracing. If the value "
    "should be fixed at trace time, mark the argument static with "
    "jit(..., static_argnums=...) or static_argnames=...; if the program must "
    "branch or loop on it, use lax.cond, lax.switch, lax.while_loop or lax.fori_loop "
    "instead of Python control flow."
)


class ConcretizationTypeError(TypeError):
    """A traced (abstract) value was used where a concrete value is needed."""

    def __init__(self, tracer=None, context: str = ""):
        aval = getattr(tracer, "aval", None)
        what = f"Abstract tracer value encountered where a concrete value is expected: {aval}"
        message = what + (f"\n{context}" if context else "") + "\n" + _CONTROL_FLOW_HINT
        super().__init__(message)


class TracerBoolConversionError(ConcretizationTypeError):
    """``bool(x)`` (``if x:``, ``and``, ``or``, ``while x``) on a traced value."""

    def __init__(self, tracer=None):
        super().__init__(
            tracer,
            "The problem arose with the `bool` function: Python control flow "
            "(`if`, `while`, `and`, `or`) on a traced value.",
        )


class TracerIntegerConversionError(ConcretizationTypeError):
    """``int(x)``, ``range(x)`` or ``operator.index(x)`` on a traced value."""

    def __init__(self, tracer=None):
        super().__init__(
            tracer,
            "The problem arose with the `int`/`__index__` conversion of a traced value "
            "(e.g. `range(x)`, a Python slice bound, or `int(x)`).",
        )


class TracerArrayConversionError(ConcretizationTypeError):
    """``np.asarray(x)`` or ``float(x)`` on a traced value."""

    def __init__(self, tracer=None, how: str = "numpy.asarray"):
        super().__init__(
            tracer,
            f"The problem arose with `{how}`: a traced value cannot be converted to a "
            "NumPy array or Python number. Use plax.numpy functions inside traced code.",
        )


class UnexpectedTracerError(Exception):
    """A tracer escaped the transformation that created it (e.g. stored in a global)."""


class BackendError(RuntimeError):
    """A backend could not be found, loaded or started."""


class BackendCompileError(RuntimeError):
    """A backend failed to compile a program."""
