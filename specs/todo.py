"""The TODO marker: what a drafted or imported spec could not decide, left for a person to resolve.

A spec tool that cannot decide something (``cdisc spec draft``, ``cdisc spec import --from sdtm-oak``)
writes it as a TODO instead of a guess: a string value that starts with ``TODO`` (``"TODO: which column
holds the visit?"``), or a mapping key ``TODO`` beside what was decided
(``{name: AESEV, TODO: "no column found"}``). Spec loading refuses a spec that holds one, before any
other check (a TODO usually stands where the schema wants something else), with one error per TODO and
its path, so that ``cdisc run`` cannot start on a spec nobody finished.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from specs.errors import Problem, SpecError, clip

TODO_MARKER = "TODO"
TODO_KEY = "TODO"
_TODO_TEXT = re.compile(r"^\s*TODO\b")
TODO_TITLE = "unresolved TODOs"  # "3 unresolved TODOs:", "1 unresolved TODO:"


def todo(text: str) -> str:
    """The marked text a tool writes for a decision it leaves to a person."""
    return f"{TODO_MARKER}: {text}"


def is_todo(value: Any) -> bool:
    return isinstance(value, str) and bool(_TODO_TEXT.match(value))


def find_todos(document: Any, path: tuple = ()) -> list[tuple[tuple, str]]:
    """Every TODO of a parsed YAML document as (path, text), in document order."""
    found: list[tuple[tuple, str]] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key == TODO_KEY or is_todo(key):
                found.append((path + (key,), str(value) if key == TODO_KEY else str(key)))
                continue
            found += find_todos(value, path + (key,))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += find_todos(value, path + (index,))
    elif is_todo(document):
        found.append((path, document))
    return found


def todo_problems(document: Any, where: str, format_path: Callable[[tuple], str]) -> list[Problem]:
    """One Problem per TODO: ``where: path: TODO text``."""
    problems = []
    for path, text in find_todos(document):
        label = _item_name(document, path)
        location = format_path(path) + (f" ({label})" if label else "")
        problems.append(Problem(f"{where}: {location}" if path else where, clip(text.strip())))
    return problems


def _item_name(document: Any, path: tuple) -> str:
    """The name of the innermost named list item on the path (a variable, a visit), for the message."""
    node, name = document, ""
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(part, int) and isinstance(node, dict) and isinstance(node.get("name"), str):
            name = node["name"]
    return name


def refuse_todos(documents: list[tuple[Any, str]], format_path: Callable[[tuple], str]) -> None:
    """Raise one SpecError listing every TODO of the documents ((document, file shown)); nothing when none."""
    problems = [p for document, where in documents if document is not None
                for p in todo_problems(document, where, format_path)]
    if problems:
        raise SpecError(problems, TODO_TITLE)
