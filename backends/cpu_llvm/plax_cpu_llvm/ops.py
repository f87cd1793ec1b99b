"""How each kernel ALU op becomes LLVM IR: tables first, emitters for the rest.

``_BINARY_INSTR`` maps (op, kind) to an instruction, ``INTRINSIC`` to an LLVM
intrinsic, ``_COMPARE`` to a comparison; ops needing more than one instruction
(guarded integer division, shifts, select_n, conversions, math functions) have
an emitter. ``EMITTERS[op](cg, expr, args, dtypes)`` returns the value, where
``cg`` is the kernel emitter of ``codegen`` (it provides intrinsic and libm
calls, conversions and storage helpers). Kinds: ``b`` bool, ``i`` signed,
``u`` unsigned, ``f`` float. A new op is a row in a table or one emitter here.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir

from plax.lowering.kernel_ir import INDEX

from plax_cpu_llvm.llvm_types import COMPUTE_TYPE, I1, NARROW, STORAGE_TYPE
from plax_cpu_llvm.llvm_types import kind as _kind

__all__ = ["EMITTERS", "EXACT_IN_NARROW", "INTRINSIC", "supports_op"]


# ----------------------------------------------------------------------------
# What the backend supports.

_UNSUPPORTED = {"erf_inv", "digamma"}


def supports_op(op: str, in_dtypes, out_dtype) -> bool:
    """Whether kernels can compute ``op`` for these dtypes (else it is a host step)."""
    if op in _UNSUPPORTED:
        return False
    dts = [np.dtype(d) for d in in_dtypes] + [np.dtype(out_dtype)]
    if any(d not in COMPUTE_TYPE and d != INDEX for d in dts):
        return False
    if op == "nextafter" and any(d in NARROW for d in dts):
        return False  # steps in the narrow type's ulp; the reference does it on bits
    return True


# ----------------------------------------------------------------------------
# Emitters for ops that are more than one instruction.

_BINARY_INSTR = {}
for _k in "iu":
    _BINARY_INSTR.update({("add", _k): "add", ("sub", _k): "sub", ("mul", _k): "mul"})
for _k in "iub":
    _BINARY_INSTR.update({("and", _k): "and_", ("or", _k): "or_", ("xor", _k): "xor"})
_BINARY_INSTR.update({
    ("add", "f"): "fadd", ("sub", "f"): "fsub", ("mul", "f"): "fmul", ("div", "f"): "fdiv",
    ("rem", "f"): "frem",
})

INTRINSIC = {
    ("max", "f"): "llvm.maximum", ("min", "f"): "llvm.minimum",
    ("max", "i"): "llvm.smax", ("min", "i"): "llvm.smin",
    ("max", "u"): "llvm.umax", ("min", "u"): "llvm.umin",
    ("max", "b"): "llvm.umax", ("min", "b"): "llvm.umin",
    ("floor", "f"): "llvm.floor", ("ceil", "f"): "llvm.ceil", ("sqrt", "f"): "llvm.sqrt",
    ("abs", "f"): "llvm.fabs", ("population_count", "i"): "llvm.ctpop",
    ("population_count", "u"): "llvm.ctpop",
}

_COMPARE = {
    "eq": ("==", "==", "=="), "ne": ("!=", "!=", "!="), "lt": ("<", "<", "<"),
    "le": ("<=", "<=", "<="), "gt": (">", ">", ">"), "ge": (">=", ">=", ">="),
}

# Ops whose result is exact in float16/bfloat16 when the operands are: no rounding.
EXACT_IN_NARROW = {
    "neg", "abs", "max", "min", "select_n", "clamp", "floor", "ceil", "round", "sign",
    "bitcast_convert_type", "convert_element_type",
}


def _emit_binary(cg, e, args, dts):
    return getattr(cg.b, _BINARY_INSTR[(e.op, _kind(dts[0]))])(args[0], args[1])


def _emit_intrinsic(cg, e, args, dts):
    name = INTRINSIC[(e.op, _kind(dts[0]))]
    return cg.call_intrinsic(name, args[0].type, args)


def _emit_compare(cg, e, args, dts):
    k = _kind(dts[0])
    sym = _COMPARE[e.op][0]
    a, b = args
    if k == "f":
        if e.op == "ne":
            return cg.b.fcmp_unordered("!=", a, b)
        return cg.b.fcmp_ordered(sym, a, b)
    if k == "i":
        return cg.b.icmp_signed(sym, a, b)
    return cg.b.icmp_unsigned(sym, a, b)


def _emit_neg(cg, e, args, dts):
    if _kind(dts[0]) == "f":
        return cg.b.fneg(args[0])
    return cg.b.sub(ir.Constant(args[0].type, 0), args[0])


def _emit_abs(cg, e, args, dts):
    if _kind(dts[0]) == "f":
        return cg.call_intrinsic("llvm.fabs", args[0].type, args)
    return cg.call_intrinsic("llvm.abs", args[0].type, [args[0], ir.Constant(I1, 0)])


def _emit_sign(cg, e, args, dts):
    b = cg.b
    (x,) = args
    ty = x.type
    k = _kind(dts[0])
    if k == "f":
        one = cg.call_intrinsic("llvm.copysign", ty, [ir.Constant(ty, 1.0), x])
        keep = b.fcmp_unordered("==", x, ir.Constant(ty, 0.0))  # zero or NaN
        return b.select(keep, x, one)
    zero = ir.Constant(ty, 0)
    if k == "u":
        return b.zext(b.icmp_unsigned("!=", x, zero), ty)
    pos = b.zext(b.icmp_signed(">", x, zero), ty)
    neg = b.zext(b.icmp_signed("<", x, zero), ty)
    return b.sub(pos, neg)


def _division_guard(cg, x, y, signed: bool):
    """(divisor safe to use, y == 0) -- XLA's cases y == 0 and INT_MIN / -1."""
    b = cg.b
    ty = x.type
    by_zero = b.icmp_unsigned("==", y, ir.Constant(ty, 0))
    bad = by_zero
    if signed:
        int_min = ir.Constant(ty, -(1 << (ty.width - 1)))
        minus_one = ir.Constant(ty, -1)
        overflow = b.and_(b.icmp_signed("==", x, int_min), b.icmp_signed("==", y, minus_one))
        bad = b.or_(bad, overflow)
    return b.select(bad, ir.Constant(ty, 1), y), by_zero


