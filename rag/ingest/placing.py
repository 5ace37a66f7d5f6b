"""Where an added document goes: a safe, unused name directly inside the corpus folder, written so
that no reader ever sees half a file and nothing already there is replaced.

The name is made from the file's own name, never a path: whatever a browser or a command line
sends ("../../etc/passwd", "C:\\x\\report.pdf", "berita\u202eTXT.pdf", a name that is not
UTF-8), the result is letters, digits, "-", "_" and "." inside the corpus folder. Files are
created with O_EXCL|O_NOFOLLOW under a hidden temporary name and published with link(), which
fails rather than replace a file or follow a link someone put there.
"""
from __future__ import annotations

import os
import re
import unicodedata
import uuid
from pathlib import Path

MAX_STEM = 80
_UNSAFE_RUN = re.compile(r"[^\w.-]+")
_SUFFIXES = (".txt", ".md", ".jsonl", ".meta.json")


def safe_stem(name: str) -> str:
    """A file stem made from the last part of `name`, with only safe characters.

    >>> [safe_stem(n) for n in ("../../etc/passwd", "C:\\\\x\\\\Laporan Q3 (final).pdf", ".hidden.html", "README.md")]
    ['passwd', 'Laporan-Q3-final', 'hidden', 'README-document']
    """
    base = re.split(r"[/\\]", name)[-1]
    stem = base[: -len(Path(base).suffix)] if Path(base).suffix else base
    stem = _UNSAFE_RUN.sub("-", unicodedata.normalize("NFKC", stem)).strip(".-_")[:MAX_STEM].strip(".-_")
    if not stem:
        return "document"
    if stem.lower() == "readme" or stem.lower().endswith(".meta"):  # not documents to the corpus reader
        stem += "-document"
    return stem


def free_stem(folder: Path, stem: str, taken_ids: set[str]) -> str:
    """`stem`, or `stem-2`, `stem-3` … : the first that names no file (not even a dangling link) in
    `folder` and no document id already in the corpus."""
    candidate, number = stem, 1
    while candidate in taken_ids or any(os.path.lexists(folder / (candidate + s)) for s in _SUFFIXES):
        number += 1
        candidate = f"{stem}-{number}"
    return candidate


def publish(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` to folder/name, complete and flushed, or raise FileExistsError when the name is
    taken (by a file, a folder or a link, even one made a moment ago)."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"not a plain file name: {name!r}")
    tmp = folder / f".tmp-add-{uuid.uuid4().hex}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.link(tmp, folder / name)
    finally:
        os.unlink(tmp)
    return folder / name
