"""Words Warta says to people, in both languages. One place, so they stay consistent."""

MESSAGES = {
    "corpus_says": {"en": "The corpus says:", "id": "Menurut korpus:"},
    "quoted_in": {"en": {"id": "(quoted in Indonesian)", "en": ""},
                  "id": {"en": "(kutipan dalam bahasa Inggris)", "id": ""}},
    "abstain": {"en": "The corpus does not say. The closest passages are listed below; none of them answers the question.",
                "id": "Korpus tidak menyebutkan hal ini. Bagian yang paling dekat tercantum di bawah; tidak satu pun menjawab pertanyaan."},
    "unverified": {"en": "(unverified)", "id": "(belum terverifikasi)"},
    "trimmed": {"en": "The question was shortened to its first {limit} characters.",
                "id": "Pertanyaan dipotong menjadi {limit} karakter pertama."},
}


def say(key: str, lang: str, **values) -> str:
    return MESSAGES[key][lang].format(**values)