def _emit_div(cg, e, args, dts):
    k = _kind(dts[0])
    if k == "f":
        return cg.b.fdiv(*args)
    x, y = args
    if isinstance(y, ir.Constant) and y.constant not in (0, -1):
        return cg.b.sdiv(x, y) if k == "i" else cg.b.udiv(x, y)
    safe, by_zero = _division_guard(cg, x, y, k == "i")
    q = cg.b.sdiv(x, safe) if k == "i" else cg.b.udiv(x, safe)
    return cg.b.select(by_zero, ir.Constant(x.type, -1), q)


def _emit_rem(cg, e, args, dts):
    k = _kind(dts[0])
    if k == "f":
        return cg.b.frem(*args)
    x, y = args
    if isinstance(y, ir.Constant) and y.constant not in (0, -1):
        return cg.b.srem(x, y) if k == "i" else cg.b.urem(x, y)
    safe, by_zero = _division_guard(cg, x, y, k == "i")
    r = cg.b.srem(x, safe) if k == "i" else cg.b.urem(x, safe)
    return cg.b.select(by_zero, x, r)


def _emit_shift(cg, e, args, dts):
    b = cg.b
    x, amount = args
    ty = x.type
    width = ir.Constant(ty, ty.width)
    in_range = b.icmp_unsigned("<", amount, width)
    if e.op == "shift_right_arithmetic":
        clamped = cg.call_intrinsic("llvm.umin", ty, [amount, ir.Constant(ty, ty.width - 1)])
        return b.ashr(x, clamped)
    masked = b.and_(amount, ir.Constant(ty, ty.width - 1))  # keep the shift defined
    shifted = b.shl(x, masked) if e.op == "shift_left" else b.lshr(x, masked)
    return b.select(in_range, shifted, ir.Constant(ty, 0))


