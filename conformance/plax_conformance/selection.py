"""Choosing cases: ``-k`` expressions, exact ``--case`` ids, and the xfails file.

``-k`` works as in pytest: words joined by ``and``, ``or``, ``not`` and parentheses;
a word matches a case when it is a (case-insensitive) substring of the case id or one of
its keywords (row name, kind, dtype, mode, primitives, profiles).

An xfails file lists the cases a backend is known to fail, one per line; ``*`` and ``?``
are wildcards, ``#`` starts a comment (text after it on an entry's line is its reason)::

    # plax-myaccel known failures
    lax.erf_inv/float16/*           # no half-precision erf_inv yet
    lax.sort/float32/jit            # NaN ordering, issue #12
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KeywordError", "KeywordExpression", "XfailsError", "Xfails"]


class KeywordError(ValueError):
    """A ``-k`` expression that does not parse."""


_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


class KeywordExpression:
    def __init__(self, text: str):
        self.text = text
        self.tokens = [t for t in _TOKEN.findall(text) if t]
        self.pos = 0
        if not self.tokens:
            raise KeywordError(f"empty -k expression {text!r}")
        self.tree = self._or()
        if self.pos != len(self.tokens):
            raise KeywordError(f"unexpected {self.tokens[self.pos]!r} in -k expression "
                               f"{text!r}")

    def _peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self):
        token = self._peek()
        self.pos += 1
        return token

    def _or(self):
        node = self._and()
        while self._peek() == "or":
            self._take()
            node = ("or", node, self._and())
        return node

    def _and(self):
        node = self._not()
        while self._peek() == "and":
            self._take()
            node = ("and", node, self._not())
        return node

    def _not(self):
        token = self._take()
        if token is None:
            raise KeywordError(f"-k expression {self.text!r} ends too early")
        if token == "not":
            return ("not", self._not())
        if token == "(":
            node = self._or()
            if self._take() != ")":
                raise KeywordError(f"missing ')' in -k expression {self.text!r}")
            return node
        if token in (")", "and", "or"):
            raise KeywordError(f"unexpected {token!r} in -k expression {self.text!r}")
        return ("word", token.lower())

    def matches(self, case) -> bool:
        haystack = case.id.lower()
        keywords = {k.lower() for k in case.keywords}
        return self._eval(self.tree, haystack, keywords)

    def _eval(self, node, haystack, keywords) -> bool:
        op = node[0]
        if op == "word":
            return node[1] in haystack or node[1] in keywords
        if op == "not":
            return not self._eval(node[1], haystack, keywords)
        left = self._eval(node[1], haystack, keywords)
        if op == "and":
            return left and self._eval(node[2], haystack, keywords)
        return left or self._eval(node[2], haystack, keywords)


class XfailsError(ValueError):
    """An xfails file that cannot be used (unreadable, or naming cases that do not exist)."""


@dataclass
class _Entry:
    pattern: str
    reason: str
    line: int
    matched: bool = False


class Xfails:
    """The cases a backend is known to fail, from an xfails file."""

    def __init__(self, entries: list[_Entry], path: str):
        self.entries = entries
        self.path = path

    @classmethod
    def load(cls, path, known_ids) -> "Xfails":
        """Parse ``path``; every entry must name at least one case in ``known_ids``."""
        try:
            text = Path(path).read_text()
        except OSError as err:
            raise XfailsError(f"cannot read xfails file {path}: {err.strerror}") from None
        entries = []
        for number, raw in enumerate(text.splitlines(), start=1):
            body, _, comment = raw.partition("#")
            pattern = body.strip()
            if not pattern:
                continue
            if " " in pattern or "\t" in pattern:
                raise XfailsError(f"{path}:{number}: one case id per line, got {pattern!r} "
                                  "(put a reason after '#')")
            entries.append(_Entry(pattern, comment.strip() or "listed in the xfails file",
                                  number))
        known = list(known_ids)
        known_set = set(known)
        unknown = []
        for entry in entries:
            if any(ch in entry.pattern for ch in "*?["):
                if not fnmatch.filter(known, entry.pattern):
                    unknown.append(entry)
            elif entry.pattern not in known_set:
                unknown.append(entry)
        if unknown:
            listed = "\n".join(f"  {path}:{e.line}: {e.pattern}" for e in unknown[:20])
            more = f"\n  ... and {len(unknown) - 20} more" if len(unknown) > 20 else ""
            raise XfailsError(
                f"the xfails file names {len(unknown)} case(s) that do not exist:\n"
                f"{listed}{more}\nList the case ids with `plax-conformance list`."
            )
        return cls(entries, str(path))

    def reason_for(self, case_id: str) -> str | None:
        for entry in self.entries:
            if entry.pattern == case_id or fnmatch.fnmatchcase(case_id, entry.pattern):
                entry.matched = True
                return entry.reason
        return None
