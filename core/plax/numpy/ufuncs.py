"""Elementwise numpy functions with numpy promotion and broadcasting."""

from __future__ import annotations

from plax import lax
from plax.numpy.promotion import promote_and_broadcast

__all__ = ["add", "subtract", "multiply", "negative", "sin"]



def _binary(lax_fn):
    def fn(x, y, /):
        x, y = promote_and_broadcast(x, y)
        return lax_fn(x, y)

    fn.__name__ = lax_fn.__name__
    return fn


def _promote_unary(x):
    (x,) = promote_and_broadcast(x)
    return x


add = _binary(lax.add)
subtract = _binary(lax.sub)
multiply = _binary(lax.mul)


def negative(x, /):
    return lax.neg(_promote_unary(x))


def sin(x, /):
    return lax.sin(_promote_unary(x))
