"""python -m rag.ingest.extract.worker KIND MEMORY BUDGET < FILE: one extraction in a process of its
own (rag.ingest.extract.extract starts it). Limits come first, before any parser is imported:
address space (a decompression bomb gets MemoryError, not the machine's memory), CPU seconds (a
parser looping in C code is killed even if the parent's timer were missed), no file writes. The
result, or the reason there is none, is one JSON object on stdout."""
import json
import resource
import sys


def _limit(memory: int, budget_s: float) -> None:
    sys.dont_write_bytecode = True
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(budget_s) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def main() -> None:
    kind, memory, budget_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    _limit(memory, budget_s)
    data = sys.stdin.buffer.read()
    from rag.ingest.extract import ERRORS, TEXT_LIMIT, clean_text

    try:
        if kind == "pdf":
            from rag.ingest.extract.pdf import extract
        elif kind == "docx":
            from rag.ingest.extract.docx import extract
        else:
            from rag.ingest.extract.html import extract
        text, meta, extractor = extract(data)
        text = clean_text(text)
        if len(text) > TEXT_LIMIT:
            raise ERRORS["refused"](f"the extracted text is too large ({len(text):,} characters; the limit is "
                                    f"{TEXT_LIMIT:,})")
        result = {"text": text, "meta": {k: v for k, v in meta.items() if isinstance(v, str) and v.strip()},
                  "extractor": extractor}
    except MemoryError:
        result = {"error": "failed", "message": f"extraction needed more than {memory >> 20} MiB of memory"}
    except tuple(ERRORS.values()) as e:
        kind_name = next(name for name, cls in ERRORS.items() if isinstance(e, cls))
        result = {"error": kind_name, "message": str(e)}
    except Exception as e:  # a parser's own exception on a damaged file: the file, not Warta, is at fault
        result = {"error": "unreadable", "message": f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"}
    sys.stdout.write(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
