"""Elementwise primitives: one block per primitive, in the order
private rules -> primitive -> table entries -> public wrapper."""

from __future__ import annotations

import numpy as np

from plax.lax.base import FLOATS, NUMERIC, SIGNED_NUMERIC, binop, broadcast_scalars, defimpl, unop

__all__ = ["neg", "add", "sub", "mul", "sin"]



def _binary(p, x, y):
    x, y = broadcast_scalars(x, y)
    return p.bind(x, y)


# -- neg ---------------------------------------------------------------------------
neg_p = unop("neg", NUMERIC)
defimpl(neg_p, np.negative)


def neg(x):
    return neg_p.bind(x)


# -- add ---------------------------------------------------------------------------
add_p = binop("add", NUMERIC)
defimpl(add_p, np.add)


def add(x, y):
    return _binary(add_p, x, y)


# -- sub ---------------------------------------------------------------------------
sub_p = binop("sub", NUMERIC)
defimpl(sub_p, np.subtract)


def sub(x, y):
    return _binary(sub_p, x, y)


# -- mul ---------------------------------------------------------------------------
mul_p = binop("mul", NUMERIC)
defimpl(mul_p, np.multiply)


def mul(x, y):
    return _binary(mul_p, x, y)


# -- sin ---------------------------------------------------------------------------
sin_p = unop("sin", FLOATS)
defimpl(sin_p, np.sin)


def sin(x):
    return sin_p.bind(x)
