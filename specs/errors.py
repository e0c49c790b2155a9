"""Errors every layer raises and the command line turns into one clear message.

They live in ``specs`` because it is the one package every other package may import.
"""
from __future__ import annotations

from dataclasses import dataclass, field


class CdiscError(Exception):
    """An error the user can act on: the CLI prints it without a traceback and exits non-zero."""

    exit_code = 1


@dataclass
class Problem:
    """One located problem: where it is and what is wrong."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


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
        return "\n".join([head] + [f"  {p}" for p in self.problems])


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
