"""The Warta pipeline object: settings -> embedder (or model-free) -> verified index -> retriever.

Open it once per process; every query after that runs in memory.

    warta = Warta.open(settings_from_env())
    result = warta.search("Apa itu Biotown?", k=3)
"""
from __future__ import annotations

import threading
import time
from functools import cached_property, lru_cache

from rag.answer.record import Answer
from rag.config import Settings
from rag.index.ensure import Report, ensure_index, open_store
from rag.search.backend import SearchBackend
from rag.ingest.corpus import Corpus, load_corpus
from rag.ingest.language import detect_language
from rag.inputs import clean_question
from rag.messages import report_to_stderr, say
from rag.models import open_embedder, open_generator, open_nli
from rag.search.embedding import Embedder
from rag.search.filters import Filters
from rag.search.retrieval import Retriever
from rag.threads import pin_threads

class Warta:
    def __init__(self, settings: Settings, index: SearchBackend, embedder: Embedder | None,
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
        index = ensure_index(open_store(settings), corpus, embedder, settings, report,
                             rebuild=rebuild, model_free_reason=reason)
        warta = cls(settings, index, embedder, reason, corpus)
        from rag.warmup import warm_up

        # What requests would load on first use, loaded now (requests open no files); before the
        # generator and NLI model join, so it costs none of their seconds.
        warm_up(warta)
        warta.generator, warta.generator_reason = generator, None if generator is not None else generator_reason
        warta.nli, warta.nli_reason = nli, None if nli is not None else nli_reason
        if generator is not None:
            from rag.warmup import warm_up_generation

            warm_up_generation()
        if hasattr(embedder, "upgrade"):
            threading.Thread(target=warta._upgrade_encoder, args=(report,), name="warta-encoder-check",
                             daemon=True).start()
        return warta

    def reopened(self, report: Report = report_to_stderr, settings: Settings | None = None) -> "Warta":
        """A Warta over the corpus as it is now, sharing this one's models: the index is updated
        under the store's lock (unchanged passages keep their vectors). This object stays whole
        for the requests that hold it; the caller serves the new one from then on. `settings`
        (the same models, e.g. another backend) replace this one's."""
        settings = settings or self.settings
        corpus = load_corpus(settings.corpus_dir)
        for problem in corpus.problems:
            report(f"skipped {problem}")
        index = ensure_index(open_store(settings), corpus, self.embedder, settings, report,
                             model_free_reason=self.model_free_reason)
        fresh = type(self)(settings, index, self.embedder, self.model_free_reason, corpus)
        from rag.warmup import warm_up

        warm_up(fresh)  # before the generator joins, as in open()
        fresh.generator, fresh.generator_reason = self.generator, self.generator_reason
        fresh.nli, fresh.nli_reason = self.nli, self.nli_reason
        return fresh

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
                "index": self.index.label,
                "encoder": getattr(self.embedder, "backend", "torch") if self.retriever.embedder else None}

    def answer_mode(self, requested: str | None = None) -> dict:
        """mode() plus how answers are written (generator, or extractive and why)."""
        answerer = self.generator or self.answerer
        return {**self.mode(requested), "answerer": answerer.name,
                "generator": self.generator.model_id if self.generator else None,
                "generator_dtype": self.generator.dtype if self.generator else None,
                "generator_reason": self.generator_reason}

    def search(self, query: str, k: int | None = None, mode: str | None = None, query_id: str | None = None,
               filters: Filters | None = None) -> dict:
        """The `search --json` object for one query (docs/design.md, "search --json"; "filters" when any apply)."""
        query, notices = self.prepare_question(query, what="query")
        started = time.perf_counter()
        timings: dict = {}
        mode_info = self.mode(mode)
        hits = self.retriever.retrieve(query, k or self.settings.top_k, mode_info["requested"], timings, filters)
        timings["total"] = round((time.perf_counter() - started) * 1000, 3)
        lang = detect_language(query)
        result = {"id": query_id, "query": query, "lang": lang, "mode": mode_info,
                  "passages": [hit.to_json() for hit in hits], "timings_ms": timings}
        used = self.filters_used(filters)
        if used is not None:
            result["filters"] = used
            if not hits:
                notices.append(filter_notice(filters, used, lang))
        return {**result, "notices": notices} if notices else result

    def outlets(self) -> list[str]:
        """The outlets (sources) the corpus names, sorted, each once whatever its case: what a
        source filter can choose from."""
        named: dict[str, str] = {}
        for source in self.index.sources():
            named.setdefault(source.strip().casefold(), source.strip())
        return sorted(named.values(), key=str.casefold)

    def filters_used(self, filters: Filters | None) -> dict | None:
        """The filters as JSON output echoes them, with how many documents pass; None when none apply."""
        if filters is None or not filters.active:
            return None
        return {**filters.to_json(), "matching_documents": self.index.allowed_documents(filters)}

    @cached_property
    def term_weights(self):
        from rag.evidence.weights import TermWeights

        return TermWeights(*self.index.term_statistics())

    @cached_property
    def evidence(self):
        """Sentence records of the passages retrieved so far (rag.evidence.records)."""
        from rag.evidence.records import Evidence

        return Evidence(lambda: self.retriever.embedder)

    @cached_property
    def answerer(self):
        from rag.answer.extractive import ExtractiveAnswerer

        return ExtractiveAnswerer(self.term_weights, self.evidence)

    def prepare_question(self, question: str, what: str = "question") -> tuple[str, list[str]]:
        """The question (or claim) as it will be answered, and notices about what was changed."""
        limit = self.settings.max_question_chars
        question, changes = clean_question(question, limit, what)
        lang = detect_language(question) if changes else None
        return question, [say(key, lang, limit=limit) for key in changes]

    def ask(self, question: str, lang: str | None = None, k: int | None = None, mode: str | None = None,
            filters: Filters | None = None) -> Answer:
        """Answer from the corpus in the question's language (or `lang`), or abstain; from the
        documents the filters let through only, when given."""
        for event, value in self.ask_stream(question, lang, k, mode, filters):
            if event == "answer":
                return value
        raise RuntimeError("ask_stream ended without an answer")  # a bug, never expected

    def ask_stream(self, question: str, lang: str | None = None, k: int | None = None, mode: str | None = None,
                   filters: Filters | None = None):
        """Yields ("text", text so far) while the answer is written, then ("answer", Answer)
        (rag.answer.flow)."""
        from rag.answer.flow import stream_answer

        yield from stream_answer(self, question, lang, k, mode, filters)

    def check(self, claim: str, k: int | None = None, mode: str | None = None, filters: Filters | None = None):
        """Whether the corpus supports the claim, contradicts it, or does not say (rag.factcheck)."""
        from rag.factcheck.flow import check_claim

        return check_claim(self, claim, k, mode, filters)


def filter_notice(filters: Filters, used: dict, lang: str) -> str:
    """Why a filtered search may have come back empty-handed: no document passes the filters, or
    only these few were searched."""
    if used["matching_documents"] == 0:
        return say("no_match_filters", lang, filters=filters.describe(lang))
    return say("filtered_search", lang, count=used["matching_documents"], filters=filters.describe(lang))


@lru_cache(maxsize=1)
def default_pipeline() -> Warta:
    """The pipeline for the environment's settings, opened once per process (rag.ask, rag.search)."""
    from rag.config import settings_from_env

    return Warta.open(settings_from_env(), with_generator=True)
