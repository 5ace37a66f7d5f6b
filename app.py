"""python app.py [--host H] [--port P]: the Warta chat page and fact checks. UI only; rag/ does the work.

The page is served at once while the pipeline opens in the background (loading models,
building the index when it is missing); the status line shows how far it got.

Secure by default (README, "Security"): bound to 127.0.0.1, no share link, optional login
(WARTA_USERNAME / WARTA_PASSWORD), the queue is the only way in (api_open=False), no
monitoring endpoint, corpus and index folders blocked, no uploads (unless WARTA_ALLOW_UPLOADS=1 and a
login: the "Add documents" panel, rag/web/uploads.py) and no file routes, requests from
other sites' pages and to names other than its own refused (WARTA_ALLOWED_HOSTS), bodies over
WARTA_MAX_REQUEST_BYTES refused unread, password guesses slowed, a full queue answered "busy, try
again" at once (WARTA_QUEUE_SIZE), and a Content-Security-Policy that lets the page load
nothing from another origin.
"""
import argparse
from dataclasses import replace
import os
import sys

from rag.web.chat_format import (answer_body, chat_message, empty_sources_panel, escape_markdown, interpreted_as,
                             plain_answer, problem_message, sources_panel, status_badge, status_html,
                             status_line)
from rag.web.check_format import empty_verdict_panel, verdict_panel
from rag.config import Settings, setting_flags, settings_from_args
from rag.errors import ConfigError, WartaError
from rag.inputs import clean_question
from rag.search.filters import Filters
from rag.web.service import PipelineService

# Sessions whose state (a page's conversation) the server keeps, most recently used first: about
# 40 KB each, so at most ~80 MB. The page of a session pushed out starts a new conversation.
SESSIONS_KEPT = 2000
LANGUAGES = [("Otomatis / Auto", "auto"), ("Bahasa Indonesia", "id"), ("English", "en")]
DOCUMENT_LANGUAGES = [("Semua / All", "all"), ("Indonesia", "id"), ("English", "en")]
# Each is answered right by the default configuration (tests/test_answer_model.py): both
# languages, and questions in the other language than their article.
EXAMPLES = ["Siapa Direktur Hebei MPA?", "Who is the Chairman of CSPC Pharmaceutical Group?",
            "Berapa unit Dermatix yang diproyeksikan diekspor MiLab ke Tiongkok hingga akhir 2025?",
            "What certifications does MiLab's Cikarang plant hold?", "Siapa Menteri Perindustrian yang membahas Biotown?",
            "What is NBP used to treat?"]
CLAIM_EXAMPLES = ["MiLab projects annual exports of 12 million units by 2030.",
                  "Kepala BPOM bertemu Commissioner NMPA Li Li di Shanghai.",
                  "Obat NBP telah digunakan oleh lebih dari 40 juta pasien di seluruh dunia.",
                  "Kalbe Farma will produce HPV vaccines in Indonesia."]

CSS = """
#warta-status { font-size: .85em; }
#warta-status p { margin: 0; }
.warta-dot { display: inline-block; width: .7em; height: .7em; border-radius: 50%; margin-right: .45em;
             vertical-align: baseline; }
.warta-dot-ok { background: #15803d; }
.warta-dot-limited { background: #ca8a04; }
.warta-dot-warn { background: #b91c1c; }
.warta-dot-busy { background: #2563eb; }
#warta-status-detail { font-size: .85em; }
.warta-sources h3 { margin: 0 0 .5em; }
.warta-source-list { padding-left: 0; list-style: none; }
.warta-source { margin-bottom: 1em; }
.warta-source-title { font-weight: 600; }
.warta-n { color: var(--color-accent); margin-right: .25em; }
.warta-source-meta { font-size: .85em; opacity: .75; }
.warta-passage { margin: .4em 0 0; padding-left: .75em; border-left: 3px solid var(--border-color-primary);
                 font-size: .92em; white-space: pre-wrap; }
.warta-passage mark { background: #fde68a; color: #111; padding: 0 .1em; }
.warta-badge { display: inline-block; padding: .2em .7em; border-radius: 999px; font-weight: 700; color: #fff; }
.warta-badge-supported { background: #15803d; }
.warta-badge-contradicted { background: #b91c1c; }
.warta-badge-not_found { background: #4b5563; }
.warta-confidence { margin-left: .5em; font-size: .85em; opacity: .75; }
.warta-claim { margin: .5em 0; padding-left: .75em; border-left: 3px solid var(--color-accent); }
mark.warta-diff { background: #fecaca; color: #111; padding: 0 .1em; font-weight: 600; }
#warta-filters .timebox input { min-width: 0; width: 0; }  /* the date box shrinks, its calendar button stays */
"""


