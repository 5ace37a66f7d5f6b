"""A small Indonesian–English glossary of news, health and economy words, with which the fact
checker compares a claim's names and counted things with evidence in the other language
("Tiongkok" is "China", "pasien" counts "patients").

Retrieval and answers do not use it: on the public QA sets it did not help lexical retrieval
(`python -m eval.stoplists`), and the multilingual model matches across languages.

General vocabulary of the field, not the corpus's sentences; names and numbers need no
translation. Multi-word entries are matched on consecutive words.
"""
from __future__ import annotations

from functools import lru_cache

# Indonesian -> English; each side may list variants separated by "|".
PAIRS = """
ekspor|mengekspor|diekspor=export|exports|exported|exporting
impor|mengimpor|diimpor=import|imports|imported
obat|obat-obatan=medicine|medicines|drug|drugs
vaksin=vaccine|vaccines
farmasi=pharmaceutical|pharmaceuticals|pharma
industri=industry|industrial
kerja sama|kerjasama|kolaborasi=cooperation|collaboration|partnership|collaborate
bidang=area|areas|field|fields|sector
kawasan=area|zone|estate|region
pabrik=plant|factory|facility|facilities
fasilitas=facility|facilities
produksi|memproduksi|diproduksi=production|produce|produced|producing|manufacturing|manufacture
kapasitas=capacity
unit=unit|units
dosis=dose|doses
sesi=session|sessions
dekade|dasawarsa=decade|decades
kendaraan=vehicle|vehicles
juta=million
miliar=billion
triliun=trillion
ribu=thousand
persen=percent|percentage
tahun=year|years|annual
bulan=month|months
hari=day|days
pekan|sepekan|minggu=week
tanggal=date
pertama=first
kedua=second
ketiga=third
negara=country|countries|nation|nations
inggris=british|english|england|uk|britain
pasar=market|markets
pangsa pasar=market share
saham=share|shares|stock
harga=price|prices
nilai=value|worth
investasi=investment|investments|invest
investor=investor|investors
asing=foreign
langsung=direct
kuartal|triwulan=quarter|q1|q2|q3|q4
pendapatan=revenue|income
laba=profit
penjualan=sales
karyawan|pegawai=employee|employees|staff
modal=capital
pertumbuhan|tumbuh=growth|grow
ekonomi=economy|economic
perdagangan=trade
pemerintah=government
kementerian=ministry
menteri=minister
presiden=president
direktur=director
kepala=head|chief
ketua=chairman|chair
wakil=vice|deputy
pejabat=official|officials
perusahaan=company|companies|firm
badan=agency|body
lembaga=institution|agency
universitas=university
kuliah=lecture
penelitian|riset=research
pengembangan|mengembangkan=development|develop|developing
inovasi|inovatif=innovation|innovative
teknologi=technology|technologies
transfer teknologi=technology transfer
regulasi=regulation|regulations|regulatory
standar=standard|standards
sertifikasi|sertifikat=certification|certificate|certifications
izin|perizinan=licence|license|licensing|permit
registrasi|pendaftaran=registration
evaluasi=evaluation
pendekatan=approach
mulai|memulai|dimulai=began|begin|begins|start|started|starting
produk=product|products
mempercepat|percepatan=accelerate|accelerating|speed up
biologi|biologis=biological|biologics
gabungan=joint|combined
menampilkan=featured|features|showcased
pengawasan=supervision|oversight|monitoring
keamanan=safety|security
mutu|kualitas=quality
kesehatan=health|healthcare
ketahanan=resilience|security
kemandirian|mandiri=independence|self-reliance|self-sufficient
pasien=patient|patients
penyakit=disease|diseases
terapi|pengobatan=therapy|therapies|treatment|treat|treated|treating
stroke=stroke
sel=cell|cells
gen=gene|genes
bahan baku=raw material|raw materials|ingredient|ingredients
herbal=herbal
tradisional=traditional
alat kesehatan=medical device|medical devices
uji klinik|uji klinis=clinical trial|clinical trials
kunjungan=visit
kunjungan kerja=working visit
pertemuan=meeting
simposium=symposium
seminar=seminar
lokakarya=workshop|workshops
kesepakatan|perjanjian=agreement
nota kesepahaman=memorandum of understanding|mou
menandatangani|ditandatangani=sign|signed
kota=city
wali kota|walikota=mayor
ibu kota=capital
provinsi=province
kedutaan=embassy
duta besar=ambassador
diplomasi=diplomacy
hubungan=relations|relationship
bilateral=bilateral
sumber daya manusia=human resources|human resource
tenaga kerja=workforce|labour|labor
tiongkok|china=china|chinese
korea selatan=south korea
korea=korea|korean
jepang=japan
singapura=singapore
jawa barat=west java
jawa tengah=central java
jawa timur=east java
kementerian kesehatan|kemenkes=ministry of health|health ministry
kementerian perindustrian|kemenperin=ministry of industry|industry ministry
menargetkan|target|ditargetkan=target|targets|projects|aims
tahunan=annual|yearly
amerika serikat=united states
eropa=europe|european
asia tenggara=southeast asia
indonesia=indonesia|indonesian
dibuka|membuka|peluncuran=launch|opened|opening
dihadiri|hadir=attended|attend|present
mengunjungi=visited|visit
dipimpin|memimpin=led|lead
berbasis=based
proyeksi|diproyeksikan=projected|projection
mencapai=reach|reached
""".strip().splitlines()


@lru_cache(maxsize=1)
def _groups() -> dict[tuple, set]:
    """Each variant -> every (words, language) of its line: translations and spelling variants
    ("wali kota" meets "walikota" as well as "mayor")."""
    groups: dict[tuple, set] = {}
    for line in PAIRS:
        left, right = line.split("=")
        members = {(tuple(v.split()), "id") for v in left.split("|")} | {(tuple(v.split()), "en") for v in right.split("|")}
        for words, _ in members:
            groups.setdefault(words, set()).update(members)
    return groups


def translations(tokens: list[str]) -> list[tuple[int, int, tuple[str, ...], str]]:
    """(position, words matched, translated words, language of the translation) for every match.

    >>> [m for m in translations(["kerja", "sama", "ekspor"]) if m[2] == ("cooperation",)]
    [(0, 2, ('cooperation',), 'en')]
    """
    groups = _groups()
    found = []
    for i in range(len(tokens)):
        for size in (3, 2, 1):
            key = tuple(tokens[i:i + size])
            if len(key) == size:
                found.extend((i, size, words, lang) for words, lang in sorted(groups.get(key, ())) if words != key)
    return found
