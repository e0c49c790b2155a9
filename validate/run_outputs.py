"""The output folder of a `cdisc run`: where its datasets are, and its files checked against the size and
SHA-256 its manifest.json recorded for them."""
from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from specs.errors import Problem


def is_run_output(folder: Path) -> bool:
    """A folder written by `cdisc run`: its manifest.json lists the outputs beside it."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(manifest, dict) and "manifest_version" in manifest and "outputs" in manifest


def dataset_folders(path: Path) -> list[Path]:
    """Where the datasets under ``path`` are. The output folder of a `cdisc run` (or one of its cuts) holds
    the same datasets twice (sdtm/ and adam/, and the submission package m5/) beside its manifest, cut
    report and cuts/: it is read through m5/ (with both define.xml files), else sdtm/ and adam/."""
    if path.is_dir() and is_run_output(path):
        if (path / "m5").is_dir():
            return [path / "m5"]
        return [folder for folder in (path / "sdtm", path / "adam") if folder.is_dir()]
    return [path]


def several_outputs_problem(path: Path) -> Problem | None:
    """A folder holding several run outputs (out/cuts/): each is its own package."""
    outputs = sorted(p.name for p in path.iterdir() if p.is_dir() and is_run_output(p))
    if not outputs:
        return None
    return Problem(str(path), f"holds {len(outputs)} separate output(s) of cdisc run ({', '.join(outputs)}): "
                              "validate each of them")


def _manifest_near(folder: Path, cache: dict) -> tuple[Path, dict] | None:
    """The manifest.json of a `cdisc run` output in ``folder`` or the nearest folder above it."""
    for candidate in [folder, *folder.parents]:
        if candidate not in cache:
            cache[candidate] = None
            if is_run_output(candidate):
                manifest = json.loads((candidate / "manifest.json").read_text("utf-8"))
                cache[candidate] = {entry.get("path"): entry for entry in manifest.get("outputs", [])
                                    if isinstance(entry, dict)}
        if cache[candidate] is not None:
            return candidate, cache[candidate]
    return None


def manifest_problems(files: list[Path]) -> list[Problem]:
    """Files that differ from the size and SHA-256 the run's manifest.json recorded for them.

    A v5 XPT file cut exactly at a record boundary that is a multiple of 80 bytes looks whole; where
    the toolkit wrote a manifest beside the data, the checksum tells.
    """
    cache: dict = {}
    problems: list[tuple[int, Problem]] = []
    hashed = []  # (position, file, expected hash, manifest folder)
    for position, file in enumerate(files):
        found = _manifest_near(file.resolve().parent, cache)
        if found is None:
            continue
        folder, outputs = found
        entry = outputs.get(file.resolve().relative_to(folder).as_posix())
        if entry is None:
            continue
        size = file.stat().st_size
        expected_size, expected_hash = entry.get("bytes"), entry.get("sha256")
        if expected_size is not None and size != expected_size:
            what = "truncated" if size < expected_size else "changed"
            problems.append((position, Problem(str(file), f"{what} since it was written: {size:,} bytes, the manifest "
                                                          f"({folder / 'manifest.json'}) records {expected_size:,} bytes")))
        elif expected_hash:
            hashed.append((position, file, expected_hash, folder))
    # hashlib lets go of the GIL while it hashes: two files at a time use both cores
    with ThreadPoolExecutor(max_workers=2) as pool:
        digests = list(pool.map(_sha256, [file for _, file, _, _ in hashed]))
    for (position, file, expected_hash, folder), digest in zip(hashed, digests):
        if digest != expected_hash:
            problems.append((position, Problem(str(file), f"changed since it was written: its SHA-256 differs from "
                                                          f"the one the manifest ({folder / 'manifest.json'}) records")))
    return [problem for _, problem in sorted(problems, key=lambda item: item[0])]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
