"""The files under tests/data, for the generators that write them (under JAX, in
their own environment) and the tests that read them. Only numpy and ml_dtypes
are imported, so both sides can use this module.

An array is ``{"dtype", "shape", "data"}``, ``data`` the flat list of values
(``lax_elementwise.json`` stores 1-d arrays as ``{"dtype", "values"}``). Bools and
integers are JSON numbers; floats are JSON numbers except NaN and the infinities,
which are the strings "nan", "-nan", "inf" and "-inf" (JSON has neither, and a
NaN's sign matters to top_k).
"""

import importlib.util
import os

import ml_dtypes
import numpy as np

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def load_data_module(name: str):
    """A Python module of tests/data (``autodiff_cases``, ...), loaded from its file:
    tests/data is not a package."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(DATA_DIR, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def np_dtype(name: str) -> np.dtype:
    """The numpy dtype of a stored dtype name (bfloat16 comes from ml_dtypes)."""
    return np.dtype(ml_dtypes.bfloat16) if name == "bfloat16" else np.dtype(name)


def float_entry(v):
    """A float as stored: finite values as numbers, inf and NaN as signed strings."""
    if np.isfinite(v):
        return float(v)
    if np.isnan(v):
        return "-nan" if np.signbit(v) else "nan"
    return "-inf" if v < 0 else "inf"


def encode(x) -> dict:
    """``{"dtype", "shape", "data"}`` for an array (or anything numpy converts)."""
    x = np.asarray(x)
    if x.dtype == np.bool_:
        data = [bool(v) for v in x.ravel()]
    elif np.issubdtype(x.dtype, np.integer):
        data = [int(v) for v in x.ravel()]
    else:
        data = [float_entry(v) for v in x.ravel().astype(np.float64)]
    return {"dtype": str(x.dtype), "shape": list(x.shape), "data": data}


def decode(entry: dict) -> np.ndarray:
    """The array an entry stores; floats are read through float64, exactly."""
    dtype = np_dtype(entry["dtype"])
    values = entry["data"] if "data" in entry else entry["values"]
    if dtype.kind in "iub":
        out = np.array(values, dtype=dtype)
    else:
        # float() reads the strings "nan", "-nan", "inf" and "-inf" as well as numbers.
        out = np.array([float(v) for v in values], dtype=np.float64).astype(dtype)
    return out.reshape(entry["shape"]) if "shape" in entry else out


def decode_padding(value):
    """A stored padding: a name such as "SAME", or (low, high) pairs as tuples."""
    return value if isinstance(value, str) else [tuple(p) for p in value]
