"""Regenerate the expected values of the structured lax primitives from JAX.

Run with an environment that has JAX installed (x64 disabled, the default):

    python tests/data/generate_lax_structured.py

Writes, next to this file:
  lax_conv_cases.json           conv_general_dilated configurations with inputs and outputs
  lax_reduce_window_cases.json  reduce_window (sum / max / min) configurations
  lax_sort_cases.json           sort and top_k on special values (NaN, -0.0, ties)
  lax_dot_cases.json            dot_general dtype rules and accumulation values

Inputs are small integers (exact in every float type) drawn from a seeded
generator and stored with the cases, so the tests never depend on a random
number generator. Arrays are stored as {"dtype", "shape", "data" (flat list)}; inf and
NaN entries are the strings "inf", "-inf", "nan", "-nan".
"""

import json
import os
import sys

import jax
import ml_dtypes
import numpy as np
from jax import lax

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/, for testdata (plax-free)
from testdata import encode

DTYPES = {
    "bool": np.bool_,
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "uint8": np.uint8,
    "uint16": np.uint16,
    "uint32": np.uint32,
    "bfloat16": ml_dtypes.bfloat16,
    "float16": np.float16,
    "float32": np.float32,
}


def sample(rng, shape, dtype, low=-3, high=3):
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    if dtype.startswith("uint"):
        low = max(low, 0)
    return rng.integers(low, high + 1, size=shape).astype(DTYPES[dtype])


def dump(name, payload):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(payload, f, indent=None, separators=(",", ":"), allow_nan=False)
        f.write("\n")


# ----------------------------------------------------------------------------
# conv_general_dilated