def known_event(demo, kind: str, key: str) -> bool:
    """Whether Gradio's queue holds this event or its unread result ("event"), or messages for
    this session ("session"), looked up as its own result routes do."""
    queue = demo._queue
    if kind == "session":
        return key in queue.pending_messages_per_session
    return key in queue.event_ids_to_events or any(key in ids for ids in queue.pending_event_ids_session.values())


def answer_language(value) -> str | None:
    """The answer language a request asks for: None (the question's own), "id" or "en"."""
    if value is None:  # left out of a raw request
        return None
    if not isinstance(value, str) or value not in ("auto", "id", "en"):
        raise ValueError(f"language {str(value)[:40]!r} is not one of auto, id, en")
    return None if value == "auto" else value


def login_from_env(env=os.environ) -> tuple[str, str] | None:
    """(user, password) when WARTA_USERNAME and WARTA_PASSWORD are both set; None when neither."""
    user, password = env.get("WARTA_USERNAME", ""), env.get("WARTA_PASSWORD", "")
    if bool(user) != bool(password):
        raise ConfigError("set both WARTA_USERNAME and WARTA_PASSWORD to require a login, or neither")
    return (user, password) if user else None


class WartaChatUI:
    """The chat page around one PipelineService, shared by every session (chat state is per session)."""

    def __init__(self, service: PipelineService) -> None:
        self.service = service
        self.demo = None

    def status(self) -> tuple[str, str]:
        """(one short line for the page, the technical detail behind "Detail")."""
        state = self.service.state
        if state == "opening":
            stage = self.service.stage
            short = stage if len(stage) <= 70 else stage[:69] + "…"
            return (status_html("busy", f"Menyiapkan / Preparing: {short}"),
                    f"**Menyiapkan / Preparing:** {escape_markdown(stage)}")
        if state == "failed":
            return (status_html("warn", "Warta tidak dapat dimulai / Warta could not start (Detail)"),
                    escape_markdown(problem_message(self.service.error)))
        warta = self.service.pipeline()
        mode, counts, notice = warta.answer_mode(), warta.index.manifest["counts"], warta.index.notice
        return status_badge(mode, counts, notice), status_line(mode, counts, notice)

    def _poll_status(self):
        import gradio as gr

        return *self.status(), gr.Timer(active=self.service.state == "opening")

    def respond(self, question: str, history: list, language: str, sources_log: dict, last_turn: dict | None = None,
                outlets=None, since=None, until=None, doc_language=None):
        """Streams (chat, sources panel, question box, sources by message, chat history, last turn)
        for one question, from the documents the filter row lets through. The history and the
        last turn are the session's own state, kept on the server: a client cannot send its own.
        A follow-up is read in the last turn's context (rag.answer.followup), says how it was
        read, and is answered from the articles the last answer cited."""
        import gradio as gr

        from rag.answer.followup import Turn, read

        history = list(history or [])
        previous = None
        if isinstance(last_turn, dict) and last_turn:
            previous = Turn(last_turn["question"], tuple(last_turn["doc_ids"]))

        def reply(content: str, panel: str, turn=gr.skip()):
            # The panel is kept under the message's position, so clicking the message shows it again.
            chat = history + [{"role": "assistant", "content": content}]
            return chat, panel, "", {**(sources_log or {}), len(history): panel}, chat, turn

        try:
            lang = answer_language(language)
            filters = Filters.parse(outlets, since, until, None if doc_language in (None, "all") else doc_language)
            # Echoed as the pipeline will read it (trimmed, broken characters replaced): the chat
            # never shows 1 MB or a character the page cannot be sent.
            asked = clean_question(question, self.service.settings.max_question_chars)[0]
        except ValueError as e:  # empty, not text, no such language, a bad filter: the reply says which
            yield reply(escape_markdown(problem_message(e)), empty_sources_panel())
            return
        history.append({"role": "user", "content": escape_markdown(asked)})
        yield history, gr.skip(), "", gr.skip(), history, gr.skip()
        reading = read(asked, previous)
        heading = interpreted_as(reading, lang) if reading.rewritten else ""
        try:
            answer = None
            if reading.doc_ids:  # a follow-up: from the articles the last answer cited
                filters = replace(filters, doc_ids=reading.doc_ids)
            for event, value in self.service.pipeline().ask_stream(reading.question, lang=lang, filters=filters):
                if event == "text":
                    partial = history + [{"role": "assistant", "content": heading + answer_body(value)}]
                    yield partial, gr.skip(), "", gr.skip(), gr.skip(), gr.skip()
                else:
                    answer = value
            cited = tuple(dict.fromkeys(c.doc_id for c in answer.citations))
            yield reply(heading + chat_message(answer), sources_panel(answer),
                        {"question": reading.question, "doc_ids": list(cited or reading.doc_ids)})
        except Exception as e:  # shown as a chat message, never a stack trace; bugs still go to stderr
            if not isinstance(e, (WartaError, ValueError)):
                import traceback

                traceback.print_exc(file=sys.stderr)
            yield reply(escape_markdown(problem_message(e)), empty_sources_panel())

    def ask_api(self, question: str, language: str = "auto", sources: list[str] | str | None = None,
                since: str | None = None, until: str | None = None, lang_docs: list[str] | str | None = None) -> str:
        """Answer a question from the corpus: the answer with [n] markers, then its sources.

        language: "auto" (the question's), "id" or "en". The rest filter the documents searched
        (none by default): sources, outlets as the corpus names them; since and until,
        YYYY-MM-DD, inclusive (undated documents are left out); lang_docs, "id" and/or "en".
        """
        import gradio as gr

        try:
            filters = Filters.parse(sources, since, until, lang_docs)
            answer = self.service.pipeline().ask(question, lang=answer_language(language), filters=filters)
        except (WartaError, ValueError) as e:
            # A refused input is not a crash: no traceback in the server log.
            raise gr.Error(problem_message(e), print_exception=False) from None
        return plain_answer(answer)

    def filter_choices(self):
        """The outlet list of the filter row, once the pipeline is open (the corpus names them)."""
        import gradio as gr

        if self.service.state != "ready":
            return gr.skip()
        return gr.Dropdown(choices=self.service.pipeline().outlets())

    def check_panel(self, claim: str) -> str:
        """The fact-check panel for one claim (or a friendly message why there is none)."""
        try:
            return verdict_panel(self.service.pipeline().check(claim))
        except Exception as e:  # shown on the page, never a stack trace; bugs still go to stderr
            if not isinstance(e, (WartaError, ValueError)):
                import traceback

                traceback.print_exc(file=sys.stderr)
            return empty_verdict_panel(problem_message(e))

    def check_api(self, claim: str) -> dict:
        """Check a claim against the corpus: supported, contradicted or not_found, with the evidence
        quoted and what differs (the `python -m rag check --json` object)."""
        import gradio as gr

        try:
            return self.service.pipeline().check(claim).to_json()
        except (WartaError, ValueError) as e:
            # A refused input is not a crash: no traceback in the server log.
            raise gr.Error(problem_message(e), print_exception=False) from None

    def create_app(self):
        import gradio as gr

        # Uploads never added (chosen, then the page left) are deleted after an hour.
        uploads_kept = (600, 3600) if self.service.settings.allow_uploads else None
        with gr.Blocks(title="Warta", analytics_enabled=False, delete_cache=uploads_kept) as demo:
            gr.Markdown("# Warta\nTanya jawab berbasis korpus berita industri farmasi Indonesia · "
                        "Questions answered from a news corpus on Indonesia's pharmaceutical industry")
            badge, detail = self.status()
            status = gr.HTML(badge, elem_id="warta-status")
            with gr.Accordion("Detail: model, indeks, cara mengaktifkan / models, index, how to turn on",
                              open=False, elem_id="warta-status-detail"):
                status_detail = gr.Markdown(detail, elem_id="warta-status-text")
            sources_log = gr.State({})
            chat_history = gr.State([])
            last_turn = gr.State({})  # what a follow-up question leans on (rag.answer.followup)
            with gr.Tab("Tanya jawab / Ask", elem_id="warta-ask-tab"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    # No floating label: it covered the conversation when scrolled.
                    chatbot = gr.Chatbot(label="Percakapan / Conversation", show_label=False, elem_id="warta-chat",
                                         height=520,
                                         sanitize_html=True, render_markdown=True, latex_delimiters=[],
                                         allow_tags=False, buttons=[], feedback_options=None,
                                         placeholder="Tanyakan dalam Bahasa Indonesia atau English. "
                                                     "Klik sebuah jawaban untuk melihat sumbernya. / "
                                                     "Ask in Indonesian or English. Click an answer to see its sources.")
                    question = gr.Textbox(label="Pertanyaan / Question", elem_id="warta-question", lines=1,
                                          max_lines=6, placeholder="Contoh / e.g. Apa itu Biotown?",
                                          submit_btn="Tanya / Ask")
                    # One compact row of filters (rag/search/filters.py); empty fields filter nothing.
                    with gr.Row(elem_id="warta-filters", equal_height=True):
                        outlets = gr.Dropdown([], value=[], multiselect=True, label="Media / Outlet (semua / all)",
                                              elem_id="warta-outlets", scale=3)
                        since = gr.DateTime(label="Sejak / Since", include_time=False, type="string",
                                            elem_id="warta-since", scale=2, min_width=150)
                        until = gr.DateTime(label="Sampai / Until", include_time=False, type="string",
                                            elem_id="warta-until", scale=2, min_width=150)
                        doc_language = gr.Dropdown(DOCUMENT_LANGUAGES, value="all", elem_id="warta-doc-language",
                                                   label="Bahasa dokumen / Doc. language", scale=2, min_width=150)
                    with gr.Row():
                        language = gr.Radio(LANGUAGES, value="auto", label="Bahasa jawaban / Answer language",
                                            elem_id="warta-language", scale=3)
                        new_chat = gr.Button("Percakapan baru / New chat", elem_id="warta-new-chat", scale=0,
                                             size="sm", min_width=120)
                    gr.Examples(EXAMPLES, inputs=[question], label="Contoh pertanyaan / Example questions",
                                api_visibility="private")
                with gr.Column(scale=2):
                    sources = gr.HTML(empty_sources_panel(), elem_id="warta-sources")
            with gr.Tab("Periksa fakta / Fact check", elem_id="warta-check-tab"):
                claim = gr.Textbox(label="Klaim / Claim", elem_id="warta-claim", lines=1, max_lines=8,
                                   placeholder="Tempel klaim di sini / Paste a claim here",
                                   submit_btn="Periksa / Check")
                gr.Examples(CLAIM_EXAMPLES, inputs=[claim], label="Contoh klaim / Example claims",
                            api_visibility="private")
                verdict = gr.HTML(empty_verdict_panel(), elem_id="warta-verdict")
            if self.service.settings.allow_uploads:
                from rag.web.uploads import UploadPanel

                UploadPanel(self.service, self.status).build([status, status_detail])
            timer = gr.Timer(1.0, active=self.service.state == "opening")

            # The outlet list is filled once the pipeline has read the corpus (the page is served
            # before), after each status poll: the tick that finds it ready, and stops the timer, fills it.
            for trigger in (timer.tick, demo.load):
                trigger(self._poll_status, None, [status, status_detail, timer], api_visibility="private",
                        concurrency_limit=None, show_progress="hidden").then(
                    self.filter_choices, None, [outlets], api_visibility="private", concurrency_limit=None,
                    show_progress="hidden")
            question.submit(self.respond, [question, chat_history, language, sources_log, last_turn, outlets, since,
                                           until, doc_language],
                            [chatbot, sources, question, sources_log, chat_history, last_turn], api_visibility="private",
                            concurrency_id="answer", show_progress="minimal")
            def show_sources(log: dict, selected: gr.SelectData):
                """The sources panel of the assistant message that was clicked."""
                panel = (log or {}).get(selected.index)
                return panel if panel is not None else gr.skip()

            chatbot.select(show_sources, [sources_log], [sources], api_visibility="private",
                           concurrency_limit=None, show_progress="hidden")
            new_chat.click(lambda: ([], empty_sources_panel(), "", {}, [], {}), None,
                           [chatbot, sources, question, sources_log, chat_history, last_turn], api_visibility="private",
                           concurrency_limit=None, show_progress="hidden")
            chatbot.clear(lambda: (empty_sources_panel(), {}, [], {}), None, [sources, sources_log, chat_history, last_turn],
                          api_visibility="private", concurrency_limit=None, show_progress="hidden")
            claim.submit(self.check_panel, [claim], [verdict], api_visibility="private", concurrency_id="answer",
                         show_progress="minimal")
            gr.api(self.ask_api, api_name="ask", concurrency_id="answer")
            gr.api(self.check_api, api_name="check", concurrency_id="answer")
        return demo

    def launch(self, settings: Settings, login: tuple[str, str] | None = None, **launch_options):
        """Serve the page; blocks until stopped (unless prevent_thread_lock=True)."""
        from starlette.middleware import Middleware

        import inspect

        from rag.web.guard import SecurityHeaders, WebGuard
        from rag.web.payloads import PayloadCheck

        self.demo = demo = self.create_app()
        demo.queue(api_open=False, max_size=settings.queue_size,
                   default_concurrency_limit=settings.answer_concurrency)
        blocked = [str(settings.corpus_dir.resolve()), str(settings.index_dir.resolve())]
        # The name it was told to listen on is its own (an address is always answered to).
        endpoints = {"ask": self.ask_api, "check": self.check_api}
        parameters = {name: tuple(inspect.signature(fn).parameters) for name, fn in endpoints.items()}
        payloads = PayloadCheck(demo.config, parameters,
                                text_limit=settings.max_question_chars)
        from rag.web.uploads import FILE_LIMIT, REQUEST_LIMIT

        uploads = settings.allow_uploads
        guard = Middleware(WebGuard, allowed_hosts=(*settings.allowed_hosts, settings.host.lower()),
                           max_body=settings.max_request_bytes, max_question_chars=settings.max_question_chars,
                           payloads=payloads, known_event=lambda kind, key: known_event(demo, kind, key),
                           upload_bytes=REQUEST_LIMIT if uploads else None)
        return demo.launch(server_name=settings.host, server_port=settings.port, share=False, auth=login,
                           enable_monitoring=False, footer_links=["api"], run_history=False,
                           mcp_server=False, pwa=False, ssr_mode=False, show_error=False, strict_cors=True,
                           blocked_paths=blocked, allowed_paths=[], max_file_size=FILE_LIMIT if uploads else "1mb",
                           css=CSS,
                           # Gradio keeps each session's state and last values (a page's chat; every
                           # raw /call/ request is a session of its own), 10,000 by default.
                           state_session_capacity=SESSIONS_KEPT,
                           app_kwargs={"middleware": [Middleware(SecurityHeaders), guard],
                                       # FastAPI's schema (Gradio already turns its /docs pages off):
                                       # Warta's API is described by Gradio's /gradio_api/info.
                                       "openapi_url": None}, **launch_options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python app.py", parents=[setting_flags()],
                                     description="Serve the Warta chat page (http://127.0.0.1:7860 by default).")
    parser.add_argument("--host", help="address to listen on (env WARTA_HOST; default 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, help="port (env WARTA_PORT; default 7860)")
    args = parser.parse_args(argv)
    # Gradio would otherwise report usage to, and check versions against, servers outside.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        settings = settings_from_args(args)
        login = login_from_env()
        if settings.allow_uploads and login is None:  # anyone reaching the page could change the corpus
            raise ConfigError("WARTA_ALLOW_UPLOADS=1 needs a login: set WARTA_USERNAME and WARTA_PASSWORD too")
    except WartaError as e:
        print(f"warta: error: {e}", file=sys.stderr)
        return 1
    if settings.allow_uploads:
        from rag.web.uploads import private_upload_folder

        private_upload_folder()
    service = PipelineService(settings).start()
    ui = WartaChatUI(service)
    try:
        _, url, _ = ui.launch(settings, login, prevent_thread_lock=True, quiet=True)
        print(f"Warta is serving on {url} (Ctrl+C stops it)", file=sys.stderr, flush=True)
        ui.demo.block_thread()
    except OSError as e:  # the port is taken, or the address cannot be bound
        print(f"warta: error: cannot serve on {settings.host}:{settings.port}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
