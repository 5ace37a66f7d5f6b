"""Who did what, read from the names' neighbours: a claim that gives a thing, an act or a partner to
another organisation than the article does.

Three shapes news text uses, in both languages:
- what belongs to a name: "teknologi vaksin inhalasi dari Beta Pharma", "vaccine technology developed
  by Beta Pharma", "Beta Pharma's inhaled vaccine" — in the article, the name after the thing;
- who acts: "Kemendag ... menerima usulan", "Medisa shipped ..." — the name before the act;
- who partners: "Sinar Farma dan Delta", "BPOM with MFDS".
The claim's shape is found around each of its names; the article's sentence is searched for the
same words (stems and the glossary, so across languages too), and the name standing in the same
place there is compared. A different name there, and the claim's name not there, is a conflict.

>>> relation_conflicts("BPOM menerima proposal Medipark.", ["BPOM", "Medipark"],
...     "Kementerian Perindustrian (Kemenperin) baru-baru ini menerima proposal dari sebuah grup usaha.",
...     [("Kementerian Perindustrian", 0), ("Kemenperin", 27)], "id")
[('BPOM menerima proposal', 'Kemenperin) baru-baru ini menerima proposal')]
"""
from __future__ import annotations

import re

from rag.search import stopwords
from rag.search.analysis import passage_terms, query_term_sets

_WORD = re.compile(r"[\w’'-]+")
_OWNED_BY = re.compile(r"^(?:dari|milik|oleh|from|by|of|developed\s+by|made\s+by|buatan|karya)$", re.I)
_CONNECTOR = re.compile(r"^(?:with|dengan|starting|beginning|dimulai|diawali)$", re.I)
_PARTNER = re.compile(r"\s+(?:dan|and|with|dengan|bersama)\s+$", re.I)
REACH = 4  # words between the matched context and the name standing there
CONTEXT = 3  # content words of the claim taken as a name's context


_FIRST = re.compile(r"^(?:starting|beginning|dimulai|diawali)$", re.I)


def _first_of(before: list[tuple[str, int, int]]) -> bool:
    """"... starting with N", "dimulai dengan N", "diawali N": N is what came first."""
    last = [w[0].casefold() for w in before[-2:]]
    return bool(_FIRST.match(last[-1]) or (len(last) == 2 and last[1] in ("with", "dengan") and _FIRST.match(last[0])))


