"""The pytest plugin: ``pytest --pyargs plax_conformance --plax-backend=NAME``.

Every case of the registry becomes one test, ``test_case[<case id>]``, so pytest's own
``-k``, ``-x`` and ``--junitxml`` work on cases. Not supported
cases are skipped with the reason, cases named by ``--xfails-file`` are marked xfail (one
that passes is reported as XPASS, and listed at the end), and ``--plax-json`` /
``--plax-markdown`` write the same reports as the CLI.

The plugin is registered through the ``pytest11`` entry point, so it is loaded by every
pytest run in an environment where plax-conformance is installed; it only adds options
until the conformance test module is collected. It imports nothing heavy at load time.
"""

from __future__ import annotations

import pytest

_STATE_KEY = "_plax_conformance_state"


def pytest_addoption(parser):
    group = parser.getgroup("plax-conformance", "plax conformance suite")
    group.addoption("--plax-backend", metavar="NAME", default=None,
                    help="the backend the conformance suite tests (default: plax's default)")
    group.addoption("--plax-profile", choices=("core", "full"), default="full",
                    help="core: what a backend must pass to be conformant; full: everything")
    group.addoption("--xfails-file", metavar="FILE", default=None,
                    help="conformance cases the backend is known to fail (one id or pattern "
                         "a line)")
    group.addoption("--plax-capabilities", metavar="FILE", default=None,
                    help="a capabilities manifest replacing the backend's own")
    group.addoption("--plax-json", metavar="FILE", default=None,
                    help="write the conformance JSON report here")
    group.addoption("--plax-markdown", metavar="FILE", default=None,
                    help="write the conformance Markdown report here")
    group.addoption("--plax-no-shrink", action="store_true", default=False,
                    help="do not search for minimal failing programs")


class _State:
    """The session under test and the outcomes collected for the reports."""

    def __init__(self, config):
        self.config = config
        self.session = None
        self.outcomes = []
        self.error = None

    def open(self):
        if self.session is not None or self.error is not None:
            return self.session
        from plax_conformance.suite import SuiteError, open_session

        backend = self.config.getoption("plax_backend")
        if not backend:
            import plax

            try:
                backend = plax.default_backend()
            except Exception as err:  # noqa: BLE001
                self.error = f"no plax backend available: {err}"
                return None
        try:
            self.session = open_session(
                backend,
                self.config.getoption("plax_capabilities"),
                self.config.getoption("xfails_file"),
                shrink=not self.config.getoption("plax_no_shrink"),
            )
        except SuiteError as err:
            self.error = str(err)
        return self.session


def _state(config) -> _State:
    state = getattr(config, _STATE_KEY, None)
    if state is None:
        state = _State(config)
        setattr(config, _STATE_KEY, state)
    return state


def pytest_configure(config):
    config.addinivalue_line("markers", "plax_conformance: a plax conformance case")
    # Bad input (unknown backend, broken manifest, bad xfails file) must stop the run with
    # a clear message before anything is collected.
    if config.getoption("plax_backend"):
        state = _state(config)
        state.open()
        if state.error:
            raise pytest.UsageError(state.error)


def pytest_report_header(config):
    state = getattr(config, _STATE_KEY, None)
    if state is None or state.session is None:
        return None
    session = state.session
    device = session.device
    return (f"plax-conformance: backend {session.backend_name!r} "
            f"({device.kind}: {device.description or repr(device)}), profile "
            f"{config.getoption('plax_profile')}")


def pytest_generate_tests(metafunc):
    if "plax_case" not in metafunc.fixturenames:
        return
    from plax_conformance.suite import SuiteError, select_cases

    state = _state(metafunc.config)
    if state.open() is None:
        raise pytest.UsageError(state.error)
    try:
        cases = select_cases(metafunc.config.getoption("plax_profile"))
    except SuiteError as err:
        raise pytest.UsageError(str(err)) from None
    metafunc.parametrize("plax_case", cases, ids=[c.id for c in cases])


def pytest_collection_modifyitems(config, items):
    state = getattr(config, _STATE_KEY, None)
    if state is None or state.session is None or state.session.xfails is None:
        return
    xfails = state.session.xfails
    for item in items:
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("plax_case") if callspec is not None else None
        if case is None:
            continue
        reason = xfails.reason_for(case.id)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=False))


@pytest.fixture(scope="session")
def plax_conformance_session(request):
    """The conformance Session (backend, manifest, caches) of this pytest run."""
    state = _state(request.config)
    if state.open() is None:
        pytest.exit(state.error, returncode=4)
    return state.session


def run_case(case, request) -> None:
    """Run one case and turn its outcome into a pytest outcome."""
    state = _state(request.config)
    session = state.session
    outcome = session.run(case)
    state.outcomes.append(outcome)
    if outcome.status == "not_supported":
        pytest.skip(f"not supported: {outcome.reason}")
    if outcome.status in ("failed", "xfailed"):
        from plax_conformance.report import failure_text

        text = "\n\n".join(failure_text(f) for f in outcome.failures)
        pytest.fail(f"{case.id}: {outcome.reason}\n{text}", pytrace=False)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = getattr(config, _STATE_KEY, None)
    if state is None or state.session is None or not state.outcomes:
        return
    report = _build_report(state)
    xpassed = [o for o in state.outcomes if o.status == "xpassed"]
    terminalreporter.section("plax conformance")
    if xpassed:
        terminalreporter.write_line(
            f"{len(xpassed)} case(s) in the xfails file passed unexpectedly; remove them from "
            f"{state.session.xfails.path}:")
        for o in xpassed:
            terminalreporter.write_line(f"  {o.case.id}")
    for line in report.terminal_summary().splitlines():
        if line.startswith(("FAILED", "  ", "UNEXPECTEDLY")):
            continue  # pytest lists failures itself
        terminalreporter.write_line(line)


def pytest_sessionfinish(session, exitstatus):
    state = getattr(session.config, _STATE_KEY, None)
    if state is None or state.session is None or not state.outcomes:
        return
    json_path = session.config.getoption("plax_json")
    md_path = session.config.getoption("plax_markdown")
    if not json_path and not md_path:
        return
    report = _build_report(state)
    if json_path:
        report.write_json(json_path)
    if md_path:
        report.write_markdown(md_path)


def _build_report(state):
    from plax_conformance.registry import unavailable_rows
    from plax_conformance.report import Report, environment

    config = state.config
    selection = {"k": config.getoption("keyword") or None,
                 "xfails_file": config.getoption("xfails_file"),
                 "capabilities_file": config.getoption("plax_capabilities"),
                 "cases": None, "sample": None}
    report = Report(state.session.backend_name, config.getoption("plax_profile"),
                    environment(state.session), list(state.outcomes), selection,
                    ["pytest", *config.invocation_params.args])
    report.duration = sum(o.duration for o in state.outcomes)
    report.unavailable_rows = [(row.name, missing) for row, missing in unavailable_rows()]
    return report