CONV = [
    # name, lhs shape, rhs shape, strides, padding, lhs_dil, rhs_dil, dnums, fgc, bgc
    ("1d_valid", (2, 3, 7), (4, 3, 3), (1,), "VALID", None, None, None, 1, 1),
    ("1d_same", (2, 3, 7), (4, 3, 3), (1,), "SAME", None, None, None, 1, 1),
    ("1d_same_even_window", (2, 3, 7), (4, 3, 4), (1,), "SAME", None, None, None, 1, 1),
    ("1d_same_lower_stride2", (2, 3, 7), (4, 3, 4), (2,), "SAME_LOWER", None, None, None, 1, 1),
    ("1d_explicit_stride3", (2, 3, 8), (2, 3, 3), (3,), [(2, 1)], None, None, None, 1, 1),
    ("1d_negative_low", (1, 2, 7), (2, 2, 2), (1,), [(-1, 2)], None, None, None, 1, 1),
    ("1d_negative_both", (1, 2, 7), (2, 2, 2), (1,), [(-2, -1)], None, None, None, 1, 1),
    ("1d_rhs_dilation_same", (2, 2, 9), (3, 2, 3), (1,), "SAME", None, (2,), None, 1, 1),
    ("1d_lhs_dilation", (1, 2, 5), (3, 2, 3), (1,), [(1, 1)], (2,), None, None, 1, 1),
    ("1d_all_dilations", (1, 2, 5), (2, 2, 3), (2,), [(2, 0)], (3,), (2,), None, 1, 1),
    ("1d_lhs_dilation_negative_pad", (1, 1, 4), (1, 1, 2), (1,), [(-2, 1)], (2,), None, None, 1, 1),
    ("1d_feature_groups", (2, 6, 7), (6, 2, 3), (1,), "VALID", None, None, None, 3, 1),
    ("1d_depthwise", (1, 4, 6), (8, 1, 2), (1,), "SAME", None, None, None, 4, 1),
    ("1d_batch_groups", (4, 3, 6), (4, 3, 2), (1,), "VALID", None, None, None, 1, 2),
    ("1d_batch_groups3", (6, 2, 5), (6, 2, 3), (2,), [(1, 1)], None, None, None, 1, 3),
    ("1d_nwc", (2, 7, 3), (3, 3, 4), (1,), "SAME", None, None, ("NWC", "WIO", "NWC"), 1, 1),
    ("1d_ncw_to_nwc", (2, 3, 7), (4, 3, 3), (2,), "VALID", None, None, ("NCW", "OIW", "NWC"), 1, 1),
    (
        "1d_odd_layout",
        (7, 2, 3),
        (3, 2, 4),
        (1,),
        [(1, 0)],
        None,
        None,
        ("WNC", "IWO", "CWN"),
        1,
        1,
    ),
    ("1d_window_too_big", (1, 2, 2), (3, 2, 4), (1,), "VALID", None, None, None, 1, 1),
    ("1d_empty_batch", (0, 2, 5), (3, 2, 2), (1,), "VALID", None, None, None, 1, 1),
    ("1d_empty_features", (1, 0, 5), (3, 0, 2), (1,), "SAME", None, None, None, 1, 1),
    ("1d_empty_spatial_padded", (1, 2, 0), (3, 2, 3), (1,), [(2, 2)], None, None, None, 1, 1),
    ("1d_size1", (1, 1, 1), (1, 1, 1), (1,), "VALID", None, None, None, 1, 1),
    ("2d_same", (2, 3, 5, 6), (4, 3, 3, 2), (1, 1), "SAME", None, None, None, 1, 1),
    ("2d_strided_dilated", (2, 3, 7, 6), (4, 3, 2, 2), (2, 1), "VALID", None, (1, 2), None, 1, 1),
    (
        "2d_nhwc_hwio",
        (2, 5, 6, 3),
        (3, 3, 3, 4),
        (2, 2),
        "SAME",
        None,
        None,
        ("NHWC", "HWIO", "NHWC"),
        1,
        1,
    ),
    (
        "2d_explicit_lhs_dilation",
        (1, 2, 4, 5),
        (3, 2, 2, 3),
        (1, 1),
        [(1, 0), (2, -1)],
        (2, 1),
        None,
        None,
        1,
        1,
    ),
    ("2d_feature_groups", (1, 4, 4, 5), (6, 2, 2, 2), (1, 1), "VALID", None, None, None, 2, 1),
    (
        "2d_batch_groups_nhwc",
        (4, 5, 5, 3),
        (2, 2, 3, 4),
        (1, 1),
        "VALID",
        None,
        None,
        ("NHWC", "HWIO", "NHWC"),
        1,
        2,
    ),
    (
        "2d_spatial_reordered",
        (2, 5, 7, 3),
        (4, 3, 2, 3),
        (1, 2),
        "VALID",
        None,
        None,
        ("NHWC", "OIWH", "NCHW"),
        1,
        1,
    ),
    (
        "2d_same_lower_dilated",
        (1, 2, 9, 8),
        (2, 2, 2, 3),
        (3, 2),
        "SAME_LOWER",
        None,
        (2, 2),
        None,
        1,
        1,
    ),
    ("3d_same", (1, 2, 4, 5, 3), (3, 2, 2, 3, 2), (1, 2, 1), "SAME", None, None, None, 1, 1),
    (
        "3d_ndhwc",
        (2, 3, 4, 4, 2),
        (2, 2, 2, 2, 3),
        (1, 1, 2),
        [(1, 0), (0, 1), (1, 1)],
        None,
        (2, 1, 1),
        ("NDHWC", "DHWIO", "NDHWC"),
        1,
        1,
    ),
    ("0d_spatial", (3, 4), (5, 4), (), "VALID", None, None, None, 1, 1),
]

# (name, base case, dtype, preferred, value range)
CONV_DTYPES = [
    ("int32", "2d_same", "int32", None, 3),
    ("uint8", "1d_same", "uint8", None, 3),
    ("float16", "2d_same", "float16", None, 3),
    ("bfloat16", "1d_valid", "bfloat16", None, 2),
    ("bool", "1d_same", "bool", None, 1),
    ("int8_wraps", "1d_valid", "int8", None, 100),
    ("int8_to_int32", "1d_valid", "int8", "int32", 100),
    ("int16_to_float32", "1d_feature_groups", "int16", "float32", 3),
    ("float16_to_float32", "2d_strided_dilated", "float16", "float32", 3),
]


