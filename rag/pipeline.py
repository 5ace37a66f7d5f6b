"""The Warta pipeline object: settings -> embedder (or model-free) -> verified index -> retriever.

Open it once per process; every query after that runs in memory.

    warta = Warta.open(settings_from_env())
    result = warta.search("Apa itu Biotown?", k=3)
"""
from __future__ import annotations

import re
import sys
import threading
import time
from functools import cached_property, lru_cache
from typing import Callable

from rag.builder import build_index, staleness
from rag.config import Settings
from rag.corpus import SURROGATES, Corpus, load_corpus
from rag.embedding import Embedder, load_embedder
from rag.errors import CorpusError, EmptyInput, IndexInvalid, ModelUnavailable
from rag.answer import Answer
from rag.language import detect_language
from rag.messages import say
from rag.retrieval import Retriever
from rag.store import IndexStore, LoadedIndex
from rag.threads import pin_threads

Report = Callable[[str], None]
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # keeps \t \n \r
# Anything but whitespace and invisible format characters (zero-width space/joiners, BOM, word
# joiner, soft hyphen, direction marks).
_VISIBLE = re.compile("[^\\s\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


def report_to_stderr(message: str) -> None:
    print(f"warta: {message}", file=sys.stderr, flush=True)


def clean_question(text: str | None, limit: int, what: str = "question") -> tuple[str, list[str]]:
    """`text` as it will be read, cut to `limit` characters, and what was changed (message keys
    "invalid_text", "control_chars", "trimmed"); EmptyInput when nothing visible is left."""
    # A lone surrogate (bytes that were not UTF-8) cannot be encoded for the page, the JSON
    # answer or the language detector; NUL and other control characters are no text at all.
    text, replaced = SURROGATES.subn("\ufffd", text or "")
    text, removed = _CONTROL.subn("", text)
    if not _VISIBLE.search(text):  # only spaces or zero-width characters
        invisible = " (it holds only invisible or control characters)" if removed or text.strip() else ""
        raise EmptyInput(what, invisible)
    text = text.strip()
    changes = [key for key, changed in (("invalid_text", replaced), ("control_chars", removed),
                                        ("trimmed", len(text) > limit)) if changed]
    return text[:limit], changes


def open_embedder(settings: Settings, report: Report | None = None,
                  defer: bool = False) -> tuple[Embedder | None, str | None]:
    """(embedder, None), or (None, why not) for model-free mode. The backend (torch or ONNX
    Runtime) follows settings.encoder; the embedder's `backend_reason` says why. `defer`: a
    server, which checks ONNX Runtime in the background (rag.onnx_encoder.choose)."""
    if settings.embedding_model is None:
        return None, "the embedding model is turned off (WARTA_EMBEDDING_MODEL=none)"
    try:
        from rag.models import resolve_embedding_model
        from rag.onnx_encoder import corpus_samples

        model_id, path, substituted = resolve_embedding_model(settings.embedding_model, report)
        if substituted and report:
            report(f"embedding model: {model_id}, since {substituted}.")
        return load_embedder(model_id, settings.embed_batch_size, encoder=settings.encoder,
                             cache_size=settings.query_cache_size, min_cosine=settings.onnx_min_cosine,
                             samples=lambda: corpus_samples(settings.corpus_dir, settings.chunk_size,
                                                            settings.chunk_overlap),
                             report=report, path=path, defer=defer), None
    except ModelUnavailable as e:
        return None, str(e)


def _optional_model(model_id: str | None, off_reason: str, load):
    """(model, None), or (None, why not) when it is off or cannot be loaded."""
    if model_id is None:
        return None, off_reason
    try:
        return load(model_id), None
    except ModelUnavailable as e:
        return None, str(e)


def open_generator(settings: Settings):
    """(generator, None), or (None, why not): then answers are extractive."""
    from rag.generation import load_generator

    return _optional_model(settings.generator_model, "the generator model is turned off (WARTA_GENERATOR_MODEL=none)",
                           lambda model_id: load_generator(model_id, max_time_s=settings.generation_seconds,
                                                           context_tokens=settings.context_tokens,
                                                           dtype=settings.generation_dtype))


def open_nli(settings: Settings):
    """(NLI model, None), or (None, why not): then fact checks rest on the structured comparison."""
    from rag.nli import load_nli

    return _optional_model(settings.nli_model, "no NLI model is set (WARTA_NLI_MODEL)", load_nli)


def ensure_index(store: IndexStore, corpus: Corpus, embedder: Embedder | None, settings: Settings,
                 report: Report, rebuild: bool = False, model_free_reason: str | None = None) -> LoadedIndex:
    """A verified index that serves this corpus and model, building or updating it if needed."""
    if not corpus.documents:
        raise CorpusError(f"the corpus {settings.corpus_dir} has no readable documents; add .txt, .md "
                          "or .jsonl files there (see README, 'Adding documents')")

    def usable() -> tuple[LoadedIndex | None, str | None, bool]:
        """(index, why it cannot serve, whether it is damaged)."""
        try:
            index = store.load()
        except IndexInvalid as e:
            return None, str(e), True
        return index, staleness(index, corpus, embedder, settings), False

    if not rebuild:
        index, reason, _ = usable()
        if reason is None:
            return index
        report(f"index needs a rebuild: {reason}")
    with store.lock(settings.lock_timeout_s):
        previous = None
        if not rebuild:
            # Checked again under the lock: another process may have just built it.
            previous, reason, damaged = usable()
            if reason is None:
                return previous
            if damaged:
                aside = store.set_aside(reason)
                if aside is not None:
                    report(f"set the damaged build aside as {aside}")
        return build_index(store, corpus, embedder, settings, previous=previous,
                           model_free_reason=model_free_reason, report=report)


class Warta:
    def __init__(self, settings: Settings, index: LoadedIndex, embedder: Embedder | None,
                 model_free_reason: str | None, corpus: Corpus, generator=None,
                 generator_reason: str | None = "no generator was loaded", nli=None,
                 nli_reason: str | None = "no NLI model was loaded") -> None:
        self.settings = settings
        self.nli = nli
        self.nli_reason = None if nli is not None else nli_reason
        self.generator = generator
        self.generator_reason = None if generator is not None else generator_reason
        self.index = index
        self.embedder = embedder
        self.model_free_reason = model_free_reason
        self.corpus = corpus
        self.retriever = Retriever(index, embedder, settings.fusion, settings.dense_share, settings.rrf_k,
                                   {"dense": settings.dense_weight, "lexical": settings.lexical_weight})

    @classmethod
    def open(cls, settings: Settings, report: Report = report_to_stderr, rebuild: bool = False,
             with_generator: bool = False, with_nli: bool | None = None, serving: bool = False) -> "Warta":
        """Load models and a verified index once. `with_generator` also loads the generator and
        `with_nli` (by default: the same) the NLI model; slow and large, so only for answering
        and for checking claims. `serving` (a long-running server): one-off checks that would
        delay the start (ONNX Runtime against torch) run in a background thread afterwards."""
        pin_threads(settings.threads)  # before any model or index loads (rag.threads)
        generator, generator_reason = None, "no generator was loaded"
        nli, nli_reason = None, "no NLI model was loaded"
        if with_generator:
            generator, generator_reason = open_generator(settings)
            if generator_reason:
                report(f"extractive answers: {generator_reason}.")
        if with_generator if with_nli is None else with_nli:
            nli, nli_reason = open_nli(settings)
            if nli_reason and settings.nli_model is not None:
                report(f"fact checks without NLI: {nli_reason}.")
        embedder, reason = open_embedder(settings, report, defer=serving)
        if (embedder is not None and settings.encoder != "torch" and getattr(embedder, "backend", "torch") != "onnx"
                and not hasattr(embedder, "upgrade")):
            report(f"torch encoder, not ONNX: {getattr(embedder, 'backend_reason', None) or 'not checked'}.")
        if reason:
            report(f"model-free mode: {reason}. Retrieval is lexical only.")
        corpus = load_corpus(settings.corpus_dir)
        for problem in corpus.problems:
            report(f"skipped {problem}")
        index = ensure_index(IndexStore(settings.index_dir), corpus, embedder, settings, report,
                             rebuild=rebuild, model_free_reason=reason)
        warta = cls(settings, index, embedder, reason, corpus, generator, generator_reason, nli, nli_reason)
        from rag.warmup import warm_up

        warm_up(warta)  # what requests would load on first use, loaded now: requests open no files
        if hasattr(embedder, "upgrade"):
            threading.Thread(target=warta._upgrade_encoder, args=(report,), name="warta-encoder-check",
                             daemon=True).start()
        return warta

    def _upgrade_encoder(self, report: Report) -> None:
        """Run the embedder's deferred check and switch to what it chooses. Queries read
        `retriever.embedder` once each, so a switch between two never mixes backends in one."""
        try:
            better = self.embedder.upgrade()
        except Exception as e:  # an optimisation failing must never stop Warta: torch serves
            report(f"torch encoder, not ONNX: the background check failed ({type(e).__name__}: {e}).")
            return
        if better is None:
            report(f"torch encoder, not ONNX: {self.embedder.backend_reason}.")
            return
        from rag.threads import pin_this_thread

        pin_this_thread()
        self.embedder = self.retriever.embedder = better
        report(f"encoder: ONNX Runtime from now on ({better.backend_reason}).")

    def mode(self, requested: str | None = None) -> dict:
        """What runs, and why when it is not what was asked for."""
        requested = requested or self.settings.retrieval_mode
        effective = self.retriever.effective_mode(requested)
        why = None
        if effective != requested:
            why = self.model_free_reason or "the index has no vectors"
        return {"retrieval": effective, "requested": requested,
                "embedding_model": self.embedder.model_id if self.retriever.embedder else None,
                "model_free": self.retriever.embedder is None, "reason": why,
                "index": self.index.path.name,
                "encoder": getattr(self.embedder, "backend", "torch") if self.retriever.embedder else None}

    def answer_mode(self, requested: str | None = None) -> dict:
        """mode() plus how answers are written (generator, or extractive and why)."""
        answerer = self.generator or self.answerer
        return {**self.mode(requested), "answerer": answerer.name,
                "generator": self.generator.model_id if self.generator else None,
                "generator_dtype": self.generator.dtype if self.generator else None,
                "generator_reason": self.generator_reason}

    def search(self, query: str, k: int | None = None, mode: str | None = None, query_id: str | None = None) -> dict:
        """The DESIGN.md `search --json` object for one query."""
        query, notices = self.prepare_question(query, what="query")
        started = time.perf_counter()
        timings: dict = {}
        mode_info = self.mode(mode)
        hits = self.retriever.retrieve(query, k or self.settings.top_k, mode_info["requested"], timings)
        timings["total"] = round((time.perf_counter() - started) * 1000, 3)
        result = {"id": query_id, "query": query, "lang": detect_language(query), "mode": mode_info,
                  "passages": [hit.to_json() for hit in hits], "timings_ms": timings}
        return {**result, "notices": notices} if notices else result

    @cached_property
    def term_weights(self):
        from rag.evidence import TermWeights

        return TermWeights(self.index.passages)

    @cached_property
    def answerer(self):
        from rag.extractive import ExtractiveAnswerer

        return ExtractiveAnswerer(self.term_weights, tuple(self.settings.abstain_thresholds))

    def prepare_question(self, question: str, what: str = "question") -> tuple[str, list[str]]:
        """The question (or claim) as it will be answered, and notices about what was changed."""
        limit = self.settings.max_question_chars
        question, changes = clean_question(question, limit, what)
        lang = detect_language(question) if changes else None
        return question, [say(key, lang, limit=limit) for key in changes]

    def ask(self, question: str, lang: str | None = None, k: int | None = None, mode: str | None = None) -> Answer:
        """Answer from the corpus in the question's language (or `lang`), or abstain."""
        for event, value in self.ask_stream(question, lang, k, mode):
            if event == "answer":
                return value
        raise RuntimeError("ask_stream ended without an answer")  # a bug, never expected

    def ask_stream(self, question: str, lang: str | None = None, k: int | None = None, mode: str | None = None):
        """Yields ("text", text so far) while the answer is written, then ("answer", Answer).

        The extractive evidence check runs first: when no retrieved sentence answers the
        question, Warta abstains and the generator is never asked (it cannot fill the gap).
        """
        started = time.perf_counter()
        question, notices = self.prepare_question(question)
        lang = lang or detect_language(question)
        timings: dict = {}
        mode_info = self.answer_mode(mode)
        hits = self.retriever.retrieve(question, k or self.settings.top_k, mode_info["requested"], timings)
        timings["retrieve"] = round((time.perf_counter() - started) * 1000, 3)
        t = time.perf_counter()

        def finish(text, abstained, citations, verification=None):
            timings["answer"] = round((time.perf_counter() - t) * 1000, 3)
            timings["total"] = round((time.perf_counter() - started) * 1000, 3)
            return Answer(question, lang, text, abstained, citations, hits, mode_info, timings, verification, notices)

        chosen = self.answerer.select(question, lang, hits)
        if not chosen:
            text = say("abstain", lang)
            yield "text", text
            yield "answer", finish(text, True, [])
            return
        if self.generator is None:
            text, citations = self.answerer.compose(chosen, lang)
            yield "text", text
            yield "answer", finish(text, False, citations)
            return
        from rag.generation import strip_links
        from rag.verify import verify

        raw = ""
        generation = self.generator.stream(question, lang, hits)
        for piece in generation:
            if not raw:
                timings["first_token"] = round((time.perf_counter() - t) * 1000, 3)
            raw += piece
            yield "text", strip_links(raw)
        notices.extend(generation.notices(lang))
        # verify strips links itself, and drops unsupported sentences that carried any.
        checked = verify(raw, hits, lang, self.term_weights)
        if generation.withheld or (checked.dropped and not checked.text):
            text = say("withheld_instructions" if generation.withheld else "withheld_links", lang)
            yield "text", text
            yield "answer", finish(text, True, [], checked.summary())
            return
        yield "text", checked.text
        yield "answer", finish(checked.text, False, checked.citations, checked.summary())


    def check(self, claim: str, k: int | None = None, mode: str | None = None) -> "Verdict":
        """Whether the corpus supports the claim, contradicts it, or does not say (rag.factcheck)."""
        from rag.factcheck import citations, compare, judge
        from rag.verdict import Verdict, explain

        started = time.perf_counter()
        claim, notices = self.prepare_question(claim, what="claim")
        lang = detect_language(claim)
        timings: dict = {}
        # Wider than for answers: the sentence that contradicts a claim may rank below ones that
        # merely share its words.
        hits = self.retriever.retrieve(claim, max(k or self.settings.top_k, 8), mode or self.settings.retrieval_mode, timings)
        comparisons = compare(claim, hits, self.term_weights)
        t = time.perf_counter()
        nli = self.nli.scores([c.text for c in comparisons], claim) if self.nli else None
        if nli is not None:
            timings["nli"] = round((time.perf_counter() - t) * 1000, 3)
        judgement = judge(comparisons, nli)
        explanation, differences = explain(judgement, lang)
        timings["total"] = round((time.perf_counter() - started) * 1000, 3)
        mode_info = {**self.mode(mode), "nli": self.nli.model_id if self.nli else None, "nli_reason": self.nli_reason}
        return Verdict(claim, lang, judgement.verdict, judgement.confidence, explanation,
                       citations(judgement) if judgement.reason not in ("off_topic", "unconfirmed") else [],
                       differences, judgement.reason, nli, mode_info, timings, notices)


@lru_cache(maxsize=1)
def default_pipeline() -> Warta:
    """The pipeline for the environment's settings, opened once per process (rag.ask, rag.search)."""
    from rag.config import settings_from_env

    return Warta.open(settings_from_env(), with_generator=True)
