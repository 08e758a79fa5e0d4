"""A small, strict parser for ``multipart/form-data`` request bodies (RFC 7578)."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message


class MultipartError(ValueError):
    """The body is not well-formed multipart/form-data."""


@dataclass
class UploadedFile:
    filename: str
    content: bytes
    content_type: str


@dataclass
class FormData:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)

    def first(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None


def header_params(value: str, header: str = "content-type") -> tuple[str, dict[str, str]]:
    """Split a header value like ``form-data; name="x"`` into its main value and parameters."""
    message = Message()
    message[header] = value
    params = message.get_params(header=header, failobj=[])
    if not params:
        return "", {}
    main = params[0][0].strip().lower()
    extra: dict[str, str] = {}
    for key, raw in params[1:]:
        extra[key.lower()] = _param_text(raw)
    return main, extra


def _param_text(raw: object) -> str:
    # ``get_params`` returns a str, or a (charset, language, value) tuple for RFC 2231 values.
    if isinstance(raw, tuple):
        charset, _language, text = raw
        return str(text).encode("latin-1", "replace").decode(charset or "utf-8", "replace")
    return str(raw)


def boundary_of(content_type: str) -> str:
    main, params = header_params(content_type)
    if main != "multipart/form-data":
        raise MultipartError(f"expected multipart/form-data, got {main or 'nothing'!r}")
    boundary = params.get("boundary", "")
    if not boundary or len(boundary) > 200:
        raise MultipartError("missing or invalid multipart boundary")
    return boundary


def parse_form_data(body: bytes, content_type: str) -> FormData:
    """Parse ``body`` sent with ``content_type`` (which carries the boundary)."""
    delimiter = b"--" + boundary_of(content_type).encode("latin-1")
    form = FormData()
    position = _find_first_delimiter(body, delimiter)
    while True:
        position += len(delimiter)
        if body.startswith(b"--", position):
            return form  # closing delimiter; an epilogue is ignored
        position = _skip_line_end(body, position)
        end = body.find(b"\r\n" + delimiter, position)
        if end < 0:
            raise MultipartError("multipart body is truncated (no closing delimiter)")
        _add_part(form, body[position:end])
        position = end + 2


def _find_first_delimiter(body: bytes, delimiter: bytes) -> int:
    if body.startswith(delimiter):
        return 0
    found = body.find(b"\r\n" + delimiter)
    if found < 0:
        raise MultipartError("multipart body has no boundary delimiter")
    return found + 2


def _skip_line_end(body: bytes, position: int) -> int:
    # Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
    while position < len(body) and body[position] in b" \t":
        position += 1
    if body.startswith(b"\r\n", position):
        return position + 2
    raise MultipartError("malformed boundary line")


def _add_part(form: FormData, part: bytes) -> None:
    split = part.find(b"\r\n\r\n")
    if split < 0:
        if part.startswith(b"\r\n"):
            head, content = b"", part[2:]
        else:
            raise MultipartError("part without header/body separator")
    else:
        head, content = part[:split], part[split + 4 :]
    headers = _parse_headers(head)
    disposition = headers.get("content-disposition")
    if disposition is None:
        raise MultipartError("part without Content-Disposition")
    kind, params = header_params(disposition, "content-disposition")
    name = params.get("name")
    if kind != "form-data" or not name:
        raise MultipartError("part is not a named form-data field")
    if "filename" in params:
        form.files[name] = UploadedFile(
            filename=params["filename"],
            content=content,
            content_type=headers.get("content-type", "application/octet-stream"),
        )
        return
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MultipartError(f"field {name!r} is not UTF-8") from exc
    form.fields.setdefault(name, []).append(text)


def _parse_headers(head: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    if not head:
        return headers
    for raw_line in head.split(b"\r\n"):
        line = raw_line.decode("utf-8", "replace")
        if line[:1] in (" ", "\t") or ":" not in line:
            raise MultipartError(f"malformed part header: {line!r}")
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return headers
