"""IBM-370 hexadecimal floating point, the number format of SAS XPORT, to and from IEEE doubles.

IBM: sign bit, 7-bit exponent of 16 biased by 64, 56-bit fraction in [1/16, 1), big-endian. SAS
missing values are one byte ('.', '_' or 'A'-'Z') followed by zero bytes. A numeric variable shorter
than 8 bytes stores the leading bytes of the 8-byte number.
"""
from __future__ import annotations

import numpy as np

FRACTION_MASK = np.uint64(0x00FFFFFFFFFFFFFF)
# First bytes of the SAS missing values: '.', '_' (._) and 'A'-'Z' (.A-.Z).
MISSING_BYTES = np.zeros(256, dtype=bool)
_EXTRA_BITS = np.array([0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3], dtype=np.int32)
MISSING_BYTES[[ord("."), ord("_")] + list(range(ord("A"), ord("Z") + 1))] = True


def _exponent_tables():
    """Everything about a conversion that depends on the 11-bit IEEE exponent alone, per exponent:
    how far to move the 53-bit mantissa left (0-3 bits, onto a hex digit) and right (denormalized
    below 16**-64, flushed to zero below that), the IBM exponent byte, whether the sign is kept (not
    for a zero), and whether the value is too large. IEEE zeros and subnormals (far below the IBM
    range) become 0; NaN becomes '.' (0x2E then zeros)."""
    exponent = np.arange(2048, dtype=np.int64)
    binary = exponent - 1022  # |x| = 0.1mmm... (53 bits) * 2**binary
    hex_exponent = -((-binary) // 4)  # ceil(binary / 4)
    left = 3 - (4 * hex_exponent - binary)
    biased = hex_exponent + 64
    right = np.where(biased < 0, np.minimum(-biased * 4, 63), 0)
    biased = np.maximum(biased, 0)
    kept = (52 + left >= right) & (exponent > 0) & (exponent < 2047)  # the leading bit survives
    high = np.where(kept, biased << 56, 0).astype(np.uint64)
    high[2047] = np.uint64(0x2E << 56)
    return (np.where(kept, left, 0).astype(np.uint64), np.where(kept, right, 63).astype(np.uint64), high,
            np.where(kept, 1 << 63, 0).astype(np.uint64), (biased > 127) & (exponent < 2047))


_LEFT, _RIGHT, _HIGH, _SIGN, _TOO_LARGE = _exponent_tables()
_MANTISSA = np.uint64((1 << 52) - 1)
_HIDDEN_BIT = np.uint64(1 << 52)


def ieee_to_ibm(values: np.ndarray) -> np.ndarray:
    """IEEE doubles -> IBM-370 hex floats, as uint64 whose big-endian bytes are the 8 stored bytes.

    The conversion is exact: a 53-bit IEEE mantissa always fits in the 56-bit fraction. NaN -> SAS
    missing '.' (0x2E then zeros). Infinities and |x| >= 16**63 cannot be stored: ValueError.
    Values below 16**-64 are denormalized (shifted right a hex digit at a time) or flushed to zero.
    Integer work on the IEEE bits, with the exponent's part looked up in small tables.
    """
    x = np.asarray(values, dtype=np.float64)
    bits = np.ascontiguousarray(x).view(np.uint64).reshape(x.shape)
    exponent = (bits >> np.uint64(52)).astype(np.intp)
    exponent &= 0x7FF
    if _TOO_LARGE[exponent].any():
        raise ValueError("a value is too large for an IBM float (|x| >= 16**63)")
    ibm = bits & _MANTISSA
    nonfinite = exponent == 0x7FF
    if nonfinite.any() and (ibm[nonfinite] == 0).any():
        raise ValueError("infinite values cannot be stored in XPT")
    ibm |= _HIDDEN_BIT
    ibm <<= _LEFT[exponent]
    ibm >>= _RIGHT[exponent]
    ibm |= _HIGH[exponent]
    ibm |= bits & _SIGN[exponent]
    return ibm


def _reading_tables():
    """Per top 12 bits of an IBM float (sign, 7-bit exponent, leading hex digit of the fraction): the
    fraction bits to drop so that its leading 1 lands on IEEE's hidden bit 52, the IEEE sign and
    exponent bits, and whether the value is irregular (a zero or missing value, an unnormalized
    fraction, or the largest value): those few go through the general conversion."""
    top = np.arange(4096, dtype=np.int64)
    sign, exponent, digit = top >> 11, (top >> 4) & 0x7F, top & 0xF
    shift = _EXTRA_BITS[digit].astype(np.int64)
    # fraction / 2**56 * 16**(exponent - 64), with the fraction's leading 1 at bit 52 + shift
    biased = 4 * exponent + 763 + shift
    irregular = (digit == 0) | ((exponent == 0x7F) & (digit == 0xF))
    return shift.astype(np.uint64), ((sign << 63) | (biased << 52)).astype(np.uint64), irregular


_DROP, _IEEE_HIGH, _IRREGULAR = _reading_tables()


def ibm_to_ieee(words: np.ndarray) -> np.ndarray:
    """IBM-370 hex floats (uint64 of the big-endian bytes) -> IEEE doubles; SAS missing values -> NaN.

    As SAS's own conversion (TS-140) does, a fraction with more than 53 significant bits loses its
    lowest bits by truncation (a number written from an IEEE double never has more). The largest IBM
    value with every fraction bit set reads as infinity, as SAS and ReadStat read it. A zero fraction
    with any other first byte is 0. Normalized values are built bit by bit from two small tables;
    the rest (zeros, missing values, unnormalized fractions) take the general path.
    """
    w = np.asarray(words, dtype=np.uint64)
    shape = w.shape
    w = w.reshape(-1)
    top = (w >> np.uint64(52)).astype(np.intp)
    bits = w >> _DROP[top]
    bits &= _MANTISSA
    bits |= _IEEE_HIGH[top]
    value = bits.view(np.float64)
    irregular = np.flatnonzero(_IRREGULAR[top])
    if len(irregular):
        value[irregular] = _ibm_to_ieee_general(w[irregular])
    return value.reshape(shape)


def _ibm_to_ieee_general(words: np.ndarray) -> np.ndarray:
    """ibm_to_ieee for any word, in floating point (the reference the fast path is tested against)."""
    w = np.asarray(words, dtype=np.uint64)
    first = (w >> np.uint64(56)).astype(np.uint8)
    fraction = w & FRACTION_MASK
    top = (fraction >> np.uint64(52)).astype(np.uint8)  # the leading hex digit, 1..15 when normalized
    shift = _EXTRA_BITS[top]  # bits beyond 53 to drop: 0..3
    exponent = (first & np.uint8(0x7F)).astype(np.int32) * 4 + (shift - (64 * 4 + 56))
    value = np.ldexp((fraction >> shift.astype(np.uint64)).astype(np.float64), exponent)
    np.negative(value, out=value, where=first >= 0x80)
    value[fraction == 0] = 0.0
    largest = (fraction == FRACTION_MASK) & ((first & np.uint8(0x7F)) == 0x7F)
    value[largest] = np.copysign(np.inf, value[largest])
    value[MISSING_BYTES[first] & (fraction == 0)] = np.nan
    return value


def missing_codes(words: np.ndarray) -> np.ndarray:
    """Per value: 0 when it is a number, else the byte of its SAS missing value ('.', '_', 'A'-'Z')."""
    w = np.asarray(words, dtype=np.uint64)
    first = (w >> np.uint64(56)).astype(np.uint8)
    missing = ((w & FRACTION_MASK) == 0) & MISSING_BYTES[first]
    return np.where(missing, first, np.uint8(0))


def ibm_bytes(value: float) -> bytes:
    """The 8 stored bytes of one number (handy for tests and debugging)."""
    return ieee_to_ibm(np.array([value])).astype(">u8").tobytes()
