"""Question and claim files (docs/design.md, "Benchmark files"), validated: errors name file, line and field."""
from __future__ import annotations

import json
import random
from pathlib import Path

from eval.metrics import VERDICTS

LANGS = ("id", "en")
KINDS = ("id-id", "en-en", "en-id", "id-en", "multi", "unanswerable")


class DatasetError(ValueError):
    """A benchmark file does not follow its format; the message lists each problem."""


def _check(record: dict, field: str, kind, where: str, problems: list[str], required: bool = True,
           choices: tuple | None = None, non_empty: bool = False) -> None:
    if field not in record:
        if required:
            problems.append(f'{where}: missing field "{field}"')
        return
    value = record[field]
    if kind is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f'{where}: field "{field}" must be a list of strings')
        return
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        problems.append(f'{where}: field "{field}" must be {kind.__name__}, got {type(value).__name__}')
    elif choices and value not in choices:
        problems.append(f'{where}: field "{field}" is {value!r}, not one of {", ".join(choices)}')
    elif non_empty and isinstance(value, str) and not value.strip():
        problems.append(f'{where}: field "{field}" is empty')


def _records(path: Path) -> list[tuple[str, dict | None, str | None]]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"{path}: cannot be read ({e})") from None
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            out.append((where, None, f"{where}: invalid JSON ({e.msg})"))
            continue
        if not isinstance(record, dict):
            out.append((where, None, f"{where}: not a JSON object"))
            continue
        out.append((where, record, None))
    return out


def _finish(path: Path, rows: list[dict], problems: list[str], what: str) -> list[dict]:
    seen: dict[str, str] = {}
    for row in rows:
        if row["id"] in seen:
            problems.append(f'{row["_where"]}: duplicate id {row["id"]!r} (first at {seen[row["id"]]})')
        seen.setdefault(row["id"], row["_where"])
    if problems:
        shown = "\n".join(problems[:20]) + (f"\n... and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise DatasetError(f"{path}: {len(problems)} problem(s) in the {what} file:\n{shown}")
    if not rows:
        raise DatasetError(f"{path}: no {what} in the file")
    return rows


def _load(path: Path, what: str, check) -> list[dict]:
    """Records of a JSONL benchmark file that pass `check(record, where, problems)`."""
    problems, rows = [], []
    for where, record, error in _records(path):
        if error:
            problems.append(error)
            continue
        before = len(problems)
        check(record, where, problems)
        if len(problems) == before:
            rows.append({**record, "_where": where})
    return _finish(path, rows, problems, what)


def _check_question(record: dict, where: str, problems: list[str]) -> None:
    before = len(problems)
    _check(record, "id", str, where, problems, non_empty=True)
    _check(record, "question", str, where, problems, non_empty=True)
    _check(record, "lang", str, where, problems, choices=LANGS)
    _check(record, "answers", list, where, problems)
    _check(record, "answerable", bool, where, problems)
    # Either is enough (docs/design.md, "questions.jsonl"): public QA sets name the answering
    # passage, not a snippet of it.
    _check(record, "evidence", list, where, problems, required=False)
    _check(record, "gold_passage_ids", list, where, problems, required=False)
    _check(record, "kind", str, where, problems, required=False, non_empty=True)
    if len(problems) == before and record["answerable"]:
        if not record["answers"]:
            problems.append(f'{where}: field "answers" is empty on an answerable question')
        if not record.get("evidence") and not record.get("gold_passage_ids"):
            problems.append(f'{where}: an answerable question needs "evidence" or "gold_passage_ids"')


def _check_claim(record: dict, where: str, problems: list[str]) -> None:
    _check(record, "id", str, where, problems, non_empty=True)
    _check(record, "claim", str, where, problems, non_empty=True)
    _check(record, "lang", str, where, problems, choices=LANGS)
    _check(record, "verdict", str, where, problems, choices=VERDICTS)
    _check(record, "evidence", list, where, problems)


def load_questions(path: Path) -> list[dict]:
    """Questions as dicts; `_where` records file:line for later messages. `evidence` and
    `gold_passage_ids` default to [], `kind` to None until `fill_kinds` sees the corpus."""
    return [{**q, "evidence": q.get("evidence") or [], "gold_passage_ids": q.get("gold_passage_ids") or [],
             "kind": q.get("kind")} for q in _load(path, "questions", _check_question)]


def fill_kinds(questions: list[dict], doc_langs: dict[str, str]) -> list[str]:
    """Give each question without a `kind` "question language-passage language" (docs/design.md,
    "questions.jsonl"), the passage being its gold document, else the one it was written against
    (`source_passage_id`), else the question language alone; returns the ids of answerable
    questions whose gold documents are all missing from the corpus.

    >>> qs = [{"id": "a", "lang": "en", "kind": None, "answerable": True, "gold_passage_ids": ["p"]},
    ...       {"id": "b", "lang": "id", "kind": None, "answerable": False, "gold_passage_ids": []}]
    >>> fill_kinds(qs, {"p": "id"}), [q["kind"] for q in qs]
    ([], ['en-id', 'id'])
    """
    missing = []
    for q in questions:
        source = q.get("source_passage_id")
        known = [doc_langs[d] for d in (*q["gold_passage_ids"], source if isinstance(source, str) else None)
                 if d in doc_langs]
        if q["gold_passage_ids"] and not any(d in doc_langs for d in q["gold_passage_ids"]):
            missing.append(q["id"])
        if q["kind"] is None:
            q["kind"] = f"{q['lang']}-{known[0]}" if known else q["lang"]
    return missing


def load_claims(path: Path) -> list[dict]:
    return _load(path, "claims", _check_claim)


def sample_rows(rows: list[dict], limit: int | None, seed: int) -> list[dict]:
    """`limit` rows drawn at random with `seed`, kept in file order: the same sample every run.

    >>> [r["id"] for r in sample_rows([{"id": i} for i in range(10)], 3, seed=13)]
    [2, 4, 9]
    """
    if limit is None or limit >= len(rows):
        return rows
    chosen = set(random.Random(seed).sample(range(len(rows)), limit))
    return [row for i, row in enumerate(rows) if i in chosen]
