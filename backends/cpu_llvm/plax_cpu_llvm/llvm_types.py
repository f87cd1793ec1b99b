"""LLVM types for plax dtypes.

``COMPUTE_TYPE`` is the LLVM type a dtype's values have while a kernel computes,
``STORAGE_TYPE`` the type in memory: bool computes as i1 and is stored as i8;
float16 and bfloat16 compute as float32 (rounded back after every op that can
leave the type) and are stored as ``half`` and as i16 bits.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir

from plax import dtypes

__all__ = ["COMPUTE_TYPE", "STORAGE_TYPE", "NARROW", "kind", "suffix"]

I1 = ir.IntType(1)
I8 = ir.IntType(8)
I16 = ir.IntType(16)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
F16 = ir.HalfType()
F32 = ir.FloatType()
F64 = ir.DoubleType()
PTR = ir.PointerType()
VOID = ir.VoidType()

COMPUTE_TYPE = {
    dtypes.bool_: I1,
    dtypes.int8: I8, dtypes.int16: I16, dtypes.int32: I32, dtypes.int64: I64,
    dtypes.uint8: I8, dtypes.uint16: I16, dtypes.uint32: I32, dtypes.uint64: I64,
    dtypes.float16: F32, dtypes.bfloat16: F32, dtypes.float32: F32, dtypes.float64: F64,
}
STORAGE_TYPE = dict(COMPUTE_TYPE)
STORAGE_TYPE.update({dtypes.bool_: I8, dtypes.float16: F16, dtypes.bfloat16: I16})

NARROW = (dtypes.float16, dtypes.bfloat16)


def kind(dt) -> str:
    dt = np.dtype(dt)
    if dt == dtypes.bool_:
        return "b"
    if dtypes.is_float(dt):
        return "f"
    return "u" if dtypes.is_unsigned(dt) else "i"


def suffix(ty) -> str:
    if ty == F32:
        return "f32"
    if ty == F64:
        return "f64"
    if ty == F16:
        return "f16"
    return f"i{ty.width}"


