"""Building blocks: ulp distance, tolerances, -k expressions, xfails files, manifests,
generators and the registry's case ids."""

import ml_dtypes
import numpy as np
import pytest

from plax_conformance.capabilities import ManifestError, parse_manifest
from plax_conformance.generators import default_gen, special_floats, special_ints
from plax_conformance.registry import all_cases, rows
from plax_conformance.selection import KeywordError, KeywordExpression, Xfails, XfailsError
from plax_conformance.tolerance import BITWISE, EXACT, Tol, compare, ulp, ulp_distance


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16, np.float32, np.float64])
def test_ulp_distance(dtype):
    one = np.array([1.0], dtype)
    up = np.nextafter(one, np.array([2.0], dtype)).astype(dtype)
    tiny = np.array([ml_dtypes.finfo(dtype).smallest_subnormal], dtype)
    big = np.array([ml_dtypes.finfo(dtype).max], dtype)
    assert ulp_distance(one, up)[0] == 1
    assert ulp_distance(np.array([-0.0], dtype), np.array([0.0], dtype))[0] == 0
    assert ulp_distance(-tiny, tiny)[0] == 2  # across zero
    assert ulp_distance(big, np.array([np.inf], dtype))[0] == 1
    assert ulp_distance(np.array([np.nan], dtype), np.array([-np.nan], dtype))[0] == 0
    assert ulp_distance(np.array([np.nan], dtype), one)[0] == np.inf
    assert np.isfinite(ulp_distance(-big, big)[0])


def test_compare_floats_and_ints():
    x = np.array([1.0, np.nan, np.inf, -0.0], np.float32)
    assert compare(x, x.copy(), Tol()).ok
    assert compare(x, np.array([1.0, np.nan, np.inf, 0.0], np.float32), Tol()).ok
    signed = compare(x, np.array([1.0, np.nan, np.inf, 0.0], np.float32), Tol(signed_zeros=True))
    assert not signed.ok and signed.index == (3,)
    off = np.nextafter(np.float32(1), np.float32(2), dtype=np.float32)
    result = compare(x, np.array([off, np.nan, np.inf, -0.0], np.float32), Tol())
    assert not result.ok and result.max_ulp_error == 1 and result.mismatches == 1
    assert compare(x, np.array([off, np.nan, np.inf, -0.0], np.float32), Tol(ulp=1)).ok
    inf_vs_max = compare(np.array([np.inf], np.float32),
                         np.array([np.finfo(np.float32).max], np.float32), Tol(ulp=4))
    assert not inf_vs_max.ok  # an infinity matches only itself
    big = np.array([2**63 - 1, -(2**63)], np.int64)
    wrong = compare(big, big[::-1].copy(), EXACT.for_dtype(np.int64))
    assert not wrong.ok and wrong.max_abs_error == float(2**64 - 1)
    assert compare(np.array(3, np.int8), np.array(3, np.int8), Tol()).ok  # 0-d


def test_policies():
    policy = ulp(4)
    assert policy.for_dtype(np.float32).ulp == 4
    assert policy.for_dtype(np.float16).ulp == 2 and policy.for_dtype(ml_dtypes.bfloat16).ulp == 2
    assert policy.for_dtype(np.int32).exact  # integers are always exact
    assert BITWISE.for_dtype(np.float32).signed_zeros
    assert ulp(4, atol=2).describe(np.float32) == "4 ulp, atol 2 eps"


def test_keyword_expressions():
    case = next(c for c in all_cases() if c.id == "lax.exp/float32/jit")
    for text, expected in [("lax.exp", True), ("exp and float32", True), ("not jit", False),
                           ("(lax.add or lax.exp) and not float64", True), ("EXP", True),
                           ("core", True), ("lax", True), ("float16 or eager", False)]:
        assert KeywordExpression(text).matches(case) is expected, text
    for bad in ["", "and", "exp and", "(exp", "exp)"]:
        with pytest.raises(KeywordError):
            KeywordExpression(bad)


def test_xfails_file_parsing(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("\n# comment\nlax.exp/float16/*  # reason here\nlax.add/int8/jit\n")
    xfails = Xfails.load(path, ["lax.exp/float16/eager", "lax.add/int8/jit", "lax.add/int8/eager"])
    assert xfails.reason_for("lax.exp/float16/eager") == "reason here"
    assert xfails.reason_for("lax.add/int8/jit") == "listed in the xfails file"
    assert xfails.reason_for("lax.add/int8/eager") is None
    path.write_text("lax.add/int8/jit lax.add/int8/eager\n")
    with pytest.raises(XfailsError, match="one case id per line"):
        Xfails.load(path, ["lax.add/int8/jit"])


def test_manifest_parsing():
    manifest = parse_manifest({"dtypes": ["float32", "int32"], "float16": False,
                               "notes": {"flush_denormals": True}, "extra": 1}, "test")
    assert manifest.dtype_reason([np.float32]) is None
    reason = manifest.dtype_reason([np.float32, np.float64], "inside its program")
    assert "float64" in reason and "inside its program" in reason and "(test)" in reason
    assert manifest.flush_denormals and manifest.ignored_keys == ("extra",)
    with pytest.raises(ManifestError, match="'float16' is true"):
        parse_manifest({"dtypes": ["float32"], "float16": True}, "test")
    with pytest.raises(ManifestError, match="'notes' must be a mapping"):
        parse_manifest({"dtypes": ["float32"], "notes": 3}, "test")


def test_special_values():
    f16 = special_floats(np.float16)
    assert np.isnan(f16).any() and np.isposinf(f16).any() and np.isneginf(f16).any()
    assert (np.signbit(f16) & (f16 == 0)).any()  # -0.0
    assert (np.abs(f16.astype(np.float64)) < float(ml_dtypes.finfo(np.float16).tiny)).any()
    u8 = special_ints(np.uint8)
    assert set(u8.tolist()) >= {0, 1, 255, 254}
    i32 = special_ints(np.int32)
    assert {-(2**31), 2**31 - 1, -1, 0}.issubset(set(i32.tolist()))


def test_generators_are_deterministic():
    gen = default_gen(np.float32)
    a = gen(np.random.default_rng(5), (4, 5), np.float32)
    b = gen(np.random.default_rng(5), (4, 5), np.float32)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and a.shape == (4, 5)


def test_case_ids_are_unique_and_well_formed():
    cases = all_cases()
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids))
    for case in cases:
        assert " " not in case.id and case.id.endswith(("/eager", "/jit"))
    names = [r.name for r in rows()]
    assert len(names) == len(set(names))


def test_every_row_has_samples_dtypes_and_a_valid_kind():
    from plax_conformance.spec import KINDS, PROFILES

    for row in rows():
        assert row.dtypes, row.name
        assert row.samples, row.name
        assert row.kind in KINDS and row.profile in PROFILES, row.name
