"""Reports and statuses: the JSON schema, Markdown, JUnit XML, failure details (max abs
and ulp error, inputs, reproducer), not supported vs failed, and xfails."""

import json
import xml.etree.ElementTree as ET

from plax_conformance import SCHEMA_VERSION


def _run_json(cli, tmp_path, *argv):
    path = tmp_path / "report.json"
    code, out, err = cli("run", *argv, "--json", str(path), "-q")
    return code, json.loads(path.read_text()), out, err


def _case(report, case_id):
    return next(c for c in report["cases"] if c["id"] == case_id)


def test_json_report_schema(cli, tmp_path):
    md = tmp_path / "report.md"
    xml = tmp_path / "report.xml"
    code, report, _, _ = _run_json(cli, tmp_path, "--backend", "reference", "-k",
                                   "lax.exp/float32 or numpy.sum/int8",
                                   "--markdown", str(md), "--junitxml", str(xml))
    assert code == 0
    assert report["schema"] == "plax-conformance-report"
    assert report["schema_version"] == SCHEMA_VERSION
    assert report["backend"] == "reference" and report["profile"] == "full"
    assert report["selection"]["k"] == "lax.exp/float32 or numpy.sum/int8"
    env = report["environment"]
    assert set(env) >= {"plax", "suite", "backend", "devices", "python", "os", "libraries",
                        "installed_backends", "capabilities"}
    assert env["backend"]["name"] == "reference" and env["backend"]["package"] == "plax"
    assert env["devices"][0]["kind"] == "cpu" and env["python"]["version"]
    assert "float64" in env["capabilities"]["dtypes"] and env["capabilities"]["float64"]
    summary = report["summary"]
    assert summary["total"] == len(report["cases"]) == 8
    assert summary["passed"] == 8 and summary["failed"] == 0
    assert summary["conformant"] is None and summary["partial_selection"] is True
    assert set(summary["profiles"]) == {"core", "full"}
    assert summary["profiles"]["core"]["total"] == 8
    matrix = report["matrix"]
    assert matrix["columns"] == ["int8", "float32"]
    rows = {r["name"]: r for r in matrix["rows"]}
    assert rows["lax.exp"]["cells"] == {"float32": "passed"}
    assert rows["numpy.sum"]["kind"] == "numpy"
    case = _case(report, "lax.exp/float32/jit")
    assert case["row"] == "lax.exp" and case["primitives"] == ["exp"]
    assert case["mode"] == "jit" and case["status"] == "passed" and case["failures"] == []
    assert case["samples_run"] == 10 and case["profiles"] == ["core", "full"]
    text = md.read_text()
    assert "# plax conformance: backend `reference`" in text
    assert "| lax.exp |" in text and "| core | 8 | 8 | 0 | 0 | 0 | 0 |" in text
    suite = ET.parse(xml).getroot().find("testsuite")
    assert suite.get("tests") == "8" and suite.get("failures") == "0"
    assert suite.find("testcase").get("name") == "lax.exp/float32/eager"


def test_failure_details_ulp_error_and_reproducer(cli, tmp_path):
    code, report, out, _ = _run_json(cli, tmp_path, "--backend", "test_exp_ulps",
                                     "-k", "lax.exp/float32")
    assert code == 1
    case = _case(report, "lax.exp/float32/eager")
    assert case["status"] == "failed"
    failure = case["failures"][0]
    assert failure["kind"] == "mismatch" and failure["against"] == "reference"
    assert failure["max_ulp_error"] == 10  # the backend is exactly 10 ulps off
    assert 0 < failure["max_abs_error"] < 1e-2
    assert failure["inputs"] == [{"shape": [], "dtype": "float32", "layout": "contiguous"}]
    assert failure["reproducer"] == ("plax-conformance run --backend test_exp_ulps --case "
                                     "lax.exp/float32/eager --sample 0d")
    assert "beyond 4 ulp" in failure["message"]
    # Every failing sample is listed; the first few carry full details.
    assert len(case["failures"]) > 1
    layouts = {i["layout"] for f in case["failures"] for i in f["inputs"]}
    assert {"transposed", "strided"} <= layouts
    # The reproducer reproduces.
    code, out, _ = cli("run", "--backend", "test_exp_ulps", "--case", "lax.exp/float32/eager",
                       "--sample", "0d")
    assert code == 1 and "1 cases: 0 passed, 1 failed" in out


def test_exception_in_backend_is_a_failure(cli, tmp_path):
    code, report, _, _ = _run_json(cli, tmp_path, "--backend", "test_refuses_sort",
                                   "--case", "lax.sort/float32/dimension=0/jit")
    assert code == 1
    failure = _case(report, "lax.sort/float32/dimension=0/jit")["failures"][0]
    assert failure["kind"] == "exception"
    assert "NotImplementedError: test backend cannot lower 'sort'" in failure["message"]
    assert "Traceback" in failure["traceback"]


