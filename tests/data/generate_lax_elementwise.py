"""Regenerate lax_elementwise.json: JAX's results for every elementwise lax op.

Run with an environment that has JAX installed (CPU is enough):

    python tests/data/generate_lax_elementwise.py

The file holds
- "inputs": named input arrays ({"dtype", "values"}), shared between cases;
- "cases": one per (op, dtypes, params): the op's jax.lax name, its params, the
  names of its inputs, and JAX's output ({"dtype", "weak_type", "values"});
- "accepts": for each op, the operand dtypes JAX accepts (a TypeError otherwise);
- "weak": the result dtype and weak flag of each op on Python scalars.

Booleans are stored as 0 and 1. Floats are stored as JSON numbers, the shortest
decimal that reads back exactly (through float64) as the value, except NaN and
the infinities, which are the strings "nan", "inf" and "-inf". Inputs avoid
subnormal numbers: XLA on CPU flushes them to zero, numpy does not.
JAX runs with x64 enabled so that the 64-bit dtypes are covered.
"""

import itertools
import json
import os
import sys

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp
import ml_dtypes
import numpy as np
from jax import lax

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/, for testdata (plax-free)
from testdata import np_dtype

OUT = os.path.join(HERE, "lax_elementwise.json")

BOOL = ["bool"]
SIGNED = ["int8", "int16", "int32", "int64"]
UNSIGNED = ["uint8", "uint16", "uint32", "uint64"]
INTS = SIGNED + UNSIGNED
FLOATS = ["bfloat16", "float16", "float32", "float64"]
ALL = BOOL + INTS + FLOATS

rng = np.random.default_rng(20240611)


def _short_float(v, dtype):
    """The shortest decimal that reads back (through float64) as the same value."""
    text = repr(float(np.array(v, dtype)))
    if dtype != np.float64:
        candidate = str(np.array(v, dtype)[()])
        if np.array(float(candidate)).astype(dtype) == np.array(v, dtype):
            text = candidate
    return float(text)


def encode(arr):
    arr = np.asarray(arr)
    if arr.dtype == np.bool_:
        return [int(v) for v in arr.ravel()]
    if np.issubdtype(arr.dtype, np.integer):
        return [int(v) for v in arr.ravel()]
    out = []
    for v in arr.ravel():
        wide = float(v)
        if np.isnan(wide):
            out.append("nan")
        elif np.isinf(wide):
            out.append("inf" if wide > 0 else "-inf")
        else:
            out.append(_short_float(v, arr.dtype))
    return out


# ----------------------------------------------------------------------------
# Input values.


def is_subnormal(arr):
    arr = np.asarray(arr)
    wide = np.abs(arr.astype(np.float64))
    return (wide > 0) & (wide < float(ml_dtypes.finfo(arr.dtype).tiny))


def float_array(values, dtype):
    arr = np.array(values, dtype=np.float64).astype(np_dtype(dtype))
    return arr[~is_subnormal(arr)]


def unique(values):
    return list(dict.fromkeys(values))


def big(dtype):
    """A value whose square overflows but whose reciprocal is a normal number."""
    return float(np.sqrt(float(ml_dtypes.finfo(np_dtype(dtype)).max)) * 2)


def float_unary_values(dtype, domain):
    info = ml_dtypes.finfo(np_dtype(dtype))
    below_half = float(np.nextafter(np.array(0.5, np_dtype(dtype)), np.array(0, np_dtype(dtype))))
    specials = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        below_half,
        1.5,
        2.5,
        -2.5,
        3.0,
        7.25,
        -100.0,
        1e-3,
        float(info.max),
        -float(info.max),
        np.inf,
        -np.inf,
        np.nan,
    ]
    lo, hi, log_scale = domain
    if log_scale:
        randoms = np.exp(rng.uniform(np.log(lo), np.log(hi), 20))
    else:
        randoms = rng.uniform(lo, hi, 20)
    return float_array(specials + list(randoms), dtype)


