"""Running the suite: open a session on a backend, select cases, run them, build a report.

The CLI and the pytest plugin both go through here. Bad input (an unknown backend, one
that fails to start, a malformed capabilities manifest, an xfails file naming cases that
do not exist, a bad ``-k`` expression) is a ``SuiteError`` with a message for the user and
the exit status to use.
"""

from __future__ import annotations

import difflib
import sys
import time
from typing import Callable

from plax.errors import BackendError

from plax_conformance.capabilities import ManifestError
from plax_conformance.registry import Case, all_cases, cases_for, rows, unavailable_rows
from plax_conformance.report import Report, environment
from plax_conformance.runner import Outcome, Session
from plax_conformance.selection import KeywordError, KeywordExpression, Xfails, XfailsError

__all__ = ["EXIT_BACKEND", "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "SuiteError",
           "known_case_ids", "open_session", "run_suite", "select_cases"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BACKEND = 3


class SuiteError(Exception):
    """Bad input, with the message to show and the exit status to use."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE):
        super().__init__(message)
        self.exit_code = exit_code


def known_case_ids() -> list[str]:
    """Every case id of every row, including rows this plax cannot run (so that an
    xfails file stays valid across plax versions)."""
    return [case.id for row in rows() for case in cases_for(row)]


def open_session(backend: str, capabilities_file=None, xfails_file=None,
                 shrink: bool = True) -> Session:
    if not backend:
        raise SuiteError("no backend given: pass --backend NAME (see `plax-conformance "
                         "backends` for the installed ones)")
    try:
        session = Session(backend, capabilities_file, None, shrink)
    except BackendError as err:
        raise SuiteError(str(err), EXIT_BACKEND) from None
    except ManifestError as err:
        raise SuiteError(str(err)) from None
    except Exception as err:  # noqa: BLE001 -- devices() or similar broke while starting
        raise SuiteError(f"backend {backend!r} failed to start: {type(err).__name__}: {err}",
                         EXIT_BACKEND) from None
    if xfails_file is not None:
        try:
            session.xfails = Xfails.load(xfails_file, known_case_ids())
        except XfailsError as err:
            raise SuiteError(str(err)) from None
    return session


def select_cases(profile: str = "full", keyword: str | None = None,
                 case_ids=None) -> list[Case]:
    if profile not in ("core", "full"):
        raise SuiteError(f"unknown profile {profile!r}; use core or full")
    cases = all_cases(profile)
    if case_ids:
        by_id = {c.id: c for c in all_cases("full")}
        chosen = []
        for case_id in case_ids:
            if case_id not in by_id:
                close = difflib.get_close_matches(case_id, list(by_id), n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else \
                    "; list the case ids with `plax-conformance list`"
                raise SuiteError(f"unknown case id {case_id!r}{hint}")
            chosen.append(by_id[case_id])
        cases = chosen
    if keyword:
        try:
            expression = KeywordExpression(keyword)
        except KeywordError as err:
            raise SuiteError(str(err)) from None
        cases = [c for c in cases if expression.matches(c)]
    return cases


def run_suite(session: Session, cases: list[Case], profile: str = "full",
              selection: dict | None = None, sample: str | None = None,
              progress: Callable[[int, int, Outcome], None] | None = None,
              command=None) -> Report:
    report = Report(session.backend_name, profile, environment(session),
                    selection=dict(selection or {}), command=list(command or sys.argv))
    report.unavailable_rows = [(row.name, missing) for row, missing in unavailable_rows()]
    start = time.perf_counter()
    total = len(cases)
    for index, case in enumerate(cases, start=1):
        outcome = session.run(case, sample)
        report.outcomes.append(outcome)
        if progress is not None:
            progress(index, total, outcome)
    report.duration = time.perf_counter() - start
    return report
