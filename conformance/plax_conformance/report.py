"""Reports: the environment fingerprint, the summary per profile, the primitive x dtype
matrix and the failures, as JSON (versioned, for CI), Markdown, JUnit XML and text.

The JSON layout is documented in docs/conformance.md. ``SCHEMA_VERSION`` changes its
major number when a field is removed or changes meaning, its minor number when a field
is added; parsers should check the major number.
"""

from __future__ import annotations

import datetime
import json
import platform
from collections import Counter
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

import numpy as np

import plax

from plax_conformance._version import __version__
from plax_conformance.runner import STATUSES, Outcome

__all__ = ["SCHEMA", "SCHEMA_VERSION", "Report", "environment"]

SCHEMA = "plax-conformance-report"
from plax_conformance._version import SCHEMA_VERSION  # noqa: E402


def environment(session) -> dict:
    """Everything needed to reproduce a run: versions, backend, devices, machine."""
    backend = session.backend
    info_record = next((b for b in plax.backends() if b.name == session.backend_name), None)
    try:
        backend_info = {str(k): _plain(v) for k, v in (backend.info() or {}).items()}
    except Exception as err:  # noqa: BLE001 -- a vendor bug must not break the report
        backend_info = {"error": f"info() raised {type(err).__name__}: {err}"}
    devices = []
    for device in backend.devices():
        devices.append({
            "id": device.id,
            "kind": device.kind,
            "platform": device.platform,
            "description": device.description,
        })
    installed = [
        {"name": b.name, "package": b.package, "version": b.version, "available": b.available,
         "reason": b.reason}
        for b in plax.backends()
    ]
    return {
        "plax": {"version": plax.__version__},
        "suite": {"name": "plax-conformance", "version": __version__},
        "backend": {
            "name": session.backend_name,
            "package": info_record.package if info_record else "",
            "version": info_record.version if info_record else "",
            "info": backend_info,
        },
        "devices": devices,
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
        },
        "os": {
            "system": platform.system(),
            "release": platform.release(),
            "platform": platform.platform(),
            "machine": platform.machine(),
        },
        "libraries": {"numpy": np.__version__, "ml_dtypes": _version_of("ml_dtypes")},
        "installed_backends": installed,
        "capabilities": session.manifest.to_json(),
    }


