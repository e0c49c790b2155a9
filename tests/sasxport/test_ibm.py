"""IBM floats: the table-driven conversions against the general one and against hand-worked bytes."""
from __future__ import annotations

import numpy as np

from sasxport.ibm import _ibm_to_ieee_general, ibm_bytes, ibm_to_ieee, ieee_to_ibm


def test_reading_any_word_matches_the_general_conversion():
    """Every kind of word: normalized, unnormalized, zeros with any first byte, missing values, the
    largest value, every sign; NaN compares equal to NaN."""
    rng = np.random.default_rng(3)
    words = np.concatenate([
        rng.integers(0, 1 << 63, 20000, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, 20000, dtype=np.uint64),
        rng.integers(0, 1 << 52, 2000, dtype=np.uint64) | (rng.integers(0, 256, 2000, dtype=np.uint64) << np.uint64(56)),
        np.arange(256, dtype=np.uint64) << np.uint64(56),
        np.array([0x7FFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF, 0x4110000000000000, 0xC276A00000000000], dtype=np.uint64)])
    np.testing.assert_array_equal(ibm_to_ieee(words), _ibm_to_ieee_general(words))
    assert ibm_to_ieee(np.array([0x7FFFFFFFFFFFFFFF], dtype=np.uint64))[0] == np.inf
    assert ibm_to_ieee(words.reshape(-1, 2)).shape == (len(words) // 2, 2)


def test_writing_round_trips_every_double_in_the_ibm_range():
    rng = np.random.default_rng(4)
    n = 20000
    values = np.ldexp(rng.random(n) + 0.5, rng.integers(-256, 252, n)) * rng.choice([-1.0, 1.0], n)
    np.testing.assert_array_equal(ibm_to_ieee(ieee_to_ibm(values)), values)
    tiny = np.ldexp(rng.random(n) + 0.5, rng.integers(-320, -256, n))  # below 16**-64: denormalized
    back = ibm_to_ieee(ieee_to_ibm(tiny))
    assert (back <= tiny).all() and (tiny - back < 2.0**-312).all()  # truncated to the last hex digit


def test_hand_worked_bytes_both_ways():
    cases = {1.0: "4110000000000000", -118.625: "C276A00000000000", 0.5: "4080000000000000",
             2.0**-260: "0010000000000000", 0.0: "0000000000000000"}
    for value, stored in cases.items():
        assert ibm_bytes(value) == bytes.fromhex(stored)
        assert ibm_to_ieee(np.array([int(stored, 16)], dtype=np.uint64))[0] == value
