"""The pytest plugin: ``pytest --pyargs plax_conformance --plax-backend=NAME``, run in a
subprocess (with the test backends loaded as a plugin: ``-p broken_backends``)."""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _pytest(tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "pytest", "--pyargs", "plax_conformance", "-p", "broken_backends",
           "-p", "no:cacheprovider", "-rsxX", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env)
    return proc.returncode, proc.stdout + proc.stderr


def test_passing_cases_and_json_report(tmp_path):
    code, out = _pytest(tmp_path, "--plax-backend=reference", "-k", "lax.add/int32",
                        "--plax-json", "r.json", "--plax-markdown", "r.md")
    assert code == 0, out
    assert "2 passed" in out and "plax-conformance: backend 'reference'" in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert [c["id"] for c in report["cases"]] == ["lax.add/int32/eager", "lax.add/int32/jit"]
    assert report["summary"]["passed"] == 2 and report["selection"]["k"] == "lax.add/int32"
    assert (tmp_path / "r.md").read_text().startswith("# plax conformance")


def test_failures_xfails_and_reproducers(tmp_path):
    (tmp_path / "xfails.txt").write_text("lax.exp/float32/eager  # ten ulps off\n")
    code, out = _pytest(tmp_path, "--plax-backend=test_exp_ulps", "-k", "lax.exp/float32",
                        "--xfails-file", "xfails.txt")
    assert code == 1, out
    assert "1 failed" in out and "1 xfailed" in out
    assert ("reproduce: plax-conformance run --backend test_exp_ulps --case "
            "lax.exp/float32/jit") in out


def test_unexpected_pass_is_listed(tmp_path):
    (tmp_path / "xfails.txt").write_text("lax.add/int32/jit\n")
    code, out = _pytest(tmp_path, "--plax-backend=reference", "-k", "lax.add/int32",
                        "--xfails-file", "xfails.txt")
    assert code == 0, out
    assert "1 xpassed" in out
    assert "passed unexpectedly" in out and "lax.add/int32/jit" in out


def test_not_supported_cases_are_skipped_with_the_reason(tmp_path):
    code, out = _pytest(tmp_path, "--plax-backend=test_no_wide_floats", "-k", "lax.add/float64")
    assert code == 0, out
    assert "2 skipped" in out and "not supported: needs dtype float64" in out


def test_bad_input_is_a_usage_error(tmp_path):
    code, out = _pytest(tmp_path, "--plax-backend=no_such_backend")
    assert code == 4
    assert "ERROR: unknown backend 'no_such_backend'" in out
    assert "Traceback" not in out
    (tmp_path / "xfails.txt").write_text("lax.nothing/float32/jit\n")
    code, out = _pytest(tmp_path, "--plax-backend=reference", "--xfails-file", "xfails.txt")
    assert code == 4 and "do not exist" in out
