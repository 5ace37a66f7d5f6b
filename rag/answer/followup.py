"""Follow-up questions in a chat: a question that leans on the previous turn is read in its
context, and says so ("Ditafsirkan sebagai: …" / "Interpreted as: …").

A question leans on the previous one when it
- opens with a connective ("and …", "dan …", "lalu …", "what about …", "bagaimana dengan …"),
- refers back with a pronoun ("it", "they", "dia", "mereka", "tersebut") or Indonesian's
  possessive "-nya" ("direkturnya"), or
- has no subject of its own: no name, and at most two content words ("who attended?",
  "berapa nilainya?").
It is then answered from the articles the previous answer cited, and said so with the previous
question's subject (its names, else its content words); when that answer cited nothing, the
subject's words are added to the question instead. "What about <a new name>?" asks the previous
question again about that name, from the whole corpus. Any other question with a name the
previous one did not have starts afresh. Pronouns and connectives are closed word classes, listed
here; everything else is the stop-word lists BM25 uses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from rag.search import stopwords

# Connectives that continue the previous question; the first group asks it again of a new subject.
_AGAIN = r"what about|how about|and what about|what of|bagaimana dengan|gimana dengan|kalau|bagaimana kalau"
_OPENER = re.compile(rf"^\s*(?:(?P<again>{_AGAIN})|and|but|also|then|so|dan|lalu|terus|trus|kemudian|juga|"
                     r"sedangkan|serta|tapi|namun)\b[\s,]*", re.I)
# Words that point back at something named before (personal and demonstrative pronouns).
_REFERRING = frozenset("it its they them their theirs he him his she her this that these those there "
                       "dia ia beliau mereka itu tersebut ini sana situ".split())
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


@dataclass(frozen=True)
class Turn:
    """What the next question may lean on: the question as answered, the articles its answer cited."""
    question: str
    doc_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reading:
    question: str                 # what is answered
    rewritten: bool = False       # read in the previous turn's context (say so)
    doc_ids: tuple[str, ...] = ()  # keep retrieval to these articles; () for the whole corpus
    about: str = ""               # the previous subject it was read with (said, not searched for)


def names(question: str) -> list[str]:
    """The names in a question, as the fact checker reads them (rag.factcheck.names: capitalised
    runs without the function word that opens them, "Who", "Siapa"), without a possessive "'s" and
    without a lone month or weekday ("in December" names nothing)."""
    from rag.evidence.quantities import calendar_words
    from rag.factcheck.names import claim_names

    found = [re.sub(r"['’]s$", "", name) for name in claim_names(question)]
    return list(dict.fromkeys(n for n in found if n.casefold() not in calendar_words()))


def _content_words(text: str) -> list[str]:
    return [w for w in (w.casefold() for w in _WORD.findall(text)) if w not in stopwords.ALL]


def subject(question: str) -> str:
    """What a question is about: its names, else its content words."""
    return ", ".join(names(question)) or " ".join(_content_words(question))


def _refers_back(question: str) -> bool:
    words = [w.casefold() for w in _WORD.findall(question)]
    return any(w in _REFERRING for w in words) or any(
        w.endswith("nya") and len(w) > 5 and w not in stopwords.ALL for w in words)


def read(question: str, previous: Turn | None) -> Reading:
    """How to answer `question` after `previous` (None: the conversation's first question)."""
    if previous is None:
        return Reading(question)
    opener = _OPENER.match(question)
    rest = question[opener.end():] if opener else question
    before = {n.casefold() for n in names(previous.question)}
    new_names = [n for n in names(rest) if n.casefold() not in before]
    if opener and opener["again"] and new_names:  # "what about Zorvex?": the last question, of Zorvex
        old = names(previous.question)
        # the last name is what was asked about: "the President Director of <Zorvex>"
        again = (previous.question.replace(old[-1], new_names[0], 1) if old
                 else f"{previous.question.rstrip('?. ')} ({new_names[0]})?")
        return Reading(again, rewritten=True)
    if new_names:
        return Reading(question)  # a subject of its own: a new question
    if not (opener or _refers_back(rest) or (not names(rest) and len(_content_words(rest)) <= 2)):
        return Reading(question)
    about = subject(previous.question)
    base = rest.strip().rstrip("?.! ") or question.strip().rstrip("?.! ")
    if previous.doc_ids:
        # The previous answer's articles carry the context; the subject's words added to the
        # search would pull it back to the sentence that answered the previous question.
        return Reading(f"{base[:1].upper()}{base[1:]}?", rewritten=True, doc_ids=previous.doc_ids, about=about)
    if about and about.casefold() not in base.casefold():
        base = f"{base} ({about})"  # nothing was cited: the subject's words must find it
    return Reading(f"{base[:1].upper()}{base[1:]}?", rewritten=True)