def conv_case(
    rng,
    name,
    lhs_shape,
    rhs_shape,
    strides,
    padding,
    lhs_dil,
    rhs_dil,
    dnums,
    fgc,
    bgc,
    dtype="float32",
    preferred=None,
    value_range=3,
):
    lhs = sample(rng, lhs_shape, dtype, -value_range, value_range)
    rhs = sample(rng, rhs_shape, dtype, -value_range, value_range)
    out = lax.conv_general_dilated(
        lhs,
        rhs,
        strides,
        padding,
        lhs_dilation=lhs_dil,
        rhs_dilation=rhs_dil,
        dimension_numbers=dnums,
        feature_group_count=fgc,
        batch_group_count=bgc,
        preferred_element_type=preferred,
    )
    return {
        "name": name,
        "lhs": encode(lhs),
        "rhs": encode(rhs),
        "window_strides": list(strides),
        "padding": padding if isinstance(padding, str) else [list(p) for p in padding],
        "lhs_dilation": None if lhs_dil is None else list(lhs_dil),
        "rhs_dilation": None if rhs_dil is None else list(rhs_dil),
        "dimension_numbers": None if dnums is None else list(dnums),
        "feature_group_count": fgc,
        "batch_group_count": bgc,
        "preferred_element_type": preferred,
        "expected": encode(out),
    }


def conv_cases():
    rng = np.random.default_rng(0)
    cases = [conv_case(rng, *spec) for spec in CONV]
    by_name = {spec[0]: spec for spec in CONV}
    for name, base, dtype, preferred, value_range in CONV_DTYPES:
        spec = by_name[base]
        cases.append(
            conv_case(
                rng,
                f"{base}_{name}",
                *spec[1:],
                dtype=dtype,
                preferred=preferred,
                value_range=value_range,
            )
        )
    # The brief's own example: lax convolution is cross-correlation.
    x = np.array([1, 2, 1], np.float32).reshape(1, 1, 3)
    y = np.ones((1, 1, 10), np.float32)
    out = lax.conv_general_dilated(x, y, window_strides=(1,), padding=[(9, 9)])
    cases.append(
        {
            "name": "cross_correlation_example",
            "lhs": encode(x),
            "rhs": encode(y),
            "window_strides": [1],
            "padding": [[9, 9]],
            "lhs_dilation": None,
            "rhs_dilation": None,
            "dimension_numbers": None,
            "feature_group_count": 1,
            "batch_group_count": 1,
            "preferred_element_type": None,
            "expected": encode(out),
        }
    )
    return cases


def conv_dtype_table():
    """Result dtype (or error type) of conv for (input dtype, preferred dtype) pairs."""
    table = {}
    for name, dt in DTYPES.items():
        for preferred in [None, *DTYPES]:
            lhs = np.ones((1, 1, 2), dt)
            try:
                out = lax.conv_general_dilated(
                    lhs, lhs, (1,), "VALID", preferred_element_type=preferred
                )
                result = str(out.dtype)
            except (TypeError, ValueError) as err:
                result = type(err).__name__
            table[f"{name},{preferred}"] = result
    return table


# ----------------------------------------------------------------------------
# reduce_window

REDUCERS = {"sum": (lax.add, 0), "max": (lax.max, None), "min": (lax.min, None)}

WINDOW = [
    # name, shape, window, strides, padding, base_dilation, window_dilation
    ("1d_valid", (10,), (3,), (1,), "VALID", None, None),
    ("1d_same_stride2", (10,), (3,), (2,), "SAME", None, None),
    ("1d_same_lower", (9,), (4,), (2,), "SAME_LOWER", None, None),
    ("1d_explicit", (10,), (3,), (2,), [(1, 1)], None, None),
    ("1d_negative_padding", (10,), (3,), (1,), [(-2, 1)], None, None),
    ("1d_base_dilation", (6,), (3,), (1,), "VALID", (2,), None),
    ("1d_base_dilation_same", (6,), (3,), (2,), "SAME", (2,), None),
    ("1d_window_dilation", (10,), (3,), (1,), "VALID", None, (2,)),
    ("1d_window_too_big", (3,), (5,), (1,), "VALID", None, None),
    ("1d_empty_padded", (0,), (3,), (1,), [(2, 2)], None, None),
    ("1d_size1", (1,), (1,), (1,), "VALID", None, None),
    ("2d_pool", (2, 6, 6, 3), (1, 2, 2, 1), (1, 2, 2, 1), "VALID", None, None),
    ("2d_same", (5, 7), (3, 2), (2, 3), "SAME", None, None),
    ("2d_all", (4, 5), (2, 3), (1, 2), [(1, 2), (0, -1)], (2, 1), (1, 2)),
    ("3d", (3, 4, 5), (2, 2, 3), (1, 2, 1), "SAME", None, (1, 1, 2)),
    ("0d", (), (), (), "VALID", None, None),
]

