"""The errors Warta raises on purpose. Each message names the problem and, where there is one, the fix."""


class EmptyInput(ValueError):
    """A question, query or claim with nothing in it; `what` names which."""

    def __init__(self, what: str, detail: str = "") -> None:
        super().__init__(f"the {what} is empty{detail}")
        self.what = what


class NotText(ValueError):
    """A question, query or claim that is not a string (a number, list or object sent to /ask)."""

    def __init__(self, what: str, value) -> None:
        super().__init__(f"the {what} must be text (got {type(value).__name__})")
        self.what, self.kind = what, type(value).__name__


class WartaError(Exception):
    """Base class: the CLI prints these as one line on stderr and exits non-zero."""


class ConfigError(WartaError):
    """A setting has a value Warta cannot use."""


class CorpusError(WartaError):
    """The corpus cannot be read at all (missing folder, no documents)."""


class ModelUnavailable(WartaError):
    """A model is neither a local directory nor in the local cache, and cannot be fetched."""


class IndexInvalid(WartaError):
    """The index on disk is missing, corrupted, or built from other data or another model."""


class BackendUnavailable(WartaError):
    """The index's server (WARTA_BACKEND=postgres) does not answer; the next request tries again."""


class IndexBusy(WartaError):
    """Another process holds the index build lock."""


class NotReady(WartaError):
    """The pipeline is still being opened (models loading, index being built)."""


class IndexUnwritable(WartaError):
    """The index cannot be written (disk full, read-only folder) and there is none to serve."""

    def __init__(self, notice) -> None:  # a rag.messages.Notice, so the page can say it in both languages
        super().__init__(notice.say("en"))
        self.notice = notice
