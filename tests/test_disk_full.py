"""An index folder that cannot be written, for real, in a subprocess: the CLI and the page keep
serving the last valid index and say in one line what went wrong; with no index, one line naming
the folder and the OS's reason; a failed build leaves no partial build behind.

Two real conditions, no patched write:
- "full": RLIMIT_FSIZE caps each file the process writes at 4 KiB, so the first index file fails
  with EFBIG ("File too large") where a full disk fails with ENOSPC; the same code path.
- "read-only": the index folders chmod 555. Root ignores file modes, so as root the subprocess
  also drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from its capability bounding set first;
  then the modes bind it as they bind anyone else (EACCES, "Permission denied").
"""
import ctypes
import os
import resource
import shutil
import subprocess
import sys
from functools import lru_cache

import pytest

from rag.pipeline import Warta
from tests.conftest import CORPUS, MISSING_MODEL, ROOT

REASON = {"full": "File too large", "read-only": "Permission denied"}
NEW_ARTICLE = "Zorblax adalah pabrik baru di Cikarang yang dibangun pada 2025 oleh perusahaan rekaan.\n"
PAGE = """
from app import WartaChatUI
from rag.config import settings_from_env
from rag.web.service import PipelineService

service = PipelineService(settings_from_env(), with_generator=False).start()
assert service.wait(240)
ui = WartaChatUI(service)
print(" ".join(ui.status()))  # the short line and its detail
print(list(ui.respond("Apa itu Biotown?", [], "auto", {}))[-1][0][-1]["content"])
"""