def float_binary_values(dtype):
    specials = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 7.25, big(dtype), np.inf, -np.inf, np.nan]
    xs, ys = zip(*itertools.product(specials, specials))
    xs = list(xs) + list(rng.uniform(-10, 10, 16))
    ys = list(ys) + list(rng.uniform(-10, 10, 16))
    x = np.array(xs).astype(np_dtype(dtype))
    y = np.array(ys).astype(np_dtype(dtype))
    return x, y


def wrap(values, dtype):
    """Python ints reduced into the dtype's range (two's complement wrap-around)."""
    info = np.iinfo(np.dtype(dtype))
    span = 1 << (8 * np.dtype(dtype).itemsize)
    out = []
    for v in values:
        v %= span
        if v > info.max:
            v -= span
        out.append(v)
    return np.array(unique(out), dtype=dtype)


def int_unary_values(dtype):
    info = np.iinfo(np.dtype(dtype))
    bits = 8 * np.dtype(dtype).itemsize
    specials = [
        0,
        1,
        -1,
        2,
        -2,
        3,
        7,
        -7,
        31,
        32,
        63,
        64,
        100,
        -100,
        int(info.min),
        int(info.max),
        int(info.min) + 1,
        int(info.max) - 1,
        1 << (bits - 1),
    ]
    randoms = rng.integers(info.min, info.max, 8, dtype=np.dtype(dtype), endpoint=True)
    return wrap(specials + [int(r) for r in randoms], dtype)


def int_binary_values(dtype):
    info = np.iinfo(np.dtype(dtype))
    bits = 8 * np.dtype(dtype).itemsize
    specials = [
        int(v)
        for v in wrap(
            [0, 1, -1, 2, -3, 7, bits - 1, bits, bits + 1, int(info.min), int(info.max)], dtype
        )
    ]
    xs, ys = zip(*itertools.product(specials, specials))
    randoms = rng.integers(info.min, info.max, (2, 8), dtype=np.dtype(dtype), endpoint=True)
    x = np.array(list(xs) + list(randoms[0]), dtype=dtype)
    y = np.array(list(ys) + list(randoms[1]), dtype=dtype)
    return x, y


# Domains of the random part of the unary float inputs: (low, high, log-scale).
DOMAINS = {
    "exp": (-60, 60, False),
    "exp2": (-90, 90, False),
    "expm1": (-20, 60, False),
    "log": (1e-4, 1e4, True),
    "log1p": (-0.99, 100, False),
    "sqrt": (1e-4, 1e4, True),
    "rsqrt": (1e-4, 1e4, True),
    "cbrt": (1e-4, 1e4, True),
    "asin": (-1, 1, False),
    "acos": (-1, 1, False),
    "atanh": (-1, 1, False),
    "acosh": (1, 100, False),
    "sinh": (-40, 40, False),
    "cosh": (-40, 40, False),
    "asinh": (-100, 100, False),
    "logistic": (-30, 30, False),
    "erf": (-4, 4, False),
    "erfc": (-4, 8.5, False),
    "erf_inv": (-1, 1, False),
    "lgamma": (-10, 20, False),
    "digamma": (-10, 20, False),
}
DEFAULT_DOMAIN = (-10, 10, False)

FLOAT_UNARY = [
    "floor",
    "ceil",
    "is_finite",
    "exp",
    "exp2",
    "log",
    "log1p",
    "expm1",
    "sqrt",
    "rsqrt",
    "cbrt",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "asinh",
    "acosh",
    "atanh",
    "logistic",
    "erf",
    "erfc",
    "erf_inv",
    "lgamma",
    "digamma",
    "reciprocal",
]
NUMERIC_UNARY = ["neg", "sign", "abs", "square"]
INT_UNARY = ["bitwise_not", "population_count", "clz"]
# The binary ops that accept floats; the rest take integers (and bool) only.
FLOAT_BINARY = [
    "add",
    "sub",
    "mul",
    "div",
    "rem",
    "max",
    "min",
    "nextafter",
    "atan2",
    "pow",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
]
BINARY = FLOAT_BINARY + [
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "shift_left",
    "shift_right_logical",
    "shift_right_arithmetic",
]
UNARY = FLOAT_UNARY + NUMERIC_UNARY + INT_UNARY

