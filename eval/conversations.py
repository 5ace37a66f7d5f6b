"""python -m eval.conversations [--file eval/conversations.jsonl] [--embedding-model none]:
two-turn conversations, the second turn answered with and without the first.

Each line: {"id", "lang", "turns": [first, second], "answers": [any of these in the second
answer makes it right, as eval.run matches answers], "doc_id", "kind": "follow_up" | "new_topic"}. The first question is
asked; the second is read after it (rag.answer.followup, as the chat page does) and asked. Printed
per kind and language: conversations, how often the second question was read as a follow-up, and
the second answer right in context and alone (the question as typed, with no history).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run(warta, conversations: list[dict]) -> list[dict]:
    from eval.metrics import gold_containment
    from rag.answer.followup import Turn, read
    from rag.search.filters import Filters

    rows = []
    for c in conversations:
        first_question, second = c["turns"]
        first = warta.ask(first_question)
        previous = Turn(first_question, tuple(dict.fromkeys(x.doc_id for x in first.citations)))
        reading = read(second, previous)
        in_context = warta.ask(reading.question, filters=Filters(doc_ids=reading.doc_ids) if reading.doc_ids else None)
        alone = warta.ask(second)
        rows.append({"id": c["id"], "kind": c["kind"], "lang": c["lang"], "second": second,
                     "read_as": reading.question, "follow_up": reading.rewritten,
                     "right_in_context": gold_containment(in_context.text, c["answers"]) and not in_context.abstained,
                     "right_alone": gold_containment(alone.text, c["answers"]) and not alone.abstained})
    return rows


def table(rows: list[dict]) -> list[list[str]]:
    groups = defaultdict(list)
    for r in rows:
        for key in ((r["kind"], r["lang"]), (r["kind"], "all"), ("all", "all")):
            groups[key].append(r)
    out = []
    for (kind, lang) in sorted(groups, key=lambda k: (k[0] == "all", k[0], k[1] == "all", k[1])):
        g = groups[(kind, lang)]
        share = lambda key: f"{sum(r[key] for r in g) / len(g):.3f}"  # noqa: E731
        out.append([kind, lang, str(len(g)), share("follow_up"), share("right_in_context"), share("right_alone")])
    return out


def main(argv: list[str] | None = None) -> int:
    from eval.report import table as markdown
    from rag.config import model_setting, settings_from_env
    from rag.pipeline import Warta

    parser = argparse.ArgumentParser(prog="python -m eval.conversations", description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=ROOT / "eval" / "conversations.jsonl")
    parser.add_argument("--embedding-model", help="'none' for model-free (default: the configured one)")
    parser.add_argument("--show", action="store_true", help="print each conversation's reading and results")
    args = parser.parse_args(argv)
    settings = settings_from_env().with_overrides(generator_model=None)
    if args.embedding_model is not None:
        settings = settings.with_overrides(embedding_model=model_setting(args.embedding_model))
    warta = Warta.open(settings, with_generator=False, report=lambda message: print(message, file=sys.stderr))
    rows = run(warta, load(args.file))
    if args.show:
        for r in rows:
            print(f"{r['id']} {r['kind']:9} {r['second']!r} -> {r['read_as']!r} "
                  f"context={r['right_in_context']} alone={r['right_alone']}")
    print("\n".join(markdown(["kind", "lang", "conversations", "read as follow-up", "right in context",
                              "right alone"], table(rows))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
