"""Operators and methods shared by ``plax.Array`` and tracers.

``install()`` puts the same functions on both classes, so that eager and traced
code behave identically. Binary operators return ``NotImplemented`` for
operands plax does not know (lists included, as in JAX), which lets Python try
the other operand's reflected method and then raise its usual TypeError.
"""

from __future__ import annotations

import numpy as np

from plax.array import Array
from plax.core import Tracer

_OPERAND_TYPES = (Array, Tracer, np.ndarray, np.generic, bool, int, float)


def _pnp():
    import plax.numpy as pnp

    return pnp


def _binary_operator(fn_name: str, reflected: bool = False):
    def method(self, other):
        if not isinstance(other, _OPERAND_TYPES):
            return NotImplemented
        fn = getattr(_pnp(), fn_name)
        return fn(other, self) if reflected else fn(self, other)

    method.__name__ = f"__{'r' if reflected else ''}{fn_name}__"
    return method


def _unary_operator(fn_name: str):
    def method(self):
        return getattr(_pnp(), fn_name)(self)

    method.__name__ = f"__{fn_name}__"
    return method


# operator suffix -> plax.numpy function; each gets __op__ and __rop__.
_BINARY_OPERATORS = {
    "add": "add",
    "sub": "subtract",
    "mul": "multiply",
    "truediv": "true_divide",
    "floordiv": "floor_divide",
    "mod": "remainder",
    "divmod": "divmod",
    "pow": "power",
    "matmul": "matmul",
    "and": "bitwise_and",
    "or": "bitwise_or",
    "xor": "bitwise_xor",
    "lshift": "left_shift",
    "rshift": "right_shift",
}

# Comparisons have no reflected form (Python swaps __lt__ and __gt__ itself).
_COMPARISONS = {
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
    "eq": "equal",
    "ne": "not_equal",
}

_UNARY_OPERATORS = {
    "neg": "negative",
    "pos": "positive",
    "abs": "abs",
    "invert": "invert",
}


# ----------------------------------------------------------------------------
# Methods.


def _shape_args(args):
    """``x.reshape(2, 3)`` and ``x.reshape((2, 3))`` both mean the shape (2, 3)."""
    if len(args) == 1 and (isinstance(args[0], (tuple, list)) or args[0] is None):
        return args[0]
    return args


def _reshape(self, *shape, order="C"):
    if not shape:
        raise TypeError("reshape() missing the new shape")
    return _pnp().reshape(self, _shape_args(shape), order=order)


def _transpose(self, *axes):
    axes = _shape_args(axes) if axes else None
    return _pnp().transpose(self, axes or None)


def _flatten(self, order="C"):
    return _pnp().ravel(self, order=order)


def _astype(self, dtype, copy=False, device=None):
    return _pnp().astype(self, dtype)


def _round(self, decimals=0, out=None):
    return _pnp().round(self, decimals, out)


def _round_builtin(self, ndigits=None):
    return _pnp().round(self, 0 if ndigits is None else ndigits)


def _forward(name: str):
    """A method that calls ``plax.numpy.<name>(self, ...)``."""

    def method(self, *args, **kwargs):
        return getattr(_pnp(), name)(self, *args, **kwargs)

    method.__name__ = name
    return method


def _getitem(self, index):
    from plax.numpy.indexing import getitem

    return getitem(self, index)


def _at(self):
    from plax.numpy.indexing import _IndexUpdateHelper

    return _IndexUpdateHelper(self)


def _T(self):
    return _pnp().transpose(self)


def _mT(self):
    return _pnp().matrix_transpose(self)


def _copy(self):
    return self


def _setitem(self, index, value):
    raise TypeError(
        "plax arrays (and the tracers that stand for them) are immutable: '__setitem__' is "
        "not supported. Use x = x.at[index].set(value) (or .add/.mul/.min/.max) instead."
    )


def _sort(self, axis=-1, kind=None, order=None, *, stable=True, descending=False):
    return _pnp().sort(self, axis=axis, kind=kind, order=order, stable=stable,
                       descending=descending)


# method name -> plax.numpy function taking the array first.
_FORWARDED_METHODS = (
    "ravel", "squeeze", "sum", "prod", "mean", "var", "std", "max", "min", "argmax",
    "argmin", "any", "all", "cumsum", "cumprod", "clip", "dot", "swapaxes", "argsort",
    "ptp", "repeat", "take", "trace", "diagonal", "nonzero", "searchsorted",
)


def install() -> None:
    """Put the operators and methods on ``Array`` and ``Tracer``."""
    for cls in (Array, Tracer):
        for op, fn in _BINARY_OPERATORS.items():
            setattr(cls, f"__{op}__", _binary_operator(fn))
            setattr(cls, f"__r{op}__", _binary_operator(fn, reflected=True))
        for op, fn in _COMPARISONS.items():
            setattr(cls, f"__{op}__", _binary_operator(fn))
        for op, fn in _UNARY_OPERATORS.items():
            setattr(cls, f"__{op}__", _unary_operator(fn))
        cls.__round__ = _round_builtin
        cls.__getitem__ = _getitem
        cls.reshape = _reshape
        cls.transpose = _transpose
        cls.flatten = _flatten
        cls.astype = _astype
        cls.round = _round
        cls.sort = _sort
        cls.copy = _copy
        cls.T = property(_T)
        cls.mT = property(_mT)
        cls.at = property(_at)
        for name in _FORWARDED_METHODS:
            setattr(cls, name, _forward(name))
    # Array defines its own __setitem__ with the same advice.
    Tracer.__setitem__ = _setitem
