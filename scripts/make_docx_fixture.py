#!/usr/bin/env python3
"""Build the fictional resume fixture: fixtures/resumes/sample-resume.docx and .txt.

Usage:
  python3 scripts/make_docx_fixture.py [--out-dir DIR]

  Any python 3.10+ will do: when python-docx is not importable, the script makes (once) the
  resume-eval virtualenv (see scripts/resume_eval_data.py: $JOBPORTAL_TOOLS_DIR/resume-eval,
  default ~/.cache/jobportal/resume-eval), installs the pinned python-docx and spaCy into it
  and runs itself again with that venv's python.

  --out-dir  where to write sample-resume.docx and sample-resume.txt
             (default: fixtures/resumes/ of this repository)

Everything in the resume is invented: the person, the companies (Acme Freight Ltd, Example
Payments Ltd), the phone number (+44 20 7946 0958 is in Ofcom's range kept for drama) and the
addresses (example.com, a GitHub name nobody is meant to own). The .txt holds the same content
as the .docx in reading order (table rows as cells joined by " | ", list items as "• ").

What the .docx exercises in a parser: Word heading styles (Title, Heading 1, Heading 2), a
real hyperlink element (w:hyperlink, whose text is not a direct run of its paragraph), bullet
list paragraphs (List Bullet: the bullet is numbering, not text) and a table (the skills).

Deterministic: fixed document properties and fixed zip entry dates, so the same python-docx
version gives a byte-identical .docx.
"""
import argparse, os, sys, zipfile

sys.dont_write_bytecode = True  # no scripts/__pycache__ from the import below
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resume_eval_data import ensure_module  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

NAME = "Ada Example"
HEADLINE = "Senior Backend Engineer"
CONTACT = ["London, UK", "+44 20 7946 0958", "ada@example.com"]
LINK = "https://github.com/ada-example"
SUMMARY = ("Backend engineer who builds reliable, data-heavy "
           "services in Rust and Python. Enjoys turning slow batch jobs into streaming "
           "pipelines, designing PostgreSQL schemas that age well, and running them on "
           "Kubernetes with good observability.")
SKILLS_LINE = "Rust, PostgreSQL, Kubernetes, Python"
SKILLS_TABLE = [("Skill", "Level", "Years"),
                ("Rust", "Expert", "6"),
                ("PostgreSQL", "Advanced", "8"),
                ("Kubernetes", "Advanced", "5"),
                ("Python", "Advanced", "9")]
EXPERIENCE = [
    ("Senior Backend Engineer", "Acme Freight Ltd", "Jan 2019 – Present", "London, UK", [
        "Led the rewrite of the shipment tracking API from Python to Rust, cutting p99 "
        "latency from 480 ms to 35 ms.",
        "Designed the PostgreSQL partitioning scheme for 2 billion tracking events a year.",
        "Moved 40 services to Kubernetes and wrote the on-call runbooks.",
    ]),
    ("Software Engineer", "Example Payments Ltd", "Sep 2016 – Dec 2018", "Edinburgh, UK", [
        "Built the reconciliation service in Python that matches card settlements to ledgers.",
        "Introduced property-based tests and cut production incidents by a third.",
    ]),
]
EDUCATION = ["MSc Computer Science, University of Edinburgh, 2016"]

FIXED_DATE = (2024, 1, 1, 0, 0, 0)


def plain_text():
    lines = [NAME, HEADLINE, " | ".join(CONTACT + [LINK]), "", "Summary", SUMMARY, "",
             "Skills", SKILLS_LINE]
    lines += [" | ".join(row) for row in SKILLS_TABLE]
    lines += ["", "Experience"]
    for title, company, dates, place, bullets in EXPERIENCE:
        lines += ["%s — %s" % (title, company), "%s | %s" % (dates, place)]
        lines += ["• " + b for b in bullets]
        lines.append("")
    lines += ["Education"] + EDUCATION
    return "\n".join(lines) + "\n"


def add_hyperlink(paragraph, url, text):
    """A real <w:hyperlink r:id=...> with one run, styled as a link (blue, underlined)."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    r_id = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    color = OxmlElement("w:color")
    color.set(qn("w:val"), "0563C1")
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    props.append(color)
    props.append(underline)
    run.append(props)
    t = OxmlElement("w:t")
    t.text = text
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def build_docx(path):
    import datetime
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.add_paragraph(NAME, style="Title")
    doc.add_paragraph(HEADLINE, style="Subtitle")
    contact = doc.add_paragraph(" | ".join(CONTACT) + " | ")
    add_hyperlink(contact, LINK, LINK)

    doc.add_heading("Summary", level=1)
    doc.add_paragraph(SUMMARY)

    doc.add_heading("Skills", level=1)
    doc.add_paragraph(SKILLS_LINE)
    table = doc.add_table(rows=0, cols=len(SKILLS_TABLE[0]))
    table.style = "Table Grid"
    for i, row in enumerate(SKILLS_TABLE):
        cells = table.add_row().cells
        for cell, value in zip(cells, row):
            cell.text = value
            if i == 0:
                for run in cell.paragraphs[0].runs:
                    run.bold = True

    doc.add_heading("Experience", level=1)
    for title, company, dates, place, bullets in EXPERIENCE:
        doc.add_heading("%s — %s" % (title, company), level=2)
        p = doc.add_paragraph()
        r = p.add_run("%s | %s" % (dates, place))
        r.italic = True
        r.font.size = Pt(10)
        for b in bullets:
            doc.add_paragraph(b, style="List Bullet")

    doc.add_heading("Education", level=1)
    for e in EDUCATION:
        doc.add_paragraph(e)

    when = datetime.datetime(*FIXED_DATE)
    cp = doc.core_properties
    cp.author = "jobportal fixtures"
    cp.last_modified_by = "jobportal fixtures"
    cp.title = "%s — resume (fictional)" % NAME
    cp.subject = "Fictional resume for parser tests"
    cp.comments = "Made by scripts/make_docx_fixture.py; every detail is invented."
    cp.created = when
    cp.modified = when
    cp.last_printed = when
    cp.revision = 1
    doc.save(path + ".tmp")

    # Rewrite the zip with fixed entry dates (python-docx stamps them with the clock).
    with zipfile.ZipFile(path + ".tmp") as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    os.remove(path + ".tmp")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.join(REPO, "fixtures", "resumes"))
    a = ap.parse_args()
    ensure_module("docx")

    os.makedirs(a.out_dir, exist_ok=True)
    docx_path = os.path.join(a.out_dir, "sample-resume.docx")
    txt_path = os.path.join(a.out_dir, "sample-resume.txt")
    build_docx(docx_path)
    with open(txt_path, "w", encoding="utf-8", newline="\n") as f:
        f.write(plain_text())
    print("wrote %s and %s" % (docx_path, txt_path), file=sys.stderr)


if __name__ == "__main__":
    main()
