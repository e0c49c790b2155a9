"""Deterministic, readable YAML for spec files the toolkit writes (cdisc spec import, cdisc spec draft).

The layout is the hand-written specs': top-level collections in block style, anything that fits on one
line in flow style (``- {name: STUDYID, map: {algorithm: hardcode_no_ct, value: X}}``), the rest in
block style. Scalars are quoted by PyYAML's safe dumper, so ``safe_load(dump(data)) == data`` for any data
made of dicts, lists, strings, numbers, booleans and None; text with line breaks or control characters
is written double-quoted on one line. Comments (``comments``: a path -> text) go on the lines before
the entry they describe; ``header`` is a comment block at the top of the file.
"""
from __future__ import annotations

import math
import re

import yaml

WIDTH = 110
_NEEDS_DOUBLE_QUOTES = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\t\ufeff]")


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper, value: str):
    style = '"' if _NEEDS_DOUBLE_QUOTES.search(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def flow(value) -> str:
    """One value on one line: a scalar as YAML writes it, a collection in flow style."""
    if isinstance(value, float) and math.isnan(value):
        return ".nan"
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=True, allow_unicode=True,
                     width=float("inf"), sort_keys=False)
    if text.endswith("\n...\n"):
        text = text[:-5]
    return text.rstrip("\n")


def _is_collection(value) -> bool:
    return isinstance(value, (dict, list))


def dump(data, comments: dict[tuple, str] | None = None, header: str | None = None, width: int = WIDTH) -> str:
    """``data`` (a dict) as YAML text, see the module doc."""
    comments = comments or {}
    lines: list[str] = []
    if header:
        lines += [f"# {line}".rstrip() for line in header.splitlines()]

    def comment(path: tuple, indent: int) -> None:
        text = comments.get(path)
        if text:
            lines.extend(" " * indent + f"# {line}".rstrip() for line in str(text).splitlines())

    def fits(indent: int, prefix: str, value) -> bool:
        return indent + len(prefix) + len(flow(value)) <= width

    def mapping(node: dict, indent: int, path: tuple, block_children: bool) -> None:
        for key, value in node.items():
            comment(path + (key,), indent)
            prefix = f"{flow(key)}: "
            if not _is_collection(value) or not value or (not block_children and fits(indent, prefix, value)):
                lines.append(" " * indent + prefix + flow(value))
            else:
                lines.append(" " * indent + prefix.rstrip())
                block(value, indent + 2, path + (key,))

    def sequence(node: list, indent: int, path: tuple) -> None:
        for position, item in enumerate(node):
            comment(path + (position,), indent)
            if not _is_collection(item) or not item or fits(indent, "- ", item):
                lines.append(" " * indent + "- " + flow(item))
            elif isinstance(item, dict):
                start = len(lines)
                mapping(item, indent + 2, path + (position,), False)
                first = next(i for i in range(start, len(lines)) if not lines[i].lstrip().startswith("#"))
                if first == start:  # '- key: value' on the item's first line
                    lines[start] = " " * indent + "- " + lines[start][indent + 2:]
                else:  # a comment on the item's first key: the dash on a line of its own
                    lines.insert(start, " " * indent + "-")
            else:
                lines.append(" " * indent + "-")
                sequence(item, indent + 2, path + (position,))

    def block(node, indent: int, path: tuple) -> None:
        if isinstance(node, dict):
            mapping(node, indent, path, False)
        else:
            sequence(node, indent, path)

    if not isinstance(data, dict):
        raise TypeError("a spec file is a mapping")
    mapping(data, 0, (), True)
    return "\n".join(lines) + "\n"