WINDOW_DTYPES = {
    "sum": ["float32", "int32", "float16", "bfloat16", "uint8", "int8"],
    "max": ["float32", "int32", "float16", "uint16", "bool"],
    "min": ["float32", "int8", "bfloat16", "uint32", "bool"],
}


def identity(op, dtype):
    if op == "sum":
        return np.zeros((), DTYPES[dtype])
    if dtype == "bool":
        return np.array(op == "min")
    if np.issubdtype(DTYPES[dtype], np.integer):
        info = np.iinfo(DTYPES[dtype])
        return np.array(info.min if op == "max" else info.max, DTYPES[dtype])
    return np.array(-np.inf if op == "max" else np.inf, DTYPES[dtype])


def window_case(rng, op, dtype, name, shape, window, strides, padding, base, wdil, specials=False):
    x = sample(rng, shape, dtype, -5, 5)
    if specials:
        flat = x.reshape(-1)
        for i, v in zip(range(0, flat.size, 4), [np.nan, np.inf, -np.inf, -0.0] * flat.size):
            flat[i] = v
    computation = REDUCERS[op][0]
    out = lax.reduce_window(
        x, identity(op, dtype), computation, window, strides, padding, base, wdil
    )
    return {
        "name": f"{op}_{name}_{dtype}" + ("_specials" if specials else ""),
        "op": op,
        "operand": encode(x),
        "window_dimensions": list(window),
        "window_strides": list(strides),
        "padding": padding if isinstance(padding, str) else [list(p) for p in padding],
        "base_dilation": None if base is None else list(base),
        "window_dilation": None if wdil is None else list(wdil),
        "expected": encode(out),
    }


def window_cases():
    rng = np.random.default_rng(1)
    cases = []
    for op in REDUCERS:
        for spec in WINDOW:
            cases.append(window_case(rng, op, "float32", *spec))
        for dtype in WINDOW_DTYPES[op][1:]:
            for spec in (WINDOW[1], WINDOW[13]):
                cases.append(window_case(rng, op, dtype, *spec))
        for spec in (WINDOW[0], WINDOW[12]):
            cases.append(window_case(rng, op, "float32", *spec, specials=True))
    # float16 windows accumulate in float32: 3000 ones is 3000, not 2048.
    x = np.ones(3000, np.float16)
    out = lax.reduce_window(x, np.float16(0), lax.add, (3000,), (1,), "VALID")
    cases.append(
        {
            "name": "sum_float16_accumulation",
            "op": "sum",
            "operand": encode(x),
            "window_dimensions": [3000],
            "window_strides": [1],
            "padding": "VALID",
            "base_dilation": None,
            "window_dilation": None,
            "expected": encode(out),
        }
    )
    return cases


# ----------------------------------------------------------------------------
# sort and top_k

SPECIAL = [3.0, np.nan, -0.0, 0.0, -np.inf, np.inf, -np.nan, 1.0, -0.0, -2.5, np.nan, 0.0]


def sort_cases():
    rng = np.random.default_rng(2)
    cases = []
    for dtype in ("float32", "float16", "bfloat16"):
        x = np.array(SPECIAL, DTYPES[dtype])
        idx = np.arange(x.size, dtype=np.int32)
        keys, perm = lax.sort((x, idx), num_keys=1)
        cases.append(
            {
                "kind": "sort",
                "name": f"specials_{dtype}",
                "operands": [encode(x), encode(idx)],
                "dimension": -1,
                "num_keys": 1,
                "expected": [encode(keys), encode(perm)],
            }
        )
        values, indices = lax.top_k(x, x.size)
        cases.append(
            {
                "kind": "top_k",
                "name": f"specials_{dtype}",
                "operand": encode(x),
                "k": int(x.size),
                "expected": [encode(values), encode(indices)],
            }
        )
    for dtype in ("int8", "uint8", "int32", "bool", "float32"):
        x = sample(rng, (3, 6), dtype, -2, 2)
        idx = np.broadcast_to(np.arange(6, dtype=np.int32), (3, 6))
        for dimension in (0, 1):
            outs = lax.sort((x, idx), dimension=dimension, num_keys=1)
            cases.append(
                {
                    "kind": "sort",
                    "name": f"ties_{dtype}_dim{dimension}",
                    "operands": [encode(x), encode(idx)],
                    "dimension": dimension,
                    "num_keys": 1,
                    "expected": [encode(o) for o in outs],
                }
            )
        values, indices = lax.top_k(x, 4)
        cases.append(
            {
                "kind": "top_k",
                "name": f"ties_{dtype}",
                "operand": encode(x),
                "k": 4,
                "expected": [encode(values), encode(indices)],
            }
        )
    a = sample(rng, (10,), "int32", 0, 2)
    b = sample(rng, (10,), "float32", -1, 1)
    c = np.arange(10, dtype=np.float32)
    for num_keys in (1, 2, 3):
        outs = lax.sort((a, b, c), num_keys=num_keys)
        cases.append(
            {
                "kind": "sort",
                "name": f"three_operands_keys{num_keys}",
                "operands": [encode(a), encode(b), encode(c)],
                "dimension": -1,
                "num_keys": num_keys,
                "expected": [encode(o) for o in outs],
            }
        )
    return cases


