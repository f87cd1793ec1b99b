"""``plax info`` (or ``python -m plax``): versions, backends and devices."""

from __future__ import annotations

import argparse
import platform
import sys
import warnings


def _info() -> int:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import numpy as np

        import plax
        from plax.backend import registry
        from plax.configuration import config

        infos = plax.backends()
    print(f"plax {plax.__version__}")
    print(f"python {platform.python_version()} ({sys.executable})")
    print(f"numpy {np.__version__}")
    print(f"platform {platform.platform()}")
    print(f"x64 enabled: {config.read('enable_x64')}")
    print(f"PLAX_BACKEND: {config.read('backend') or '(unset: highest priority available)'}")
    try:
        default = plax.default_backend()
    except plax.errors.BackendError as err:
        default = f"none ({str(err).splitlines()[0]})"
    print(f"default backend: {default}")
    print("\nbackends:")
    for info in infos:
        state = "available" if info.available else f"unavailable: {info.reason}"
        print(f"  {info.name:<12} priority {info.priority:<4} {info.package} {info.version}  "
              f"[{state}]")
        if not info.available:
            continue
        try:
            backend = registry.get_backend(info.name)
        except plax.errors.BackendError as err:
            print(f"    failed to start: {str(err).splitlines()[0]}")
            continue
        for key, value in backend.info().items():
            print(f"    {key}: {value}")
        manifest = backend.capabilities().to_manifest()
        print(f"    dtypes: {', '.join(manifest['dtypes'])}")
        for device in backend.devices():
            print(f"    device {device.id}: {device!r} {device.description}")
    for package, why in registry.skipped_plugins():
        print(f"  [skipped plugin package {package}]: {why}")
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="plax", description="plax command-line tools")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("info", help="print versions, discovered backends and devices")
    args = parser.parse_args(argv)
    if args.command in (None, "info"):
        return _info()
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