# Dense grids for the special functions, float32 and float64.
SPECIAL_GRIDS = {
    "erf": np.concatenate([np.linspace(-6, 6, 121), [1e-10, -1e-10, 1e-30]]),
    "erfc": np.concatenate([np.linspace(-6, 9, 151), [1e-10, 26.0]]),
    "erf_inv": np.concatenate(
        [
            np.linspace(-0.999, 0.999, 101),
            1 - np.logspace(-1, -15, 29),
            -1 + np.logspace(-2, -15, 14),
            [1e-10, -1e-20, 1e-300],
        ]
    ),
    "lgamma": np.concatenate(
        [
            np.linspace(-9.95, 30, 200),
            np.logspace(-8, 30, 39),
            [0.5, 1.0, 2.0, 3.0, 1.5, 2.5, 1e-300],
        ]
    ),
    "digamma": np.concatenate(
        [np.linspace(-9.95, 30, 200), np.logspace(-8, 30, 39), [1.0, 2.0, 0.5, 1.4616321449683622]]
    ),
}


# ----------------------------------------------------------------------------
# Recording.


class Recorder:
    def __init__(self):
        self.inputs = {}
        self.arrays = {}
        self.cases = []

    def add_input(self, key, arr):
        arr = np.asarray(arr)
        dtype = "bfloat16" if arr.dtype == np_dtype("bfloat16") else arr.dtype.name
        self.inputs[key] = {"dtype": dtype, "values": encode(arr)}
        self.arrays[key] = arr
        return key

    def run(self, op, keys, params=None, tag=""):
        params = params or {}
        args = [jnp.asarray(self.arrays[k]) for k in keys]
        out = getattr(lax, op)(*args, **params)
        dtype = "bfloat16" if out.dtype == np_dtype("bfloat16") else out.dtype.name
        self.cases.append(
            {
                "op": op,
                "tag": tag,
                "params": params,
                "args": list(keys),
                "out": {"dtype": dtype, "weak_type": bool(out.weak_type), "values": encode(out)},
            }
        )


def accepts(fn, *args, **params):
    try:
        fn(*args, **params)
        return True
    except TypeError:
        return False


def record_accepts():
    table = {}
    zeros = {d: jnp.zeros(2, np_dtype(d)) for d in ALL}
    f32 = zeros["float32"]
    for op in UNARY:
        table[op] = [d for d in ALL if accepts(getattr(lax, op), zeros[d])]
    for op in BINARY:
        if op != "pow":
            table[op] = [d for d in ALL if accepts(getattr(lax, op), zeros[d], zeros[d])]
    table["round"] = [d for d in ALL if accepts(lax.round, zeros[d])]
    table["integer_pow"] = [d for d in ALL if accepts(lax.integer_pow, zeros[d], 2)]
    table["clamp"] = [d for d in ALL if accepts(lax.clamp, zeros[d], zeros[d], zeros[d])]
    table["select_n"] = [d for d in ALL if accepts(lax.select_n, zeros["bool"], zeros[d], zeros[d])]
    table["select_n_which"] = [d for d in ALL if accepts(lax.select_n, zeros[d], f32, f32)]
    # pow takes two dtypes: record the accepted pairs as "base,exponent".
    table["pow"] = [f"{a},{b}" for a in ALL for b in ALL if accepts(lax.pow, zeros[a], zeros[b])]
    return table


