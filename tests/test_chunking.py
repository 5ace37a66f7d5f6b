import subprocess
import sys

import pytest

from rag.ingest.chunking import chunk_corpus, kept_segments, locate_chunks, normalised
from rag.config import Settings
from rag.ingest.corpus import load_corpus
from tests.conftest import CORPUS, ROOT


@pytest.mark.parametrize("size,overlap", [(Settings().chunk_size, Settings().chunk_overlap), (200, 40), (400, 0), (1000, 200)])
def test_every_passage_is_its_documents_text_at_its_offsets(size, overlap):
    docs = load_corpus(CORPUS).by_id()
    passages = chunk_corpus(docs.values(), size, overlap)
    assert passages
    for p in passages:
        assert docs[p.doc_id].text[p.start:p.end] == p.text
        assert 0 < len(p.text) <= size
    # chunk ids are unique and ordered within each document
    assert len({p.chunk_id for p in passages}) == len(passages)


def test_passages_cover_the_kept_text_in_order():
    docs = load_corpus(CORPUS).by_id()
    doc = docs["003_d4d97345020dbe3e"]
    passages = [p for p in chunk_corpus([doc], 700, 100)]
    starts = [p.start for p in passages]
    assert starts == sorted(starts)
    covered = set()
    for p in passages:
        covered.update(range(p.start, p.end))
    kept = {i for s, e in kept_segments(doc.text) for i in range(s, e) if not doc.text[i].isspace()}
    assert kept <= covered  # no text lost between passages


def test_repeated_paragraph_of_seed_000_is_not_shown_twice():
    docs = load_corpus(CORPUS).by_id()
    text = docs["000_e05857b49ea00b42"].text
    first = text.index("President Director Idham Hamzah noted")
    second = text.index("President Director Idham Hamzah said")
    for size, overlap in [(700, 100), (200, 40), (1000, 200)]:
        passages = [p for p in chunk_corpus(docs.values(), size, overlap) if p.doc_id == "000_e05857b49ea00b42"]
        holding_first = [p for p in passages if p.start <= first < p.end]
        holding_second = [p for p in passages if p.start <= second < p.end]
        assert len(holding_first) >= 1
        assert holding_second == []  # the restatement is collapsed, never a second passage
        texts = [normalised(p.text) for p in passages]
        assert len(texts) == len(set(texts))


def test_boilerplate_lines_are_left_out():
    docs = load_corpus(CORPUS).by_id()
    passages = chunk_corpus(docs.values(), 700, 100)
    assert not any("SCROLL TO CONTINUE" in p.text or "ADVERTISEMENT" in p.text for p in passages)
    assert not any("Baca juga:" in p.text for p in passages)


def test_duplicate_documents_do_not_duplicate_passages():
    docs = load_corpus(CORPUS).documents
    from dataclasses import replace

    copy = replace(docs[1], doc_id="copy-of-001")
    passages = chunk_corpus([*docs, copy], 700, 100)
    assert not [p for p in passages if p.doc_id == "copy-of-001"]


def test_locate_chunks_skips_an_earlier_copy_of_repeated_text():
    text = "Alpha beta. Gamma.\nAlpha beta. Delta."
    assert locate_chunks(text, ["Alpha beta. Gamma.", "Alpha beta. Delta."]) == [(0, 18), (19, 37)]
    # langchain's own start_index (str.find from a guessed offset) gets the repeated case wrong
    # for overlapping chunks; ours requires each chunk to end after the previous one.
    assert locate_chunks("ab ab ab", ["ab ab", "ab ab"]) == [(0, 5), (3, 8)]


