"""Builds the damaged and unreadable resume fixtures in fixtures/resumes/broken/.

Usage: python scripts/make_broken_resumes.py  (needs pypdf and python-docx; the resume-eval
venv made by scripts/resume_eval_data.py has python-docx, `pip install pypdf` adds the other)

- encrypted.pdf    a one-page PDF protected by a user password (its text cannot be read)
- image-only.pdf   a page that paints an image and has no text layer (what a scan looks like)
- empty.docx       a valid Word document with no text
"""
import io
import sys
import zipfile
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

out = Path(__file__).resolve().parent.parent / "fixtures" / "resumes" / "broken"
out.mkdir(parents=True, exist_ok=True)

# Encrypted: a page with text, then RC4-128 with a user password (pypdf needs no extra package for it).
writer = PdfWriter()
page = writer.add_blank_page(width=595, height=842)
stream = DecodedStreamObject()
stream.set_data(b"BT /F1 12 Tf 72 770 Td (Ada Example - ada@example.com) Tj ET")
page[NameObject("/Contents")] = writer._add_object(stream)
writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
writer.add_metadata({"/Producer": "jobportal fixtures"})
with open(out / "encrypted.pdf", "wb") as f:
    writer.write(f)

# Image only: an 8x8 grey inline image scaled over the page, no text operators at all.
writer = PdfWriter()
page = writer.add_blank_page(width=595, height=842)
pixels = bytes((x * 32) % 256 for x in range(64))
stream = DecodedStreamObject()
stream.set_data(b"q 595 0 0 842 0 0 cm BI /W 8 /H 8 /CS /G /BPC 8 ID " + pixels + b" EI Q")
page[NameObject("/Contents")] = writer._add_object(stream)
writer.add_metadata({"/Producer": "jobportal fixtures"})
with open(out / "image-only.pdf", "wb") as f:
    writer.write(f)

# Empty DOCX: the minimum parts Word needs, a body with one empty paragraph. Fixed dates.
parts = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>",
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
    "</Relationships>",
    "word/document.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p/></w:body></w:document>",
}
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
    for name, text in parts.items():
        info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, text)
(out / "empty.docx").write_bytes(buffer.getvalue())
print("wrote", *sorted(p.name for p in out.iterdir()), file=sys.stderr)
