"""Read the contracts out of docs/design.md, so tests compare the code with the page people read."""
from __future__ import annotations

import json
import re

from tests.conftest import ROOT

DESIGN = ROOT / "docs" / "design.md"
_NAME = re.compile(r"`([^`]+)`")


def section(title: str) -> str:
    """The text under the heading `title` (any level, backticks ignored), up to the next heading
    of the same or a higher level."""
    lines = DESIGN.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"(#+) (.*)", line)
        if match and match.group(2).replace("`", "") == title:
            level, body = len(match.group(1)), []
            for line in lines[i + 1:]:
                heading = re.match(r"(#+) ", line)
                if heading and len(heading.group(1)) <= level:
                    break
                body.append(line)
            return "\n".join(body)
    raise AssertionError(f"docs/design.md has no section {title!r}")


def example(title: str) -> dict:
    """The section's first ```json block, parsed (a JSON example that is not JSON is drift too)."""
    block = re.search(r"```json\n(.*?)```", section(title), re.S)
    assert block, f"docs/design.md, {title!r}: no JSON example"
    return json.loads(block.group(1))


def names(title: str, label: str) -> list[str]:
    """The `backticked` names in the paragraph of `title` that starts with `label`, up to its
    first parenthesis (which explains, and may quote other names)."""
    for paragraph in section(title).split("\n\n"):
        if paragraph.startswith(label):
            return _NAME.findall(paragraph[len(label):].split("(")[0])
    raise AssertionError(f"docs/design.md, {title!r}: no paragraph starting {label!r}")


def optional_keys(title: str) -> set[str]:
    """The keys an object of `title` carries only sometimes ("Optional keys: `a` (...), `b` (...)")."""
    for paragraph in section(title).split("\n\n"):
        if paragraph.startswith("Optional keys:"):
            # the names outside parentheses are the keys; those inside explain them
            return set(_NAME.findall(re.sub(r"\([^()]*\)", "", paragraph)))
    raise AssertionError(f"docs/design.md, {title!r}: no 'Optional keys:' paragraph")


def row_keys(label: str) -> tuple[set[str], set[str]]:
    """(always, sometimes) keys of a per_question row kind in "Benchmark output": the bullet
    starting with `label`; names before the first ';' after its colon are always there."""
    for line in section("Benchmark output").splitlines():
        if line.startswith(f"- {label}"):
            always, _, sometimes = line.split("): ", 1)[1].partition(";")
            return set(_NAME.findall(always)), set(_NAME.findall(re.sub(r"\([^()]*\)", "", sometimes)))
    raise AssertionError(f"docs/design.md, 'Benchmark output': no row kind {label!r}")
