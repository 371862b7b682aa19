"""SMS segments: GSM-7 or UCS-2, 160/153 or 70/67 units, escapes and surrogate pairs kept whole."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from justdriving.domain.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SegmentCount,
    SmsEncoding,
    segments,
    split,
    units_of,
)

GSM7 = sorted(GSM7_BASIC | GSM7_EXTENSION)
EMOJI = "😀"  # U+1F600: a surrogate pair in UTF-16

gsm_text = st.text(alphabet=st.sampled_from(GSM7), max_size=700)
extension_heavy = st.text(alphabet=st.sampled_from([*GSM7_EXTENSION, "a", " "]), max_size=700)
unicode_text = st.text(max_size=400)  # hypothesis never draws lone surrogates
emoji_heavy = st.text(alphabet=st.sampled_from([EMOJI, "ø", "a", "ß", "日"]), max_size=300)
bodies = st.one_of(gsm_text, extension_heavy, unicode_text, emoji_heavy)


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def septet_stream(text: str) -> list[str]:
    """GSM-7 as sent: an extension character is ESC followed by its septet."""
    return [unit for char in text for unit in (["ESC", char] if char in GSM7_EXTENSION else [char])]


def septets(text: str) -> int:
    return len(septet_stream(text))


# Examples ---------------------------------------------------------------------------------


def test_a_danish_reminder_is_one_gsm7_part() -> None:
    count = segments("Hej Søren, din køretime er i morgen kl. 10:00. Mvh Køreskolen Nord")
    assert count.encoding is SmsEncoding.GSM7
    assert count.parts == 1


@pytest.mark.parametrize(
    ("body", "parts", "units"),
    [
        ("a" * 160, 1, 160),
        ("a" * 161, 2, 161),
        ("a" * 306, 2, 306),
        ("a" * 307, 3, 307),
        ("€" * 80, 1, 160),
        ("€" * 81, 2, 162),
    ],
)
def test_gsm7_holds_160_alone_and_153_per_part(body: str, parts: int, units: int) -> None:
    assert segments(body) == SegmentCount(SmsEncoding.GSM7, parts, units)


@pytest.mark.parametrize("char", sorted(GSM7_EXTENSION))
def test_extension_characters_count_twice(char: str) -> None:
    assert units_of(char, SmsEncoding.GSM7) == 2
    assert segments(char * 80).parts == 1
    assert segments(char * 81).parts == 2


def test_one_character_outside_gsm7_makes_the_whole_message_ucs2() -> None:
    count = segments("a" * 69 + "ł")
    assert count.encoding is SmsEncoding.UCS2
    assert (count.parts, count.units) == (1, 70)
    assert segments("a" * 70 + "ł").parts == 2


def test_an_emoji_is_two_utf16_units() -> None:
    assert segments(EMOJI * 35).units == 70
    assert segments(EMOJI * 35).parts == 1
    assert segments(EMOJI * 36).parts == 2


def test_ucs2_holds_67_per_part() -> None:
    assert segments("ł" * 134).parts == 2
    assert segments("ł" * 135).parts == 3


def test_an_escape_at_a_part_boundary_moves_whole_to_the_next_part() -> None:
    parts = split("a" * 152 + "€" + "b" * 10)
    assert parts == ["a" * 152, "€" + "b" * 10]


def test_a_surrogate_pair_at_a_part_boundary_moves_whole_to_the_next_part() -> None:
    parts = split("ł" * 66 + EMOJI + "ł" * 10)
    assert parts == ["ł" * 66, EMOJI + "ł" * 10]


def test_an_empty_body_has_no_parts() -> None:
    assert split("") == []
    assert segments("").parts == 0


def test_the_escape_character_itself_is_not_gsm7_text() -> None:
    assert segments("\x1b").encoding is SmsEncoding.UCS2


# Properties -------------------------------------------------------------------------------


@settings(max_examples=300)
@given(body=bodies)
def test_joining_the_parts_gives_the_body_back(body: str) -> None:
    assert "".join(split(body)) == body


@settings(max_examples=300)
@given(body=bodies)
def test_no_part_exceeds_its_limit(body: str) -> None:
    count, parts = segments(body), split(body)
    measure = septets if count.encoding is SmsEncoding.GSM7 else utf16_units
    limit = count.encoding.single_part if len(parts) == 1 else count.encoding.multi_part
    assert all(measure(part) <= limit for part in parts)
    assert count.parts == len(parts)
    assert count.units == sum(measure(part) for part in parts)


@settings(max_examples=300)
@given(body=bodies)
def test_no_part_ends_inside_an_escape_or_a_surrogate_pair(body: str) -> None:
    gsm7 = segments(body).encoding is SmsEncoding.GSM7
    for part in split(body):
        if gsm7:
            stream = septet_stream(part)
            assert stream[-1] != "ESC"
            assert stream.count("ESC") == sum(char in GSM7_EXTENSION for char in part)
        else:
            # A part that ended inside a pair would hold a lone surrogate: UTF-16 refuses it.
            assert part.encode("utf-16-le").decode("utf-16-le") == part


@settings(max_examples=200)
@given(body=st.text(alphabet=st.sampled_from(GSM7), min_size=1, max_size=160))
def test_gsm7_bodies_up_to_160_septets_are_one_part(body: str) -> None:
    if septets(body) <= 160:
        assert split(body) == [body]
        assert segments(body).parts == 1


@settings(max_examples=200)
@given(body=st.text(min_size=1, max_size=70).filter(lambda t: utf16_units(t) <= 70))
def test_ucs2_bodies_up_to_70_units_are_one_part(body: str) -> None:
    assert split(body) == [body]
    assert segments(body).parts == 1


@settings(max_examples=200)
@given(body=bodies)
def test_the_encoding_is_gsm7_exactly_when_every_character_is_in_its_tables(body: str) -> None:
    expected = all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in body)
    assert (segments(body).encoding is SmsEncoding.GSM7) == expected
