"""The small C helper functions kernels call, as a mixin of ``CRenderer``.

Each helper is a method ``_helper_<name>(self, name, writer) -> (source, deps)``
producing one C function for the dialect (type names and bit casts come from the
renderer), on demand: a kernel's program holds only the helpers it calls. Typed
helpers carry their dtypes in their names (``plax_fmax__float32``,
``plax_f2i__float64__int8``). The half-precision helpers are integer code on bit
patterns, so they are exact on every device and need no half-precision hardware.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CHelpers"]

NARROW_NAMES = ("float16", "bfloat16")


class CHelpers:
    """C helper functions (mixed into ``CRenderer``)."""

    # ---- helper functions -----------------------------------------------------------------
    def helper(self, name: str, state) -> tuple[str, tuple]:
        """(source, helpers it calls) of a named helper function."""
        method = getattr(self, "_helper_" + name.split("__")[0].removeprefix("plax_"), None)
        if method is None:
            raise KeyError(f"unknown renderer helper {name!r}")
        return method(name, state)

    def _f32_bits(self, value: str) -> str:
        return self.bitcast(value, "float", self.uint_type(32))

    def _bits_f32(self, value: str) -> str:
        return self.bitcast(value, self.uint_type(32), "float")

    def _helper_f32_to_bf16(self, name, state):
        u32, u16 = self.uint_type(32), self.uint_type(16)
        state.need_bitcast("float", u32)
        return (f"{self.helper_prefix} {u16} {name}(float x) {{\n"
                f"  {u32} b = {self._f32_bits('x')};\n"
                f"  if (x != x) return ({u16})((b >> 16) | 0x40u);\n"
                f"  return ({u16})((b + 0x7FFFu + ((b >> 16) & 1u)) >> 16);\n}}\n"), ()

    def _helper_bf16_to_f32(self, name, state):
        u32, u16 = self.uint_type(32), self.uint_type(16)
        state.need_bitcast(u32, "float")
        return (f"{self.helper_prefix} float {name}({u16} h) {{\n"
                f"  return {self._bits_f32(f'(({u32})h) << 16')};\n}}\n"), ()

    def _helper_round_bf16(self, name, state):
        return (f"{self.helper_prefix} float {name}(float x) {{\n"
                f"  return plax_bf16_to_f32(plax_f32_to_bf16(x));\n}}\n"), (
                    "plax_f32_to_bf16", "plax_bf16_to_f32")

    def _helper_f32_to_f16(self, name, state):
        u32, u16 = self.uint_type(32), self.uint_type(16)
        state.need_bitcast("float", u32)
        # Round to nearest even on the bit pattern; a subnormal result is the significand
        # shifted right, rounded on the bits shifted out.
        return (f"{self.helper_prefix} {u16} {name}(float x) {{\n"
                f"  {u32} b = {self._f32_bits('x')};\n"
                f"  {u32} sign = (b >> 16) & 0x8000u;\n"
                f"  {u32} a = b & 0x7FFFFFFFu;\n"
                f"  if (a > 0x7F800000u) return ({u16})(sign | 0x7E00u | ((a >> 13) & 0x3FFu));\n"
                f"  if (a >= 0x477FF000u) return ({u16})(sign | 0x7C00u);\n"
                f"  if (a >= 0x38800000u) {{\n"
                f"    {u32} r = a - 0x38000000u;\n"
                f"    r = (r + 0xFFFu + ((r >> 13) & 1u)) >> 13;\n"
                f"    return ({u16})(sign | r);\n  }}\n"
                f"  if (a < 0x33000000u) return ({u16})sign;\n"
                f"  {u32} e = a >> 23;\n"
                f"  {u32} m = (a & 0x7FFFFFu) | 0x800000u;\n"
                f"  {u32} shift = 126u - e;\n"
                f"  {u32} q = m >> shift;\n"
                f"  {u32} rest = m & ((1u << shift) - 1u);\n"
                f"  {u32} halfway = 1u << (shift - 1u);\n"
                f"  if (rest > halfway || (rest == halfway && (q & 1u))) q += 1u;\n"
                f"  return ({u16})(sign | q);\n}}\n"), ()

    def _helper_f16_to_f32(self, name, state):
        u32, u16 = self.uint_type(32), self.uint_type(16)
        inf_nan = "sign | 0x7F800000u | (m << 13)"
        normal = "sign | ((e + 112u) << 23) | (m << 13)"
        state.need_bitcast(u32, "float")
        return (f"{self.helper_prefix} float {name}({u16} h) {{\n"
                f"  {u32} sign = (({u32})h & 0x8000u) << 16;\n"
                f"  {u32} e = ((({u32})h) >> 10) & 0x1Fu;\n"
                f"  {u32} m = ({u32})h & 0x3FFu;\n"
                f"  if (e == 0x1Fu) return {self._bits_f32(inf_nan)};\n"
                f"  if (e != 0u) return {self._bits_f32(normal)};\n"
                f"  float v = (float)m * 0x1p-24f;\n"
                f"  return sign ? -v : v;\n}}\n"), ()

    def _helper_round_f16(self, name, state):
        return (f"{self.helper_prefix} float {name}(float x) {{\n"
                f"  return plax_f16_to_f32(plax_f32_to_f16(x));\n}}\n"), (
                    "plax_f32_to_f16", "plax_f16_to_f32")

    def _helper_f64_to_f32_odd(self, name, state):
        # float64 -> float32 rounding to odd: a second rounding to a narrower type is then
        # the correctly rounded result of the first value.
        u32 = self.uint_type(32)
        state.need_bitcast("float", u32)
        state.need_bitcast(u32, "float")
        return (f"{self.helper_prefix} float {name}(double x) {{\n"
                f"  float f = (float)x;\n"
                f"  double back = (double)f;\n"
                f"  if (x != x || back == x) return f;\n"
                f"  {u32} b = {self._f32_bits('f')};\n"
                f"  if ({self.math('fabs', 'double')}(back) > {self.math('fabs', 'double')}(x)) "
                f"b -= 1u;\n"
                f"  return {self._bits_f32('b | 1u')};\n}}\n"), ()

    def _helper_fmax(self, name, state):
        ty = state.helper_type(name)
        return (f"{self.helper_prefix} {ty} {name}({ty} a, {ty} b) {{\n"
                f"  if (a != a) return a;\n  if (b != b) return b;\n"
                f"  if (a == b) return signbit(a) ? b : a;\n"
                f"  return a > b ? a : b;\n}}\n"), ()

    def _helper_fmin(self, name, state):
        ty = state.helper_type(name)
        return (f"{self.helper_prefix} {ty} {name}({ty} a, {ty} b) {{\n"
                f"  if (a != a) return a;\n  if (b != b) return b;\n"
                f"  if (a == b) return signbit(a) ? a : b;\n"
                f"  return a < b ? a : b;\n}}\n"), ()

    def _helper_logistic(self, name, state):
        ty = state.helper_type(name)
        one = self.literal(1.0, np.float64 if ty == "double" else np.float32)
        return (f"{self.helper_prefix} {ty} {name}({ty} x) {{\n"
                f"  {ty} d = {self.math('exp', ty)}(-{self.math('fabs', ty)}(x));\n"
                f"  {ty} p = {one} / ({one} + d);\n"
                f"  return x >= 0 ? p : d * p;\n}}\n"), ()

    def _helper_sign(self, name, state):
        dt = state.helper_dtype(name)
        ty = self.ctype(dt)
        one = self.literal(1.0, np.float32 if dt.name in NARROW_NAMES else dt)
        return (f"{self.helper_prefix} {ty} {name}({ty} x) {{\n"
                f"  return (x != x || x == 0) ? x : {self.math('copysign', ty)}({one}, x);\n"
                f"}}\n"), ()

    def _helper_popcount(self, name, state):
        u64 = self.uint_type(64)
        s = "U" + self.int64_suffix
        return (f"{self.helper_prefix} {u64} {name}({u64} x) {{\n"
                f"  x = x - ((x >> 1) & 0x5555555555555555{s});\n"
                f"  x = (x & 0x3333333333333333{s}) + ((x >> 2) & 0x3333333333333333{s});\n"
                f"  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0F{s};\n"
                f"  return (x * 0x0101010101010101{s}) >> 56;\n}}\n"), ()

    def _helper_clz(self, name, state):
        u64 = self.uint_type(64)
        return (f"{self.helper_prefix} {u64} {name}({u64} x) {{\n"
                f"  {u64} n = 64;\n"
                f"  while (x) {{ x >>= 1; n--; }}\n  return n;\n}}\n"), ()

    def _helper_nextafter(self, name, state):
        # On the bit patterns, as the reference does, so float16/bfloat16 work alike and
        # subnormals are produced whatever the hardware's denormal mode.
        dt = state.helper_dtype(name)
        ty = self.ctype(dt)
        width = self.bits(dt)
        ut = self.uint_type(width)
        to_bits = self.to_bits("x", dt, state)
        y_bits = self.to_bits("y", dt, state)
        back = self.from_bits("b", dt, state)
        return (f"{self.helper_prefix} {ty} {name}({ty} x, {ty} y) {{\n"
                f"  if (x != x || y != y) return x + y;\n"
                f"  if (x == y) return y;\n"
                f"  {ut} xb = {to_bits};\n  {ut} yb = {y_bits};\n"
                f"  {ut} sign = ({ut})(({ut})1 << {width - 1});\n"
                f"  {ut} b;\n"
                f"  if (x == 0) b = ({ut})((yb & sign) | 1u);\n"
                f"  else if ((x < y) == (x > 0)) b = ({ut})(xb + 1u);\n"
                f"  else b = ({ut})(xb - 1u);\n"
                f"  return {back};\n}}\n"), ()

    def _helper_f2i(self, name, state):
        # Truncate toward zero and saturate; NaN -> 0 (compared in the float type, where
        # the integer bounds are exact powers of two).
        src, dst = state.helper_pair(name)
        fty, ity = self.ctype(src), self.ctype(dst)
        info = np.iinfo(dst)
        lo = self.literal(float(info.min), np.float32 if src.name in NARROW_NAMES else src)
        hi = self.literal(float(info.max) + 1, np.float32 if src.name in NARROW_NAMES else src)
        return (f"{self.helper_prefix} {ity} {name}({fty} x) {{\n"
                f"  if (x != x) return 0;\n"
                f"  if (x <= {lo}) return {self.literal(info.min, dst)};\n"
                f"  if (x >= {hi}) return {self.literal(info.max, dst)};\n"
                f"  return ({ity})x;\n}}\n"), ()
