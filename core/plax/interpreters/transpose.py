"""Transposition rules for reverse mode (filled by the lax modules).

``transpose_rules[p](cotangents, *primals, **params) -> cotangents of inputs``.
"""

from typing import Callable

transpose_rules: dict[object, Callable] = {}
