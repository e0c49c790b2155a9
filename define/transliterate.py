"""Non-ASCII text to ASCII for SAS XPORT v5, which FDA wants printable ASCII only.

Accents are dropped (NFKD decomposition, then the combining marks are removed: 'Céphalées' ->
'Cephalees'); letters and signs that do not decompose have a fixed spelling below; anything still
not ASCII becomes '?', so the caller's warning shows the loss.
"""
from __future__ import annotations

import unicodedata

import pandas as pd

NON_ASCII = r"[^\x00-\x7f]"

# Characters NFKD leaves non-ASCII (or maps to something unhelpful), spelled the way a reader expects.
SPECIAL = {
    "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ẞ": "SS",
    "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ł": "l", "Ł": "L",
    "þ": "th", "Þ": "TH", "ı": "i",
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "´": "'", "`": "`",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"', "‹": "'", "›": "'",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
    "…": "...", "•": "*", "·": ".", "×": "x", "÷": "/", "⁄": "/",
    "±": "+/-", "≤": "<=", "≥": ">=", "≠": "!=", "°": "deg", "µ": "u", "μ": "u",
    "€": "EUR", "£": "GBP", "©": "(c)", "®": "(R)", "™": "(TM)",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u200b": "",
}


def to_ascii(text: str) -> str:
    """The ASCII spelling of ``text`` (unchanged when it is ASCII already)."""
    if text.isascii():
        return text
    out = []
    for char in text:
        if char.isascii():
            out.append(char)
        elif char in SPECIAL:
            out.append(SPECIAL[char])
        else:
            decomposed = unicodedata.normalize("NFKD", char)
            kept = "".join(c for c in decomposed if not unicodedata.combining(c))
            out.append("".join(SPECIAL.get(c, c if c.isascii() else "?") for c in kept))
    return "".join(out)


def transliterate_series(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """ASCII version of a text column (str values, no missing) and the mask of the rows that changed.

    Only the distinct non-ASCII values go through Python, so a column of a million ASCII rows costs
    one vectorized regex test.
    """
    changed = values.str.contains(NON_ASCII, regex=True).astype(bool)
    if not changed.any():
        return values, changed
    mapping = {v: to_ascii(v) for v in pd.unique(values[changed])}
    converted = values.copy()
    converted.loc[changed] = values[changed].map(mapping)
    return converted, changed
