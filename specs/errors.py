"""Errors every layer raises and the command line turns into one clear message.

They live in ``specs`` because it is the one package every other package may import.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field


class CdiscError(Exception):
    """An error the user can act on: the CLI prints it without a traceback and exits non-zero."""

    exit_code = 1


MAX_VALUE = 256  # characters of one value quoted in a message (a whole XPT text value fits)
MAX_LINE = 2000  # characters of one message line
MAX_LINES = 200  # problems listed in one error (the rest are counted)


def clip(text, limit: int = MAX_VALUE) -> str:
    """A value as messages show it: at most ``limit`` characters, the middle cut out and counted, so that a
    10 MB cell makes a one-line message, not a 10 MB one."""
    text = str(text)
    if len(text) <= limit:
        return text
    keep = max(limit - 30, 10)
    head, tail = keep * 2 // 3, keep - keep * 2 // 3
    return f"{text[:head]}[... {len(text) - head - tail} characters cut ...]{text[len(text) - tail:]}"


_LONG_QUOTED = re.compile("'([^']{%d,})'" % (MAX_VALUE + 1))


def clip_values(text: str) -> str:
    """Every quoted value ('...', the messages' convention) cut to MAX_VALUE characters, then the whole
    line to MAX_LINE: the place every message goes through before it is shown."""
    text = _LONG_QUOTED.sub(lambda m: f"'{clip(m.group(1))}'", str(text))
    return clip(text, MAX_LINE)


@dataclass
class Problem:
    """One located problem: where it is and what is wrong."""

    where: str
    message: str

    def __str__(self) -> str:
        return clip_values(f"{self.where}: {self.message}" if self.where else self.message)


class ProblemList(CdiscError):
    """Several problems collected before stopping, reported together (as dbt does)."""

    title = "problems"

    def __init__(self, problems: list[Problem] | list[str], title: str | None = None):
        self.problems = [p if isinstance(p, Problem) else Problem("", p) for p in problems]
        if title:
            self.title = title
        super().__init__(self.render())

    def render(self) -> str:
        head = f"{len(self.problems)} {self.title}:" if len(self.problems) != 1 else f"1 {self.title.rstrip('s')}:"
        lines = [head] + [f"  {p}" for p in self.problems[:MAX_LINES]]
        if len(self.problems) > MAX_LINES:
            lines.append(f"  ... and {len(self.problems) - MAX_LINES} more")
        return "\n".join(lines)


class SpecError(ProblemList):
    """The spec is wrong: every error with its file and path."""

    title = "spec errors"


class RawDataError(ProblemList):
    """The raw export is wrong: every error with its file, record key, column and value."""

    title = "raw data errors"


class ControlledTermError(RawDataError):
    """Raw values with no term in a non-extensible codelist."""

    title = "values not in their codelist"


class DataError(ProblemList):
    """A derived or written dataset contradicts its metadata."""

    title = "data errors"


@dataclass
class RecordIssue:
    """A raw record that was not mapped, and why (never silently dropped)."""

    source: str
    key: str
    reason: str
    domain: str = ""
    extra: dict = field(default_factory=dict)
