"""Writing export files: atomically, UTF-8 with a byte order mark, never over another file.

Why a BOM: accountants open these files in Excel before (or instead of) importing them, and
Excel reads UTF-8 without a BOM as the local code page, garbling "Søren"; Excel's
own "CSV UTF-8" format writes the BOM, and Xero's and QuickBooks' importers take that format.
Comma-separated, "." as the decimal point, CRLF line ends (RFC 4180).
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from justdriving.domain.errors import InvalidInput
from justdriving.domain.money import Money

ENCODING = "utf-8-sig"


def amount_text(money: Money) -> str:
    """125.50 for Money(12550, "DKK"): the currency's decimals, no float, no separators."""
    return decimal_text(money.to_decimal())


def decimal_text(value: Decimal) -> str:
    return f"{value:f}"


# Letters NFKD does not take apart into an ASCII letter and a mark.
_SPELLED = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ß": "ss", "đ": "d", "ł": "l", "þ": "th"})


def file_label(name: str) -> str:
    """A name as a part of a file name: `Køreskolen Nord` is `koreskolen-nord` (ASCII letters,
    digits and hyphens; at most 40 characters; "" when nothing is left)."""
    spelled = unicodedata.normalize("NFKD", name.lower().translate(_SPELLED))
    ascii_only = spelled.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")[:40].strip("-")


def stamp(moment: datetime) -> str:
    """20250314T093000Z: when (in UTC), in a file name that sorts by time."""
    if moment.utcoffset() is None:
        raise InvalidInput("export times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def write_csv(
    folder: Path, stem: str, header: Sequence[str], rows: Iterable[Sequence[str]]
) -> Path:
    """Write `stem`.csv (or `stem`-2.csv ... when taken) into `folder` atomically: readers see
    the whole file or none of it, and an existing file is never replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    data = csv_bytes(header, rows)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        return _publish(Path(temporary), folder, stem)
    finally:
        Path(temporary).unlink(missing_ok=True)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(ENCODING)


def replace_file(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically (for files this adapter owns and rewrites)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _publish(temporary: Path, folder: Path, stem: str) -> Path:
    for attempt in range(1, 1000):
        target = folder / (f"{stem}.csv" if attempt == 1 else f"{stem}-{attempt}.csv")
        try:
            os.link(temporary, target)  # fails if the name is taken, unlike a rename
        except FileExistsError:
            continue
        except OSError:  # a file system without hard links
            if target.exists():
                continue
            os.replace(temporary, target)
        return target
    raise FileExistsError(f"no free file name for {stem} in {folder}")
