"""Reading a request to ``colorize serve``: its body within the upload limit, the multipart form parsed in memory,
the ``hints`` field, and the photo's header checked before any pixel is decoded. Nothing here touches the disk,
and no part of a request is used as a path.
"""
import asyncio
import io
import json
import math
import re
import warnings

from PIL import Image
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from colorize.pipeline import SATURATION_MAX

MAX_HINTS = 200
MAX_HINTS_BYTES = 2 ** 20
PREVIEW_RANGE = (64, 8192)
FIELDS = ("image", "hints", "preview", "saturation", "reference", "border")  # what POST /api/colorize reads


class RequestError(Exception):
    """An HTTP error whose one-line message is sent to the client as ``{"error": message}``."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def open_checked(data, name, max_pixels):
    """Image bytes -> a PIL image with only its header read, refused (``RequestError``) if it is not an image or
    has more than ``max_pixels`` pixels, before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's bomb warning: our own limit decides, below
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise RequestError(413, f"{name} has too many pixels to decode safely (a decompression bomb?)") from None
    except Exception:  # Pillow raises UnidentifiedImageError, OSError, SyntaxError ... on bytes it cannot read
        raise RequestError(400, f"{name} is not an image this server can read (JPEG, PNG, WebP, TIFF, BMP, GIF)") \
            from None
    width, height = image.size
    if width * height > max_pixels:
        raise RequestError(413, f"{name} is {width}x{height} = {width * height:,} pixels, more than this server's "
                                f"limit of {max_pixels:,}; resize it first")
    return image


def parse_form(body, content_type):
    """A multipart/form-data body -> {field name: (filename or None, bytes)}, parsed in memory."""
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise RequestError(400, "send the photo as multipart/form-data with a field 'image' (and optional 'hints')")
    fields, part, header = {}, {}, {}

    def on_part_begin():
        part.clear()
        part["data"] = []

    def on_header_field(data, start, end):
        header["field"] = header.get("field", b"") + data[start:end]

    def on_header_value(data, start, end):
        header["value"] = header.get("value", b"") + data[start:end]

    def on_header_end():
        if header.get("field", b"").strip().lower() == b"content-disposition":
            part["disposition"] = parse_options_header(header.get("value", b""))[1]
        header.clear()

    def on_part_data(data, start, end):
        part["data"].append(data[start:end])

    def on_part_end():
        disposition = part.get("disposition", {})
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if len(fields) >= 8:
            raise RequestError(400, f"too many form fields; the fields are {', '.join(FIELDS)}")
        filename = disposition.get(b"filename")
        fields[name] = (filename.decode("utf-8", "replace") if filename is not None else None, b"".join(part["data"]))

    callbacks = {"on_part_begin": on_part_begin, "on_header_field": on_header_field,
                 "on_header_value": on_header_value, "on_header_end": on_header_end,
                 "on_part_data": on_part_data, "on_part_end": on_part_end}
    try:
        parser = MultipartParser(boundary, callbacks)  # refuses a boundary over 256 characters (RFC 2046's 70)
        parser.write(body)
        parser.finalize()
    except RequestError:
        raise
    except Exception as err:  # python-multipart's MultipartParseError and friends
        raise RequestError(400, f"the multipart form cannot be parsed ({err})") from None
    return fields


def check_fields(fields):
    """Refuse a form field the API does not read (a misspelt ``saturaton`` would silently do nothing)."""
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise RequestError(400, f"unknown form field{'s' if len(unknown) > 1 else ''} "
                                f"{', '.join(repr(name[:40]) for name in unknown[:3])}; the fields are "
                                f"{', '.join(FIELDS)}")


