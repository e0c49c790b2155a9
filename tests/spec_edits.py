"""Change one thing in a copy of the built-in study spec (the fixtures `spec` and `study` in conftest.py
make the copy)."""
from pathlib import Path


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace ``old`` by ``new`` in a spec file; ``old`` must be there, so that a test never edits nothing."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")
