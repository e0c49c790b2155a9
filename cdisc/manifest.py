"""The manifest of a cut folder: what was made, from what, by which tool, with every file's SHA-256.

``manifest.json`` is written with sorted keys and no clock (``created`` is passed in: the cut date or
a date the caller chooses), so the same inputs give the same bytes. Input files are recorded relative
to the folder they have in common, so a raw export moved elsewhere gives the same manifest.
"""
from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from specs.errors import Problem, RawDataError

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


HASHERS = 2  # files hashed at once: hashlib and file reads release the GIL, so both cores work


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    block = bytearray(1 << 20)
    view = memoryview(block)
    with open(path, "rb", buffering=0) as handle:
        while size := handle.readinto(block):  # one buffer reused: no new bytes object per block
            digest.update(view[:size])
    return digest.hexdigest()


def sha256_files(paths: list[Path]) -> list[str]:
    """The SHA-256 of each file, ``HASHERS`` at a time (the largest first, so both threads end together)."""
    order = sorted(range(len(paths)), key=lambda i: -paths[i].stat().st_size)
    digests: list[str] = [""] * len(paths)
    with ThreadPoolExecutor(max_workers=HASHERS) as pool:
        for i, digest in zip(order, pool.map(sha256_file, [paths[i] for i in order])):
            digests[i] = digest
    return digests


def output_files(folder: Path) -> list[str]:
    """Every file under folder (relative POSIX paths, sorted), leaving out the manifest and hidden files."""
    folder = Path(folder)
    found = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if path.is_file() and relative.as_posix() != MANIFEST and not any(p.startswith(".") for p in relative.parts):
            found.append(relative.as_posix())
    return sorted(found)


def _input_entries(inputs: dict[str, Path]) -> list[dict]:
    paths = {name: Path(path) for name, path in inputs.items()}
    missing = [Problem(str(p), f"input '{n}' not found") for n, p in sorted(paths.items()) if not p.is_file()]
    if missing:
        raise RawDataError(missing)
    if not paths:
        return []
    resolved = {name: p.resolve() for name, p in paths.items()}
    root = Path(os.path.commonpath([str(p.parent) for p in resolved.values()]))
    return [{"name": name, "path": resolved[name].relative_to(root).as_posix(),
             "sha256": sha256_file(resolved[name]), "bytes": resolved[name].stat().st_size}
            for name in sorted(resolved)]


def manifest_document(folder, *, inputs: dict[str, Path], spec_hash: str, ct_version: str,
                      tool_version: str, cut=None, created) -> dict:
    """The manifest as a dict (what ``write_manifest`` writes)."""
    folder = Path(folder)
    found = [(rel, (folder / rel).stat()) for rel in output_files(folder)]
    files: dict[tuple[int, int], Path] = {}  # a file linked under two names (sdtm/ and m5/) is read once
    for rel, status in found:
        files.setdefault((status.st_dev, status.st_ino), folder / rel)
    digests = dict(zip(files, sha256_files(list(files.values()))))
    outputs = [{"path": rel, "sha256": digests[(status.st_dev, status.st_ino)], "bytes": status.st_size}
               for rel, status in found]
    return {
        "manifest_version": MANIFEST_VERSION,
        "created": created if isinstance(created, str) else created.isoformat(),
        "tool_version": tool_version,
        "spec_sha256": spec_hash,
        "ct_version": ct_version,
        "cut": cut.to_dict() if cut is not None else None,
        "inputs": _input_entries(inputs),
        "outputs": outputs,
    }


def write_manifest(folder, *, inputs: dict[str, Path], spec_hash: str, ct_version: str, tool_version: str,
                   cut=None, created) -> Path:
    """Write ``folder/manifest.json`` (call it last, once every output is in the folder); return its path.

    ``created``: ISO text (or a date/datetime), the cut date or a date the caller fixes, never the clock.
    """
    folder = Path(folder)
    document = manifest_document(folder, inputs=inputs, spec_hash=spec_hash, ct_version=ct_version,
                                 tool_version=tool_version, cut=cut, created=created)
    text = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    path = folder / MANIFEST
    partial = folder / f".{MANIFEST}.partial"
    partial.write_bytes(text.encode("utf-8"))
    partial.replace(path)
    return path


def read_manifest(folder) -> dict:
    path = Path(folder) / MANIFEST
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise RawDataError([Problem(str(path), "manifest not found")]) from None
    except json.JSONDecodeError as exc:
        raise RawDataError([Problem(str(path), f"not valid JSON ({exc})")]) from None


def verify_manifest(folder, inputs: dict[str, Path] | None = None) -> list[str]:
    """What no longer matches the manifest: changed, missing or extra outputs; with ``inputs``
    (name -> path), changed or missing inputs too. An empty list means the folder is as written."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        return [f"{path}: manifest not found"]
    try:
        document = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        return [f"{path}: not valid JSON ({exc})"]
    mismatches = []
    recorded = {entry["path"]: entry["sha256"] for entry in document.get("outputs", [])}
    present = set(output_files(folder))
    for rel in sorted(recorded):
        if rel not in present:
            mismatches.append(f"{rel}: missing")
        elif sha256_file(folder / rel) != recorded[rel]:
            mismatches.append(f"{rel}: SHA-256 differs from the manifest")
    mismatches += [f"{rel}: not in the manifest" for rel in sorted(present - set(recorded))]
    if inputs is not None:
        recorded_inputs = {entry["name"]: entry["sha256"] for entry in document.get("inputs", [])}
        for name in sorted(set(recorded_inputs) | set(inputs)):
            if name not in inputs:
                mismatches.append(f"input {name}: in the manifest, not given")
            elif name not in recorded_inputs:
                mismatches.append(f"input {name}: not in the manifest")
            elif not Path(inputs[name]).is_file():
                mismatches.append(f"input {name}: {inputs[name]} not found")
            elif sha256_file(Path(inputs[name])) != recorded_inputs[name]:
                mismatches.append(f"input {name}: SHA-256 differs from the manifest ({inputs[name]})")
    return mismatches
