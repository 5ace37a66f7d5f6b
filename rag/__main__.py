"""Command line: python -m rag index | add | search | ask | check | download.

The contracts (flags, JSON, exit status) are in docs/design.md, "Command line" and "JSON output".

Results go to stdout (JSON with --json); progress and problems to stderr, errors as one line
with a non-zero exit status. What is printed for people goes through rag.terminal.echo, so no
title or article text can send the terminal an escape sequence.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.config import RETRIEVAL_MODES, setting_flags, settings_from_args
from rag.errors import WartaError
from rag.terminal import echo


def _parser() -> argparse.ArgumentParser:
    common = setting_flags()
    parser = argparse.ArgumentParser(prog="python -m rag", description="Warta: questions and claims "
                                     "about a news corpus, answered from the corpus.")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", parents=[common], help="build or update the index from the corpus")
    index.add_argument("--rebuild", action="store_true", help="build anew even when up to date, re-embedding everything")

    add = commands.add_parser("add", parents=[common], help="add .txt .md .jsonl .pdf .html .htm .docx files "
                              "(or folders of them) to the corpus folder and update the index")
    add.add_argument("paths", nargs="+", type=Path, metavar="FILE_OR_DIR", help="files or folders to add")

    _query_command(commands, common, "search", "query", "question", "find the passages that match a query",
                   "passages to return (default 5)")
    ask = _query_command(commands, common, "ask", "question", "question",
                         "answer a question from the corpus, with citations", "passages to retrieve (default 5)")
    ask.add_argument("--lang", choices=("auto", "id", "en"), default="auto", help="answer language (default: the question's)")
    _query_command(commands, common, "check", "claim", "claim", "check a claim against the corpus",
                   "passages to retrieve (at least 8)")

    commands.add_parser("download", parents=[common], help="fetch the default models into the local cache")
    return parser


def _query_command(commands, common, name: str, positional: str, field: str, help: str, k_help: str):
    """A subcommand taking one text or a --batch file, with --k, --mode and --json."""
    command = commands.add_parser(name, parents=[common], help=help)
    command.add_argument(positional, nargs="?", help=f"the {positional} (or use --batch)")
    command.add_argument("--batch", type=Path, help=f'JSONL file of {{"id", "{field}"}}; one JSON line out per line')
    command.add_argument("--k", type=int, default=None, help=k_help)
    command.add_argument("--mode", choices=RETRIEVAL_MODES, default=None, help="retrieval mode (default hybrid)")
    command.add_argument("--json", action="store_true", help='print JSON (docs/design.md, "JSON output")')
    only = command.add_argument_group("filters", "search only the documents that pass every filter given")
    only.add_argument("--source", action="append", metavar="OUTLET",
                      help="this outlet only, as the corpus names it (case-insensitive); repeat for several")
    only.add_argument("--since", metavar="YYYY-MM-DD", help="documents dated this day or later (undated ones are left out)")
    only.add_argument("--until", metavar="YYYY-MM-DD", help="documents dated this day or earlier (undated ones are left out)")
    # Not argparse choices: a wrong value would print the usage too; Filters says it in one line.
    only.add_argument("--lang-docs", action="append", metavar="id|en", help="documents in this language; repeat for both")
    return command


def _filters(args):
    """The filters the flags ask for (rag.search.filters), or one line on what is wrong with them."""
    from rag.search.filters import FilterError, Filters

    try:
        return Filters.parse(args.source, args.since, args.until, args.lang_docs)
    except FilterError as e:
        raise WartaError(str(e)) from None


def _settings(args):
    return settings_from_args(args)


def _index(args) -> int:
    from rag.pipeline import Warta

    warta = Warta.open(_settings(args), rebuild=args.rebuild)
    if warta.index.notice is not None:
        return 1  # not updated; stderr has said why in one line
    manifest = warta.index.manifest
    counts = manifest["counts"]
    echo(f"index {warta.index.path}: {counts['documents']} documents, {counts['passages']} passages, "
          f"{counts['vectors']} vectors ({', '.join(manifest['retrieval_modes'])}); "
          f"built {manifest['created_at']} in {manifest['build_seconds']} s; "
          f"{len(manifest['skipped'])} file(s) skipped")
    return 0


def _add(args) -> int:
    """One line per file on stdout (added, or skipped and why), then the index update; exit 0 when
    anything was added and the index serves it, else 1."""
    from rag.ingest.adding import Adder
    from rag.pipeline import Warta

    settings = _settings(args)
    outcomes = Adder(settings.corpus_dir).add_all(args.paths)
    for outcome in outcomes:
        echo(outcome.line())
    added = sum(o.added for o in outcomes)
    echo(f"{added} of {len(outcomes)} file(s) added to {settings.corpus_dir}")
    if not added:
        return 1
    warta = Warta.open(settings)
    if warta.index.notice is not None:
        echo("the files are in the corpus folder, but the index could not be updated (see above); "
             "run python -m rag index once that is fixed", file=sys.stderr)
        return 1
    counts = warta.index.manifest["counts"]
    echo(f"index {warta.index.path}: {counts['documents']} documents, {counts['passages']} passages "
         f"({counts['reused']} vectors reused, {counts['embedded']} embedded)")
    return 0


def _read_batch(path: Path, field: str = "question"):
    """(line number, id, question (or claim) or None, error or None) for each non-empty line.

    The file is read at once, through the reader for untrusted files (a FIFO, a device or a
    huge file is refused with a one-line error), before any model is loaded.
    """
    from rag.ingest.untrusted import TEXT_LIMIT, read_limited

    try:
        lines = read_limited(path, TEXT_LIMIT).decode("utf-8").splitlines()
    except ValueError as e:  # UnicodeDecodeError is one
        raise WartaError(f"cannot read batch file {path}: {e}") from None
    return _batch_items(path, lines, field)


def _batch_items(path: Path, lines: list[str], field: str):
    from rag.ingest.untrusted import parse_json

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = parse_json(line, columns=False)
        except ValueError as e:  # also for "[" * 200000 and a 5,000-digit number: the next line is read
            yield number, None, None, f"{path}:{number}: {e}"
            continue
        if not isinstance(record, dict):
            yield number, None, None, f"{path}:{number}: not a JSON object"
            continue
        text = record.get(field, record.get("query"))
        if not isinstance(text, str) or not text.strip():
            yield number, record.get("id"), None, f'{path}:{number}: field "{field}" is missing or empty'
            continue
        yield number, record.get("id"), text, None


def _filtered(result: dict) -> str:
    """'; filters: outlet X, since Y (3 documents)' when the result was filtered, else ''."""
    used = result.get("filters")
    if not used:
        return ""
    from rag.search.filters import Filters

    described = Filters.parse(used["sources"], used["since"], used["until"], used["langs"]).describe()
    return f"; filters: {described} ({used['matching_documents']} documents)"


def _print_hits(result: dict) -> None:
    mode = result["mode"]
    note = f" (asked for {mode['requested']}: {mode['reason']})" if mode["reason"] else ""
    echo(f"{len(result['passages'])} passages, {mode['retrieval']} retrieval{note}, "
          f"{result['timings_ms']['total']:.0f} ms{_filtered(result)}")
    for notice in result.get("notices", []):
        echo(notice)
    for hit in result["passages"]:
        text = " ".join(hit["text"].split())
        echo(f"\n[{hit['rank']}] {hit['title']} — {hit['source'] or 'no outlet named'}, {hit['date'] or 'no date'}"
              f"\n    {hit['chunk_id']} [{hit['start']}:{hit['end']}] score {hit['score']:.4f}"
              f"\n    {text[:300]}{'…' if len(text) > 300 else ''}")


def _run_one_or_batch(args, text, run, show) -> int:
    """One query (printed by `show` or as JSON), or a --batch file: one JSON line per line in."""
    what = {"search": "query", "ask": "question", "check": "claim"}[args.command]
    if (text is None) == (args.batch is None):
        raise WartaError(f"give either a {what.upper()} or --batch FILE.jsonl")
    if text is not None and not text.strip():
        raise WartaError(f"the {what} is empty")
    filters = _filters(args)  # before the models load: a wrong date is told at once
    from rag.pipeline import Warta

    batch = None if args.batch is None else _read_batch(args.batch, "claim" if what == "claim" else "question")
    warta = Warta.open(_settings(args), with_generator=args.command == "ask", with_nli=args.command == "check")
    if text is not None:
        result = run(warta, text, None, filters)
        print(json.dumps(result, ensure_ascii=False)) if args.json else show(result)
        return 0
    failures = 0
    for number, item_id, item, error in batch:
        if error:
            failures += 1
            echo(f"warta: {error}", file=sys.stderr)
            print(json.dumps({"id": item_id, "line": number, "error": error}, ensure_ascii=False))
            continue
        print(json.dumps(run(warta, item, item_id, filters), ensure_ascii=False), flush=True)
    return 1 if failures else 0


def _search(args) -> int:
    return _run_one_or_batch(args, args.query, lambda w, q, i, f: w.search(q, query_id=i, filters=f), _print_hits)


def _cited(c: dict) -> str:
    """A citation's line: [n] title — outlet, date (chunk id, characters start–end)."""
    return (f"[{c['n']}] {c['title']} — {c['source'] or 'no outlet named'}, {c['date'] or 'no date'} "
            f"({c['chunk_id']}, characters {c['start']}–{c['end']})")


