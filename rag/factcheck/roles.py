"""Who holds which role: the title a claim gives a person, against the title the article gives them.

News text attaches a title to a name in two ways: before it, capitalised, in one run of
capitalised words ("Walikota Surakarta Budi Santoso", "President Director Yusuf Halim"), or
after it, set off by commas ("Maria Sitorus, Director of Investment Promotion ..., said"). A claim
that gives a person another person's title ("Rina Wulandari, the mayor of Surakarta", when the
article names Rina Wulandari "Direktur Dinas Kesehatan" and Budi Santoso "Walikota Surakarta")
contradicts the article, whatever else it gets right.

Titles are compared word by word in both languages (stems and the glossary: "walikota" is
"mayor"); a name inside the claim's title that the article also names (the "Medisa" of "Medisa
President Director") needs no counterpart.

>>> [(t.person, t.title) for t in titles("Hadir antara lain Walikota Surakarta Budi Santoso, Direktur Dinas Kesehatan Rina Wulandari.")]
[('Budi Santoso', 'Walikota Surakarta'), ('Rina Wulandari', 'Direktur Dinas Kesehatan')]
>>> [(t.person, t.title) for t in titles("Rina Wulandari, the mayor of Surakarta, welcomed him.")]
[('Rina Wulandari', 'the mayor of Surakarta')]
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.factcheck.names import openers as _openers
from rag.search.analysis import passage_terms, query_term_sets

# A run of capitalised words (a title and a name), and what follows a name between commas.
_RUN = re.compile(r"[A-Z][\w’'&.-]*(?:[ \t]+(?:[A-Z][\w’'&.-]*|of|for|&))*")
_SENTENCE_END = re.compile(r"(?<=\w{5}\.)[ \t]+|\n")  # "Tiongkok. Kunjungan": not "Prof. Andi"
_APPOSITION = re.compile(r",[ \t]+(?P<title>(?:the[ \t]+|a[ \t]+|an[ \t]+|sang[ \t]+|selaku[ \t]+|sebagai[ \t]+)?[\w’'&.-]+(?:[ \t]+[\w’'&.-]+){0,9}?)[ \t]*(?=,|\)|[ \t]+(?:said|says|noted|told|added|stated|mengatakan|menyatakan|menegaskan|mengungkapkan|bilang)\b)")
# A lower-case title right before a name, with the organisation before it ("Dinas Kesehatan director
# Budi Santoso", "Surakarta mayor Rina Wulandari"); where a person is from ("Dewi Lestari from
# the Indonesian Pharmaceutical Companies Association", "... dari KADIN Bandung").
_TITLE_BEFORE = re.compile(r"(?P<title>(?:[A-Z][\w’'&.-]*[ \t]+){0,3}[a-z]+)[ \t]+$")
# "Rina Wulandari adalah Walikota Surakarta", "X is the mayor of Y", "X serves as director".
_PREDICATE = re.compile(r"[ \t]+(?:adalah|merupakan|ialah|menjabat(?:[ \t]+sebagai)?|sebagai|is|was|serves[ \t]+as|"
                        r"served[ \t]+as|as)[ \t]+(?P<title>[\w’'&.-]+(?:[ \t]+[\w’'&.-]+){0,6}?)[ \t]*(?=[,.;:!?)]|$)")
_AFFILIATION = re.compile(r"[ \t]+(?P<title>(?:from|dari|of)[ \t]+(?:the[ \t]+)?[A-Z][\w’'&.-]*(?:[ \t]+(?:[A-Z][\w’'&.-]*|of|for|and|dan|&))*)")
# Words that name a role (heads of titles). Person names are at least two words; the title is
# what precedes them in the run. These are the common title heads of both languages' news.
TITLE_WORDS = frozenset("""
kepala ketua wakil direktur presiden menteri walikota wali bupati gubernur duta komisaris deputi
sekretaris juru kapolri kapolda rektor dekan chairman chairwoman chair president director minister
mayor governor regent ambassador commissioner deputy secretary head chief spokesperson spokesman
ceo cfo coo founder vice manager officer rector dean general
""".split())


@dataclass(frozen=True)
class Titled:
    person: str
    title: str
    start: int  # where the person's name starts in the text
    phrase: str = ""  # title and person as the text writes them ("Rina Wulandari adalah Walikota Surakarta")


def _title_like(words: list[str]) -> bool:
    return any(w.casefold().strip("’'s") in TITLE_WORDS for w in words)


def titles(text: str) -> list[Titled]:
    """The people in `text` whose title it gives, before the name in one capitalised run or
    right after it between commas."""
    out = []
    runs = list(_runs(text))
    for number, run in enumerate(runs):
        words = run.group().rstrip(".,").split()
        while words and words[0].casefold() in _openers():  # "Menurut Presiden Direktur Yusuf Halim"
            words = words[1:]
        if not words:
            continue
        # the person is the last two or three capitalised words after the last title word
        heads = [i for i, w in enumerate(words) if w.casefold().strip("’'s") in TITLE_WORDS]
        following = runs[number + 1] if number + 1 < len(runs) else None
        following_is_person = (following is not None and 2 <= len(following.group().split()) <= 3
                               and not _title_like(following.group().split())
                               and re.fullmatch(r",[ \t]+", text[run.start() + len(run.group()):following.start()]))
        owner = next((i for i, w in enumerate(words[:-2]) if w.endswith(("’s", "'s"))), None)
        if owner is not None and not heads and 2 <= len(words) - owner - 1 <= 4:
            # "KADIN Bandung's Kim Min Jun": whose person it is, then the person
            title, person = " ".join(words[:owner + 1]), " ".join(words[owner + 1:])
            out.append(Titled(person, title, run.start() + run.group().index(person, len(title)),
                              phrase=" ".join(words)))
            continue
        if heads and following_is_person:
            # "Presiden Direktur Medisa, Maria Sitorus", "Chairman Delta Pharmaceutical Group, Li
            # Wei": the title (an organisation's name may end it), a comma, the person
            title = " ".join(words)
            out.append(Titled(following.group().rstrip(".,"), title, following.start(),
                              phrase=text[run.start() + run.group().index(title):following.start()
                                          + len(following.group().rstrip(".,"))]))
            continue
        if heads and heads[-1] < len(words) - 2:
            cut = heads[-1] + 1
            while cut < len(words) - 2 and words[cut][:1].isupper():
                cut += 1  # "Direktur Dinas Kesehatan Rina Wulandari": the title runs to the last two words
            person = " ".join(words[cut:])
            title = " ".join(words[:cut])
            if not all(w[:1].isupper() for w in words[cut:]):
                continue
            out.append(Titled(person, title, run.start() + run.group().index(person, len(title)),
                              phrase=run.group().rstrip(".,")))
            continue
        if 2 <= len(words) <= 4 and not heads:
            end = run.start() + len(run.group().rstrip(".,"))
            before = _TITLE_BEFORE.search(text, max(0, run.start() - 60), run.start())
            after = _APPOSITION.match(text, end) or _AFFILIATION.match(text, end)
            predicate = _PREDICATE.match(text, end)
            if predicate and _title_like(predicate["title"].split()):
                title = predicate["title"].rstrip(".,")
                out.append(Titled(" ".join(words), title, run.start(),
                                  phrase=text[run.start():predicate.start("title") + len(title)]))
            elif before and _title_like(before["title"].split()[-1:]):
                out.append(Titled(" ".join(words), before["title"], run.start(), phrase=text[before.start():end]))

            elif after and (_title_like(after["title"].split()) or after.re is _AFFILIATION):
                out.append(Titled(" ".join(words), after["title"], run.start(), phrase=text[run.start():after.end("title")]))
    return out


def _runs(text: str):
    """Capitalised runs, cut where a sentence ends inside one."""
    for piece in _SENTENCE_END.split(text):
        offset = text.find(piece)
        for run in _RUN.finditer(piece):
            # "Lee Jang Hee of the Korea ... Association": the run stops before "of"
            yield _Run(re.sub(r"(?:[ \t]+(?:of|for|&))+$", "", run.group()), offset + run.start())


@dataclass(frozen=True)
class _Run:
    text: str
    begin: int

    def group(self) -> str:
        return self.text

    def start(self) -> int:
        return self.begin


@lru_cache(maxsize=4096)
def _title_terms(title: str) -> tuple[frozenset, ...]:
    return tuple(frozenset(s) for s in query_term_sets(title, translate=True, spread=True) if s)


def _plain(word: str) -> bool:
    return word[:1].isupper() and word[1:].islower() or word.islower()


def title_differs(claimed: str, found: str, article_terms: frozenset) -> bool:
    """Whether the claim's title for a person says something the article's title does not:
    a common word of it ("mayor", "Health") that the article's title lacks in both languages.
    A name inside the claim's title that the article has anywhere ("Medisa") is left out."""
    found_terms = set(passage_terms(found, "id")) | set(passage_terms(found, "en"))
    for terms in _title_terms(_strip_articles(claimed)):
        if terms & found_terms:
            continue
        if terms & article_terms and not any(_plain(w) for w in claimed.split() if set(passage_terms(w, "en")) & terms):
            continue
        return True
    return False


