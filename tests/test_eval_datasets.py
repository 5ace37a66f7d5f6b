"""The benchmark's own question and claim sets are valid and quote the corpus verbatim."""
from collections import Counter

import pytest

from eval.datasets import DatasetError, load_claims, load_questions
from eval.metrics import normalise_text
from rag.ingest.chunking import kept_segments
from rag.ingest.corpus import load_corpus
from tests.conftest import CORPUS, ROOT

QUESTIONS = ROOT / "eval" / "questions.jsonl"
CLAIMS = ROOT / "eval" / "claims.jsonl"


@pytest.fixture(scope="module")
def documents():
    return load_corpus(CORPUS).by_id()


def _assert_verbatim(rows, documents):
    kept = {d: normalise_text(" ".join(doc.text[s:e] for s, e in kept_segments(doc.text)))
            for d, doc in documents.items()}
    for row in rows:
        sources = row.get("doc_ids") or list(documents)
        for snippet in row["evidence"]:
            assert any(snippet in documents[d].text for d in sources), f"{row['id']}: not verbatim: {snippet!r}"
            # and not only in text the index leaves out (a collapsed repeat), or no passage could match
            assert any(normalise_text(snippet) in kept[d] for d in sources), f"{row['id']}: only in collapsed text"


def test_questions_are_valid_and_balanced(documents):
    questions = load_questions(QUESTIONS)
    kinds = Counter(q["kind"] for q in questions)
    assert len(questions) >= 80
    assert kinds["en-id"] >= 20 and kinds["id-en"] >= 20 and kinds["multi"] >= 5
    assert kinds["unanswerable"] >= 0.15 * len(questions)
    assert {q["lang"] for q in questions} == {"id", "en"}
    for q in questions:
        assert q["answerable"] == (q["kind"] != "unanswerable"), q["id"]
        if not q["answerable"]:
            assert q["answers"] == [] and q["evidence"] == []
    for q in (q for q in questions if q["kind"] == "multi"):
        assert len(set(q["doc_ids"])) >= 2, q["id"]
    _assert_verbatim(questions, documents)


def test_claims_are_valid_and_balanced(documents):
    claims = load_claims(CLAIMS)
    assert len(claims) >= 30
    assert Counter(c["verdict"] for c in claims).keys() == {"supported", "contradicted", "not_found"}
    assert {c["lang"] for c in claims} == {"id", "en"}
    for c in claims:
        assert bool(c["evidence"]) == (c["verdict"] != "not_found"), c["id"]
    _assert_verbatim(claims, documents)


def test_validation_names_file_line_and_field(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "a", "question": "Siapa?", "lang": "id", "answers": ["x"], "evidence": ["x"], "answerable": true, "kind": "id-id"}\n'
        '{"id": "b", "question": "", "lang": "fr", "answers": "x", "evidence": [], "answerable": "yes", "kind": "id-id"}\n'
        '{oops\n'
        '{"id": "a", "question": "Again?", "lang": "en", "answers": [], "evidence": [], "answerable": false, "kind": "unanswerable"}\n'
        '{"id": "d", "question": "No evidence?", "lang": "en", "answers": ["y"], "evidence": [], "answerable": true, "kind": "en-en"}\n',
        encoding="utf-8")
    with pytest.raises(DatasetError) as err:
        load_questions(path)
    message = str(err.value)
    assert f'{path}:2: field "question" is empty' in message
    assert f'{path}:2: field "lang" is \'fr\', not one of id, en' in message
    assert f'{path}:2: field "answers" must be a list of strings' in message
    assert f'{path}:2: field "answerable" must be bool, got str' in message
    assert f"{path}:3: invalid JSON" in message
    assert f"{path}:4: duplicate id 'a' (first at {path}:1)" in message
    assert f'{path}:5: an answerable question needs "evidence" or "gold_passage_ids"' in message


def test_claim_validation(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "c1", "claim": "x", "lang": "id", "verdict": "true", "evidence": []}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r'c.jsonl:1: field "verdict" is \'true\', not one of supported, contradicted, not_found'):
        load_claims(path)
