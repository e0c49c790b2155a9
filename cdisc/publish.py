"""Publishing outputs: a complete version folder switched in by one rename, by one run at a time.

An output folder ``out/`` looks like this once a run has published into it::

    out/sdtm -> .cdisc/current/sdtm      (adam, m5, validation, manifest.json, keys.json alike): the paths
    out/cuts/2023-06-30 -> ../.cdisc/v-…    users read; each cut is its own version
    out/.cdisc/current -> v-…            the version a plain run published
    out/.cdisc/v-…/                      complete versions, each written whole before it is switched in
    out/.cdisc/lock                      held by the run writing out/ (pid, host, start time, command)

A version is switched in by renaming a new symbolic link over ``.cdisc/current`` (or over ``cuts/<date>``):
rename(2) replaces the link in one step, so a reader opening ``out/sdtm/dm.xpt`` gets the old output or
the new one, never a mix. The previous version is removed only after the switch. Everything else under
``.cdisc/`` (versions no link points to, ``tmp-*`` links, ``legacy-*`` folders) was left by an interrupted
run: the next run, holding the lock, removes it. POSIX only (flock, symbolic links).
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import socket
import sys
import time
from datetime import datetime
from pathlib import Path

from specs.errors import CdiscError, Problem, ProblemList

STATE = ".cdisc"
CURRENT = "current"
LOCK = "lock"


class OutputBusy(ProblemList):
    """Another run holds the output folder."""

    title = "output folder in use"


def _display(path: Path) -> str:
    from specs.loader import display_path

    return display_path(path)


def _holder_text(raw: str) -> str:
    try:
        holder = json.loads(raw)
        return (f"pid {holder['pid']} on {holder['host']}, started {holder['started']}: "
                f"{holder['command']}")
    except (ValueError, KeyError, TypeError):
        return "a run that has not yet said who it is"


class OutputLock:
    """An exclusive lock on an output folder (flock on ``.cdisc/lock``), released by the kernel if the
    process dies; the file says who holds it. Removed on release (the holder checks it locked the file
    that is at the path, so a run that opened a file being removed tries again)."""

    def __init__(self, folder: Path, command: str | None = None):
        self.folder = Path(folder)
        self.path = self.folder / STATE / LOCK
        self.command = command or " ".join(["cdisc"] + sys.argv[1:])
        self.fd: int | None = None
        self.created_folder = False

    def acquire(self) -> OutputLock:
        if not self.folder.exists():
            self.folder.mkdir(parents=True)
            self.created_folder = True
        for _ in range(100):
            (self.folder / STATE).mkdir(exist_ok=True)
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:  # the state folder was removed by the previous holder: again
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 4096).decode("utf-8", "replace")
                os.close(fd)
                raise OutputBusy([Problem(_display(self.folder), "another run is writing this folder ("
                                          + _holder_text(holder) + "); try again when it has finished")]) from None
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        else:  # pragma: no cover - only under a storm of runs starting and ending
            raise OutputBusy([Problem(_display(self.folder), "could not lock the folder")])
        self.fd = fd
        holder = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": datetime.now().isoformat(timespec="seconds"), "command": self.command}
        os.ftruncate(fd, 0)
        os.write(fd, (json.dumps(holder) + "\n").encode("utf-8"))
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self.fd)
            self.fd = None
        try:
            (self.folder / STATE).rmdir()  # only when empty: nothing was published with this scheme
        except OSError:
            pass
        if self.created_folder:
            try:
                self.folder.rmdir()  # a failed first run leaves no empty output folder behind
            except OSError:
                pass

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _link_target(link: Path) -> Path | None:
    """Where a symbolic link points, as an absolute normalised path (None if not a link)."""
    try:
        return Path(os.path.normpath(link.parent / os.readlink(link)))
    except OSError:
        return None


def _state_entry(path: Path | None, state: Path) -> str | None:
    """The entry of the state folder ``path`` lies in ('v-…' for .cdisc/v-…/sdtm)."""
    if path is None:
        return None
    try:
        parts = path.relative_to(state).parts
    except ValueError:
        return None
    return parts[0] if parts else None


class OutputFolder:
    """The versions of one output folder. Every method expects the folder's lock to be held."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.state = self.root / STATE

    # --- what is published ---------------------------------------------------------------------------
    def links(self) -> list[Path]:
        """Every symbolic link that can publish a version: out/*, out/cuts/*, and .cdisc/current."""
        candidates = [self.state / CURRENT]
        for folder in (self.root, self.root / "cuts"):
            try:
                candidates += [p for p in folder.iterdir() if p.is_symlink()]
            except OSError:
                pass
        return [p for p in candidates if p.is_symlink()]

    def referenced(self) -> set[str]:
        entries = {_state_entry(_link_target(link), self.state) for link in self.links()}
        current = self.state / CURRENT
        return {e for e in entries if e} | ({CURRENT} if current.is_symlink() else set())

    def version_of(self, slot: Path) -> Path | None:
        """The version folder a slot (.cdisc/current, cuts/<date>, a folder's name) points to."""
        entry = _state_entry(_link_target(slot), self.state)
        return self.state / entry if entry and entry.startswith("v-") else None

    # --- versions ------------------------------------------------------------------------------------
    def new_version(self) -> Path:
        self.state.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        for n in range(1000):
            version = self.state / f"v-{stamp}-{os.getpid()}-{n}"
            try:
                version.mkdir()
                return version
            except FileExistsError:
                continue
        raise OSError(errno.EEXIST, "no free version name", str(self.state))  # pragma: no cover

    def clean_debris(self) -> list[str]:
        """Remove what no link points to: versions an interrupted run left, temporary links, the previous
        version once a new one is switched in. Returns the names removed."""
        if not self.state.is_dir():
            return []
        keep = self.referenced() | {LOCK, CURRENT}
        removed = []
        for entry in sorted(self.state.iterdir()):
            if entry.name in keep:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry.name)
        for link in self.links():  # links of names the published version no longer has
            if link.parent == self.root and not link.exists() and \
                    _state_entry(_link_target(link), self.state) == CURRENT:
                link.unlink(missing_ok=True)
        return removed

    def _switch(self, slot: Path, version: Path) -> None:
        """Point ``slot`` at ``version`` with one rename of a new link over it."""
        temporary = self.state / f"tmp-{version.name}"
        temporary.unlink(missing_ok=True)
        os.symlink(os.path.relpath(version, slot.parent), temporary)
        if slot.exists() and not slot.is_symlink():  # written by an older version of the toolkit
            slot.rename(self.state / f"legacy-{version.name}-{slot.name}")
        os.replace(temporary, slot)

    def publish(self, version: Path, slot: Path | None = None) -> None:
        """Switch ``version`` in: as the plain run's output (out/<name> for each of its entries), or, with
        ``slot``, at that one name (a cut: out/cuts/<date>)."""
        if slot is not None:
            slot.parent.mkdir(parents=True, exist_ok=True)
            self._switch(slot, version)
            self.clean_debris()
            return
        current = self.state / CURRENT
        for entry in sorted(version.iterdir()):
            link = self.root / entry.name
            wanted = os.path.join(STATE, CURRENT, entry.name)
            if link.is_symlink() and os.readlink(link) == wanted:
                continue
            # created before the switch: until then it points into the old version (or nowhere)
            temporary = self.state / f"tmp-link-{entry.name}"
            temporary.unlink(missing_ok=True)
            os.symlink(wanted, temporary)
            if link.exists() and not link.is_symlink():
                link.rename(self.state / f"legacy-{version.name}-{entry.name}")
            os.replace(temporary, link)
        self._switch(current, version)
        self.clean_debris()

    def published(self, version: Path, slot: Path | None = None) -> bool:
        """True once ``version`` is what the slot (default: the plain run's output) points to."""
        target = self.version_of(slot if slot is not None else self.state / CURRENT)
        return target is not None and target.name == version.name


