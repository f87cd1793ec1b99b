"""``plax-conformance``: run the suite against a backend, list the cases, list backends.

    plax-conformance run --backend NAME [--profile core|full] [-k EXPR] [--case ID]
                         [--json FILE] [--markdown FILE] [--junitxml FILE]
                         [--xfails-file FILE] [--capabilities FILE]
    plax-conformance list [--profile core|full] [-k EXPR] [--rows]
    plax-conformance backends

Exit status: 0 when nothing failed, 1 when a case failed, 2 for bad input (options,
files, manifests), 3 when the backend is unknown, unavailable or fails to start.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import traceback

from plax_conformance._version import __version__
from plax_conformance.suite import (
    EXIT_USAGE,
    SuiteError,
    open_session,
    run_suite,
    select_cases,
)

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plax-conformance",
        description="The plax conformance suite: checks that a backend computes what plax "
                    "means, primitive by primitive and dtype by dtype.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser("run", help="run the suite against a backend")
    run.add_argument("--backend", required=True, metavar="NAME",
                     help="the backend to test (see `plax-conformance backends`)")
    _add_selection(run)
    run.add_argument("--case", action="append", metavar="ID", default=[],
                     help="run only this case (exact id; repeatable)")
    run.add_argument("--sample", metavar="LABEL",
                     help="run only this sample of each case (e.g. 3x5, specials)")
    run.add_argument("--json", metavar="FILE", help="write the JSON report here")
    run.add_argument("--markdown", metavar="FILE", help="write the Markdown report here")
    run.add_argument("--junitxml", metavar="FILE", help="write JUnit XML here")
    run.add_argument("--xfails-file", metavar="FILE",
                     help="cases the backend is known to fail (one id or pattern a line)")
    run.add_argument("--strict-xfails", action="store_true",
                     help="fail the run when an xfails entry unexpectedly passes")
    run.add_argument("--capabilities", metavar="FILE",
                     help="a capabilities manifest (JSON/TOML) replacing the backend's own")
    run.add_argument("--no-shrink", action="store_true",
                     help="do not search for the minimal failing program")
    run.add_argument("-v", "--verbose", action="store_true",
                     help="print every failure with its minimal program and traceback")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress output")

    lst = sub.add_parser("list", help="list the cases (or, with --rows, the case families)")
    _add_selection(lst)
    lst.add_argument("--rows", action="store_true", help="list the registry rows instead")

    sub.add_parser("backends", help="list the installed backends and their status")
    return parser


def _add_selection(parser) -> None:
    parser.add_argument("--profile", choices=("core", "full"), default="full",
                        help="core: what a backend must pass to be conformant; full: "
                             "everything (default)")
    parser.add_argument("-k", metavar="EXPR", dest="keyword",
                        help="select cases by keyword expression, as pytest -k "
                             "(e.g. 'lax.exp and float32', 'not jit')")


# ----------------------------------------------------------------------------
# Progress.


class Progress:
    """One updating line on a terminal; a line every 5% (or 15 s) otherwise. Failures
    are printed as they happen."""

    def __init__(self, stream, enabled: bool):
        self.stream = stream
        self.enabled = enabled
        self.tty = enabled and stream.isatty()
        self.failed = 0
        self.not_supported = 0
        self.last_print = time.monotonic()
        self.last_fraction = 0.0
        self.width = shutil.get_terminal_size((100, 20)).columns

    def __call__(self, index: int, total: int, outcome) -> None:
        if outcome.status == "failed":
            self.failed += 1
        elif outcome.status == "not_supported":
            self.not_supported += 1
        if not self.enabled:
            return
        if outcome.status in ("failed", "xpassed"):
            self._clear()
            word = "FAILED" if outcome.status == "failed" else "XPASS"
            self.stream.write(f"{word} {outcome.case.id}: {outcome.reason[:200]}\n")
        fraction = index / total if total else 1.0
        status = (f"[{index:>{len(str(total))}}/{total} {fraction:4.0%}] "
                  f"failed {self.failed}, not supported {self.not_supported}")
        if self.tty:
            line = f"{status}  {outcome.case.id}"[: self.width - 1]
            self.stream.write("\r" + line.ljust(self.width - 1))
            if index == total:
                self.stream.write("\n")
        else:
            now = time.monotonic()
            if fraction - self.last_fraction >= 0.05 or now - self.last_print > 15 or \
                    index == total:
                self.stream.write(status + "\n")
                self.last_fraction = fraction
                self.last_print = now
        self.stream.flush()

    def _clear(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * (self.width - 1) + "\r")


# ----------------------------------------------------------------------------
# Commands.


def _check_output_path(path, option: str) -> None:
    if path is None:
        return
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise SuiteError(f"{option} {path}: directory {parent} does not exist")
    if os.path.isdir(path):
        raise SuiteError(f"{option} {path}: is a directory, expected a file name")


def _check_input_file(path, option: str) -> None:
    if path is not None and not os.path.isfile(path):
        raise SuiteError(f"{option} {path}: no such file")


def _cmd_run(args) -> int:
    for path, option in ((args.json, "--json"), (args.markdown, "--markdown"),
                         (args.junitxml, "--junitxml")):
        _check_output_path(path, option)
    _check_input_file(args.xfails_file, "--xfails-file")
    _check_input_file(args.capabilities, "--capabilities")
    cases = select_cases(args.profile, args.keyword, args.case)
    if not cases:
        raise SuiteError("no cases selected (check -k / --case / --profile; "
                         "`plax-conformance list` shows the case ids)")
    if args.sample is not None:
        _check_sample(cases, args.sample)
    session = open_session(args.backend, args.capabilities, args.xfails_file,
                           shrink=not args.no_shrink)
    out = sys.stdout
    if not args.quiet:
        device = session.device
        out.write(f"plax-conformance {__version__}: backend {args.backend!r} "
                  f"({device.kind}: {device.description or repr(device)}), profile "
                  f"{args.profile}, {len(cases)} cases\n")
        out.flush()
    selection = {"k": args.keyword, "cases": args.case, "sample": args.sample,
                 "xfails_file": args.xfails_file, "capabilities_file": args.capabilities}
    progress = Progress(out, enabled=not args.quiet)
    report = run_suite(session, cases, args.profile, selection, args.sample, progress,
                       command=["plax-conformance", *sys.argv[1:]])
    if args.json:
        report.write_json(args.json)
    if args.markdown:
        report.write_markdown(args.markdown)
    if args.junitxml:
        report.write_junit_xml(args.junitxml)
    out.write(report.terminal_summary(verbose=args.verbose) + "\n")
    for path, what in ((args.json, "JSON"), (args.markdown, "Markdown"),
                       (args.junitxml, "JUnit XML")):
        if path:
            out.write(f"{what} report: {path}\n")
    return report.exit_code(strict_xfails=args.strict_xfails)


def _check_sample(cases, label: str) -> None:
    from plax_conformance.execution import specials_sample

    labels = []
    for case in cases:
        extra = specials_sample(case)
        labels.extend(s.label for s in (*case.row.samples, *([extra] if extra else [])))
    if label not in labels:
        known = ", ".join(dict.fromkeys(labels))
        raise SuiteError(f"no selected case has a sample {label!r}; their samples are: {known}")


def _cmd_list(args) -> int:
    from plax_conformance.registry import rows, unavailable_rows

    if args.rows:
        for row in rows():
            if row.missing():
                continue
            dts = ",".join(d.name for d in row.dtypes)
            samples = len(row.samples) + (1 if row.specials else 0)
            print(f"{row.name}\t{row.kind}\t{row.profile}\t{dts}\t{samples} samples\t"
                  f"{len(row.params)} params\ttol {row.tol.describe(row.dtypes[-1])}")
    else:
        for case in select_cases(args.profile, args.keyword):
            print(case.id)
    missing = unavailable_rows()
    if missing:
        names = ", ".join(sorted({m for _, ms in missing for m in ms}))
        print(f"note: {len(missing)} rows need APIs this plax lacks ({names})",
              file=sys.stderr)
    return 0


def _cmd_backends(args) -> int:
    import plax

    for info in plax.backends():
        state = "available" if info.available else f"unavailable: {info.reason}"
        print(f"{info.name}\t{info.package} {info.version}\tpriority {info.priority}\t{state}")
    return 0


_COMMANDS = {"run": _cmd_run, "list": _cmd_list, "backends": _cmd_backends}


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except SuiteError as err:
        sys.stdout.flush()
        print(f"plax-conformance: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("\nplax-conformance: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`plax-conformance list | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:  # noqa: BLE001 -- a suite bug: say so, then show where
        print(f"plax-conformance: internal error: {type(err).__name__}: {err}\n"
              "This is a bug in plax-conformance; please report it with the traceback "
              "below.", file=sys.stderr)
        traceback.print_exc()
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
