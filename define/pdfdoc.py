"""A small PDF document writer (fpdf2) for the generated reviewer's guides: numbered headings,
paragraphs, bullet lists and tables whose rows wrap and whose header repeats after a page break.

Text is transliterated to ASCII (the PDF core fonts are Latin-1; a reviewer's guide of an XPT v5 package
speaks its language); the creation date is the run's, never the clock, so a rerun writes the same bytes.
"""
from __future__ import annotations

from datetime import datetime

from define.transliterate import to_ascii

LINE = 4.2


class PdfDocument:
    def __init__(self, title: str, subtitle: str, created: datetime | None = None):
        from fpdf import FPDF

        title_text = to_ascii(title)

        class _Pdf(FPDF):
            def footer(self):
                self.set_y(-12)
                self.set_font("Helvetica", "", 8)
                self.cell(0, 6, f"{title_text} - page {self.page_no()}", align="C")

        self.pdf = _Pdf(format="A4")
        self.pdf.set_auto_page_break(True, margin=18)
        self.pdf.set_creation_date(created or datetime(2000, 1, 1))
        self.pdf.set_title(title_text)
        self.pdf.set_creator("cdisc-toolkit")
        self.numbers: list[int] = []
        self.pdf.add_page()
        self.pdf.set_font("Helvetica", "B", 18)
        self.pdf.multi_cell(0, 9, title_text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font("Helvetica", "", 11)
        self.pdf.multi_cell(0, 6, to_ascii(subtitle), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(4)

    def heading(self, text: str, level: int = 1) -> str:
        """A numbered heading (1, 1.1, ...), kept with what follows it; returns its number."""
        self.numbers = (self.numbers + [0] * level)[:level]
        self.numbers[-1] += 1
        number = ".".join(str(n) for n in self.numbers)
        if self.pdf.get_y() > self.pdf.page_break_trigger - 30:
            self.pdf.add_page()
        self.pdf.ln(2 if level > 1 else 4)
        self.pdf.set_font("Helvetica", "B", 13 if level == 1 else 11)
        self.pdf.multi_cell(0, 7, to_ascii(f"{number} {text}"), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)
        return number

    def para(self, text: str) -> None:
        self.pdf.set_font("Helvetica", "", 9.5)
        self.pdf.multi_cell(0, LINE + 0.6, to_ascii(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1.5)

    def bullets(self, items: list[str]) -> None:
        self.pdf.set_font("Helvetica", "", 9.5)
        for item in items:
            self.pdf.set_x(self.pdf.l_margin + 3)
            self.pdf.multi_cell(0, LINE + 0.6, "- " + to_ascii(item), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1.5)

    def table(self, headers: list[str], rows: list[list], widths: list[float]) -> None:
        """Rows of text cells; ``widths`` in mm (their sum: the text width, 190 on A4)."""
        from fpdf.enums import MethodReturnValue

        pdf = self.pdf

        def wrapped(text, width) -> list[str]:
            return pdf.multi_cell(width - 2, LINE, to_ascii("" if text is None else str(text)) or " ",
                                  dry_run=True, output=MethodReturnValue.LINES) or [" "]

        def row(cells, bold: bool) -> None:
            pdf.set_font("Helvetica", "B" if bold else "", 8)
            texts = [wrapped(c, w) for c, w in zip(cells, widths)]
            height = max(len(t) for t in texts) * LINE + 2
            if pdf.get_y() + height > pdf.page_break_trigger:
                pdf.add_page()
                if not bold:
                    row(headers, True)
                    pdf.set_font("Helvetica", "", 8)
            x, y = pdf.l_margin, pdf.get_y()
            for width, text in zip(widths, texts):
                pdf.set_fill_color(225, 225, 225)
                pdf.rect(x, y, width, height, style="DF" if bold else "D")
                pdf.set_xy(x + 1, y + 1)
                pdf.multi_cell(width - 2, LINE, "\n".join(text), new_x="RIGHT", new_y="TOP")
                x += width
            pdf.set_xy(pdf.l_margin, y + height)

        auto = pdf.auto_page_break
        pdf.set_auto_page_break(False, margin=18)
        row(headers, True)
        for cells in rows:
            row(cells, False)
        pdf.set_auto_page_break(auto, margin=18)
        pdf.ln(3)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
