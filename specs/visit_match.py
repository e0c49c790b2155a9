"""Visit label patterns of study.yaml (``design.visits[].match`` and ``design.unscheduled.match``).

A ``match.<key>`` value is the label as text (case and spaces ignored), a ``{regex: ...}`` or a
``{glob: ...}`` (each matching the whole label, case ignored, runs of spaces read as one), or a list of
these. Placing collected labels is ``sdtm.visits``.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass


def normal(label) -> str:
    """A label as compared: spaces trimmed and collapsed, case folded."""
    return " ".join(str(label).split()).casefold()


@dataclass(frozen=True)
class Pattern:
    kind: str  # 'label', 'regex' or 'glob'
    text: str  # as the spec writes it
    regex: re.Pattern

    @property
    def shown(self) -> str:
        return self.text if self.kind == "label" else f"{self.kind} {self.text}"

    def match(self, label: str) -> re.Match | None:
        """A label matches its text case- and space-insensitively; a regex or glob the whole label, case
        ignored, with runs of spaces read as one."""
        return self.regex.fullmatch(normal(label) if self.kind == "label" else " ".join(label.split()))


def patterns(value) -> list[Pattern]:
    """The patterns of one ``match.<key>`` value; ValueError (the message) for a regex that does not compile
    or a value of another shape."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(Pattern("label", item, re.compile(re.escape(normal(item)))))
        elif isinstance(item, dict) and len(item) == 1 and isinstance(item.get("regex"), str):
            try:
                out.append(Pattern("regex", item["regex"], re.compile(item["regex"], re.IGNORECASE)))
            except re.error as exc:
                raise ValueError(f"regex '{item['regex']}' does not compile: {exc}") from None
        elif isinstance(item, dict) and len(item) == 1 and isinstance(item.get("glob"), str):
            glob = " ".join(item["glob"].split())
            out.append(Pattern("glob", item["glob"], re.compile(fnmatch.translate(glob), re.IGNORECASE)))
        else:
            raise ValueError(f"{item!r} is not a label, {{regex: ...}} or {{glob: ...}}")
    return out