def _strip_articles(title: str) -> str:
    return re.sub(r"\b(?:the|a|an|of|for|sang|selaku|sebagai)\b", " ", title, flags=re.I)


def role_conflicts(claim: str, document_text: str) -> list[tuple[str, str]]:
    """(the claim's "title person", the article's "title person") for each person the claim
    titles otherwise than the article does."""
    article, article_terms, words = _article(document_text)
    out = []
    for claimed in titles(claim):
        same = [found for found in article if _key(found.person) == _key(claimed.person)]
        # whom the article gives the claim's title: the swapped person
        holders = [found for found in article if _key(found.person) != _key(claimed.person)
                   and not title_differs(claimed.title, found.title, article_terms)]
        # The article may title a person more than once ("Kepala BPOM", "Head of BPOM"): the
        # claim's title differs only when it differs from every one of them. A person the article
        # names without a title conflicts only with a holder of a title specific enough to be one
        # office ("vice chairman of the Korea Pharmaceutical & Bio Association", not "director").
        differs = same and all(title_differs(claimed.title, found.title, article_terms) for found in same)
        untitled = (not same and holders and _specific(claimed.title)
                    and all(w.casefold() in words for w in claimed.person.split()))
        if differs or untitled:
            pair = (_shown(claimed), "; ".join(dict.fromkeys(_shown(f) for f in holders[:1] + same[:1])))
            if pair not in out:
                out.append(pair)
    return out


def _specific(title: str) -> bool:
    """A title that names one office: a title word and at least two more words of content."""
    return len([w for w in _title_terms(_strip_articles(title))]) >= 3


@lru_cache(maxsize=256)
def _article(text: str) -> tuple[list[Titled], frozenset, frozenset]:
    """An article's titled people, its terms in both languages and its words: read once per
    article, not on every check."""
    terms = frozenset(passage_terms(text, "id")) | frozenset(passage_terms(text, "en"))
    return titles(text), terms, frozenset(w.casefold() for w in re.findall(r"[\w’'-]+", text))


def _key(person: str) -> tuple[str, ...]:
    return tuple(sorted(w.casefold() for w in person.split()))


def _shown(t: Titled) -> str:
    return t.phrase or f"{t.title} {t.person}"