def _drop_root_overrides() -> None:
    """As root: lose the capabilities that let root write where file modes say no."""
    if os.geteuid() == 0:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
        for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH; 24 is PR_CAPBSET_DROP
            if prctl(24, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _small_files() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


@lru_cache(maxsize=1)
def _read_only_works(folder: str) -> bool:
    """Whether this machine lets a subprocess be refused by a 555 folder (no CAP_SETPCAP: no)."""
    os.chmod(folder, 0o555)
    try:
        probe = subprocess.run([sys.executable, "-c", f"open({folder + '/probe'!r}, 'w')"],
                               preexec_fn=_drop_root_overrides, capture_output=True, text=True)
    except subprocess.SubprocessError:
        return False
    finally:
        os.chmod(folder, 0o755)
    return "PermissionError" in probe.stderr


@pytest.fixture
def unwritable(tmp_path, tmp_path_factory):
    """run(condition, *args, index=..., script=None): `python -m rag ARGS` (or a Python script)
    with the index folder made unwritable by `condition`, on a copy of the seed corpus."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    locked = []

    def run(condition, *args, index, script=None):
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "WARTA_CORPUS_DIR": str(corpus), "WARTA_INDEX_DIR": str(index),
               "WARTA_EMBEDDING_MODEL": MISSING_MODEL, "WARTA_GENERATOR_MODEL": MISSING_MODEL}
        if condition == "read-only":
            if not _read_only_works(str(tmp_path_factory.mktemp("probe"))):
                pytest.skip("this machine cannot drop root's file-mode override (no CAP_SETPCAP)")
            index.mkdir(parents=True, exist_ok=True)
            for folder in (index, index / "builds"):
                if folder.is_dir():
                    folder.chmod(0o555)
                    locked.append(folder)
        command = ["-c", script] if script else ["-m", "rag", *args]
        return subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True, env=env,
                              timeout=300, preexec_fn=_small_files if condition == "full" else _drop_root_overrides)

    run.corpus = corpus
    yield run
    for folder in locked:
        folder.chmod(0o755)


@pytest.fixture
def built(unwritable, settings, tmp_path):
    """A valid index of the seed corpus, then a new article in the corpus: it needs a rebuild."""
    index = Warta.open(settings.with_overrides(corpus_dir=unwritable.corpus, index_dir=tmp_path / "index"),
                       report=lambda message: None).index
    (unwritable.corpus / "zz_new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    return index


def _builds(index):
    return sorted(p.name for p in (index / "builds").iterdir()) if (index / "builds").is_dir() else []


@pytest.mark.parametrize("condition", ["full", "read-only"])
def test_search_serves_the_previous_index_and_says_why_in_one_line(unwritable, built, condition):
    index = built.path.parent.parent
    before = _builds(index)
    out = unwritable(condition, "search", "Apa itu Biotown?", "--k", "2", index=index)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr and "Biotown" in out.stdout
    said = [line for line in out.stderr.splitlines() if "not writable" in line]
    assert said == [f"warta: {index} is not writable ({REASON[condition]}): serving the previous index built "
                    f"{built.manifest['created_at']}; free space or fix permissions, then restart."]
    assert _builds(index) == before  # no partial build left behind
    assert (index / "CURRENT").read_text(encoding="utf-8").strip() == built.path.name


@pytest.mark.parametrize("condition", ["full", "read-only"])
def test_with_no_index_at_all_one_line_names_the_folder_and_the_reason(unwritable, tmp_path, condition):
    index = tmp_path / "fresh-index"
    out = unwritable(condition, "search", "Apa itu Biotown?", index=index)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1] == (
        f"warta: error: cannot write the index to {index} ({REASON[condition]}) and no earlier index there "
        "can be served; free space or fix permissions, then restart.")
    assert not [name for name in _builds(index) if name.startswith(".tmp-")]


def test_a_failed_build_removes_its_own_partial_build_and_earlier_ones(unwritable, built):
    index = built.path.parent.parent
    stale = index / "builds" / ".tmp-20260101T000000-deadbeef"
    stale.mkdir()
    (stale / "passages.jsonl").write_bytes(b"x" * 100_000)  # what a build killed earlier left
    out = unwritable("full", "index", index=index)
    assert out.returncode == 1  # the index was not updated
    assert "removed 1 unfinished build(s) left by earlier failures: .tmp-20260101T000000-deadbeef" in out.stderr
    assert "Writing the index files to .tmp-" in out.stderr  # it got as far as writing, then failed
    assert _builds(index) == [built.path.name]
    assert out.stderr.strip().splitlines()[-1].startswith(f"warta: {index} is not writable (File too large)")


def test_the_page_says_it_in_its_status_and_answers_from_the_previous_index(unwritable, built):
    index = built.path.parent.parent
    out = unwritable("full", index=index, script=PAGE)
    assert out.returncode == 0, out.stderr
    status, answer = out.stdout.replace("\\", "").split("\n", 1)  # without Markdown's escapes
    assert "Indeks lama / Previous index" in status and "tidak dapat ditulisi (File too large)" in status
    assert "is not writable (File too large): serving the previous index built" in status
    assert "5 dokumen / documents" in status  # the previous index, without the new article
    assert "Biotown" in answer and "try again" not in out.stdout


def test_the_page_with_no_index_says_what_to_do_not_try_again(unwritable, tmp_path):
    out = unwritable("full", index=tmp_path / "fresh-index", script=PAGE)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr and "try again" not in out.stdout and "coba lagi" not in out.stdout
    status = out.stdout.replace("\\", "").splitlines()[0]
    assert "Warta tidak dapat dimulai: indeks tidak dapat ditulis ke" in status
    assert "Warta could not start: cannot write the index to" in status and "File too large" in status


def test_an_up_to_date_index_is_served_from_a_read_only_folder_without_a_word(unwritable, settings, tmp_path):
    index = Warta.open(settings.with_overrides(corpus_dir=unwritable.corpus, index_dir=tmp_path / "index"),
                       report=lambda message: None).index
    out = unwritable("read-only", "search", "Apa itu Biotown?", index=tmp_path / "index")
    assert out.returncode == 0, out.stderr
    assert "Biotown" in out.stdout and "not writable" not in out.stderr and "rebuild" not in out.stderr
    assert _builds(tmp_path / "index") == [index.path.name]


def test_a_build_that_fails_after_its_rename_is_removed_and_the_live_one_kept(settings, tmp_path):
    """commit renames the build to its published name before it switches CURRENT; a failure
    between the two (here CURRENT.tmp cannot be written: a folder holds its name) must not leave
    the unpublished build behind, nor touch the live one."""
    from rag.index.store import IndexStore

    live = Warta.open(settings, report=lambda message: None).index.path
    store = IndexStore(settings.index_dir)
    tmp = store.new_build_dir()
    (tmp / "documents.jsonl").write_text("{}\n", encoding="utf-8")
    (settings.index_dir / "CURRENT.tmp").mkdir()
    with pytest.raises(IsADirectoryError):
        store.commit(tmp)
    assert sorted(_builds(settings.index_dir)) == sorted([live.name, tmp.name.removeprefix(".tmp-")])
    store.discard(tmp)
    assert _builds(settings.index_dir) == [live.name] and store.load().path == live
