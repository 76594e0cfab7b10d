"""The files `manage.py import_articles` reads: their formats, checked before
anything is written, and read again one row at a time.

Three formats, one set of fields (FIELDS: `title` and `body` required, the
rest optional):

- CSV with a header row (UTF-8, a byte-order mark is fine);
- JSON: a list of objects (`tags` and `related` may be lists or "a, b");
- a folder of Markdown files (`*.md`, `*.markdown`, searched recursively) with
  YAML front matter between `---` lines; the title may instead be the file's
  first `# heading` and the slug defaults to the file's name.

`open_source` checks the whole file before anything is written (readable,
UTF-8, the right shape, the required columns, not empty) and counts its rows;
`Source.rows()` then reads it again one row at a time (CSV and Markdown are
never held in memory whole; a JSON list is parsed once). What is done with
each row is knowledge_base/importing.py's.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FIELDS = (
    "title", "body", "slug", "summary", "category", "section", "tags", "visibility", "status",
    "related",
)  # fmt: skip
REQUIRED = ("title", "body")
FORMATS = ("csv", "json", "markdown")
MARKDOWN_SUFFIXES = (".md", ".markdown")
# Bodies may be long (services.MAX_BODY_CHARS); csv's default limit is 128 KiB.
_CSV_FIELD_LIMIT = 16 * 1024 * 1024
# Refuse a JSON file larger than this before parsing it (it is parsed whole).
MAX_JSON_BYTES = 512 * 1024 * 1024


class ImportFileError(Exception):
    """The file cannot be imported at all (nothing was written)."""


class RowError(Exception):
    """One row is refused: which field and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SourceRow:
    """One row as read: where it is in the file ("row 7", "item 3",
    "billing/refunds.md") and its raw fields, or why it could not be read."""

    where: str
    data: dict[str, Any]
    error: RowError | None = None


@dataclass
class Source:
    kind: str
    total: int
    # Columns (keys) of the file that are not FIELDS: ignored, and said so.
    ignored: list[str]
    rows: Callable[[], Iterator[SourceRow]]


def detect_format(path: Path) -> str:
    if path.is_dir() or path.suffix.lower() in MARKDOWN_SUFFIXES:
        return "markdown"
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("csv", "json"):
        return suffix
    raise ImportFileError(
        f"Cannot tell the format of {path.name!r} from its name: use a .csv or .json file or "
        "a folder of Markdown files, or say --format."
    )


def open_source(path: Path, kind: str | None = None) -> Source:
    """Check the file and count its rows; ImportFileError if it cannot be imported."""
    if not path.exists():
        raise ImportFileError(f"{path} does not exist.")
    kind = kind or detect_format(path)
    if kind not in FORMATS:
        raise ImportFileError(f"Unknown format {kind!r} ({', '.join(FORMATS)}).")
    if kind == "markdown":
        return _markdown_source(path)
    if path.is_dir():
        raise ImportFileError(f"{path} is a folder; only Markdown is imported from a folder.")
    try:
        with path.open("rb") as probe:
            probe.read(1)
    except OSError as exc:
        raise ImportFileError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    return _csv_source(path) if kind == "csv" else _json_source(path)


# --- CSV ---------------------------------------------------------------------------


@contextmanager
def _csv_field_limit() -> Iterator[None]:
    """Read fields up to _CSV_FIELD_LIMIT (an article body is one field; the
    csv module's default is 131,072 characters) and put the process-wide
    limit back afterwards, for the other readers in the same process."""
    previous = csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _csv_source(path: Path) -> Source:
    with _csv_field_limit(), path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = _csv_header(reader)
            total = sum(1 for values in reader if any(v.strip() for v in values))
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                f"{path.name} is not UTF-8 text (near line {reader.line_num + 1}); "
                "save it as UTF-8 and import it again."
            ) from exc
        except csv.Error as exc:
            raise ImportFileError(f"{path.name}: line {reader.line_num}: {exc}.") from exc
    if not total:
        raise ImportFileError(f"{path.name} has a header but no rows to import.")

    def rows() -> Iterator[SourceRow]:
        with _csv_field_limit(), path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            # Rows as a spreadsheet numbers them: the header is row 1.
            for number, values in enumerate(reader, start=2):
                if not any(v.strip() for v in values):
                    continue
                where = f"row {number}"
                if len(values) > len(header):
                    yield SourceRow(
                        where,
                        {},
                        RowError(
                            "",
                            f"{len(values)} values for {len(header)} columns "
                            "(a comma or quote out of place?).",
                        ),
                    )
                    continue
                yield SourceRow(where, dict(zip(header, values, strict=False)))

    return Source("csv", total, [h for h in header if h not in FIELDS], rows)


