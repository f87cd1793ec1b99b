"""Math functions for kernels: float32 routines written in LLVM IR, and libm.

The float32 routines here (exp, exp2, expm1, log, log1p, tanh, logistic) are
straight-line code -- range reduction, a polynomial, selects for the special
values -- emitted as ``internal alwaysinline`` functions, so the loop vectoriser
turns a loop calling them into SIMD code. Their polynomials are truncated
Taylor series on the reduced range, where the first omitted term is far below
half an ulp; the error is that of rounding in the evaluation, about 1 ulp
(``tests/test_cpu_llvm_math.py`` measures it over dense samples).

Everything else calls libm (``sinf``, ``atan2``, ...). A call made under our own
name (``plax.libm.sinf``) is not recognised by LLVM as a libcall; where glibc's
libmvec provides a SIMD version, the call site names it as a vector variant so
the vectoriser can use it. ``LIBM`` maps a kernel op to the libm names.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math

from llvmlite import ir

from plax_cpu_llvm.llvm_types import F32, F64, I1, I32

__all__ = ["MathLib", "LIBM", "OWN_F32", "libm_symbols", "libmvec_variants"]


# op -> (float32 name, float64 name) in libm.
LIBM = {
    "exp": ("expf", "exp"),
    "exp2": ("exp2f", "exp2"),
    "log": ("logf", "log"),
    "log1p": ("log1pf", "log1p"),
    "expm1": ("expm1f", "expm1"),
    "pow": ("powf", "pow"),
    "cbrt": ("cbrtf", "cbrt"),
    "sin": ("sinf", "sin"),
    "cos": ("cosf", "cos"),
    "tan": ("tanf", "tan"),
    "asin": ("asinf", "asin"),
    "acos": ("acosf", "acos"),
    "atan": ("atanf", "atan"),
    "atan2": ("atan2f", "atan2"),
    "sinh": ("sinhf", "sinh"),
    "cosh": ("coshf", "cosh"),
    "tanh": ("tanhf", "tanh"),
    "asinh": ("asinhf", "asinh"),
    "acosh": ("acoshf", "acosh"),
    "atanh": ("atanhf", "atanh"),
    "erf": ("erff", "erf"),
    "erfc": ("erfcf", "erfc"),
    "lgamma": ("lgammaf", "lgamma"),
    "nextafter": ("nextafterf", "nextafter"),
    "fmod": ("fmodf", "fmod"),
}

# Ops computed by the float32 routines of this module (also used for float16/bfloat16).
OWN_F32 = ("exp", "exp2", "expm1", "log", "log1p", "tanh", "logistic")

LOG2E = 1.4426950408889634
LN2 = 0.6931471805599453
LN2_HI = 0.693145751953125  # 16 significant bits: k * LN2_HI is exact
LN2_LO = 1.4286068203094173e-06
# expm1(r) = r + r^2 * P(r) on |r| <= ln2/2: P's Taylor coefficients 1/2! ... 1/8!.
_EXPM1_P = tuple(1.0 / math.factorial(n) for n in range(2, 9))
# log(1+f) = f - (h - s*(h + R(s^2))), s = f/(2+f), h = f^2/2, R(z) = sum 2 z^k / (2k+1).
_LOG_R = tuple(2.0 / (2 * k + 1) for k in range(1, 6))


@functools.lru_cache(maxsize=None)
def _libm():
    try:
        return ctypes.CDLL("libm.so.6")  # glibc; find_library runs a subprocess
    except OSError:
        return ctypes.CDLL(ctypes.util.find_library("m") or None)


@functools.lru_cache(maxsize=None)
def _libmvec():
    for name in ("libmvec.so.1", ctypes.util.find_library("mvec")):
        if name is None:
            continue
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def _address(lib, name: str) -> int | None:
    try:
        return ctypes.cast(getattr(lib, name), ctypes.c_void_p).value
    except AttributeError:
        return None


@functools.lru_cache(maxsize=None)
def libm_symbols() -> dict:
    """``plax.libm.<name>`` -> address, for every libm function kernels may call."""
    out = {}
    for names in LIBM.values():
        for name in names:
            addr = _address(_libm(), name)
            if addr is not None:
                out[f"plax.libm.{name}"] = addr
    return out


# ISA letter, lanes for float32, the CPU feature it needs (glibc's vector ABI).
_VECTOR_ISAS = (("e", 16, "avx512f"), ("d", 8, "avx2"), ("b", 4, "sse4.2"))


@functools.lru_cache(maxsize=None)
def libmvec_variants(features: frozenset) -> dict:
    """float32 libm name -> [(lanes, vector symbol, address)] usable on this CPU."""
    lib = _libmvec()
    if lib is None:
        return {}
    out = {}
    for names in LIBM.values():
        scalar = names[0]
        arity = 2 if scalar in ("powf", "atan2f") else 1
        params = "v" * arity
        found = []
        for isa, lanes, feature in _VECTOR_ISAS:
            if feature not in features:
                continue
            symbol = f"_ZGV{isa}N{lanes}{params}_{scalar}"
            addr = _address(lib, symbol)
            if addr is not None:
                found.append((isa, lanes, symbol, addr))
        if found:
            out[scalar] = found
    return out


class _Fn:
    """Small helpers over an IRBuilder for float32 straight-line code."""

    def __init__(self, builder: ir.IRBuilder, intrinsic):
        self.b = builder
        self.intrinsic = intrinsic

    def c(self, value: float) -> ir.Constant:
        return ir.Constant(F32, float(value))

    def i(self, value: int) -> ir.Constant:
        return ir.Constant(I32, int(value))

    def call(self, name: str, *args):
        fn = self.intrinsic(name, F32, [a.type for a in args])
        return self.b.call(fn, args)

    def fma(self, a, b, c):
        return self.call("llvm.fma.f32", a, b, c)

    def isnan(self, x):
        return self.b.fcmp_unordered("uno", x, x)

    def clamp(self, x, lo, hi):
        x = self.call("llvm.maxnum.f32", x, self.c(lo))
        return self.call("llvm.minnum.f32", x, self.c(hi))

    def pow2(self, k):
        """2**k as float32 for an i32 k in the normal exponent range."""
        bits = self.b.shl(self.b.add(k, self.i(127)), self.i(23))
        return self.b.bitcast(bits, F32)

    def horner(self, x, coefs):
        acc = self.c(coefs[-1])
        for c in reversed(coefs[:-1]):
            acc = self.fma(acc, x, self.c(c))
        return acc

    def expm1_reduced(self, r):
        """expm1(r) for |r| <= ln2/2."""
        p = self.horner(r, _EXPM1_P)
        return self.fma(self.b.fmul(r, r), p, r)

    def reduce_ln2(self, x):
        """(k, r) with x = k*ln2 + r, |r| <= ln2/2; k as float."""
        k = self.call("llvm.roundeven.f32", self.b.fmul(x, self.c(LOG2E)))
        r = self.fma(k, self.c(-LN2_HI), x)
        r = self.fma(k, self.c(-LN2_LO), r)
        return k, r

    def scale(self, p, ki):
        """p * 2**ki in two exact-or-once-rounded steps (ki in [-152, 130])."""
        k1 = self.b.ashr(ki, self.i(1))
        k2 = self.b.sub(ki, k1)
        return self.b.fmul(self.b.fmul(p, self.pow2(k1)), self.pow2(k2))


class MathLib:
    """Creates the float32 routines in a module on first use."""

    def __init__(self, module: ir.Module, intrinsic):
        self.module = module
        self.intrinsic = intrinsic
        self.functions: dict = {}

    def get(self, op: str) -> ir.Function:
        fn = self.functions.get(op)
        if fn is None:
            fn = ir.Function(self.module, ir.FunctionType(F32, [F32]), name=f"plax.math.{op}f")
            fn.linkage = "internal"
            fn.attributes.add("alwaysinline")
            fn.attributes.add("nounwind")
            builder = ir.IRBuilder(fn.append_basic_block("entry"))
            f = _Fn(builder, self.intrinsic)
            builder.ret(getattr(self, "_" + op)(f, fn.args[0]))
            self.functions[op] = fn
        return fn

    # Each routine returns the result value; NaN inputs are passed through.

    def _exp(self, f: _Fn, x):
        b = f.b
        xs = b.select(f.isnan(x), f.c(0.0), f.clamp(x, -104.0, 89.0))
        k, r = f.reduce_ln2(xs)
        p = b.fadd(f.c(1.0), f.expm1_reduced(r))
        out = f.scale(p, b.fptosi(k, I32))
        return b.select(f.isnan(x), x, out)

    def _exp2(self, f: _Fn, x):
        b = f.b
        xs = b.select(f.isnan(x), f.c(0.0), f.clamp(x, -152.0, 130.0))
        n = f.call("llvm.roundeven.f32", xs)
        r = b.fmul(b.fsub(xs, n), f.c(LN2))
        p = b.fadd(f.c(1.0), f.expm1_reduced(r))
        out = f.scale(p, b.fptosi(n, I32))
        return b.select(f.isnan(x), x, out)

    def _expm1(self, f: _Fn, x):
        b = f.b
        xs = b.select(f.isnan(x), f.c(0.0), f.clamp(x, -18.0, 89.0))
        k, r = f.reduce_ln2(xs)
        em = f.expm1_reduced(r)
        # 2**k * (em + 1) - 1 == 2 * (h * em + (h - 1/2)) with h = 2**(k-1): exact for k == 0.
        h = f.pow2(b.sub(b.fptosi(k, I32), f.i(1)))
        out = b.fmul(f.c(2.0), f.fma(h, em, b.fsub(h, f.c(0.5))))
        keep = b.or_(f.isnan(x), b.fcmp_ordered("==", x, f.c(0.0)))  # NaN, and +-0 keep sign
        return b.select(keep, x, out)

    def _tanh(self, f: _Fn, x):
        b = f.b
        a = f.call("llvm.fabs.f32", x)
        ac = f.call("llvm.minnum.f32", a, f.c(9.5))  # tanh(9.5) rounds to 1
        em = self._expm1(f, b.fmul(ac, f.c(2.0)))
        t = b.fdiv(em, b.fadd(em, f.c(2.0)))
        out = f.call("llvm.copysign.f32", t, x)
        return b.select(f.isnan(x), x, out)

    def _logistic(self, f: _Fn, x):
        b = f.b
        a = f.call("llvm.fabs.f32", x)
        decay = self._exp(f, b.fneg(a))
        denominator = b.fadd(f.c(1.0), decay)
        positive = b.fdiv(f.c(1.0), denominator)
        negative = b.fdiv(decay, denominator)
        return b.select(b.fcmp_ordered(">=", x, f.c(0.0)), positive, negative)

    def _log(self, f: _Fn, x):
        b = f.b
        subnormal = b.fcmp_ordered("<", x, f.c(1.1754943508222875e-38))
        xs = b.select(subnormal, b.fmul(x, f.c(8388608.0)), x)
        bits = b.bitcast(xs, I32)
        e = b.sub(b.lshr(bits, f.i(23)), f.i(127))
        mbits = b.or_(b.and_(bits, f.i(0x7FFFFF)), f.i(0x3F800000))
        m = b.bitcast(mbits, F32)
        big = b.fcmp_ordered(">", m, f.c(1.4142135381698608))
        m = b.select(big, b.fmul(m, f.c(0.5)), m)
        e = b.add(e, b.zext(big, I32))
        e = b.sub(e, b.select(subnormal, f.i(23), f.i(0)))
        fr = b.fsub(m, f.c(1.0))
        s = b.fdiv(fr, b.fadd(fr, f.c(2.0)))
        z = b.fmul(s, s)
        big_r = b.fmul(z, f.horner(z, _LOG_R))
        hfsq = b.fmul(f.c(0.5), b.fmul(fr, fr))
        log_m = b.fsub(fr, b.fsub(hfsq, b.fmul(s, b.fadd(hfsq, big_r))))
        ef = b.sitofp(e, F32)
        out = f.fma(ef, f.c(LN2_HI), f.fma(ef, f.c(LN2_LO), log_m))
        out = b.select(b.fcmp_ordered("==", x, f.c(math.inf)), x, out)
        out = b.select(b.fcmp_ordered("==", x, f.c(0.0)), f.c(-math.inf), out)
        bad = b.fcmp_unordered("<", x, f.c(0.0))  # negative or NaN
        nan = b.select(f.isnan(x), x, f.c(math.nan))
        return b.select(bad, nan, out)

    def _log1p(self, f: _Fn, x):
        b = f.b
        u = b.fadd(f.c(1.0), x)
        d = b.fsub(u, f.c(1.0))
        main = b.fmul(self._log(f, u), b.fdiv(x, d))
        out = b.select(b.fcmp_ordered("==", d, f.c(0.0)), x, main)
        return b.select(b.fcmp_ordered("==", x, f.c(math.inf)), x, out)
