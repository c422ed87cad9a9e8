"""Collect every ``tr("…")`` string of ``ui/`` into ``mykey_en.ts``, keeping the English already
written there (a string no longer used is marked obsolete, not lost).

Run: ``python -m ui.i18n.extract`` (then translate the new ``unfinished`` entries, e.g. in
``pyside6-linguist``); ``make`` turns the ``.ts`` into the ``.qm`` the application loads.
"""

from __future__ import annotations

import ast
import logging
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from ui.text import CONTEXT

log = logging.getLogger(__name__)

UI_DIR = Path(__file__).resolve().parents[1]
TS_FILE = Path(__file__).resolve().parent / "mykey_en.ts"


def source_strings(root: Path = UI_DIR) -> dict[str, str]:
    """Every literal passed to ``tr`` under ``root``: text -> first place (path:line)."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "tr"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                place = f"{path.relative_to(root.parent)}:{node.lineno}"
                found.setdefault(node.args[0].value, place)
    return found


def existing_translations(ts: Path = TS_FILE) -> dict[str, str]:
    """source -> English from an existing ``.ts`` (finished or not, non-empty only)."""
    if not ts.exists():
        return {}
    result: dict[str, str] = {}
    for message in ET.parse(ts).getroot().iter("message"):  # noqa: S314 - our own file
        source = message.findtext("source")
        translation = message.findtext("translation")
        if source and translation:
            result[source] = translation
    return result


def write_ts(strings: dict[str, str], english: dict[str, str], ts: Path = TS_FILE) -> int:
    """Write the ``.ts``; returns how many strings still lack English."""
    root = ET.Element("TS", version="2.1", language="en_US", sourcelanguage="ja_JP")
    context = ET.SubElement(root, "context")
    ET.SubElement(context, "name").text = CONTEXT
    missing = 0
    for source in sorted(set(strings) | set(english)):
        message = ET.SubElement(context, "message")
        if source in strings:
            path, line = strings[source].rsplit(":", 1)
            ET.SubElement(message, "location", filename=path, line=line)
        ET.SubElement(message, "source").text = source
        translation = ET.SubElement(message, "translation")
        if source not in strings:
            translation.set("type", "obsolete")
            translation.text = english[source]
        elif source in english:
            translation.text = english[source]
        else:
            translation.set("type", "unfinished")
            missing += 1
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    ts.write_text('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + body + "\n", "utf-8")
    return missing


def main() -> int:
    """Refresh the ``.ts``; exit 1 when some strings lack English."""
    missing = write_ts(source_strings(), existing_translations())
    sys.stderr.write(f"{TS_FILE.name}: {missing} strings without English\n")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