# ----------------------------------------------------------------------------
# dot_general


def dot_cases():
    dtype_table = {}
    for lhs, lhs_dt in DTYPES.items():
        for rhs, rhs_dt in DTYPES.items():
            a = np.ones((2,), lhs_dt)
            b = np.ones((2,), rhs_dt)
            try:
                dtype_table[f"{lhs},{rhs}"] = str(lax.dot(a, b).dtype)
            except (TypeError, ValueError) as err:
                dtype_table[f"{lhs},{rhs}"] = type(err).__name__
    preferred_table = {}
    for name, dt in DTYPES.items():
        for preferred in DTYPES:
            a = np.ones((2,), dt)
            try:
                out = lax.dot(a, a, preferred_element_type=preferred)
                preferred_table[f"{name},{preferred}"] = str(out.dtype)
            except (TypeError, ValueError) as err:
                preferred_table[f"{name},{preferred}"] = type(err).__name__
    values = []

    def record(name, a, b, dims, preferred=None):
        out = lax.dot_general(a, b, dims, preferred_element_type=preferred)
        values.append(
            {
                "name": name,
                "lhs": encode(a),
                "rhs": encode(b),
                "dimension_numbers": [[list(d) for d in pair] for pair in dims],
                "preferred_element_type": preferred,
                "expected": encode(out),
            }
        )

    vec = (((0,), (0,)), ((), ()))
    record(
        "float16_accumulates_in_float32", np.ones(3000, np.float16), np.ones(3000, np.float16), vec
    )
    record(
        "bfloat16_rounds_once",
        np.ones(3000, ml_dtypes.bfloat16),
        np.ones(3000, ml_dtypes.bfloat16),
        vec,
    )
    record("int8_wraps", np.full(3, 100, np.int8), np.full(3, 100, np.int8), vec)
    record("int8_to_int32", np.full(3, 100, np.int8), np.full(3, 100, np.int8), vec, "int32")
    record("uint8_times_int8", np.array([200, 3], np.uint8), np.array([1, -1], np.int8), vec)
    record(
        "float_to_int_truncates",
        np.array([1.5, 1.5], np.float32),
        np.array([1.5, 1.5], np.float32),
        vec,
        "int32",
    )
    record(
        "bool_any",
        np.array([[True, False], [False, False]]),
        np.array([[True, True], [False, True]]),
        (((1,), (0,)), ((), ())),
    )
    record(
        "bool_to_int32_counts",
        np.array([[True, True, True]]),
        np.array([True, True, True]),
        (((1,), (0,)), ((), ())),
        "int32",
    )
    record(
        "uint32_wraps",
        np.array([4000000000, 4000000000], np.uint32),
        np.array([1, 1], np.uint32),
        vec,
    )
    record(
        "inf_times_zero", np.array([np.inf, 1.0], np.float32), np.array([0.0, 1.0], np.float32), vec
    )
    return {"dtype_table": dtype_table, "preferred_table": preferred_table, "values": values}


def main():
    assert not jax.config.jax_enable_x64, "generate with x64 disabled"
    dump(
        "lax_conv_cases.json",
        {"jax_version": jax.__version__, "cases": conv_cases(), "dtype_table": conv_dtype_table()},
    )
    dump("lax_reduce_window_cases.json", {"jax_version": jax.__version__, "cases": window_cases()})
    dump("lax_sort_cases.json", {"jax_version": jax.__version__, "cases": sort_cases()})
    dump("lax_dot_cases.json", {"jax_version": jax.__version__, **dot_cases()})


if __name__ == "__main__":
    main()
