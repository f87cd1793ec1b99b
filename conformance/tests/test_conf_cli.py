"""The CLI: exit codes and messages for every kind of bad input, listing, progress."""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(__file__)


def _no_traceback(*texts):
    for text in texts:
        assert "Traceback" not in text


def test_unknown_backend_is_a_clear_error(cli):
    code, out, err = cli("run", "--backend", "no_such_backend", "-k", "lax.add")
    assert code == 3
    assert "unknown backend 'no_such_backend'" in err
    assert "reference" in err  # lists what is installed
    _no_traceback(out, err)


def test_backend_that_fails_to_start(cli):
    code, out, err = cli("run", "--backend", "test_fails_to_start", "-k", "lax.add")
    assert code == 3
    assert "failed to start" in err and "no device found (driver missing)" in err
    _no_traceback(out, err)


def test_malformed_manifest_from_the_backend(cli):
    code, out, err = cli("run", "--backend", "test_bad_manifest", "-k", "lax.add")
    assert code == 2
    assert "malformed capabilities manifest" in err and "'dtypes' must be a list" in err
    _no_traceback(out, err)


def test_manifest_that_raises(cli):
    code, out, err = cli("run", "--backend", "test_raising_manifest", "-k", "lax.add")
    assert code == 2
    assert "capabilities() raised ValueError: cannot query the device" in err


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('["float32"]', "expected a mapping"),
    ('{"float64": true}', "missing the required key 'dtypes'"),
    ('{"dtypes": ["float32", "complex64"]}', "unknown dtype 'complex64'"),
    ('{"dtypes": ["float32"], "float64": true}', "'float64' is true but 'dtypes' does not list"),
    ('{"dtypes": ["float32"], "max_buffer_bytes": -4}', "'max_buffer_bytes' must be a positive"),
    ('{"dtypes": []}', "'dtypes' is empty"),
])
def test_malformed_manifest_files(cli, tmp_path, content, message):
    path = tmp_path / "caps.json"
    path.write_text(content)
    code, out, err = cli("run", "--backend", "reference", "--capabilities", str(path),
                         "-k", "lax.add")
    assert code == 2
    assert "malformed capabilities manifest" in err and message in err
    _no_traceback(out, err)


def test_xfails_file_naming_missing_cases(cli, tmp_path):
    path = tmp_path / "xfails.txt"
    path.write_text("# known failures\nlax.add/float32/eager\nlax.nope/float32/jit  # typo\n"
                    "lax.exp/float99/*\n")
    code, out, err = cli("run", "--backend", "reference", "--xfails-file", str(path),
                         "-k", "lax.add")
    assert code == 2
    assert "names 2 case(s) that do not exist" in err
    assert "xfails.txt:3: lax.nope/float32/jit" in err and "xfails.txt:4" in err
    _no_traceback(out, err)


@pytest.mark.parametrize("argv, message", [
    (["-k", "lax.add and ("], "-k expression"),
    (["--case", "lax.add/float33/jit"], "unknown case id 'lax.add/float33/jit'"),
    (["-k", "no_case_matches_this"], "no cases selected"),
    (["--json", "/no/such/dir/r.json", "-k", "lax.add"], "does not exist"),
    (["--xfails-file", "/no/such/file", "-k", "lax.add"], "no such file"),
    (["--case", "lax.add/int8/jit", "--sample", "9x9"], "no selected case has a sample '9x9'"),
])
def test_other_bad_input(cli, argv, message):
    code, out, err = cli("run", "--backend", "reference", *argv)
    assert code == 2
    assert message in err
    _no_traceback(out, err)


def test_unknown_case_id_suggests_close_ones(cli):
    code, _, err = cli("run", "--backend", "reference", "--case", "lax.add/float32/eagr")
    assert code == 2 and "did you mean lax.add/float32/eager" in err


def test_entry_point_script_reports_bad_backend_cleanly():
    exe = os.path.join(os.path.dirname(sys.executable), "plax-conformance")
    proc = subprocess.run([exe, "run", "--backend", "no_such_backend"], capture_output=True,
                          text=True)
    assert proc.returncode == 3
    assert "plax-conformance: error: unknown backend" in proc.stderr
    _no_traceback(proc.stdout, proc.stderr)


def test_list_cases_and_rows(cli):
    code, out, _ = cli("list", "-k", "lax.add and float32")
    assert code == 0
    assert out.split() == ["lax.add/float32/eager", "lax.add/float32/jit"]
    code, out, _ = cli("list", "--rows")
    assert code == 0 and "lax.exp\tlax\tcore" in out
    code, out, _ = cli("list", "--profile", "core", "-k", "float64")
    assert code == 0 and out.strip() == ""  # float64 is outside the core profile


def test_backends_command(cli):
    code, out, _ = cli("backends")
    assert code == 0 and "reference" in out and "test_fails_to_start" in out


def test_run_shows_progress_and_summary(cli):
    code, out, _ = cli("run", "--backend", "reference", "-k", "lax.add and int8 and not uint8")
    assert code == 0
    assert "backend 'reference'" in out
    assert "[2/2 100%] failed 0, not supported 0" in out
    assert "2 cases: 2 passed" in out
    assert "conformance: not assessed" in out


def test_failures_are_printed_as_they_happen_and_exit_1(cli, tmp_path):
    code, out, _ = cli("run", "--backend", "test_add_plus_one", "-k", "lax.add/int32",
                       "--json", str(tmp_path / "r.json"))
    assert code == 1
    assert "FAILED lax.add/int32/eager" in out
    assert "reproduce: plax-conformance run --backend test_add_plus_one --case " in out
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["summary"]["failed"] == 2
