"""Reading files anyone could have put there: corpus documents, their sidecars, --batch files.

Only regular files are read: opening a FIFO blocks until something writes to it, a device such
as /dev/zero reads until memory runs out, a directory cannot be read at all. So the kind is
checked before opening (lstat, with links resolved first), the file is opened without blocking
and without following a link swapped in meanwhile, and checked again on the open descriptor.
Reading stops at a size limit. JSON is parsed so that nothing but a ValueError comes out.

Every refusal is a ValueError whose message is one line, for the caller's report on the file.
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

TEXT_LIMIT = 20 * 2**20  # one article (.txt, .md), or a --batch file of questions
JSONL_LIMIT = 200 * 2**20  # many articles in one file
SIDECAR_LIMIT = 64 * 2**10  # a handful of short metadata fields

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _check_regular(mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = next((name for is_kind, name in _KINDS if is_kind(mode)), "an unknown kind of file")
        raise ValueError(f"not a regular file ({kind})")


def read_limited(path: Path | str, limit: int, inside: Path | None = None) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them, or ValueError saying why not.

    `inside`: the folder a symbolic link must resolve into (the corpus). None when the user
    named the file, whose links are then followed.
    """
    path = Path(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        if inside is not None:
            flags |= os.O_NOFOLLOW
            if path.is_symlink():
                path = path.resolve()
                if not path.is_relative_to(inside.resolve()):
                    raise ValueError("symbolic link to a file outside the corpus folder")
        info = path.stat()  # the file's own lstat when `inside` is given: links are resolved above
        _check_regular(info.st_mode)
        if info.st_size > limit:
            raise ValueError(f"too large ({info.st_size:,} bytes; the limit is {limit:,})")
        with os.fdopen(os.open(path, flags), "rb") as file:
            _check_regular(os.fstat(file.fileno()).st_mode)  # replaced since the check above
            data = file.read(limit + 1)
    except OSError as e:
        raise ValueError(f"cannot read it ({e.strerror or e})") from None
    if len(data) > limit:  # grew since the check
        raise ValueError(f"too large (over {limit:,} bytes)")
    return data


def parse_json(text: str, columns: bool = True):
    """The value of a JSON text, or ValueError with a one-line reason.

    json.loads also raises RecursionError (deep nesting: "[" * 200000) and a plain ValueError
    (an integer of more than 4,300 digits, Python's guard against slow int conversion).

    >>> parse_json("[" * 200000)
    Traceback (most recent call last):
    ValueError: invalid JSON (nested too deeply)
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"invalid JSON ({e.msg}{f', column {e.colno}' if columns else ''})") from None
    except RecursionError:
        raise ValueError("invalid JSON (nested too deeply)") from None
    except ValueError as e:  # "Exceeds the limit (4300 digits) for integer string conversion: ..."
        raise ValueError(f"invalid JSON ({str(e).split(':')[0]})") from None