def _version_of(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return ""


def _plain(value):
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


@dataclass
class Report:
    """The outcomes of a run and what is needed to describe it."""

    backend: str
    profile: str
    environment: dict
    outcomes: list = field(default_factory=list)
    selection: dict = field(default_factory=dict)
    command: list = field(default_factory=list)
    duration: float = 0.0
    unavailable_rows: list = field(default_factory=list)  # [(row name, [missing api])]
    started: str = field(default_factory=lambda: datetime.datetime.now(
        datetime.timezone.utc).isoformat(timespec="seconds"))

    # -- summary -----------------------------------------------------------------
    @property
    def partial(self) -> bool:
        return bool(self.selection.get("k") or self.selection.get("cases")
                    or self.selection.get("sample"))

    def counts(self, profile: str | None = None) -> dict:
        chosen = [o for o in self.outcomes if profile is None or profile in o.case.profiles]
        tally = Counter(o.status for o in chosen)
        out = {status: tally.get(status, 0) for status in STATUSES}
        out["total"] = len(chosen)
        return out

    def profiles_run(self) -> list[str]:
        return ["core"] if self.profile == "core" else ["core", "full"]

    def conformant(self) -> bool | None:
        """Every core case passed (None when only part of the core profile ran)."""
        if self.partial:
            return None
        core = self.counts("core")
        return core["total"] > 0 and core["passed"] + core["xpassed"] == core["total"]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def exit_code(self, strict_xfails: bool = False) -> int:
        bad = self.counts()
        if bad["failed"] or (strict_xfails and bad["xpassed"]):
            return 1
        return 0

    # -- matrix ------------------------------------------------------------------
    def matrix(self) -> dict:
        cells: dict = {}
        kinds: dict = {}
        columns: set = set()
        for o in self.outcomes:
            key = (o.case.row.label, o.case.dtype.name)
            cells.setdefault(key, []).append(o.status)
            kinds[o.case.row.label] = o.case.row.kind
            columns.add(o.case.dtype)
        ordered_columns = [d.name for d in sorted(columns, key=_dtype_order)]
        rows = []
        for label in dict.fromkeys(o.case.row.label for o in self.outcomes):
            row_cells = {}
            for column in ordered_columns:
                statuses = cells.get((label, column))
                if statuses:
                    row_cells[column] = _cell(statuses)
            rows.append({"name": label, "kind": kinds[label], "cells": row_cells})
        return {"columns": ordered_columns, "rows": rows}

    # -- JSON --------------------------------------------------------------------
    def to_json(self) -> dict:
        summary = {"duration_s": round(self.duration, 3), "conformant": self.conformant(),
                   "partial_selection": self.partial, "profiles": {}}
        summary.update(self.counts())
        for profile in self.profiles_run():
            counts = self.counts(profile)
            summary["profiles"][profile] = counts
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "started": self.started,
            "command": list(self.command),
            "backend": self.backend,
            "profile": self.profile,
            "selection": self.selection,
            "environment": self.environment,
            "summary": summary,
            "matrix": self.matrix(),
            "unavailable_rows": [{"row": name, "missing": missing}
                                 for name, missing in self.unavailable_rows],
            "cases": [_case_json(o) for o in self.outcomes],
        }

    def write_json(self, path) -> None:
        with open(path, "w") as handle:
            json.dump(self.to_json(), handle, indent=1)
            handle.write("\n")

    # -- Markdown ----------------------------------------------------------------
    def to_markdown(self) -> str:
        env = self.environment
        lines = [f"# plax conformance: backend `{self.backend}`", ""]
        verdict = self.conformant()
        if verdict is None:
            lines.append("**Partial run** (a selection of cases): conformance not assessed.")
        elif verdict:
            lines.append("**Conformant**: every case of the core profile passed.")
        else:
            lines.append("**Not conformant**: some core-profile cases did not pass.")
        lines += ["", "## Environment", "", "| | |", "|---|---|"]
        backend = env.get("backend", {})
        rows = [
            ("plax", env.get("plax", {}).get("version", "")),
            ("suite", env.get("suite", {}).get("version", "")),
            ("backend", f"{backend.get('name')} ({backend.get('package')} "
                        f"{backend.get('version')})"),
            *((f"backend {k}", v) for k, v in backend.get("info", {}).items()),
            *((f"device {d['id']}", f"{d['kind']}: {d['description']}")
              for d in env.get("devices", [])),
            ("python", env.get("python", {}).get("version", "")),
            ("os", env.get("os", {}).get("platform", "")),
            ("numpy", env.get("libraries", {}).get("numpy", "")),
            ("dtypes declared", ", ".join(env.get("capabilities", {}).get("dtypes", []))),
        ]
        lines += [f"| {k} | {_md(v)} |" for k, v in rows]
        lines += ["", "## Summary", "",
                  "| profile | total | passed | failed | not supported | xfailed | xpassed |",
                  "|---|---|---|---|---|---|---|"]
        for profile in self.profiles_run():
            c = self.counts(profile)
            lines.append(f"| {profile} | {c['total']} | {c['passed']} | {c['failed']} | "
                         f"{c['not_supported']} | {c['xfailed']} | {c['xpassed']} |")
        lines += ["", f"Duration: {self.duration:.1f} s", ""]
        lines += self._markdown_matrix()
        lines += self._markdown_failures()
        lines += self._markdown_not_supported()
        return "\n".join(lines) + "\n"

    def _markdown_matrix(self) -> list[str]:
        matrix = self.matrix()
        columns = matrix["columns"]
        symbols = {"passed": "ok", "failed": "**FAIL**", "not_supported": "n/s",
                   "xfailed": "xfail", "xpassed": "XPASS", "partial": "ok (part n/s)"}
        lines = ["## Primitive x dtype", "",
                 "ok: passed, **FAIL**: failed, n/s: not supported, xfail: known failure, "
                 "XPASS: known failure that passed, ok (part n/s): passed where supported, "
                 "blank: not applicable.", "",
                 "| case family | " + " | ".join(columns) + " |",
                 "|---|" + "---|" * len(columns)]
        for row in matrix["rows"]:
            cells = [symbols.get(row["cells"].get(c, ""), "") for c in columns]
            lines.append(f"| {row['name']} | " + " | ".join(cells) + " |")
        return lines + [""]

    def _markdown_failures(self) -> list[str]:
        failed = [o for o in self.outcomes if o.status in ("failed", "xpassed")]
        if not failed:
            return []
        lines = ["## Failures", ""]
        for o in failed:
            lines += [f"### `{o.case.id}`", ""]
            if o.status == "xpassed":
                lines += [f"Unexpectedly passed: {o.reason}", ""]
                continue
            for failure in o.failures:
                lines.append(f"- sample `{failure.sample}` ({failure.kind}): "
                             f"{_md(failure.message)}")
                if failure.inputs:
                    shapes = ", ".join(f"{i['dtype']}{i['shape']}"
                                       + ("" if i["layout"] == "contiguous"
                                          else f" ({i['layout']})")
                                       for i in failure.inputs)
                    lines.append(f"  - inputs: {shapes}")
                if failure.comparison is not None:
                    lines.append(f"  - max abs error {failure.comparison.max_abs_error:.6g}, "
                                 f"max ulp error {failure.comparison.max_ulp_error:.6g}")
                if failure.reproducer:
                    lines.append(f"  - reproduce: `{failure.reproducer}`")
                program = failure.minimal_program
                if program and "jaxpr" in program:
                    lines += [f"  - minimal failing program ({program['equations']} of "
                              f"{program['original_equations']} equations):", "",
                              "    ```", *("    " + t for t in program["jaxpr"].splitlines()),
                              "    ```"]
            lines.append("")
        return lines

    def _markdown_not_supported(self) -> list[str]:
        reasons = Counter(o.reason for o in self.outcomes if o.status == "not_supported")
        if not reasons:
            return []
        lines = ["## Not supported", "", "| cases | reason |", "|---|---|"]
        lines += [f"| {n} | {_md(r)} |" for r, n in reasons.most_common()]
        return lines + [""]

    # -- JUnit XML ---------------------------------------------------------------
    def to_junit_xml(self) -> str:
        counts = self.counts()
        suites = ET.Element("testsuites")
        suite = ET.SubElement(suites, "testsuite", {
            "name": f"plax-conformance[{self.backend}]",
            "tests": str(counts["total"]),
            "failures": str(counts["failed"]),
            "errors": "0",
            "skipped": str(counts["not_supported"] + counts["xfailed"]),
            "time": f"{self.duration:.3f}",
            "timestamp": self.started,
        })
        props = ET.SubElement(suite, "properties")
        env = self.environment
        for name, value in (("plax", env.get("plax", {}).get("version")),
                            ("backend", self.backend), ("profile", self.profile),
                            ("schema_version", SCHEMA_VERSION)):
            ET.SubElement(props, "property", {"name": name, "value": str(value)})
        for o in self.outcomes:
            case = ET.SubElement(suite, "testcase", {
                "classname": f"plax_conformance.{o.case.row.name}",
                "name": o.case.id,
                "time": f"{o.duration:.4f}",
            })
            if o.status == "failed":
                body = "\n\n".join(failure_text(f) for f in o.failures)
                ET.SubElement(case, "failure", {"message": o.reason[:500]}).text = body
            elif o.status == "not_supported":
                ET.SubElement(case, "skipped", {"message": f"not supported: {o.reason}"})
            elif o.status == "xfailed":
                ET.SubElement(case, "skipped", {"type": "pytest.xfail",
                                                "message": f"xfail: {o.xfail_reason}"})
            elif o.status == "xpassed":
                ET.SubElement(case, "system-out").text = o.reason
        ET.indent(suites)
        return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"

    def write_junit_xml(self, path) -> None:
        with open(path, "w") as handle:
            handle.write(self.to_junit_xml())

    def write_markdown(self, path) -> None:
        with open(path, "w") as handle:
            handle.write(self.to_markdown())

    # -- terminal ----------------------------------------------------------------
    def terminal_summary(self, verbose: bool = False, limit: int = 20) -> str:
        lines = []
        failed = [o for o in self.outcomes if o.status == "failed"]
        if failed:
            lines.append(f"FAILED ({len(failed)}):")
            for o in failed[: None if verbose else limit]:
                lines.append(f"  {o.case.id}: {o.reason}")
                first = o.failures[0]
                if first.reproducer:
                    lines.append(f"    reproduce: {first.reproducer}")
                program = first.minimal_program
                if verbose and program and "jaxpr" in program:
                    lines.append(f"    minimal failing program ({program['equations']} of "
                                 f"{program['original_equations']} equations):")
                    lines += ["      " + t for t in program["jaxpr"].splitlines()]
                if verbose and first.traceback:
                    lines += ["      " + t for t in first.traceback.splitlines()]
            if not verbose and len(failed) > limit:
                lines.append(f"  ... and {len(failed) - limit} more (see the JSON/Markdown "
                             "report, or use -v)")
        xpassed = [o for o in self.outcomes if o.status == "xpassed"]
        if xpassed:
            lines.append(f"UNEXPECTEDLY PASSED ({len(xpassed)}), listed in the xfails file:")
            lines += [f"  {o.case.id}" for o in xpassed]
        for profile in self.profiles_run():
            c = self.counts(profile)
            lines.append(f"{profile:>4}: {c['total']} cases: {c['passed']} passed, "
                         f"{c['failed']} failed, {c['not_supported']} not supported, "
                         f"{c['xfailed']} xfailed, {c['xpassed']} xpassed")
        verdict = self.conformant()
        if verdict is None:
            lines.append("conformance: not assessed (only part of the suite was selected)")
        else:
            lines.append(f"conformance: backend {self.backend!r} is "
                         f"{'CONFORMANT' if verdict else 'NOT conformant'} "
                         "(core profile)")
        lines.append(f"time: {self.duration:.1f} s")
        return "\n".join(lines)


