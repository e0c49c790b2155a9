"""Run notes that count records or list values, kept as their pieces so that the notes of several
subject chunks join into the note the whole study gives (cdisc.chunks): counts add up, value lists
unite. A note is a ``str`` (its text), so everything that shows or compares notes is unchanged."""
from __future__ import annotations


class Count(int):
    """A number of records in a note: the chunks' counts add up."""


class Values(frozenset):
    """Distinct values in a note, shown sorted and quoted: the chunks' values unite."""

    def __str__(self) -> str:
        return ", ".join(repr(v) for v in sorted(self))


class Note(str):
    def __new__(cls, *pieces):
        note = super().__new__(cls, "".join(str(p) for p in pieces))
        note.pieces = pieces
        return note

    def __reduce__(self):  # sent back from a worker process
        return Note, self.pieces

    @property
    def key(self) -> tuple:
        """The note without its counts and values: the same note of another chunk has the same key."""
        return tuple(p if isinstance(p, str) else type(p).__name__ for p in self.pieces)

    def joined(self, other: Note) -> Note:
        pieces = [a + b if isinstance(a, Count) else a | b if isinstance(a, Values) else a
                  for a, b in zip(self.pieces, other.pieces)]
        return Note(*(Count(p) if isinstance(a, Count) else Values(p) if isinstance(a, Values) else p
                      for p, a in zip(pieces, self.pieces)))
