"""Transposition rules for reverse mode (filled by the lax modules).

``transpose_rules[p](cts, *args, **params) -> list``, one entry per arg.

``cts`` holds one cotangent per output of the equation; entries may be the
symbolic zero ``plax.interpreters.jvp.Zero`` (the rule is not called when all
are). ``args[i]`` is ``UndefPrimal(aval)`` for a linear input, whose cotangent
the rule returns (a value or ``Zero``), and the actual value for a non-linear
input (a residual such as the constant factor of a ``mul``), for which the
rule returns ``None``.
"""

from collections.abc import Callable

from plax.abstract import ShapedArray

transpose_rules: dict[object, Callable] = {}


class UndefPrimal:
    """A linear input of an equation being transposed: known only by its aval."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self) -> str:
        return f"UndefPrimal({self.aval.str_short()})"


def is_undefined_primal(x) -> bool:
    return isinstance(x, UndefPrimal)


def nonlinear_error(name: str) -> TypeError:
    """The error of a transpose rule asked to transpose a non-linear use of its inputs."""
    return TypeError(
        f"reverse-mode differentiation found '{name}' applied non-linearly to tangent values "
        "(e.g. the product of two tangents). Tangent computations must be linear in the "
        "input tangents; check custom_jvp rules for tangents multiplied together."
    )
