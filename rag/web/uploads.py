"""The page's "Add documents" panel, shown only with WARTA_ALLOW_UPLOADS=1 (and then only behind a
login: app.py refuses to start without one).

A browser's files reach Gradio's upload folder (GRADIO_TEMP_DIR: app.py points it at a private
folder of its own), are added to the corpus exactly as `python -m rag add` adds them
(rag.ingest.adding: the same limits, refusals and report), and are deleted from the upload folder
at once, added or not. Then the running app swaps in a pipeline over the new corpus
(PipelineService.refresh: the same models, the index updated incrementally under its lock), so the
next question is answered from the new documents.
"""
from __future__ import annotations

import html
import os
import shutil
import sys
import tempfile
from pathlib import Path

from rag.ingest.extract import SUFFIXES

MIB = 1 << 20
FILE_LIMIT = 20 * MIB  # per file, enforced by Gradio while it receives it
REQUEST_LIMIT = 100 * MIB  # per upload request (all files the browser sends at once), by rag.web.guard
MAX_FILES = 20  # per click


def private_upload_folder() -> Path:
    """Gradio's upload folder, made private to this server (mode 0700) unless the operator set
    GRADIO_TEMP_DIR, and removed when the server stops: uploads are nobody else's to read."""
    if not os.environ.get("GRADIO_TEMP_DIR"):
        import atexit

        folder = tempfile.mkdtemp(prefix="warta-uploads-")
        atexit.register(shutil.rmtree, folder, True)
        os.environ["GRADIO_TEMP_DIR"] = folder
    return Path(os.environ["GRADIO_TEMP_DIR"]).resolve()


def _upload(raw, folder: Path) -> Path | None:
    """The path of an upload as Gradio stores it (FOLDER/<hash of the content>/<name>), or None
    for any other path a request could name."""
    if not isinstance(raw, str):
        return None
    path = Path(os.path.abspath(raw))
    return path if path.parent.resolve().parent == folder else None


def _discard(path: Path) -> None:
    """Delete an upload and the folder Gradio made for it (it holds nothing else)."""
    try:
        path.unlink()
        path.parent.rmdir()  # fails, and is left, while another upload is in it
    except OSError:
        pass


def add_uploads(paths: list[str], corpus_dir: Path, folder: Path):
    """rag.ingest.adding.Outcome for each uploaded file, each deleted once read."""
    from rag.ingest.adding import Adder, Outcome

    adder = Adder(corpus_dir)
    outcomes = []
    for number, raw in enumerate(paths):
        path = _upload(raw, folder)
        if path is None:
            outcomes.append(Outcome(Path(str(raw)).name, reason="not an upload of this page"))  # nor deleted
            continue
        try:
            if number >= MAX_FILES:
                outcomes.append(Outcome(path.name, reason=f"more than {MAX_FILES} files at once; add it again"))
            else:
                outcomes.append(adder.add(path, name=path.name, inside=path.parent))
        finally:
            _discard(path)
    return outcomes


def report_html(outcomes, index_line: str) -> str:
    items = "".join(f'<li class="warta-add-{"ok" if o.added else "skipped"}">{html.escape(o.line())}</li>'
                    for o in outcomes)
    return f'<ul class="warta-add-report">{items}</ul><p class="warta-add-index">{html.escape(index_line)}</p>'


class UploadPanel:
    """The tab and its event, for the page's Blocks (app.WartaChatUI.create_app)."""

    def __init__(self, service, status) -> None:
        self.service = service  # rag.web.service.PipelineService
        self.status = status  # () -> the page's (status line, detail), refreshed after adding

    def add(self, files: list[str] | None):
        folder = private_upload_folder()
        files = list(files or [])
        if not files:
            return ("<p>Pilih berkas dulu / Choose files first.</p>", None, *self.status())
        try:
            self.service.pipeline()  # not while the index is first being built
        except Exception as e:
            for path in filter(None, (_upload(raw, folder) for raw in files)):
                _discard(path)
            return (f"<p>{html.escape(str(e))}</p>", None, *self.status())
        outcomes = add_uploads(files, self.service.settings.corpus_dir, folder)
        added = sum(o.added for o in outcomes)
        index_line = f"{added} dari {len(outcomes)} berkas ditambahkan / {added} of {len(outcomes)} file(s) added."
        if added:
            try:
                warta = self.service.refresh()
                counts = warta.index.manifest["counts"]
                index_line += (f" Indeks / Index: {counts['documents']} dokumen / documents, "
                               f"{counts['passages']} passages.")
                if warta.index.notice is not None:
                    index_line += " " + warta.index.notice.say("en")
            except Exception as e:  # the files are in the corpus; the next start indexes them
                print(f"warta: index update after adding documents failed: {e}", file=sys.stderr)
                index_line += f" The index could not be updated ({e}); a restart will index them."
        return report_html(outcomes, index_line), None, *self.status()

    def build(self, status_outputs) -> None:
        import gradio as gr
        from gradio.utils import NamedString

        with gr.Tab("Tambah dokumen / Add documents", elem_id="warta-add-tab"):
            gr.Markdown(f"{', '.join(SUFFIXES)} · maks. / max. {FILE_LIMIT // MIB} MiB per berkas / file, "
                        f"{MAX_FILES} berkas sekaligus / files at once. Teks disimpan di korpus apa adanya; "
                        "berkas yang diunggah dihapus setelah dibaca. / Text is stored in the corpus as extracted; "
                        "uploaded files are deleted once read.")
            files = gr.File(label="Berkas / Files", file_count="multiple", file_types=list(SUFFIXES),
                            type="filepath", elem_id="warta-add-files")
            # Gradio 6.31's File hands each path on after creating an empty temporary file in the
            # upload folder that nothing deletes, and fails the whole click when one file's type is
            # not listed, leaving every upload on disk (components/file.py, _process_single_file).
            # Here each path is handed on as it is; the report names a type Warta does not take.
            files._process_single_file = lambda data: NamedString(data.path)
            button = gr.Button("Tambahkan / Add", variant="primary", elem_id="warta-add-button")
            report = gr.HTML("", elem_id="warta-add-report")
        button.click(self.add, [files], [report, files, *status_outputs], api_visibility="private",
                     concurrency_id="add", concurrency_limit=1, show_progress="minimal")
