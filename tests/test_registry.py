"""Backend discovery and selection, with fake plugin packages on sys.path.

Each scenario runs in a fresh interpreter so discovery starts from scratch.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

import plax
from plax.backend import BackendSpec
from plax.backend.registry import register_backend, unregister_backend

PLUGINS = {
    # package: (module source, requires-dist lines)
    "brokenplug": ("raise RuntimeError('boom at import')", []),
    "futureplug": ("raise AssertionError('must never be imported')", ["plax>=99"]),
    "goodplug": (
        """
        from plax.backend import BackendSpec, hookimpl

        def _load():
            from plax.reference.backend import ReferenceBackend

            class Good(ReferenceBackend):
                name = "good"

            return Good()

        def _no_driver():
            return False, "no driver: libfake.so not found"

        def _explode():
            raise RuntimeError("device lost")

        @hookimpl
        def plax_backends():
            return [
                BackendSpec("good", priority=500, load=_load),
                BackendSpec("nodriver", priority=900, load=_load, is_available=_no_driver),
                BackendSpec("crashy", priority=700, load=_explode),
            ]
        """,
        ["plax>=0.1"],
    ),
}


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugins")
    for name, (source, requires) in PLUGINS.items():
        pkg = root / name
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        (pkg / "plugin.py").write_text(textwrap.dedent(source))
        info = root / f"{name}-1.0.dist-info"
        info.mkdir()
        meta = [f"Metadata-Version: 2.1", f"Name: {name}", "Version: 1.0"]
        meta += [f"Requires-Dist: {r}" for r in requires]
        (info / "METADATA").write_text("\n".join(meta) + "\n")
        (info / "entry_points.txt").write_text(f"[plax.backends]\n{name} = {name}.plugin\n")
    return str(root)


def run_plax(plugin_path, code, backend=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = plugin_path + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PLAX_BACKEND", None)
    if backend is not None:
        env["PLAX_BACKEND"] = backend
    proc = subprocess.run(
        [sys.executable, "-W", "always", "-c", textwrap.dedent(code)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    return proc


STATUS = """
import json, plax
print(json.dumps([[b.name, b.priority, b.available, b.reason, b.package] for b in plax.backends()]))
print("DEFAULT", plax.default_backend())
"""


def test_broken_and_incompatible_plugins_are_skipped_with_warnings(plugin_path):
    proc = run_plax(plugin_path, STATUS)
    assert proc.returncode == 0, proc.stderr
    assert "brokenplug" in proc.stderr and "boom at import" in proc.stderr
    assert "futureplug" in proc.stderr and "requires plax>=99" in proc.stderr
    assert "must never be imported" not in proc.stderr
    rows = json.loads(proc.stdout.splitlines()[0])
    names = [r[0] for r in rows if r[0] in ("nodriver", "crashy", "good", "reference")]
    assert names == ["nodriver", "crashy", "good", "reference"]  # by priority
    nodriver = rows[0]
    assert nodriver[2] is False and "libfake.so" in nodriver[3] and nodriver[4] == "goodplug"


def test_automatic_selection_skips_unavailable_and_failing(plugin_path):
    proc = run_plax(plugin_path, STATUS)
    assert "DEFAULT good" in proc.stdout
    assert "crashy" in proc.stderr and "device lost" in proc.stderr


def test_explicit_unavailable_backend_is_an_error_listing_all(plugin_path):
    proc = run_plax(plugin_path, "import plax.numpy as pnp; pnp.ones(2)", backend="nodriver")
    assert proc.returncode != 0
    assert "BackendError" in proc.stderr
    assert "'nodriver' is installed but not available: no driver: libfake.so" in proc.stderr
    for name in ("good", "crashy", "reference"):
        assert f"  {name} (priority" in proc.stderr


def test_explicit_selection_never_falls_back(plugin_path):
    proc = run_plax(plugin_path, "import plax.numpy as pnp; pnp.ones(2)", backend="crashy")
    assert proc.returncode != 0
    assert "failed to start: RuntimeError: device lost" in proc.stderr


def test_priority_list_takes_first_available(plugin_path):
    proc = run_plax(plugin_path, "import plax; print('USING', plax.default_backend())",
                    backend="nodriver,reference,good")
    assert proc.returncode == 0, proc.stderr
    assert "USING reference" in proc.stdout


def test_unknown_backend_name(plugin_path):
    proc = run_plax(plugin_path, "import plax; plax.default_backend()", backend="nonexistent")
    assert proc.returncode != 0
    assert "unknown backend 'nonexistent'" in proc.stderr and "good (priority 500" in proc.stderr


def test_plax_info_command_lists_backends(plugin_path):
    proc = run_plax(plugin_path, "import sys; from plax.__main__ import main; sys.exit(main([]))")
    assert proc.returncode == 0, proc.stderr
    assert "nodriver" in proc.stdout and "unavailable: no driver" in proc.stdout
    assert "skipped plugin package brokenplug" in proc.stdout


def test_register_backend_programmatically():
    from plax.reference.backend import ReferenceBackend

    class Other(ReferenceBackend):
        name = "other_test"

    register_backend(BackendSpec("other_test", priority=-5, load=Other))
    try:
        assert "other_test" in [b.name for b in plax.backends()]
        dev = plax.devices("other_test")[0]
        x = plax.device_put(1.0, dev)
        assert (x + 1).device == dev  # eager ops run where their operands live
        y = plax.device_put(x, plax.devices("reference")[0])
        with pytest.raises(ValueError, match="committed to different devices"):
            x + y
    finally:
        unregister_backend("other_test")


def test_config_backend_option_selects():
    plax.config.update("jax_platforms", "reference")
    try:
        assert plax.default_backend() == "reference"
    finally:
        plax.config.update("jax_platforms", None)
    with pytest.raises(plax.errors.BackendError, match="unknown backend 'nope'"):
        plax.jit(lambda x: x, backend="nope")(1.0)
