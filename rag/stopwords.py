"""Function words of Indonesian and English, for BM25 analysis and as a language cue.

Kept short on purpose: only words that carry no topic. Numbers, months, titles and verbs
such as "ekspor" or "produksi" stay searchable.
"""

INDONESIAN = frozenset("""
ada adalah agar akan aku anda antara apa apakah atas atau bagaimana bagi bahkan bahwa
baik banyak beberapa begitu belum bila bisa boleh bukan dalam dan dapat dari daripada
dengan di dia hanya harus hingga ia ialah ini itu jadi jika juga kah kalau kami kamu kan
kapan karena ke kenapa kepada ketika kita lagi lah maka mana masih melalui memang mengapa
menjadi merupakan mereka namun nya oleh pada para pernah pula pun saat saja sampai sangat
saya secara sedang sejak selama sementara semua seorang seperti serta setelah setiap
sebelum sebagai sebuah siapa sudah supaya tanpa telah tentang terhadap tersebut tetapi
tapi tidak ya yaitu yakni yang berapa bagaimanakah siapakah apakah manakah
""".split())

ENGLISH = frozenset("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers him his how i if in into is it its itself
just me more most my no nor not now of off on once only or other our ours out over own same
she should so some such than that the their theirs them then there these they this those
through to too under until up very was we were what when where which while who whom why
will with would you your yours whose many much name kind type according
""".split())

# Words that exist in both lists would be no cue for the language of a question.
INDONESIAN_ONLY = INDONESIAN - ENGLISH
ENGLISH_ONLY = ENGLISH - INDONESIAN
ALL = INDONESIAN | ENGLISH
