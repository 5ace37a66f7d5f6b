"""The pipeline opened in a background thread, so a server can answer "not ready yet" meanwhile.

    service = PipelineService(settings).start()
    service.pipeline()      # raises NotReady("Embedding 58 passages ...") while the index builds
    service.wait(600)       # True once open; the Warta object is shared by every request after

Opening (loading models, building a missing index) can take minutes on a first run; a web page
that only appears afterwards looks broken. The stages go to `report` (stderr by default) and are
kept, so a page can show the latest one.
"""
from __future__ import annotations

import sys
import threading
import time
import traceback
from typing import Callable

from rag.config import Settings
from rag.errors import BackendUnavailable, NotReady, WartaError
from rag.pipeline import Warta
from rag.index.ensure import Report
from rag.messages import report_to_stderr


# Seconds between tries while the index's server (WARTA_BACKEND=postgres) does not answer at start:
# a database that comes up after the app (a reboot, a failover) is found without a restart.
RETRY_SECONDS = (1, 2, 5, 10, 30, 60)


class PipelineService:
    def __init__(self, settings: Settings, with_generator: bool = True, report: Report = report_to_stderr,
                 opener: Callable[..., Warta] = Warta.open) -> None:
        self.settings = settings
        self.with_generator = with_generator
        self._report = report
        self._opener = opener
        self._ready = threading.Event()
        self._warta: Warta | None = None
        self._error: Exception | None = None
        self.stage = "starting"
        self._thread: threading.Thread | None = None
        self._refresh_lock = threading.Lock()

    def start(self) -> "PipelineService":
        if self._thread is None:
            self._thread = threading.Thread(target=self._open, name="warta-open", daemon=True)
            self._thread.start()
        return self

    def _note(self, message: str) -> None:
        self.stage = message
        self._report(message)

    def _open(self) -> None:
        try:
            for attempt in range(1 << 30):
                try:
                    self._warta = self._opener(self.settings, report=self._note, with_generator=self.with_generator,
                                               serving=True)
                    break
                except BackendUnavailable as e:
                    wait = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
                    self._note(f"{e}; trying again in {wait} s")
                    time.sleep(wait)
            self.stage = "ready"
        except WartaError as e:
            self._error = e
            self._report(f"cannot start: {e}")
        except Exception as e:  # a bug: keep the traceback on stderr, and let the page say it failed
            traceback.print_exc(file=sys.stderr)
            self._error = e
        finally:
            self._ready.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Whether opening has finished (successfully or not) within `timeout` seconds."""
        return self._ready.wait(timeout)

    @property
    def state(self) -> str:
        """'opening', 'ready' or 'failed'."""
        if not self._ready.is_set():
            return "opening"
        return "ready" if self._warta is not None else "failed"

    @property
    def error(self) -> Exception | None:
        return self._error

    def refresh(self) -> Warta:
        """Serve the corpus as it is now (documents were added): a new Warta on the same models,
        its index updated, replaces the open one for the next requests; those under way finish on
        the one they hold. One refresh at a time; a failure leaves the open one serving."""
        with self._refresh_lock:
            fresh = self.pipeline().reopened(report=self._report)
            self._warta = fresh  # one assignment: a request sees the old Warta or the new, whole
        return fresh

    def pipeline(self) -> Warta:
        """The open pipeline; NotReady while it opens; the startup error if it failed."""
        if not self._ready.is_set():
            raise NotReady(self.stage)
        if self._warta is None:
            raise self._error
        return self._warta
