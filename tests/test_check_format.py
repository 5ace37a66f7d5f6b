"""The fact-check panel's HTML, built from real verdicts on the seed corpus (no server)."""
import doctest
import re

import pytest

import rag.evidence.quantities
import rag.factcheck.names
import rag.factcheck.roles
import rag.web.check_format
from rag.web.check_format import empty_verdict_panel, verdict_panel

ALLOWED_TAGS = {"div", "span", "p", "blockquote", "mark", "h4", "ol", "li"}


@pytest.mark.parametrize("module", [rag.web.check_format, rag.factcheck.names, rag.factcheck.roles,
                                    rag.evidence.quantities])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


def test_a_contradiction_shows_badge_explanation_and_marks_both_sides(seed_warta):
    panel = verdict_panel(seed_warta.check("MiLab projects annual exports of 12 million units by 2030."))
    assert '<span class="warta-badge warta-badge-contradicted">Contradicted / Dibantah</span>' in panel
    assert '<blockquote class="warta-claim">MiLab projects annual exports of <mark class="warta-diff">12 million units' in panel
    assert 'annual exports of <mark class="warta-diff">9.3 million units</mark>' in panel
    assert 'id="warta-evidence-1"' in panel and "Bukti" not in panel and "Evidence" in panel


def test_the_panel_speaks_the_claims_language_first(seed_warta):
    panel = verdict_panel(seed_warta.check("Kepala BPOM bertemu Commissioner NMPA Li Li di Shanghai."))
    assert "Dibantah / Contradicted" in panel and "<h4>Bukti</h4>" in panel and "keyakinan" in panel
    assert '<mark class="warta-diff">Shanghai</mark>' in panel and '<mark class="warta-diff">Beijing</mark>' in panel


def test_markup_in_a_claim_is_escaped_and_nothing_else_is_emitted(seed_warta):
    claim = '<img src=x onerror=alert(1)> MiLab sudah mengekspor 900.000 unit Dermatix ke Tiongkok'
    panel = verdict_panel(seed_warta.check(claim))
    assert "&lt;img src=x onerror=alert(1)&gt;" in panel and "<img" not in panel
    assert set(re.findall(r"<([a-z0-9]+)", panel)) <= ALLOWED_TAGS


def test_not_found_lists_the_closest_passages_and_empty_panel_says_what_to_do(seed_warta):
    panel = verdict_panel(seed_warta.check("Kalbe Farma will produce HPV vaccines in Indonesia."))
    assert "Not in the corpus / Tidak ada di korpus" in panel
    assert "<h4>Closest passages (none bears the claim out)</h4>" in panel and "<li" in panel
    assert "Paste a claim" in empty_verdict_panel() and "&lt;b&gt;" in empty_verdict_panel("<b>")


@pytest.mark.parametrize("text,needles,marked", [
    # Case folding lengthens what comes before the needle: İ -> i̇, ß -> ss, ﬁ -> fi.
    ("İstanbul İzmir: 12 million units", ["12 million units"], "İstanbul İzmir: <mark>12 million units</mark>"),
    ("Straße 5, Berlin: 9.3 million units", ["9.3 million units"], "Straße 5, Berlin: <mark>9.3 million units</mark>"),
    ("ﬁnance ﬁrm ﬂow: Rp 2 triliun", ["Rp 2 triliun"], "ﬁnance ﬁrm ﬂow: <mark>Rp 2 triliun</mark>"),
    # The needle's own folding differs in length from the text's: the mark is the text's characters.
    ("Die Straße in İstanbul", ["STRASSE", "İSTANBUL"], "Die <mark>Straße</mark> in <mark>İstanbul</mark>"),
    ("ﬁnance and FINANCE", ["finance", "Finance"], "<mark>ﬁnance</mark> and <mark>FINANCE</mark>"),
    # A match ending inside one character's folding marks the whole character; two needles never overlap.
    ("Maß", ["mas"], "<mark>Maß</mark>"),
    ("ßß Beijing, Beijing", ["Beijing", "beijing"], "ßß <mark>Beijing</mark>, <mark>Beijing</mark>"),
    ("İİ <b> Shanghai", ["shanghai", ""], "İİ &lt;b&gt; <mark>Shanghai</mark>"),
])
def test_marks_cover_exactly_the_matching_characters_when_folding_changes_length(text, needles, marked):
    from rag.web.check_format import _marked

    assert _marked(text, needles).replace(' class="warta-diff"', "") == marked
