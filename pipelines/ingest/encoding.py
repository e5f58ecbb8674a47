"""The encoding of a text export: UTF-8 or UTF-16 by their marks, else the one legacy
encoding the file reads plausibly in, decided with charset-normalizer, never guessed."""

from __future__ import annotations

import codecs
import unicodedata
from pathlib import Path

from pipelines.ingest.errors import FileRejected

CHUNK = 8 * 1024 * 1024
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _line_of_offset(path: Path, offset: int) -> int:
    with path.open("rb") as handle:
        return handle.read(offset).count(b"\n") + 1


# Encodings a non-UTF-8 export may be in, by family; charset-normalizer tells them apart
# by which decoding yields plausible text (`_decide_encoding`).
CJK_ENCODINGS = ("gb18030", "big5")
LATIN_ENCODINGS = ("cp1252", "latin_1")
ENCODING_FAMILY = dict.fromkeys(CJK_ENCODINGS, "cjk") | dict.fromkeys(LATIN_ENCODINGS, "latin")
SAMPLE_BYTES = 512 * 1024  # of the lines that are not UTF-8, enough to tell the family
MAX_CHAOS = 0.5  # charset-normalizer's share of implausible characters a reading may have
AMBIGUOUS_CHAOS = 0.1  # two families whose chaos is this close are not told apart
ISOLATED_LATIN = 0.8  # ... unless this share of the accented bytes stands alone
ISOLATED_CJK = 0.2  # ... or at most this share does


def _decodes_as_text(sample: bytes, encoding: str) -> bool:
    try:
        text = sample.decode(encoding)
    except UnicodeDecodeError:
        return False
    return not any(unicodedata.category(c) == "Cc" and c not in "\t\r\n" for c in text)


def _isolated_share(sample: bytes) -> float:
    """The share of bytes above ASCII that stand alone between ASCII bytes."""
    high = [i for i, byte in enumerate(sample) if byte >= 0x80]
    alone = sum(
        1
        for i in high
        if (i == 0 or sample[i - 1] < 0x80) and (i + 1 == len(sample) or sample[i + 1] < 0x80)
    )
    return alone / len(high) if high else 0.0


def _encoding_rejected(path: Path, row: int | None, found: str, expected: str) -> FileRejected:
    return FileRejected(
        file=path.name, row=row, column=None, found=found, expected=expected, rule="file.encoding"
    )


def _scan_lines(path: Path) -> tuple[list[int], list[int], bytes]:
    """Lines with bytes above ASCII that are valid UTF-8, lines that are not, and a
    sample of the latter (each list holds at most the first two line numbers)."""
    utf8_lines: list[int] = []
    other_lines: list[int] = []
    sample = bytearray()
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                if len(other_lines) < 2:
                    other_lines.append(number)
                if len(sample) < SAMPLE_BYTES:
                    sample += line
            else:
                if len(utf8_lines) < 2:
                    utf8_lines.append(number)
    return utf8_lines, other_lines, bytes(sample)


def _decide_encoding(path: Path, sample: bytes, first_error: int) -> str:
    """The one encoding of CJK_ENCODINGS + LATIN_ENCODINGS the sample reads plausibly in;
    a FileRejected naming the candidates when none does or two families both do."""
    import charset_normalizer

    matches = charset_normalizer.from_bytes(
        sample, cp_isolation=list(ENCODING_FAMILY), threshold=MAX_CHAOS
    )
    readings = [(m.encoding, m.chaos) for m in matches if m.encoding in ENCODING_FAMILY]
    if not readings:  # too little text for charset-normalizer: any reading without
        # control characters counts, and a tie is settled below
        readings = [(e, MAX_CHAOS) for e in ENCODING_FAMILY if _decodes_as_text(sample, e)]
    chaos: dict[str, float] = {}
    for encoding, found in readings:
        chaos.setdefault(ENCODING_FAMILY[encoding], found)
        chaos.setdefault(encoding, found)
    how_to = (
        "set `encoding:` for this file in the mapping file (for example `encoding: gb18030` "
        "for GBK/GB18030, `big5`, or `cp1252` for Windows-1252/Latin-1), or save it as UTF-8"
    )
    with path.open("rb") as handle:
        handle.seek(first_error)
        where = f"byte 0x{handle.read(1)[0]:02x} at offset {first_error}, which is not UTF-8"
    row = _line_of_offset(path, first_error)
    if not chaos:
        raise _encoding_rejected(
            path, row, f"{where} and does not read as GBK/GB18030, Big5 or Windows-1252", how_to
        )
    family = min(("cjk", "latin"), key=lambda f: chaos.get(f, 1.0))
    if "cjk" in chaos and "latin" in chaos and abs(chaos["cjk"] - chaos["latin"]) < AMBIGUOUS_CHAOS:
        # Both read as text: Western names put one accented letter between plain ones
        # (Müller, José), Chinese text runs its two-byte characters together (张伟).
        isolated = _isolated_share(sample)
        if isolated >= ISOLATED_LATIN:
            family = "latin"
        elif isolated <= ISOLATED_CJK:
            family = "cjk"
        else:
            raise _encoding_rejected(
                path,
                row,
                f"{where}; the file reads equally well as Chinese (GBK/GB18030 or Big5) "
                "and as Western European text (Windows-1252/Latin-1)",
                how_to,
            )
    if family == "cjk":
        # GBK/GB18030 (what 纷享销客 and Excel on a Chinese system write) unless Big5
        # reads clearly better.
        big5, gb = chaos.get("big5", 1.0), chaos.get("gb18030", 1.0)
        return "big5" if big5 + 0.01 < gb else "gb18030"
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"  # bytes cp1252 leaves undefined
    return "cp1252"


def _check_decodes(path: Path, encoding: str) -> None:
    """Reject at the first line whose bytes are not valid in `encoding`."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                bad = offset + error.start
                raise _encoding_rejected(
                    path,
                    _line_of_offset(path, bad),
                    f"byte 0x{chunk[error.start]:02x} at offset {bad}, which is not valid "
                    f"{encoding} (the encoding the rest of the file reads in)",
                    "one encoding for the whole file; set `encoding:` in the mapping file",
                ) from error
            offset += len(chunk)


def detect_encoding(path: Path, first: bytes, utf8_error_at: int | None) -> str:
    """UTF-8 (BOM or not) or UTF-16 with a BOM; else the one legacy encoding the file
    reads plausibly in (GBK/GB18030, Big5 or Windows-1252/Latin-1). A file mixing UTF-8
    lines with lines in another encoding is rejected at its first line that is not UTF-8."""
    for bom, encoding in BOMS:
        if first.startswith(bom):
            return encoding
    if utf8_error_at is None:
        return "utf-8"
    utf8_lines, other_lines, sample = _scan_lines(path)
    if utf8_lines:
        row = other_lines[0]
        raise _encoding_rejected(
            path,
            row,
            f"a line that is not UTF-8 (byte 0x{sample[_first_invalid(sample)]:02x}) in a "
            f"file whose other lines are UTF-8 (line {utf8_lines[0]} and more)",
            "one encoding for the whole file: save the file again as UTF-8",
        )
    encoding = _decide_encoding(path, sample, utf8_error_at)
    _check_decodes(path, encoding)
    return encoding


def _first_invalid(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start
    return 0
