"""PoCL builds without its 18,000-line header: only the declarations a program calls.

PoCL compiles every program with Clang's ``opencl-c.h`` included: about a megabyte
of overloaded builtin declarations, parsed again for each ``clBuildProgram``. That
parse is most of a small program's build (0.15 s of 0.17 s on a 2-core CPU), and
plax builds hundreds of small programs. PoCL's wrapper header (``_clang_opencl.h``)
skips ``opencl-c.h`` when ``_OPENCL_H_`` is defined, so a build with
``-D_OPENCL_H_`` parses none of it; the program then carries the part of
``opencl-c.h`` it needs: its base header (types, macros, ``as_<type>``) and the
declarations of the builtins it names, with every preprocessor line kept so each
declaration sits under the same ``#if`` (extensions, OpenCL C versions) as in the
original. The declarations are PoCL's own, so the program means exactly what it
would with the whole header; the build costs a sixth.

``PoclHeaders.find(info)`` returns None (builds stay as they are) unless the device
is PoCL and its ``opencl-c.h`` is found next to the ``_clang_opencl.h`` with that
guard. The caller falls back to a plain build whenever a trimmed one fails (see
``compiler.ProgramCache``), so a mismatch costs one build, never a wrong program.
"""

from __future__ import annotations

import importlib.util
import os
import re

__all__ = ["PoclHeaders", "POCL_PLATFORM"]

POCL_PLATFORM = "Portable Computing Language"

_IDENT = re.compile(r"[A-Za-z_]\w*")
_DECLARED = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_COND_OPEN = ("#if", "#ifdef", "#ifndef")


def _candidate_dirs() -> list[str]:
    dirs = []
    spec = importlib.util.find_spec("pocl_binary_distribution")
    if spec is not None and spec.submodule_search_locations:
        for root in spec.submodule_search_locations:
            dirs.append(os.path.join(root, ".libs", "share", "pocl", "include"))
    dirs += ["/usr/share/pocl/include", "/usr/local/share/pocl/include"]
    return dirs


class PoclHeaders:
    """The parsed ``opencl-c.h`` of one PoCL installation."""

    def __init__(self, include_dir: str, lines: list):
        self.include_dir = include_dir
        # (declared name, line) for declarations; (None, line) for preprocessor lines.
        self._lines = lines
        self.names = frozenset(name for name, _ in lines if name)
        self.options = f"-D_OPENCL_H_ -I {include_dir}"
        self._memo: dict = {}

    @classmethod
    def find(cls, info) -> PoclHeaders | None:
        if info.platform_name != POCL_PLATFORM or os.environ.get("PLAX_OPENCL_FULL_HEADERS"):
            return None
        for include_dir in _candidate_dirs():
            header = os.path.join(include_dir, "opencl-c.h")
            wrapper = os.path.join(include_dir, "_clang_opencl.h")
            if " " in include_dir or not (os.path.isfile(header) and os.path.isfile(wrapper)):
                continue
            try:
                with open(wrapper, encoding="utf-8") as f:
                    if "#ifndef _OPENCL_H_" not in f.read():
                        continue
                with open(header, encoding="utf-8") as f:
                    lines = _parse(f.read())
            except (OSError, UnicodeDecodeError, ValueError):
                continue
            return cls(include_dir, lines)
        return None

    def header(self, source: str) -> str:
        """The part of ``opencl-c.h`` that ``source`` needs."""
        used = frozenset(_IDENT.findall(source)) & self.names
        text = self._memo.get(used)
        if text is None:
            kept = [line for name, line in self._lines if name is None or name in used]
            text = "\n".join(_drop_empty_conditionals(kept)) + "\n"
            if len(self._memo) > 4096:
                self._memo.clear()
            self._memo[used] = text
        return text


def _parse(text: str) -> list:
    """opencl-c.h inside its include guard, as (name, line) pairs: preprocessor lines
    (with their continuation lines) and one-line declarations; comments dropped."""
    lines = text.split("\n")
    start = lines.index("#define _OPENCL_H_") + 1
    end = max(i for i, line in enumerate(lines)
              if line.startswith("#endif") and "_OPENCL_H_" in line)
    out = []
    continued = False
    in_comment = False
    pending: list = []  # the lines of a declaration that spans several
    for line in lines[start:end]:
        stripped = line.strip()
        if continued or (stripped.startswith("#") and not pending):
            out.append((None, line))
            continued = line.rstrip().endswith("\\")
            continue
        if in_comment:
            in_comment = "*/" not in stripped
            continue
        if stripped.startswith("/*") and not pending:
            in_comment = "*/" not in stripped
            continue
        if not stripped or stripped.startswith("//"):
            continue
        pending.append(line)
        if not stripped.endswith(";"):
            if len(pending) > 8:
                raise ValueError(f"unexpected lines in opencl-c.h: {pending!r}")
            continue
        declaration = "\n".join(pending)
        pending = []
        match = _DECLARED.search(declaration)
        if match is None:
            raise ValueError(f"unexpected line in opencl-c.h: {declaration!r}")
        out.append((match.group(1), declaration))
    if pending:
        raise ValueError(f"unexpected lines at the end of opencl-c.h: {pending!r}")
    return out


def _drop_empty_conditionals(lines: list) -> list:
    """Remove #if ... #endif blocks that hold nothing but other such blocks (and their
    #else/#elif lines): most of the header, once the unused declarations are gone."""
    out: list = []
    # Per open conditional: its index in ``out`` and whether anything real is inside.
    stack: list = []
    continued = False
    for line in lines:
        stripped = line.strip()
        if continued:
            out.append(line)
            continued = line.rstrip().endswith("\\")
            continue
        continued = stripped.startswith("#") and line.rstrip().endswith("\\")
        directive = stripped.split("(")[0].split()[0] if stripped.startswith("#") else ""
        if directive in _COND_OPEN:
            stack.append([len(out), False])
            out.append(line)
        elif directive == "#endif" and stack:
            start, used = stack.pop()
            if used:
                out.append(line)
                if stack:
                    stack[-1][1] = True
            else:
                del out[start:]
        else:
            out.append(line)
            if stack and directive not in ("#else", "#elif"):
                stack[-1][1] = True
    return out