def _csv_header(reader: Any) -> list[str]:
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        raise ImportFileError("The file is empty: it needs a header row (title,body,...) and rows.")
    names = [h.strip().lower() for h in header]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise ImportFileError(
            f"The header has no {' or '.join(missing)} column (it has: {', '.join(names)})."
        )
    duplicates = sorted({n for n in names if n and names.count(n) > 1})
    if duplicates:
        raise ImportFileError(f"The header names {', '.join(duplicates)} more than once.")
    return names


# --- JSON --------------------------------------------------------------------------


def _json_source(path: Path) -> Source:
    if path.stat().st_size > MAX_JSON_BYTES:
        raise ImportFileError(
            f"{path.name} is larger than {MAX_JSON_BYTES // 2**20} MiB: split it, or use CSV."
        )
    try:
        with path.open(encoding="utf-8-sig") as handle:
            items = json.load(handle)
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path.name} is not UTF-8 text; save it as UTF-8.") from exc
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"{path.name} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        ) from exc
    if not isinstance(items, list):
        raise ImportFileError(
            f"{path.name} must hold a list of articles ([{{...}}, ...]), not {_json_kind(items)}."
        )
    if not items:
        raise ImportFileError(f"{path.name} holds an empty list: nothing to import.")
    keys = {str(k).strip().lower() for item in items if isinstance(item, dict) for k in item}

    def rows() -> Iterator[SourceRow]:
        for number, item in enumerate(items, start=1):
            where = f"item {number}"
            if not isinstance(item, dict):
                yield SourceRow(
                    where, {}, RowError("", f"Expected an object, found {_json_kind(item)}.")
                )
                continue
            yield SourceRow(where, {str(k).strip().lower(): v for k, v in item.items()})

    return Source("json", len(items), sorted(keys - set(FIELDS)), rows)


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a number" if not isinstance(value, bool) else "true/false"


# --- Markdown ----------------------------------------------------------------------


def _markdown_source(path: Path) -> Source:
    if path.is_dir():
        try:
            files = sorted(
                p for p in path.rglob("*") if p.suffix.lower() in MARKDOWN_SUFFIXES and p.is_file()
            )
        except OSError as exc:
            raise ImportFileError(f"Cannot read the folder {path}: {exc}.") from exc
        root = path
    else:
        files, root = [path], path.parent
    if not files:
        raise ImportFileError(f"{path} has no Markdown files (*.md, *.markdown).")

    def rows() -> Iterator[SourceRow]:
        for file in files:
            where = file.relative_to(root).as_posix()
            try:
                yield SourceRow(where, _markdown_fields(file))
            except RowError as exc:
                yield SourceRow(where, {}, exc)

    return Source("markdown", len(files), [], rows)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """The YAML between a first line `---` and the next `---` line, and the
    Markdown after it (no front matter: an empty dict and the whole text)."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].rstrip() in ("---", "..."):
            break
    else:
        raise RowError("front matter", "The front matter has no closing '---' line.")
    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        raise RowError("front matter", f"Not valid YAML: {exc}".splitlines()[0]) from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise RowError("front matter", "The front matter must be `key: value` lines.")
    return meta, "\n".join(lines[end + 1 :])


def _markdown_fields(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        raise RowError("file", "Not UTF-8 text; save it as UTF-8.") from exc
    except OSError as exc:
        raise RowError("file", f"Cannot read it: {exc.strerror or exc}.") from exc
    meta, body = split_front_matter(text)
    data = {str(k).strip().lower(): v for k, v in meta.items()}
    if not data.get("title"):
        # No title in the front matter: the first "# heading" is the title.
        lines = body.lstrip("\n").split("\n", 1)
        if lines[0].startswith("# "):
            data["title"] = lines[0][2:].strip()
            body = lines[1] if len(lines) > 1 else ""
    data["body"] = body
    data.setdefault("slug", file.stem)
    return data