def _print_answer(result: dict) -> None:
    for notice in result.get("notices", []):
        echo(notice)
    echo(result["answer"])
    for c in result["citations"]:
        echo(_cited(c))
    if result["abstained"]:
        for p in result["passages"][:3]:
            echo(f"  · {p['title']}: {' '.join(p['text'].split())[:160]}…")
    mode = result["mode"]
    echo(f"\n{mode['answerer']} answer, {mode['retrieval']} retrieval"
          f"{' (model-free: ' + mode['reason'] + ')' if mode['reason'] else ''}, {result['timings_ms']['total']:.0f} ms"
          f"{_filtered(result)}")


def _ask(args) -> int:
    lang = None if args.lang == "auto" else args.lang
    return _run_one_or_batch(args, args.question, lambda w, q, i, f: w.ask(q, lang=lang, filters=f).to_json(i),
                             _print_answer)


def _print_verdict(result: dict) -> None:
    for notice in result.get("notices", []):
        echo(notice)
    echo(f"{result['verdict'].upper()} (confidence {result['confidence']:.2f}): {result['explanation']}")
    for c in result["evidence"]:
        echo(f"{_cited(c)}\n    “{c['quote']}”")
    echo(f"\nsentences matched by {result['mode']['subject']}{_filtered(result)}")


