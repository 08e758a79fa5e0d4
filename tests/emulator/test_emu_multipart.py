"""The multipart/form-data parser behind uploads."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3 import encode_multipart_formdata

from twineauthenticate.emulator._multipart import MultipartError, parse_form_data

field_names = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters='"\\'),
    min_size=1,
    max_size=20,
).filter(lambda name: name != "content")
values = st.text(max_size=200)


@settings(max_examples=150, deadline=None)
@given(
    fields=st.lists(st.tuples(field_names, values), max_size=8),
    content=st.binary(max_size=2000),
)
def test_round_trip(fields: list[tuple[str, str]], content: bytes) -> None:
    parts: list[tuple[str, object]] = [(name, value) for name, value in fields]
    parts.append(("content", ("pkg-1.0.tar.gz", content, "application/octet-stream")))
    body, content_type = encode_multipart_formdata(parts)  # type: ignore[arg-type]
    form = parse_form_data(body, content_type)
    expected: dict[str, list[str]] = {}
    for name, value in fields:
        expected.setdefault(name, []).append(value)
    assert form.fields == expected
    assert form.files["content"].filename == "pkg-1.0.tar.gz"
    assert form.files["content"].content == content


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=500))
def test_garbage_only_raises_multipart_error(body: bytes) -> None:
    try:
        parse_form_data(body, "multipart/form-data; boundary=xyz")
    except MultipartError:
        pass


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(min_value=0, max_value=400))
def test_truncated_bodies_are_rejected_or_complete(cut: int) -> None:
    body, content_type = encode_multipart_formdata(
        {"name": "demo", "content": ("demo-1.0.tar.gz", b"\x00\x01" * 50, "application/gzip")}
    )
    try:
        form = parse_form_data(body[:cut], content_type)
    except MultipartError:
        return
    assert cut >= len(body) - 4  # only the final CRLF (or less) may be missing
    assert form.first("name") == "demo"


def test_quoted_and_rfc2231_parameters() -> None:
    body = (
        b"preamble\r\n--b\r\n"
        b'Content-Disposition: form-data; name="title"\r\n\r\n'
        b"caf\xc3\xa9\r\n"
        b"--b\r\n"
        b"Content-Disposition: form-data; name=content; filename*=UTF-8''na%C3%AFve-1.0.zip\r\n"
        b"Content-Type: application/zip\r\n\r\n"
        b"PK\r\n--not-the-boundary\r\n"
        b"--b--\r\nepilogue"
    )
    form = parse_form_data(body, 'multipart/form-data; boundary="b"')
    assert form.first("title") == "café"
    assert form.files["content"].filename == "naïve-1.0.zip"
    assert form.files["content"].content == b"PK\r\n--not-the-boundary"
    assert form.files["content"].content_type == "application/zip"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{}"),
        ("multipart/form-data", b"--x--"),
        ("multipart/form-data; boundary=x", b"no delimiter here"),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Type: text/plain\r\n\r\nv\r\n--x--"),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: attachment\r\n\r\nv\r\n--x--",
        ),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n\xff\r\n--x--',
        ),
    ],
)
def test_malformed(content_type: str, body: bytes) -> None:
    with pytest.raises(MultipartError):
        parse_form_data(body, content_type)