def test_importing_the_library_and_the_app_module_loads_no_heavy_library():
    code = ("import sys, rag.ingest.chunking, rag.search.analysis, rag.ingest.corpus, rag.search.retrieval, rag.index.store, rag.pipeline, "
            "rag.web.chat_format, rag.web.service, app; "
            "heavy = [m for m in ('torch', 'transformers', 'faiss', 'gradio', 'sentence_transformers') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --- repeated lines: found through an index of earlier lines' words, not by comparing with all ---

class EveryEarlierLine:
    """The rule as it was before the index: a long line compared with every earlier one kept."""

    def __init__(self) -> None:
        self.lines: list[set[str]] = []

    def repeats(self, words: set[str]) -> bool:
        from rag.ingest.chunking import _REPEAT_SHARE

        return any(len(words & earlier) >= _REPEAT_SHARE * len(words) for earlier in self.lines)

    def add(self, words: set[str]) -> None:
        self.lines.append(words)


def quadratic_kept_segments(text):
    return kept_segments(text, EveryEarlierLine())


def text_with_repeats(lines: int, seed: int) -> str:
    """Lines of 6-16 words from 60, with restatements of earlier lines (words swapped, dropped,
    added, reordered, case changed), boilerplate, short and blank lines."""
    import random

    rng = random.Random(seed)
    vocabulary = [f"kata{k}" for k in range(60)]
    written: list[list[str]] = []
    out = []
    for _ in range(lines):
        roll = rng.random()
        if written and roll < 0.35:
            words = list(rng.choice(written))
            for _ in range(rng.randint(0, 5)):
                words[rng.randrange(len(words))] = rng.choice(vocabulary)
            words = words[: rng.randint(max(1, len(words) - 3), len(words))] + rng.sample(vocabulary, rng.randint(0, 2))
            rng.shuffle(words)
            line = " ".join(w.upper() if rng.random() < 0.1 else w for w in words) + "."
        elif roll < 0.42:
            line = rng.choice(["ADVERTISEMENT", "Baca juga: kata1 kata2", "", "Judul pendek"])
        else:
            words = rng.sample(vocabulary, rng.randint(6, 16))
            written.append(words)
            line = " ".join(words) + "."
        out.append(line + "\n")
    return "".join(out)


@pytest.mark.parametrize("seed", range(6))
def test_kept_segments_are_those_of_comparing_with_every_earlier_line(seed):
    from rag.ingest.chunking import _EarlierLines

    short = text_with_repeats(150, seed)  # fewer long lines than the look-back window: always exact
    assert kept_segments(short) == quadratic_kept_segments(short)
    longer = text_with_repeats(1500, seed)  # with an unbounded look-back, exact at any length
    assert kept_segments(longer, _EarlierLines(window=10**9)) == quadratic_kept_segments(longer)


def test_kept_segments_keeps_the_seed_articles_as_before():
    for doc in load_corpus(CORPUS).documents:
        assert kept_segments(doc.text) == quadratic_kept_segments(doc.text)


def distinct_lines(count: int) -> str:
    """Lines that share 5 of 30 common words and hold 4 words of their own: no line repeats
    another (at most 5 of 9 words shared, 7 needed), yet every common word is in thousands."""
    import random

    rng = random.Random(7)
    common = [f"umum{k}" for k in range(30)]
    return "".join(" ".join(rng.sample(common, 5) + [f"w{i}x{j}" for j in range(4)]) + ".\n" for i in range(count))


def test_eight_thousand_distinct_lines_are_all_kept():
    text = distinct_lines(8000)
    assert kept_segments(text) == [(0, len(text))]
    small = distinct_lines(300)
    assert kept_segments(small) == quadratic_kept_segments(small) == [(0, len(small))]


def test_twenty_thousand_lines_are_compared_only_with_lines_sharing_their_rarest_words():
    """Comparing each line with every earlier one made 200 million comparisons here (hours);
    lines whose rarest words are their own are compared with none."""
    from rag.ingest.chunking import _EarlierLines

    text = distinct_lines(20000)
    earlier = _EarlierLines()
    assert kept_segments(text, earlier) == [(0, len(text))]
    assert len(earlier.lines) == 20000 and earlier.compared == 0
    restated = text + "".join(" ".join(reversed(line.split())) + "\n" for line in text.splitlines()[::1000])
    earlier = _EarlierLines()
    assert kept_segments(restated, earlier) == [(0, len(text))]  # the 20 restatements are left out
    assert earlier.compared == 20


def test_doctests_of_the_chunking_module():
    import doctest

    import rag.ingest.chunking

    assert doctest.testmod(rag.ingest.chunking).failed == 0
