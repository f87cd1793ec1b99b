"""plax.Array: conversions, repr, immutability, placement."""

import pickle

import numpy as np
import pytest

import plax
import plax.numpy as pnp


def test_repr_matches_jax():
    assert repr(pnp.array([1.0, 3.0])) == "Array([1., 3.], dtype=float32)"
    assert repr(pnp.array(1.0)) == "Array(1., dtype=float32, weak_type=True)"
    assert repr(pnp.float32(1)) == "Array(1., dtype=float32)"
    assert repr(pnp.array([True, False])) == "Array([ True, False], dtype=bool)"


def test_attributes():
    x = pnp.array(np.zeros((2, 3), np.int16))
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.dtype == np.int16
    assert x.T.shape == (3, 2)
    assert len(x) == 2
    assert [r.shape for r in x] == [(3,), (3,)]


def test_numpy_conversion_is_read_only_view_of_values():
    x = pnp.array([1, 2, 3])
    host = np.asarray(x)
    np.testing.assert_array_equal(host, [1, 2, 3])
    with pytest.raises(ValueError):
        host[0] = 5
    assert np.asarray(x, dtype=np.float64).dtype == np.float64


def test_scalar_conversions():
    assert bool(pnp.array(True)) is True
    assert int(pnp.array(7)) == 7
    assert float(pnp.array(2.5)) == 2.5
    assert [1, 2, 3][pnp.array(1)] == 2
    with pytest.raises(TypeError, match="integer"):
        [1, 2][pnp.array(1.0)]


def test_arrays_are_immutable():
    x = pnp.zeros(3)
    with pytest.raises(TypeError, match=r"\.at\[index\]\.set"):
        x[0] = 1.0
    with pytest.raises(TypeError):
        hash(x)


def test_at_set_leaves_original_unchanged():
    x = pnp.arange(5)
    y = x.at[0].set(10)
    np.testing.assert_array_equal(x, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(y, [10, 1, 2, 3, 4])


def test_block_until_ready_and_device():
    x = pnp.ones(3)
    assert x.block_until_ready() is x
    assert x.device in plax.devices()
    assert plax.block_until_ready({"a": x})["a"] is x


def test_device_put_and_get_roundtrip():
    tree = {"a": np.arange(3, dtype=np.float32), "b": 2}
    placed = plax.device_put(tree)
    assert isinstance(placed["a"], plax.Array)
    back = plax.device_get(placed)
    assert isinstance(back["a"], np.ndarray)
    np.testing.assert_array_equal(back["a"], tree["a"])


def test_pickle_and_dlpack():
    x = pnp.arange(4.0)
    y = pickle.loads(pickle.dumps(x))
    np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(np.from_dlpack(x), [0, 1, 2, 3])


def test_x64_canonicalisation(x64):
    assert pnp.array(np.arange(3)).dtype == np.int64
    assert pnp.array(1.5).dtype == np.float64


def test_without_x64_64bit_requests_narrow():
    assert pnp.array(np.arange(3, dtype=np.int64)).dtype == np.int32
    assert pnp.array([1.0], dtype=np.float64).dtype == np.float32


def test_python_int_out_of_range_is_an_error():
    with pytest.raises(OverflowError):
        pnp.array(2**40)


def test_format_of_scalars():
    assert f"{pnp.float32(1.5):.2f}" == "1.50"