def _words(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def _content(words: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    return [w for w in words if w[0].casefold() not in stopwords.ALL and not _OWNED_BY.match(w[0])
            and not _CONNECTOR.match(w[0])]


def _found_at(context: list[str], tokens: list[tuple[str, int, int]], lang: str) -> tuple[int, int] | None:
    """The token span of the sentence where at least two of `context` (claim words, any
    language; the rest may be worded otherwise) stand within a few words of each other, or None."""
    sets = [set().union(*query_term_sets(w, translate=True)) or {w.casefold()} for w in context]
    terms = [set(passage_terms(t[0], lang)) or {t[0].casefold()} for t in tokens]
    best = None
    for i in range(len(tokens)):
        window = range(i, min(len(tokens), i + len(context) + REACH))
        hits = [h for h in (next((j for j in window if terms[j] & s), None) for s in sets) if h is not None]
        if len(hits) >= 2 and i in hits:
            # the most of the context, then the tightest: "teknologi vaksin inhalasi", not a
            # "vaksin" earlier in the sentence with "teknologi" far after it
            key = (len(hits), -(max(hits) - min(hits)))
            if best is None or key > best[0]:
                best = (key, (min(hits), max(hits)))
    return best[1] if best else None


def _name_at(names: list[tuple[str, int]], tokens, span: tuple[int, int], after: bool,
             sentence: str = "") -> tuple[str, int] | None:
    """The name standing after (or before) the token span: after, the first one a word like
    "dari"/"from" introduces within twice REACH words ("vaksin hepatitis dan HPV dari Alfa Bio":
    the virus's name is part of the thing), else the nearest within REACH."""
    if after:
        end = tokens[span[1]][2]
        far = tokens[min(len(tokens) - 1, span[1] + 2 * REACH)][2]
        introduced = [(n, s) for n, s in names if end <= s <= far
                      and _OWNED_BY.match((sentence[:s].split() or [""])[-1])]
        if introduced:
            return min(introduced, key=lambda n: n[1])
        limit = tokens[min(len(tokens) - 1, span[1] + REACH)][2]
        following = [(n, s) for n, s in names if end <= s <= limit]
        return min(following, key=lambda n: n[1]) if following else None
    limit = tokens[max(0, span[0] - REACH)][1]
    preceding = [(n, s) for n, s in names if limit <= s + len(n) <= tokens[span[0]][1]]
    return max(preceding, key=lambda n: n[1]) if preceding else None


def _same(a: str, b: str) -> bool:
    """Names that may be the same thing: a word in common ("Korea-Indonesia" and "Korea"), or in
    translation ("Tiongkok" and "Chinese partners")."""
    fold = lambda s: {w.casefold() for w in re.findall(r"[^\W_]+", s)}
    if fold(a) & fold(b):
        return True
    translated = set().union(*query_term_sets(a, translate=True))
    return bool(translated & (set(passage_terms(b, "id")) | set(passage_terms(b, "en"))))


def _aliases(sentence: str, names: list[tuple[str, int]]) -> dict[str, set[str]]:
    """Each name with the names it is also called in the sentence: "PT Medisa Nusantara
    Laboratories (Medisa)", "Ministry of Food and Drug Safety (MFDS)"."""
    out: dict[str, set[str]] = {n: {n} for n, _ in names}
    for name, start in names:
        # the parenthesis may close a longer name: "South Korea's Ministry of Food and Drug Safety (MFDS)"
        after = re.match(r"(?:\s+(?:of|for|and|dan|&)?\s*[A-Z][\w’'&.-]*){0,6}\s*\(\s*", sentence[start + len(name):])
        if after:
            inner = next((n for n, s in names if s == start + len(name) + after.end()), None)
            if inner:
                out[name].add(inner)
                out[inner].add(name)
    return out


_PLACE_WORD = re.compile(r"(?:^|\s)(?:di|ke|dari|in|to|at|from)\s+$", re.I)


def relation_conflicts(claim: str, claim_names: list[str], sentence: str, sentence_names: list[tuple[str, int]],
                       lang: str) -> list[tuple[str, str]]:
    """(the claim's words, the sentence's words) for each name the sentence puts somewhere else."""
    tokens = _words(sentence)
    if not tokens:
        return []
    aliases = _aliases(sentence, sentence_names)
    claim_words = _words(claim)
    out = []
    for name in claim_names:
        at = claim.find(name)
        if at < 0:
            continue
        before = [w for w in claim_words if w[2] <= at]
        after = [w for w in claim_words if w[1] >= at + len(name)]
        shapes = []
        named = {w.casefold() for n in claim_names for w in _WORD.findall(n)}
        unnamed = lambda words: [w for w in _content(words) if w[0].casefold() not in named]
        if before and (_OWNED_BY.match(before[-1][0]) or _first_of(before)):
            # "X dari N": the thing, then the name after it; "... starting with N": what comes first
            shapes.append((unnamed(before)[-CONTEXT:], True))
        elif claim[at + len(name):at + len(name) + 2] in ("’s", "'s") and after:
            # "Beta Pharma's HPV vaccine": the owner, then the thing (the article may say "... dari Alfa Bio")
            shapes.append((unnamed(after)[:CONTEXT], True))
        elif after and not claim[at + len(name):after[0][1]].strip():
            # "N menerima proposal": the name, then its act (not "N, ...", "N-bound", "N's")
            shapes.append((unnamed(after)[:CONTEXT - 1], False))
        for context, name_after in shapes:
            if len(context) < 2:
                continue
            span = _found_at([w[0] for w in context], tokens, lang)
            if span is None:
                continue
            rival = _name_at(sentence_names, tokens, span, name_after, sentence)
            # an act's doer is not a place ("... ke Tiongkok selama sepekan, mulai"); a thing's
            # owner may follow "dari" ("vaksin ... dari Alfa Bio")
            if (rival and (name_after or not _PLACE_WORD.search(sentence[:rival[1]]))
                    and not any(_same(alias, n) for alias in aliases[rival[0]] for n in claim_names)):
                claimed = claim[min(at, context[0][1]):max(at + len(name), context[-1][2])]
                shown = sentence[min(rival[1], tokens[span[0]][1]):max(rival[1] + len(rival[0]), tokens[span[1]][2])]
                out.append((claimed, shown))
        partner = _PARTNER.search(claim, 0, at)
        if partner:
            out += _partner_conflicts(claim, claim_names, name, partner, sentence, sentence_names, aliases)
    return out


def _partner_conflicts(claim, claim_names, name, partner, sentence, sentence_names, aliases) -> list[tuple[str, str]]:
    """"A dan B" in the claim, "A dan C" in the sentence (a parenthesis may stand between)."""
    first = next((n for n in claim_names if claim.find(n) + len(n) == partner.start()), None)
    if first is None:
        return []
    for found, start in sentence_names:
        if not _same(found, first):
            continue
        tail = re.match(r"(?:\s*\([^)]{1,40}\))?\s+(?:dan|and|with|dengan|bersama)\s+", sentence[start + len(found):])
        if not tail:
            continue
        other_at = start + len(found) + tail.end()
        other = next(((n, s) for n, s in sentence_names if s == other_at), None)
        if other and not any(_same(alias, n) for alias in aliases[other[0]] for n in claim_names):
            return [(f"{first}{partner.group()}{name}", sentence[start:other_at + len(other[0])])]
    return []