def _emit_clz(cg, e, args, dts):
    return cg.call_intrinsic("llvm.ctlz", args[0].type, [args[0], ir.Constant(I1, 0)])


def _emit_not(cg, e, args, dts):
    return cg.b.xor(args[0], ir.Constant(args[0].type, -1))


def _emit_square(cg, e, args, dts):
    x = args[0]
    return cg.b.fmul(x, x) if _kind(dts[0]) == "f" else cg.b.mul(x, x)


def _emit_round(cg, e, args, dts):
    method = e.attr("rounding_method", 0)
    name = "llvm.roundeven" if int(method) == 1 else "llvm.round"
    return cg.call_intrinsic(name, args[0].type, args)


def _emit_is_finite(cg, e, args, dts):
    x = args[0]
    a = cg.call_intrinsic("llvm.fabs", x.type, [x])
    return cg.b.fcmp_ordered("!=", a, ir.Constant(x.type, math.inf))


def _emit_rsqrt(cg, e, args, dts):
    x = args[0]
    root = cg.call_intrinsic("llvm.sqrt", x.type, [x])
    return cg.b.fdiv(ir.Constant(x.type, 1.0), root)


def _emit_select_n(cg, e, args, dts):
    which, cases = args[0], args[1:]
    b = cg.b
    if len(cases) == 1:
        return cases[0]
    if _kind(dts[0]) == "b":
        return b.select(which, cases[1], cases[0])
    signed = _kind(dts[0]) == "i"
    out = cases[-1]
    for k in range(len(cases) - 2, -1, -1):
        bound = ir.Constant(which.type, k)
        cond = b.icmp_signed("<=", which, bound) if signed else b.icmp_unsigned("<=", which, bound)
        out = b.select(cond, cases[k], out)
    return out


def _emit_clamp(cg, e, args, dts):
    lo, x, hi = args
    k = _kind(dts[1])
    up = INTRINSIC[("max", k)]
    down = INTRINSIC[("min", k)]
    return cg.call_intrinsic(down, x.type, [cg.call_intrinsic(up, x.type, [x, lo]), hi])


def _emit_convert(cg, e, args, dts):
    return cg.convert(args[0], np.dtype(dts[0]), e.dtype)


def _emit_bitcast(cg, e, args, dts):
    bits = cg.to_storage(args[0], np.dtype(dts[0]))
    target = STORAGE_TYPE[e.dtype]
    return cg.from_storage(cg.b.bitcast(bits, target), e.dtype)


def _emit_nextafter(cg, e, args, dts):
    return cg.call_libm("nextafter", args)


def _emit_pow(cg, e, args, dts):
    x, y = args
    if _kind(dts[1]) != "f":
        y = cg.convert(y, np.dtype(dts[1]), np.dtype(dts[0]))
    return cg.call_math("pow", [x, y])


def _emit_math(cg, e, args, dts):
    return cg.call_math(e.op, args)


EMITTERS = {
    "neg": _emit_neg, "abs": _emit_abs, "sign": _emit_sign, "div": _emit_div, "rem": _emit_rem,
    "shift_left": _emit_shift, "shift_right_logical": _emit_shift,
    "shift_right_arithmetic": _emit_shift, "clz": _emit_clz, "not": _emit_not,
    "square": _emit_square, "round": _emit_round, "is_finite": _emit_is_finite,
    "rsqrt": _emit_rsqrt, "select_n": _emit_select_n, "clamp": _emit_clamp,
    "convert_element_type": _emit_convert, "bitcast_convert_type": _emit_bitcast,
    "nextafter": _emit_nextafter, "pow": _emit_pow,
}
for _op in ("add", "sub", "mul", "and", "or", "xor"):
    EMITTERS[_op] = _emit_binary
for _op in ("max", "min", "floor", "ceil", "sqrt", "population_count"):
    EMITTERS[_op] = _emit_intrinsic
for _op in _COMPARE:
    EMITTERS[_op] = _emit_compare
for _op in ("exp", "exp2", "log", "log1p", "expm1", "cbrt", "sin", "cos", "tan", "asin", "acos",
            "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "logistic",
            "erf", "erfc", "lgamma"):
    EMITTERS[_op] = _emit_math
