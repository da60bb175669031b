#!/usr/bin/env python3
"""Regenerates the binary extraction fixtures in this directory.

    python3 -m venv /tmp/fixtures && /tmp/fixtures/bin/pip install reportlab python-docx
    /tmp/fixtures/bin/python src/knowledge/testdata/make_fixtures.py

Writes constitution.pdf (three pages of public-domain text from
../../rag/testdata/us-constitution-article-1.txt) and pizzeria-handbook.docx
(a short handbook written for these tests, with Word heading styles, a list and a table).
Output is deterministic apart from the DOCX zip timestamps.
"""
import datetime
import pathlib

from reportlab import rl_config
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate
import docx

HERE = pathlib.Path(__file__).resolve().parent
CONSTITUTION = HERE.parent.parent / "rag" / "testdata" / "us-constitution-article-1.txt"


def make_pdf():
    rl_config.invariant = 1  # fixed creation date and document id
    styles = getSampleStyleSheet()
    text = CONSTITUTION.read_text(encoding="utf-8")
    story = []
    sections_done = 0
    for para in text.split("\n\n"):
        lines = para.split("\n")
        while lines and (lines[0].startswith("Article.") or lines[0].startswith("Section.")):
            if lines[0].startswith("Section."):
                sections_done += 1
                # Sections 1-2 on page 1, 3-4 on page 2, 5 on page 3.
                if sections_done in (3, 5):
                    story.append(PageBreak())
            style = styles["Heading1"] if lines[0].startswith("Article.") else styles["Heading2"]
            story.append(Paragraph(lines.pop(0), style))
        if sections_done > 5:
            break
        if lines:
            story.append(Paragraph(" ".join(lines), styles["BodyText"]))
    doc = SimpleDocTemplate(
        str(HERE / "constitution.pdf"),
        pagesize=letter,
        title="The Constitution of the United States (excerpt)",
    )
    doc.build(story)


def make_docx():
    d = docx.Document()
    d.core_properties.created = datetime.datetime(2026, 1, 1)
    d.core_properties.modified = datetime.datetime(2026, 1, 1)
    d.add_heading("Luigi’s Pizzeria — Staff Handbook", level=0)
    d.add_paragraph(
        "Welcome to the team! This handbook answers the questions callers ask most often."
    )
    d.add_heading("Opening hours", level=1)
    d.add_paragraph("We are open Tuesday to Sunday, 11:30 to 22:00. We are closed on Mondays.")
    d.add_heading("Menu", level=1)
    d.add_heading("Pizzas", level=2)
    d.add_paragraph(
        "Every pizza is baked in our wood-fired oven at 450 degrees for ninety seconds."
    )
    for item in ("Margherita: tomato, mozzarella, basil",
                 "Diavola: spicy salami & chili oil",
                 "Quattro formaggi: four cheeses"):
        d.add_paragraph(item, style="List Bullet")
    table = d.add_table(rows=3, cols=2)
    for row, (name, price) in zip(table.rows, [("Pizza", "Price"), ("Margherita", "12 €"), ("Diavola", "14 €")]):
        row.cells[0].text = name
        row.cells[1].text = price
    d.add_heading("Desserts", level=2)
    p = d.add_paragraph("Crème brûlée and tiramisù, both made in house.")
    p.add_run().add_break()
    p.add_run("Ask for the gluten-free option.\tIt costs 1 € extra.")
    d.add_heading("Delivery", level=1)
    d.add_paragraph("We deliver within 5 km. Orders over 30 € ship free; otherwise delivery costs 3 €.")
    d.save(HERE / "pizzeria-handbook.docx")


if __name__ == "__main__":
    make_pdf()
    make_docx()
