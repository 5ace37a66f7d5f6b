r"""Text made safe to print on a terminal: the one sanitiser of everything the CLI prints for people.

Titles, outlets and article text come from the corpus, and a terminal obeys what they may hold:
"\x1b]0;…\x07" retitles the window, "\x1b[2J" clears the screen, "\x1b[31m" colours what follows,
C1 controls ("\x9b" is CSI) do the same in one byte, U+202E prints the rest of the line reversed.
Each such character is printed as a visible escape instead, \u001b, \u009b, \u202e (the form the
corpus loader uses for file names); newlines and tabs are layout and are kept where asked.

>>> print(shown("red \x1b[31mtext\x1b[0m\nnext line\u202eevil", keep="\n\t"))
red \u001b[31mtext\u001b[0m
next line\u202eevil
"""
from __future__ import annotations

import re
import sys

# C0 and C1 controls, DEL, bidirectional marks, embeddings, overrides and isolates, lone surrogates.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def shown(text: str, keep: str = "") -> str:
    """`text` with unsafe characters, except those in `keep`, as \\uXXXX escapes."""
    return UNSAFE.sub(lambda m: m.group() if m.group() in keep else f"\\u{ord(m.group()):04x}", text)


def echo(text: str = "", file=None) -> None:
    """print() for people: unsafe characters escaped, newlines and tabs kept (JSON output does not
    come here: json.dumps escapes controls itself, and a program reading it wants the text exact)."""
    print(shown(text, keep="\n\t"), file=file or sys.stdout, flush=True)