def parse_hints_field(raw, takes_hints):
    """The ``hints`` form field (JSON text) -> a list of hint dicts, checked for shape only (the Colorizer checks
    each hint against the photo)."""
    if raw is None or not raw.strip():
        return None
    if len(raw) > MAX_HINTS_BYTES:
        raise RequestError(400, f"hints are over {MAX_HINTS_BYTES} bytes")
    try:
        hints = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise RequestError(400, f"hints are not valid JSON ({err})") from None
    except RecursionError:
        raise RequestError(400, 'hints nest too deep; send a list like [{"x": 120, "y": 40, "color": "#1f4e9c"}]') \
            from None
    if not isinstance(hints, list):
        raise RequestError(400, 'hints must be a JSON list like [{"x": 120, "y": 40, "color": "#1f4e9c"}]')
    if len(hints) > MAX_HINTS:
        raise RequestError(400, f"{len(hints)} hints; at most {MAX_HINTS} are accepted")
    if hints and not takes_hints:
        raise RequestError(400, "this model takes no colour hints; send the photo alone or serve a hints preset")
    return hints or None


def parse_saturation_field(raw):
    """The ``saturation`` form field: a chroma multiplier from 0 (grey) to ``SATURATION_MAX``, or None (the
    model's default)."""
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw) if len(raw) <= 32 else None
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or not 0 <= value <= SATURATION_MAX:
        raise RequestError(400, f"saturation must be a number from 0 to {SATURATION_MAX:g} (1 = the model's colours)"
                                f", got {raw[:20]!r}")
    return value


async def read_body(request, limit, idle_timeout_s=None):
    """The request body, at most ``limit`` bytes, else 413. An oversized body is still drained (up to a bound) so
    that the client can read the answer instead of finding its connection reset mid-upload. A body that stalls,
    no byte for ``idle_timeout_s`` seconds, is 408 (a stalled upload must not hold the connection for ever)."""
    declared = request.headers.get("content-length")
    too_large = declared is not None and declared.isdigit() and int(declared) > limit
    chunks, size = [], 0
    stream = request.stream()
    try:
        while True:
            try:
                chunk = await asyncio.wait_for(anext(stream), idle_timeout_s)
            except StopAsyncIteration:
                break
            except (TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11; two before
                raise RequestError(408, f"the upload stalled: no data for {idle_timeout_s:g} s; send it again") \
                    from None
            size += len(chunk)
            if size > limit:
                too_large, chunks = True, []
            if too_large:
                if size > 4 * limit + 2 ** 20:
                    break
                continue
            chunks.append(chunk)
    except ClientDisconnect:
        raise RequestError(400, "the upload was cut off before its end") from None
    if too_large:
        raise RequestError(413, f"the upload is over this server's limit of {limit / 2 ** 20:.3g} MiB; "
                                "resize or re-compress the photo")
    return b"".join(chunks)


def display_name(filename):
    """The uploaded file's name, for messages only (never a path): its last component, printable, short."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable())[:80]
    return name or "the upload"


def parse_preview_field(raw):
    """The ``preview`` form field: the longest side, in pixels, of a smaller result to send instead of the
    full-resolution one (hints stay in the photo's own pixels), or None."""
    if raw is None or not raw.strip():
        return None
    low, high = PREVIEW_RANGE
    # ASCII digits only (str.isdigit() takes "²", which int() refuses) and few of them (int() refuses 4,300+)
    if not re.fullmatch(r"[0-9]{1,6}", raw.strip()) or not low <= int(raw) <= high:
        raise RequestError(400, f"preview must be a whole number of pixels from {low} to {high}, got {raw[:20]!r}")
    return int(raw)


def parse_border_field(raw):
    """The ``border`` form field: ``auto`` (a scan's uniform border is found and left neutral), ``off`` (the whole
    photo is coloured), ``LEFT,TOP,RIGHT,BOTTOM`` (the photo's box inside its border, in the photo's pixels) or
    empty (the server's setting) -> True, False, the four numbers or None."""
    text = (raw or "").strip().lower()
    if not text:
        return None
    if text == "auto":
        return True
    if text == "off":
        return False
    parts = text.split(",")
    if len(parts) == 4 and all(re.fullmatch(r"[0-9]{1,6}(\.[0-9]{1,3})?", part.strip()) for part in parts):
        return tuple(float(part) for part in parts)
    raise RequestError(400, f"border must be auto, off or LEFT,TOP,RIGHT,BOTTOM in pixels, got {raw[:40]!r}")
