"""The index on disk: a folder per build, a pointer to the live one, a manifest that vouches for it.

    index/
      CURRENT                 name of the live build (replaced atomically)
      .lock                   one writer at a time
      builds/<name>/          manifest.json, documents.jsonl, passages.jsonl, dense.faiss, bm25/

A build is written under builds/.tmp-<name>/, fsynced, renamed, and only then is CURRENT switched
(write CURRENT.tmp, fsync, rename). A crash or kill at any moment leaves CURRENT naming a complete
build. Loading checks the manifest's format version, every file's SHA-256 and the counts; a
build that fails is set aside (renamed, never deleted) by the caller and rebuilt.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path

from rag.ingest.chunking import Passage
from rag.ingest.corpus import Document
from rag.search.dense import DenseIndex
from rag.errors import IndexBusy, IndexInvalid
from rag.index.local import LoadedIndex
from rag.messages import report_to_stderr
from rag.search.lexical import LexicalIndex

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# The "dense" record of builds made before HNSW support (no record): they were all flat.
LEGACY_DENSE = {"type": "flat"}
DOCUMENTS = "documents.jsonl"
PASSAGES = "passages.jsonl"
DENSE = "dense.faiss"
LEXICAL = "bm25"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_tree(directory: Path) -> None:
    """Flush every file and folder below `directory` to disk, so a rename publishes whole files."""
    for path in sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    fsync_dir(directory)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_jsonl(path: Path, records) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def file_hashes(directory: Path) -> dict[str, str]:
    return {p.relative_to(directory).as_posix(): sha256_file(p)
            for p in sorted(directory.rglob("*")) if p.is_file() and p.name != MANIFEST}


class IndexStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.builds = self.root / "builds"
        self.pointer = self.root / "CURRENT"

    # --- reading -------------------------------------------------------------------------
    def current_dir(self) -> Path | None:
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            raise IndexInvalid(f"{self.pointer} does not name a build (it is not text)") from None
        # The pointer names a folder inside builds/, nothing else.
        if not name or "/" in name or "\\" in name or name.startswith(".") or not name.isprintable():
            raise IndexInvalid(f"{self.pointer} does not name a build ({name[:40]!r})")
        return self.builds / name

    def load(self) -> LoadedIndex:
        """The live build, verified. Raises IndexInvalid naming the first problem found."""
        path = self.current_dir()
        if path is None:
            raise IndexInvalid(f"no index in {self.root} yet")
        if not path.is_dir():
            raise IndexInvalid(f"index build {path.name} named by {self.pointer} is missing")
        manifest = self._read_manifest(path)
        self._verify_files(path, manifest)
        try:
            documents = {r["doc_id"]: Document(**r) for r in read_jsonl(path / DOCUMENTS)}
            passages = [Passage.from_json(r) for r in read_jsonl(path / PASSAGES)]
            lexical = LexicalIndex.load(path / LEXICAL, (manifest.get("lexical") or {}).get("stemmer", "snowball"))
            dense = DenseIndex.load(path / DENSE, manifest.get("dense")) if (path / DENSE).exists() else None
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
            raise IndexInvalid(f"index build {path.name} cannot be read: {e}") from None
        self._verify_counts(path, manifest, documents, passages, lexical, dense)
        return LoadedIndex(path, manifest, documents, passages, lexical, dense)

    def _read_manifest(self, path: Path) -> dict:
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IndexInvalid(f"index build {path.name} has no {MANIFEST}") from None
        except (ValueError, UnicodeDecodeError) as e:
            raise IndexInvalid(f"{path.name}/{MANIFEST} is not valid JSON ({e})") from None
        if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
            found = manifest.get("format_version") if isinstance(manifest, dict) else None
            raise IndexInvalid(f"{path.name}/{MANIFEST} has format version {found!r}, this Warta reads {FORMAT_VERSION}")
        # Valid JSON of the wrong shape is refused here, not met later as an AttributeError.
        files = manifest.get("files")
        if not isinstance(files, dict) or not all(isinstance(d, str) for d in files.values()):
            raise IndexInvalid(f"{path.name}/{MANIFEST}: 'files' is not a mapping of file names to SHA-256 hashes")
        for name in files:
            parts = name.split("/")
            if name.startswith("/") or "\\" in name or any(part in ("", ".", "..") for part in parts):
                raise IndexInvalid(f"{path.name}/{MANIFEST}: 'files' names {name[:60]!r}, which is not a file of the build")
        for key, types in (("counts", dict), ("documents", dict), ("chunking", dict), ("lexical", dict),
                           ("embedding", (dict, type(None)))):
            if not isinstance(manifest.get(key), types):
                raise IndexInvalid(f"{path.name}/{MANIFEST}: {key!r} is missing or not a mapping")
        if not all(isinstance(entry, dict) for entry in manifest["documents"].values()):
            raise IndexInvalid(f"{path.name}/{MANIFEST}: 'documents' holds an entry that is not a mapping")
        self._check_dense_record(path, manifest)
        return manifest

    @staticmethod
    def _check_dense_record(path: Path, manifest: dict) -> None:
        """'dense' is absent (a build from before HNSW support: flat), null (no vectors), or the
        index's record: {"type": "flat", ...} or {"type": "hnsw", "M", "efConstruction",
        "efSearch" (whole numbers >= 1), "recall_at_10" (0..1), ...}."""
        if "dense" not in manifest or manifest["dense"] is None:
            return
        dense = manifest["dense"]
        where = f"{path.name}/{MANIFEST}: 'dense'"
        if not isinstance(dense, dict):
            raise IndexInvalid(f"{where} is missing or not a mapping")
        if dense.get("type") not in ("flat", "hnsw"):
            raise IndexInvalid(f"{where} names index type {str(dense.get('type'))[:40]!r}, not flat or hnsw")
        if dense["type"] == "hnsw":
            for key in ("M", "efConstruction", "efSearch"):
                value = dense.get(key)
                if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1 << 20:
                    raise IndexInvalid(f"{where}: {key!r} is {repr(value)[:40]}, not a whole number from 1")
            recall = dense.get("recall_at_10")
            if not isinstance(recall, (int, float)) or isinstance(recall, bool) or not 0 <= recall <= 1:
                raise IndexInvalid(f"{where}: 'recall_at_10' is {repr(recall)[:40]}, not a number in [0, 1]")

    def _verify_files(self, path: Path, manifest: dict) -> None:
        expected = manifest.get("files") or {}
        for required in (DOCUMENTS, PASSAGES):
            if required not in expected:
                raise IndexInvalid(f"{path.name}/{MANIFEST} lists no {required}")
        for name, digest in expected.items():
            file = path / name
            try:
                found = sha256_file(file)  # no is_file() first: the file may go between the two
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                raise IndexInvalid(f"index file {path.name}/{name} is missing") from None
            except OSError as e:
                raise IndexInvalid(f"index file {path.name}/{name} cannot be read ({e})") from None
            if found != digest:
                raise IndexInvalid(f"index file {path.name}/{name} is corrupted (SHA-256 differs from the manifest)")
        extra = set(file_hashes(path)) - set(expected)
        if extra:
            raise IndexInvalid(f"index build {path.name} has files the manifest does not list: {', '.join(sorted(extra))}")

    @staticmethod
    def _verify_counts(path, manifest, documents, passages, lexical, dense) -> None:
        counts = manifest.get("counts", {})
        found = {"documents": len(documents), "passages": len(passages), "lexical": lexical.size,
                 "vectors": dense.size if dense else 0}
        wanted = {"documents": counts.get("documents"), "passages": counts.get("passages"),
                  "lexical": counts.get("passages"), "vectors": counts.get("vectors")}
        for key in found:
            if found[key] != wanted[key]:
                raise IndexInvalid(f"index build {path.name}: {key} count {found[key]} differs from the manifest's {wanted[key]}")
        embedding = manifest.get("embedding")
        if dense is not None and (embedding is None or dense.dimension != embedding.get("dimension")):
            raise IndexInvalid(f"index build {path.name}: vectors have dimension {dense.dimension}, "
                               f"the manifest says {embedding and embedding.get('dimension')}")
        if dense is None and embedding is not None:
            raise IndexInvalid(f"index build {path.name}: manifest names an embedding model but there are no vectors")
        if dense is None and manifest.get("dense") is not None:
            raise IndexInvalid(f"index build {path.name}: manifest describes a dense index but there are no vectors")
        if dense is not None:
            record = manifest.get("dense", LEGACY_DENSE)
            if record is None:
                raise IndexInvalid(f"index build {path.name}: manifest says there is no dense index but there are vectors")
            if dense.kind != record["type"]:
                raise IndexInvalid(f"index build {path.name}: the dense index is {dense.kind}, "
                                   f"the manifest says {record['type']}")
            if dense.kind == "hnsw" and (dense.info["M"], dense.info["efConstruction"]) != (record["M"], record["efConstruction"]):
                raise IndexInvalid(f"index build {path.name}: the HNSW graph has M={dense.info['M']}, "
                                   f"efConstruction={dense.info['efConstruction']}, the manifest says "
                                   f"M={record['M']}, efConstruction={record['efConstruction']}")

    # --- writing (hold the lock) ---------------------------------------------------------
    backend = "local"

    def write_build(self, documents, passages, vectors, lexical: LexicalIndex, manifest: dict, settings,
                    report, started: float) -> LoadedIndex:
        """Write a build's files (FAISS over `vectors`, bm25s, JSONL), fill the manifest's dense
        record, file hashes and time, and make it live (rag.index.builder.build_index)."""
        dense = None
        if vectors is not None:
            dense = DenseIndex.build(vectors, kind=settings.dense_index, hnsw_threshold=settings.hnsw_threshold,
                                     target_recall=settings.hnsw_target_recall, report=report)
            manifest["dense"] = dense.describe()
        tmp = self.new_build_dir()
        try:
            report(f"Writing the index files to {tmp.name}")
            write_jsonl(tmp / DOCUMENTS, (dataclasses.asdict(d) for d in documents))
            write_jsonl(tmp / PASSAGES, (p.to_json() for p in passages))
            lexical.save(tmp / LEXICAL)
            if dense is not None:
                dense.save(tmp / DENSE)
            manifest["files"] = file_hashes(tmp)
            manifest["build_seconds"] = round(time.perf_counter() - started, 3)
            (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            path = self.commit(tmp)
        except BaseException:  # a full disk, a read-only folder, Ctrl-C: leave no partial build behind
            self.discard(tmp)
            raise
        return LoadedIndex(path, manifest, {d.doc_id: d for d in documents}, passages, lexical, dense)

    @contextlib.contextmanager
    def lock(self, timeout_s: float):
        """One writer at a time: wait up to `timeout_s` for another build, then IndexBusy."""
        from filelock import FileLock, Timeout

        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.root / ".lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            report_to_stderr(f"another index build is running (lock {self.root / '.lock'}); "
                             f"waiting up to {timeout_s:.0f} s")
            try:
                lock.acquire(timeout=timeout_s)
            except Timeout:
                raise IndexBusy(f"another index build still holds {self.root / '.lock'} after "
                                f"{timeout_s:.0f} s; try again when it has finished") from None
        try:
            yield
        finally:
            lock.release()

    def new_build_dir(self) -> Path:
        name = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:8]
        path = self.builds / f".tmp-{name}"
        path.mkdir(parents=True)
        return path

    def discard(self, tmp: Path) -> None:
        """Remove a build that failed before it went live: on a full disk, every failed try
        would otherwise leave its files behind and keep the disk full."""
        final = tmp.with_name(tmp.name.removeprefix(".tmp-"))
        with contextlib.suppress(OSError):
            # commit may have renamed it before failing: back to its unpublished name first, so
            # a kill halfway through rmtree leaves no half-deleted build under a published name
            if final != self.current_dir_or_none() and final.is_dir():
                os.replace(final, tmp)
        shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(OSError):
            (self.root / "CURRENT.tmp").unlink(missing_ok=True)

    def clear_stale(self) -> list[str]:
        """Remove `.tmp-*` builds that killed or failed builds left, and name them. Only under the
        lock: then no other build is writing one."""
        stale = sorted(self.builds.glob(".tmp-*")) if self.builds.is_dir() else []
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
        return [path.name for path in stale if not path.exists()]

    def commit(self, tmp: Path) -> Path:
        """Publish a finished build: rename it into place, then switch CURRENT to it."""
        fsync_tree(tmp)
        final = tmp.with_name(tmp.name.removeprefix(".tmp-"))
        os.replace(tmp, final)
        fsync_dir(self.builds)
        staged = self.root / "CURRENT.tmp"
        with open(staged, "w", encoding="utf-8") as f:
            f.write(final.name + "\n")
            f.flush()
            os.fsync(f.fileno())
        previous = self.current_dir_or_none()
        os.replace(staged, self.pointer)
        fsync_dir(self.root)
        self._prune(keep={final.name, previous.name if previous else ""})
        return final

    def current_dir_or_none(self) -> Path | None:
        try:
            return self.current_dir()
        except IndexInvalid:
            return None

    def set_aside(self, reason: str) -> Path | None:
        """Rename the live build out of the way (kept for inspection, never deleted). A pointer
        that names no build is kept the same way, as CURRENT.invalid-<time>."""
        stamp = time.strftime('%Y%m%dT%H%M%S', time.gmtime())
        try:
            path = self.current_dir()
            pointer_damaged = path is not None and not path.is_dir()
        except IndexInvalid:
            path, pointer_damaged = None, True
        if pointer_damaged:
            target = self.root / f"{self.pointer.name}.invalid-{stamp}"
            os.replace(self.pointer, target)
            fsync_dir(self.root)
            return target
        if path is None:
            return None
        target = path.with_name(f"{path.name}.invalid-{stamp}")
        os.replace(path, target)
        (target / "WHY.txt").write_text(reason + "\n", encoding="utf-8")
        return target

    def _prune(self, keep: set[str]) -> None:
        """Remove older builds and half-written ones left by killed builds; keep set-aside ones."""
        for path in self.builds.iterdir():
            if path.name in keep or ".invalid-" in path.name or not path.is_dir():
                continue
            # Renamed first: a kill halfway through rmtree must not leave a half-deleted build
            # under a published name.
            doomed = path if path.name.startswith(".tmp-") else path.with_name(f".tmp-removing-{path.name}")
            try:
                if doomed != path:
                    os.replace(path, doomed)
            except OSError:  # the new build is live already; an old one left is removed next time
                continue
            shutil.rmtree(doomed, ignore_errors=True)