# what a run writes in its output folder (a version); anything else there is the user's and left alone
OUTPUTS = ("adam", "cut_report.html", "cut_report.json", "keys.json", "lineage", "m5", "manifest.json", "sdtm",
           "validation")


def output_root(slot: Path) -> Path:
    """The folder holding the versions and the lock for a folder published under its own name: out/ for
    out/cuts/<date>, the parent folder otherwise (out/ for out/adam)."""
    slot = Path(slot)
    if slot.parent.name == "cuts":
        return slot.parent.parent
    return slot.parent


def copy_version(source: Path, target: Path, leave_out: set[str] = frozenset()) -> None:
    """The outputs of a published folder into a new version (hard links: published files are never changed
    in place), leaving out the top-level entries named in ``leave_out``."""
    def link_or_copy(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
        return dst

    for entry in sorted(Path(source).iterdir()):
        if entry.name in leave_out or entry.name not in OUTPUTS or not entry.exists():
            continue
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name, copy_function=link_or_copy)
        else:
            link_or_copy(entry, target / entry.name)


def describe_os_error(exc: OSError, operation: str) -> CdiscError:
    """An OSError as one message naming the operation, the path(s) and the cause."""
    paths = [p for p in (exc.filename, exc.filename2) if p not in (None, "")]
    where = " -> ".join(_display(Path(os.fsdecode(p))) for p in paths)
    cause = exc.strerror or str(exc)
    return CdiscError(f"{operation}: {where + ': ' if where else ''}{cause}")