def _dtype_order(dtype) -> tuple:
    order = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
             "bfloat16", "float16", "float32", "float64"]
    name = np.dtype(dtype).name
    return (order.index(name) if name in order else len(order), name)


def _cell(statuses: list[str]) -> str:
    present = set(statuses)
    if "failed" in present:
        return "failed"
    if "xfailed" in present:
        return "xfailed"
    if "xpassed" in present:
        return "xpassed"
    if present == {"not_supported"}:
        return "not_supported"
    if "not_supported" in present:
        return "partial"
    return "passed"


def _case_json(o: Outcome) -> dict:
    case = o.case
    return {
        "id": case.id,
        "row": case.row.name,
        "kind": case.row.kind,
        "primitives": list(case.row.primitives),
        "dtype": case.dtype.name,
        "dtypes": sorted(d.name for d in case.dtypes),
        "params": case.label,
        "mode": case.mode,
        "profiles": list(case.profiles),
        "status": o.status,
        "reason": o.reason,
        "xfail_reason": o.xfail_reason or None,
        "samples_run": o.samples_run,
        "samples_not_supported": o.samples_not_supported,
        "duration_s": round(o.duration, 5),
        "failures": [f.to_json() for f in o.failures],
    }


def failure_text(failure) -> str:
    lines = [f"sample {failure.sample} ({failure.kind}): {failure.message}"]
    if failure.inputs:
        lines.append("inputs: " + ", ".join(f"{i['dtype']}{i['shape']} {i['layout']}"
                                           for i in failure.inputs))
    if failure.reproducer:
        lines.append(f"reproduce: {failure.reproducer}")
    if failure.minimal_program and "jaxpr" in failure.minimal_program:
        lines.append("minimal failing program:\n" + failure.minimal_program["jaxpr"])
    if failure.traceback:
        lines.append(failure.traceback)
    return "\n".join(lines)


def _md(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")

