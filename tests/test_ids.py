from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracectl.ids import (
    InvalidId,
    id_to_base64,
    normalize_parent_id,
    normalize_span_id,
    normalize_trace_id,
    short_trace_id,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5b8efff798038103d269b633813fc700", "5b8efff798038103d269b633813fc700"),
        ("5B8EFFF798038103D269B633813FC700", "5b8efff798038103d269b633813fc700"),
        ("W47/95gDgQPSabYzgT/HAA==", "5b8efff798038103d269b633813fc700"),  # Tempo trace-by-ID base64
        ("b1586c3c8c34d", "0000000000000000000b1586c3c8c34d"),  # Tempo search: zeros stripped, odd length
        ("d6e9329d67b6146a", "0000000000000000d6e9329d67b6146a"),  # 64-bit Jaeger ID
        ("AAAAAAAAAAABI0VniavN7w==", "00000000000000000123456789abcdef"),  # zero-padded 64-bit in base64
        ("W47_95gDgQPSabYzgT_HAA", "5b8efff798038103d269b633813fc700"),  # URL-safe, unpadded
    ],
)
def test_trace_ids_in_every_encoding(raw: str, expected: str) -> None:
    assert normalize_trace_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("7uGbfsPBsQA=", "eee19b7ec3c1b100"), ("EEE19B7EC3C1B100", "eee19b7ec3c1b100"), ("1", "0000000000000001")],
)
def test_span_ids(raw: str, expected: str) -> None:
    assert normalize_span_id(raw) == expected


BAD_TRACE_IDS = [
    *("", "xyz", "5b8efff798038103d269b633813fc700aa", "0" * 32, "' OR 1=1", '}|= "x"', "W47/95gDgQPSabYzgT/H"),
    *(" 5b8efff798038103d269b633813fc700", "5b8efff798038103d269b633813fc700\n", "5b8efff7 98038103d269b633813fc700"),
    "  W47_95gDgQPSabYzgT_HAA  ",  # whitespace: a copy-paste slip, rejected rather than guessed at
]


@pytest.mark.parametrize(
    "bad",
    BAD_TRACE_IDS,
)
def test_bad_trace_ids_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidId):
        normalize_trace_id(bad)


def test_parent_id_empty_and_zero_mean_no_parent() -> None:
    assert normalize_parent_id(None) == ""
    assert normalize_parent_id("") == ""
    assert normalize_parent_id("0000000000000000") == ""
    assert normalize_parent_id("AAAAAAAAAAA=") == ""
    assert normalize_parent_id("a0a0a0a0a0a0a0a0") == "a0a0a0a0a0a0a0a0"


@given(st.binary(min_size=16, max_size=16).filter(any))
def test_every_encoding_of_a_trace_id_normalises_to_the_same_hex(raw: bytes) -> None:
    hex_id = raw.hex()
    assert normalize_trace_id(hex_id) == hex_id
    assert normalize_trace_id(hex_id.upper()) == hex_id
    assert normalize_trace_id(id_to_base64(hex_id)) == hex_id
    assert normalize_trace_id(short_trace_id(hex_id)) == hex_id


@given(st.text())
def test_go_quoting_round_trips_any_text(value: str) -> None:
    from tracectl.quoting import go_quote, go_unquote

    quoted = go_quote(value)
    assert go_unquote(quoted) == value
    assert '"' not in quoted[1:-1].replace('\\"', "")  # no bare quote can end the literal early