def record_weak():
    """Result (dtype, weak) of each op on Python scalars, and with one strong operand."""
    table = {}
    f64 = np.float64(1.5)  # Python floats are weak float64 with x64 enabled
    scalar_calls = {
        "float_unary": (lambda op: getattr(lax, op)(0.5), FLOAT_UNARY + NUMERIC_UNARY),
        "int_unary": (lambda op: getattr(lax, op)(3), NUMERIC_UNARY + INT_UNARY),
        "float_binary": (lambda op: getattr(lax, op)(0.5, 1.5), FLOAT_BINARY),
        "int_binary": (
            lambda op: getattr(lax, op)(3, 5),
            [
                "add",
                "sub",
                "mul",
                "div",
                "rem",
                "max",
                "min",
                "eq",
                "lt",
                "bitwise_and",
                "bitwise_or",
                "shift_left",
                "shift_right_logical",
            ],
        ),
        "mixed_binary": (
            lambda op: getattr(lax, op)(f64, 1.5),
            ["add", "mul", "max", "pow", "eq", "atan2"],
        ),
    }
    for kind, (call, ops) in scalar_calls.items():
        for op in ops:
            out = call(op)
            table[f"{kind}:{op}"] = [out.dtype.name, bool(out.weak_type)]
    extra = {
        "integer_pow:float": lambda: lax.integer_pow(1.5, 3),
        "integer_pow:int": lambda: lax.integer_pow(3, 3),
        "round:float": lambda: lax.round(1.5),
        "pow:weak_float,weak_int": lambda: lax.pow(1.5, 3),
        "pow:float64,weak_int": lambda: lax.pow(f64, 3),
        "pow:weak_float,int32": lambda: lax.pow(1.5, np.int32(3)),
        "select_n:weak_cases": lambda: lax.select_n(True, 1.5, 2.5),
        "select_n:strong_which_weak_cases": lambda: lax.select_n(np.int32(1), 1.5, 2.5),
        "select_n:mixed_cases": lambda: lax.select_n(True, f64, 2.5),
        "clamp:weak": lambda: lax.clamp(0.5, 1.5, 2.5),
        "clamp:strong_operand": lambda: lax.clamp(0.5, f64, 2.5),
        "bitwise_and:bool": lambda: lax.bitwise_and(True, False),
        "is_finite:float64": lambda: lax.is_finite(f64),
    }
    for key, call in extra.items():
        out = call()
        table[key] = [out.dtype.name, bool(out.weak_type)]
    return table


