"""plax.dtypes against JAX's promotion table (tests/data/promotion_table.json).

The table is produced by tests/data/generate_promotion_table.py; every pair
and triple it records is its own test, for x64 disabled ("x32") and enabled.
"""

import json
import os

import ml_dtypes
import numpy as np
import pytest

from plax import dtypes
from plax.configuration import config

TABLE_PATH = os.path.join(os.path.dirname(__file__), "data", "promotion_table.json")
with open(TABLE_PATH) as _f:
    TABLE = json.load(_f)

MODES = ("x32", "x64")
WEAK_TYPES = {"weak_int": int, "weak_float": float, "weak_bool": bool}
WEAK_VALUES = {"weak_int": 1, "weak_float": 1.0, "weak_bool": True}


@pytest.fixture
def x64_mode(request):
    """Set enable_x64 for the mode named by the test's ``mode`` parameter; restore after."""
    saved = config.read("enable_x64")
    config.update("enable_x64", request.param == "x64")
    yield request.param
    config.update("enable_x64", saved)


def _as_plax(name, weak=WEAK_TYPES):
    return weak.get(name) or dtypes.dtype(name)


def _cases(section):
    return [
        pytest.param(mode, key, id=f"{mode}-{key}")
        for mode in MODES
        for key in TABLE[mode][section]
    ]


def _check_result_type(mode, key, section, weak=WEAK_TYPES):
    expected = TABLE[mode][section][key]
    args = [_as_plax(n, weak) for n in key.split(",")]
    got_dt, got_weak = dtypes.result_type(*args, return_weak_type_flag=True)
    assert [np.dtype(got_dt).name, bool(got_weak)] == expected, key


@pytest.mark.parametrize("x64_mode,key", _cases("result_type_1"), indirect=["x64_mode"])
def test_result_type_one_arg(x64_mode, key):
    _check_result_type(x64_mode, key, "result_type_1")


@pytest.mark.parametrize("x64_mode,key", _cases("result_type_2"), indirect=["x64_mode"])
def test_result_type_pair(x64_mode, key):
    _check_result_type(x64_mode, key, "result_type_2")


@pytest.mark.parametrize(
    "x64_mode,key",
    [c for c in _cases("result_type_2") if any(w in c.values[1] for w in WEAK_VALUES)],
    indirect=["x64_mode"],
)
def test_result_type_pair_python_values(x64_mode, key):
    # Python scalars (1, 1.0, True) promote exactly like their types.
    _check_result_type(x64_mode, key, "result_type_2", weak=WEAK_VALUES)


@pytest.mark.parametrize("x64_mode,key", _cases("result_type_3"), indirect=["x64_mode"])
def test_result_type_triple(x64_mode, key):
    _check_result_type(x64_mode, key, "result_type_3")


@pytest.mark.parametrize("x64_mode,key", _cases("promote_types"), indirect=["x64_mode"])
def test_promote_types(x64_mode, key):
    a, b = key.split(",")
    got = dtypes.promote_types(dtypes.dtype(a), dtypes.dtype(b))
    assert np.dtype(got).name == TABLE[x64_mode]["promote_types"][key]


def test_result_type_without_flag_returns_dtype():
    assert dtypes.result_type(np.int8, int) == np.dtype(np.int8)


def test_table_records_no_scalar_type_differences():
    # The generator checks that jnp weak scalars promote like Python types.
    for mode in MODES:
        assert TABLE[mode]["scalar_vs_type_differences"] == []


@pytest.mark.parametrize(
    "x64_mode,name,narrow",
    [
        ("x32", "int64", "int32"),
        ("x32", "uint64", "uint32"),
        ("x32", "float64", "float32"),
        ("x64", "int64", "int64"),
        ("x64", "uint64", "uint64"),
        ("x64", "float64", "float64"),
    ]
    + [(m, n, n) for m in MODES for n in ("bool", "int8", "int16", "int32", "uint8",
                                            "uint16", "uint32", "bfloat16", "float16",
                                            "float32")],
    indirect=["x64_mode"],
)
def test_canonicalize_dtype(x64_mode, name, narrow):
    assert dtypes.canonicalize_dtype(name) == np.dtype(narrow)
    assert dtypes.canonicalize_dtype(np.dtype(name)) == np.dtype(narrow)


@pytest.mark.parametrize(
    "x64_mode,obj,expected",
    [(m, int, "int64" if m == "x64" else "int32") for m in MODES]
    + [(m, float, "float64" if m == "x64" else "float32") for m in MODES]
    + [(m, bool, "bool") for m in MODES],
    indirect=["x64_mode"],
)
def test_canonicalize_python_types(x64_mode, obj, expected):
    assert dtypes.canonicalize_dtype(obj) == np.dtype(expected)


@pytest.mark.parametrize(
    "obj,expected",
    [
        ("float32", np.float32),
        (np.float32, np.float32),
        (np.dtype("int16"), np.int16),
        ("bfloat16", ml_dtypes.bfloat16),
        (ml_dtypes.bfloat16, ml_dtypes.bfloat16),
        ("bool", np.bool_),
        (np.zeros(2, np.uint8), np.uint8),
    ],
)
def test_dtype_accepts(obj, expected):
    assert dtypes.dtype(obj) == np.dtype(expected)


@pytest.mark.parametrize(
    "obj,named",
    [
        ("complex128", "complex128"),
        (np.complex64, "complex64"),
        ("foo", "foo"),
        (object, "object"),
        ("float8_e4m3fn", "float8_e4m3fn"),
        (np.dtype("U3"), "<U3"),
    ],
)
def test_dtype_rejects_unknown(obj, named):
    with pytest.raises(TypeError, match=named):
        dtypes.dtype(obj)


def test_dtype_rejects_none():
    with pytest.raises(TypeError, match="None"):
        dtypes.dtype(None)


def test_dtype_rejects_python_complex():
    with pytest.raises(TypeError, match="complex"):
        dtypes.dtype(complex)