def test_not_supported_is_not_failed(cli, tmp_path):
    code, report, _, _ = _run_json(cli, tmp_path, "--backend", "test_no_wide_floats",
                                   "-k", "lax.add and float or lax.convert_element_type/float32")
    assert code == 0  # nothing failed
    f64 = _case(report, "lax.add/float64/jit")
    assert f64["status"] == "not_supported"
    assert "float64" in f64["reason"] and "does not declare" in f64["reason"]
    assert "test_no_wide_floats" in f64["reason"]
    assert _case(report, "lax.add/float16/eager")["status"] == "not_supported"
    assert _case(report, "lax.add/float32/eager")["status"] == "passed"
    # A float32 case whose program needs float16 is not supported either.
    to_half = _case(report, "lax.convert_element_type/float32/to=float16/jit")
    assert to_half["status"] == "not_supported" and "float16" in to_half["reason"]
    assert report["summary"]["not_supported"] > 0 and report["summary"]["failed"] == 0
    rows = {r["name"]: r for r in report["matrix"]["rows"]}
    assert rows["lax.add"]["cells"]["float64"] == "not_supported"
    assert report["environment"]["capabilities"]["float64"] is False


def test_capabilities_file_narrows_what_is_supported(cli, tmp_path):
    caps = tmp_path / "caps.json"
    caps.write_text(json.dumps({"dtypes": ["bool", "int32", "float32"], "float64": False,
                                "notes": {"vendor": "test"}}))
    code, report, _, _ = _run_json(cli, tmp_path, "--backend", "reference", "--capabilities",
                                   str(caps), "-k", "lax.add and (int8 or int32)")
    assert code == 0
    assert _case(report, "lax.add/int8/jit")["status"] == "not_supported"
    assert _case(report, "lax.add/int32/jit")["status"] == "passed"
    assert report["environment"]["capabilities"]["source"] == f"file {caps}"


def test_declared_capability_that_fails_is_a_failure(cli, tmp_path):
    code, report, _, _ = _run_json(cli, tmp_path, "--backend", "test_float16_wrong",
                                   "-k", "lax.add/float16 or lax.add/float32")
    assert code == 1
    assert _case(report, "lax.add/float16/jit")["status"] == "failed"
    assert _case(report, "lax.add/float32/jit")["status"] == "passed"


def test_xfails(cli, tmp_path):
    xfails = tmp_path / "xfails.txt"
    xfails.write_text("lax.exp/float32/*   # off by ten ulps\nlax.exp/float64/eager\n")
    code, report, out, _ = _run_json(cli, tmp_path, "--backend", "test_exp_ulps",
                                     "--xfails-file", str(xfails), "-k", "lax.exp/float")
    assert code == 1  # float16/bfloat16/float64-jit still fail
    eager32 = _case(report, "lax.exp/float32/eager")
    assert eager32["status"] == "xfailed" and eager32["xfail_reason"] == "off by ten ulps"
    assert _case(report, "lax.exp/float64/eager")["status"] == "xfailed"
    assert _case(report, "lax.exp/float64/jit")["status"] == "failed"
    assert report["summary"]["xfailed"] == 3


def test_unexpected_pass_is_reported(cli, tmp_path):
    xfails = tmp_path / "xfails.txt"
    xfails.write_text("lax.add/int32/eager\n")
    code, report, out, _ = _run_json(cli, tmp_path, "--backend", "reference", "--xfails-file",
                                     str(xfails), "-k", "lax.add/int32")
    assert code == 0
    case = _case(report, "lax.add/int32/eager")
    assert case["status"] == "xpassed" and "remove it from" in case["reason"]
    code, out, _ = cli("run", "--backend", "reference", "--xfails-file", str(xfails),
                       "-k", "lax.add/int32", "--strict-xfails")
    assert code == 1
    assert "UNEXPECTEDLY PASSED (1)" in out and "lax.add/int32/eager" in out


def test_conformance_verdict(cli, tmp_path):
    from plax_conformance.registry import all_cases
    from plax_conformance.report import Report
    from plax_conformance.runner import Outcome

    cases = [c for c in all_cases("full") if c.row.name == "lax.add"]
    core = [c for c in cases if "core" in c.profiles]
    wide = [c for c in cases if "core" not in c.profiles]
    assert core and wide
    outcomes = [Outcome(c, "passed") for c in core] + [Outcome(c, "not_supported", "no")
                                                       for c in wide]
    report = Report("x", "full", {}, outcomes)
    assert report.conformant() is True  # only core cases count
    report.outcomes[0].status = "xfailed"
    assert report.conformant() is False  # a known failure is still a failure
    report.outcomes[0].status = "not_supported"
    assert report.conformant() is False  # the core profile must be supported
    report.outcomes[0].status = "passed"
    report.selection = {"k": "lax.add"}
    assert report.conformant() is None  # a partial run makes no claim