def main():
    rec = Recorder()
    accepted = record_accepts()

    # Unary ops over every accepted dtype.
    for op in UNARY:
        for dtype in accepted[op]:
            if dtype in FLOATS:
                domain = DOMAINS.get(op, DEFAULT_DOMAIN)
                key = rec.add_input(f"unary/{op}/{dtype}", float_unary_values(dtype, domain))
            elif dtype == "bool":
                key = rec.add_input("unary/bool", np.array([False, True]))
            else:
                key = f"unary/{dtype}"
                if key not in rec.inputs:
                    rec.add_input(key, int_unary_values(dtype))
            rec.run(op, [key])

    # round, both tie-breaking rules, on the unary float values.
    for dtype in accepted["round"]:
        key = rec.add_input(f"unary/round/{dtype}", float_unary_values(dtype, DEFAULT_DOMAIN))
        for method in (0, 1):
            rec.run("round", [key], {"rounding_method": method})

    # integer_pow, on the generic unary values.
    for dtype in accepted["integer_pow"]:
        if dtype in FLOATS:
            key = rec.add_input(
                f"unary/integer_pow/{dtype}", float_unary_values(dtype, DEFAULT_DOMAIN)
            )
            exponents = [0, 1, 2, 3, 5, 13, -1, -2, -7]
        else:
            key = f"unary/{dtype}"
            if key not in rec.inputs:
                rec.add_input(key, int_unary_values(dtype))
            exponents = [0, 1, 2, 3, 7, 31, 64]
        for y in exponents:
            rec.run("integer_pow", [key], {"y": y})

    # Binary ops with equal dtypes, on the Cartesian product of special values.
    for dtype in ALL:
        if dtype in FLOATS:
            x, y = float_binary_values(dtype)
        elif dtype == "bool":
            x, y = (np.array(v) for v in zip(*itertools.product([False, True], repeat=2)))
        else:
            x, y = int_binary_values(dtype)
        keys = [rec.add_input(f"binary/x/{dtype}", x), rec.add_input(f"binary/y/{dtype}", y)]
        for op in BINARY:
            if op == "pow" and dtype not in FLOATS:
                continue
            if op == "pow" or dtype in accepted[op]:
                rec.run(op, keys)

    # pow with integer exponents.
    exponents = {
        "int32": [0, 1, 2, 3, -1, -2, -3, 31, -31, 40, 2**31 - 1, -(2**31)],
        "uint8": [0, 1, 2, 3, 7, 255],
        "int64": [0, 3, -3, 2**53 + 1, -(2**63)],
    }
    for dtype in FLOATS:
        specials = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1.0009765625, np.inf, -np.inf, np.nan]
        for exp_dtype, exps in exponents.items():
            xs, ys = zip(*itertools.product(specials, exps))
            keys = [
                rec.add_input(f"pow/x/{dtype}/{exp_dtype}", float_array(xs, dtype)),
                rec.add_input(f"pow/y/{dtype}/{exp_dtype}", np.array(ys, exp_dtype)),
            ]
            rec.run("pow", keys, tag="integer exponent")

    # select_n: every case dtype with a bool `which`; integer `which` incl. out of range.
    pattern = np.array([True, False, False, True] * 3)
    which_key = rec.add_input("select_n/which/bool", pattern)
    for dtype in accepted["select_n"]:
        a = np.resize(rec.arrays[f"binary/x/{dtype}"], 12)
        keys = [
            which_key,
            rec.add_input(f"select_n/a/{dtype}", a),
            rec.add_input(f"select_n/b/{dtype}", a[::-1]),
        ]
        rec.run("select_n", keys)
    rec.run(
        "select_n", [which_key, rec.add_input("select_n/single", np.arange(12.0))], tag="1 case"
    )
    cases = [rec.add_input(f"select_n/case{i}", np.full(8, i + 0.5, np.float32)) for i in range(5)]
    which = {
        "int32": [-(2**31), -1, 0, 1, 2, 3, 4, 100],
        "uint8": [0, 1, 2, 3, 4, 5, 128, 255],
        "int8": [-128, -1, 0, 1, 2, 3, 4, 127],
        "uint32": [0, 1, 2, 3, 4, 2**31, 2**32 - 1, 7],
    }
    for which_dtype, values in which.items():
        key = rec.add_input(f"select_n/which/{which_dtype}", np.array(values, which_dtype))
        for n in (1, 2, 3, 5):
            rec.run("select_n", [key] + cases[:n], tag=f"{n} cases")

    # clamp: bounds from the binary values (NaN, signed zeros, infinities), and
    # constant bounds in both orders.
    for dtype in accepted["clamp"]:
        x = f"binary/x/{dtype}"
        if dtype in FLOATS:
            lo = np.minimum(rec.arrays[x][::-1], rec.arrays[f"binary/y/{dtype}"])
            lo_key = rec.add_input(f"clamp/lo/{dtype}", lo)
            rec.run("clamp", [lo_key, x, f"binary/y/{dtype}"], tag="array bounds")
        bounds = {"bool": (False, True), **{u: (2, 7) for u in UNSIGNED}}.get(dtype, (-3, 7))
        size = rec.arrays[x].shape
        lo_key = rec.add_input(f"clamp/const_lo/{dtype}", np.full(size, bounds[0], np_dtype(dtype)))
        hi_key = rec.add_input(f"clamp/const_hi/{dtype}", np.full(size, bounds[1], np_dtype(dtype)))
        rec.run("clamp", [lo_key, x, hi_key], tag="constant bounds")
        rec.run("clamp", [hi_key, x, lo_key], tag="inverted bounds")

    # Dense special-function grids.
    for op, grid in SPECIAL_GRIDS.items():
        for dtype in ("float32", "float64"):
            key = rec.add_input(f"special/{op}/{dtype}", float_array(grid, dtype))
            rec.run(op, [key], tag="special grid")

    data = {
        "generated_with": f"jax {jax.__version__} on {jax.default_backend()}",
        "inputs": rec.inputs,
        "cases": rec.cases,
        "accepts": accepted,
        "weak": record_weak(),
    }
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(rec.cases)} cases, {len(rec.inputs)} inputs")


if __name__ == "__main__":
    main()
