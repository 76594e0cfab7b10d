"""The vendored front-end files are exactly what package.json pins.

static/vendor/ is committed so the site runs without npm; these checks catch a
hand-edited file, a version bumped in package.json without `make assets`, or
the reverse."""

import hashlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"


def _versions() -> list[dict[str, str]]:
    rows = []
    for line in (VENDOR / "VERSIONS.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        package, version, filename, sha256 = line.split()
        rows.append({"package": package, "version": version, "file": filename, "sha256": sha256})
    return rows


def _versions_by_file() -> dict[str, dict[str, str]]:
    return {row["file"]: row for row in _versions()}


def test_htmx_is_recorded():
    assert "htmx.min.js" in _versions_by_file()


@pytest.mark.parametrize("row", _versions(), ids=lambda row: row["file"])
def test_vendored_file_matches_its_recorded_sha256(row):
    digest = hashlib.sha256((VENDOR / row["file"]).read_bytes()).hexdigest()
    assert digest == row["sha256"], f"{row['file']} changed; run `make assets`"


@pytest.mark.parametrize("row", _versions(), ids=lambda row: row["file"])
def test_recorded_version_is_the_one_pinned(row):
    package_json = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    pinned = package_json["dependencies"][row["package"]]
    # An exact version: a range would let `npm ci` on another day disagree
    # with the committed copy.
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), pinned
    assert row["version"] == pinned
    assert lock["packages"][f"node_modules/{row['package']}"]["version"] == pinned


def test_htmx_is_version_2():
    # htmx 4 changed the attribute and event API the templates are written for.
    assert _versions_by_file()["htmx.min.js"]["version"].startswith("2.0.")


def test_templates_load_no_script_from_another_host():
    offenders = []
    for template in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in template.parts or "node_modules" in template.parts:
            continue
        text = template.read_text()
        if re.search(r"""<(script|link)\b[^>]*\b(src|href)=["']?(https?:)?//""", text):
            offenders.append(str(template.relative_to(ROOT)))
    assert offenders == []
