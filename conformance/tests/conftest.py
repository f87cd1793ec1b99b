"""Tests of the conformance suite itself. The deliberately broken backends of
``broken_backends`` are registered for every test."""

import os

os.environ.setdefault("PLAX_ENABLE_CHECKS", "1")

import pytest  # noqa: E402

import broken_backends  # noqa: E402,F401  (registers the test_* backends)
from plax_conformance.cli import main  # noqa: E402


@pytest.fixture
def cli(capsys):
    """Run the CLI in-process: ``cli("run", "--backend", ...) -> (exit code, out, err)``."""

    def run(*argv):
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
