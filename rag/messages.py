"""Words Warta says to people, in both languages. One place, so they stay consistent."""

import sys
from dataclasses import dataclass, field

from rag.terminal import echo

MESSAGES = {
    "corpus_says": {"en": "The corpus says:", "id": "Menurut korpus:"},
    "quoted_in": {"en": {"id": "(quoted in Indonesian)", "en": ""},
                  "id": {"en": "(kutipan dalam bahasa Inggris)", "id": ""}},
    "abstain": {"en": "The corpus does not say. The closest passages are listed below; none of them answers the question.",
                "id": "Korpus tidak menyebutkan hal ini. Bagian yang paling dekat tercantum di bawah; tidak satu pun menjawab pertanyaan."},
    "no_match_filters": {"en": "No documents match the filters: {filters}.",
                         "id": "Tidak ada dokumen yang cocok dengan filter: {filters}."},
    "filtered_search": {"en": "Only the {count} document(s) matching the filters were searched: {filters}.",
                        "id": "Hanya {count} dokumen yang cocok dengan filter yang dicari: {filters}."},
    "bad_filter": {"en": "The filter cannot be used: {error}.", "id": "Filter tidak dapat dipakai: {error}."},
    "unverified": {"en": "(unverified)", "id": "(belum terverifikasi)"},
    "trimmed": {"en": "The question was shortened to its first {limit} characters.",
                "id": "Pertanyaan dipotong menjadi {limit} karakter pertama."},
    "invalid_text": {"en": "Characters that were not valid text (broken UTF-8) were replaced with \ufffd.",
                     "id": "Karakter yang bukan teks sah (UTF-8 rusak) diganti dengan \ufffd."},
    "control_chars": {"en": "Control characters (such as NUL) were removed.",
                      "id": "Karakter kontrol (seperti NUL) dihapus."},
    "generation_time": {"en": "The answer was cut off at the {seconds} s time limit for writing it (WARTA_GENERATION_SECONDS).",
                        "id": "Jawaban dipotong pada batas waktu penulisan {seconds} detik (WARTA_GENERATION_SECONDS)."},
    "withheld_instructions": {"en": "The generated answer was withheld: the model repeated Warta's instructions instead of answering from the corpus. The closest passages are listed below.",
                              "id": "Jawaban yang dihasilkan ditahan: model mengulang instruksi Warta alih-alih menjawab dari korpus. Bagian yang paling dekat tercantum di bawah."},
    "withheld_links": {"en": "The generated answer was withheld: it held only links or markup that no passage supports. The closest passages are listed below.",
                       "id": "Jawaban yang dihasilkan ditahan: isinya hanya tautan atau markup yang tidak didukung bagian mana pun. Bagian yang paling dekat tercantum di bawah."},
    "sources": {"en": "Sources", "id": "Sumber"},
    "verdict_supported": {"en": "The corpus supports the claim [1].", "id": "Korpus mendukung klaim ini [1]."},
    "verdict_figure": {"en": "The corpus says {found} [1], the claim says {claimed}.",
                       "id": "Korpus menyebut {found} [1], klaim menyebut {claimed}."},
    "verdict_negation": {"en": "The corpus says the opposite [1].", "id": "Korpus menyatakan sebaliknya [1]."},
    "verdict_place": {"en": "The corpus places it in {found} [1], the claim in {claimed}.",
                      "id": "Korpus menyebut lokasinya di {found} [1], klaim menyebut di {claimed}."},
    "verdict_role": {"en": "The corpus says {found} [1], the claim says {claimed}.",
                     "id": "Korpus menyebut {found} [1], klaim menyebut {claimed}."},
    "verdict_name": {"en": "The corpus names {found} [1], the claim names {claimed}.",
                     "id": "Korpus menyebut {found} [1], klaim menyebut {claimed}."},
    "verdict_nli_contradiction": {"en": "The language model reads passage [1] as contradicting the claim.",
                                  "id": "Model bahasa menilai bagian [1] bertentangan dengan klaim."},
    "verdict_nli_entailment": {"en": "The language model reads passage [1] as supporting the claim.",
                               "id": "Model bahasa menilai bagian [1] mendukung klaim."},
    "verdict_missing_figure": {"en": "The corpus covers this [1] but does not give {claimed}.",
                               "id": "Korpus membahas hal ini [1] tetapi tidak menyebut {claimed}."},
    "verdict_not_found_near": {"en": "The corpus does not say this; the closest passages it has are quoted below.",
                               "id": "Korpus tidak menyebutkan hal ini; bagian terdekat yang ada dikutip di bawah."},
    "evidence": {"en": "Evidence", "id": "Bukti"},
    "closest_to_claim": {"en": "Closest passages (none bears the claim out)",
                         "id": "Bagian terdekat (tidak ada yang memastikan klaim)"},
    "confidence": {"en": "confidence", "id": "keyakinan"},
    "verdict_not_found": {"en": "The corpus does not mention this.", "id": "Korpus tidak menyebutkan hal ini."},
    "verdict_label": {"en": {"supported": "Supported", "contradicted": "Contradicted", "not_found": "Not in the corpus"},
                      "id": {"supported": "Didukung", "contradicted": "Dibantah", "not_found": "Tidak ada di korpus"}},
    "closest": {"en": "Closest passages (none answers the question)",
                "id": "Bagian terdekat (tidak ada yang menjawab pertanyaan)"},
    "empty_question": {"en": "The question is empty: type a question about the corpus.",
                       "id": "Pertanyaan kosong: tulis pertanyaan tentang isi korpus."},
    "empty_claim": {"en": "The claim is empty: paste a claim to check against the corpus.",
                    "id": "Klaim kosong: tempel klaim yang akan diperiksa terhadap korpus."},
    "not_ready": {"en": "The index is being built ({stage}). Please ask again in a moment.",
                  "id": "Indeks sedang dibangun ({stage}). Silakan bertanya lagi sebentar lagi."},
    "cannot_start": {"en": "Warta could not start: {error}",
                     "id": "Warta tidak dapat dimulai: {error}"},
    "backend_unavailable": {"en": "Warta cannot reach its index right now: {error}",
                            "id": "Warta tidak dapat menjangkau indeksnya saat ini: {error}"},
    "busy": {"en": "Warta is busy, please try again in a moment.",
             "id": "Warta sedang sibuk, silakan coba lagi sebentar lagi."},
    "interpreted_as": {"en": "Interpreted as: {question}", "id": "Ditafsirkan sebagai: {question}"},
    "from_previous": {"en": " (about {about}, from the previous answer's articles)",
                      "id": " (tentang {about}, dari artikel jawaban sebelumnya)"},
    "too_large": {"en": "The request is too large (over {limit}); a question is read up to its first {chars} characters.",
                  "id": "Permintaan terlalu besar (lebih dari {limit}); pertanyaan dibaca sampai {chars} karakter pertamanya."},
    "host_refused": {"en": "This server does not answer to the name {host}. An operator serving it under that name adds it to WARTA_ALLOWED_HOSTS.",
                     "id": "Server ini tidak melayani nama {host}. Operator yang memakai nama itu menambahkannya ke WARTA_ALLOWED_HOSTS."},
    "login_locked": {"en": "Too many wrong passwords; try again in {seconds} s.",
                     "id": "Terlalu banyak kata sandi yang salah; coba lagi dalam {seconds} detik."},
    "not_text": {"en": "The {what} must be text (got {kind}).",
                 "id": "Isi {what_id} harus berupa teks (diterima: {kind})."},
    "index_unwritable_serving": {
        "en": "{folder} is not writable ({reason}): serving the previous index built {built}; "
              "free space or fix permissions, then restart.",
        "id": "{folder} tidak dapat ditulisi ({reason}): indeks sebelumnya (dibangun {built}) tetap dipakai; "
              "kosongkan ruang disk atau perbaiki izin, lalu mulai ulang."},
    "index_unwritable": {
        "en": "cannot write the index to {folder} ({reason}) and no earlier index there can be served; "
              "free space or fix permissions, then restart.",
        "id": "indeks tidak dapat ditulis ke {folder} ({reason}) dan tidak ada indeks sebelumnya yang dapat dipakai; "
              "kosongkan ruang disk atau perbaiki izin, lalu mulai ulang."},
    "failed": {"en": "This question could not be answered ({error}). The server keeps running; please try again.",
               "id": "Pertanyaan ini tidak dapat dijawab ({error}). Server tetap berjalan; silakan coba lagi."},
}


def say(key: str, lang: str, **values) -> str:
    return MESSAGES[key][lang].format(**values)


def say_both(key: str, **values) -> str:
    """Indonesian, then English: for when the reader's language is not known."""
    return f"{say(key, 'id', **values)} / {say(key, 'en', **values)}"


@dataclass(frozen=True)
class Notice:
    """A message kept to be said later, in whichever language the reader turns out to read."""
    key: str
    values: dict = field(default_factory=dict)

    def say(self, lang: str) -> str:
        return say(self.key, lang, **self.values)

    def both(self) -> str:
        return say_both(self.key, **self.values)


_REPORTED: set[str] = set()


def report_to_stderr(message: str) -> None:
    """One line on stderr, each at most once per run: several stages (the index, the answerer,
    the fact checker) may each meet the same missing model."""
    if message in _REPORTED:
        return
    _REPORTED.add(message)
    echo(f"warta: {message}", file=sys.stderr)  # reports name corpus files: escaped like all CLI output