def _check(args) -> int:
    return _run_one_or_batch(args, args.claim, lambda w, c, i, f: w.check(c, filters=f).to_json(i), _print_verdict)


def _download(args) -> int:
    from rag.bundled_model import BUNDLED, BUNDLED_NAME
    from rag.config import DEFAULT_EMBEDDING_MODEL
    from rag.models import AUTO, download

    settings = _settings(args)
    wanted = [("embedding", settings.embedding_model), ("generator", settings.generator_model)]
    if settings.nli_model is not None:
        wanted.append(("nli", settings.nli_model))
    for kind, name in wanted:
        if name is None:
            echo(f"{kind} model: turned off, nothing to download")
            continue
        if kind == "embedding" and name == BUNDLED:
            echo(f"{kind} model: the bundled {BUNDLED_NAME} comes with the install, nothing to download")
            continue
        if kind == "embedding" and name == AUTO:
            name = DEFAULT_EMBEDDING_MODEL  # the original; without it the bundled copy serves
        echo(f"{kind} model: fetching {name}", file=sys.stderr)
        echo(f"{kind} model {name}: {download(name)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"index": _index, "add": _add, "search": _search, "ask": _ask, "check": _check, "download": _download}
    try:
        return handlers[args.command](args)
    except WartaError as e:
        echo(f"warta: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        echo("warta: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
