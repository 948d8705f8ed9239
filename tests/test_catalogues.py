"""The translation catalogues: no (context, msgid) is translated two ways across the apps.

Django merges every catalogue into one per language, so a msgid translated differently in two
apps shows one of them, whichever catalogue comes first, on both apps' pages.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "fullfolj"
_LINE = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+(".*")$')


def parse_po(text: str) -> list[tuple[str | None, str, tuple[str, ...]]]:
    """(msgctxt, msgid, msgstr forms) of each entry, the header and obsolete entries left out."""
    entries = []
    fields: dict[str, str] = {}
    last = ""

    def flush() -> None:
        if fields.get("msgid"):
            forms = tuple(v for k, v in sorted(fields.items()) if k.startswith("msgstr"))
            entries.append((fields.get("msgctxt"), fields["msgid"], forms))
        fields.clear()

    for raw in [*text.splitlines(), ""]:
        line = raw.strip()
        if not line or line.startswith("#"):
            if not line:
                flush()
            continue
        match = _LINE.match(line)
        if match:
            last = match.group(1)
            if last in ("msgctxt", "msgid") and last in fields:
                flush()  # a new entry without a blank line before it
            fields[last] = ast.literal_eval(match.group(2))
        elif line.startswith('"'):
            fields[last] += ast.literal_eval(line)  # a continued string
        else:
            raise ValueError(f"Unreadable line in a catalogue: {raw!r}")
    return entries


def test_the_parser_reads_contexts_plurals_and_continued_strings():
    text = (
        'msgid ""\nmsgstr "Language: sv\\n"\n\n'
        '#, python-format\nmsgctxt "window"\nmsgid "the last day"\n'
        'msgid_plural "the last %(count)s days"\nmsgstr[0] "den senaste dagen"\n'
        'msgstr[1] "de senaste "\n"%(count)s dagarna"\n\nmsgid "Absence"\nmsgstr "Frånvaro"\n'
    )
    assert parse_po(text) == [
        ("window", "the last day", ("den senaste dagen", "de senaste %(count)s dagarna")),
        (None, "Absence", ("Frånvaro",)),
    ]


def _catalogues() -> list[Path]:
    return sorted(ROOT.rglob("locale/*/LC_MESSAGES/django.po"))


def test_every_app_catalogue_is_found():
    apps = {path.relative_to(ROOT).parts[0] for path in _catalogues()}
    assert {"locale", "screening", "riskmodel"} <= apps


@pytest.mark.parametrize("language", sorted({p.parts[-3] for p in _catalogues()}))
def test_no_msgid_is_translated_two_ways(language):
    seen: dict[tuple[str | None, str], dict[tuple[str, ...], list[str]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for path in _catalogues():
        if path.parts[-3] != language:
            continue
        for context, msgid, forms in parse_po(path.read_text(encoding="utf-8")):
            if any(forms):  # an untranslated entry falls back to another catalogue's
                seen[(context, msgid)][forms].append(str(path.relative_to(ROOT)))
    clashes = {key: dict(ways) for key, ways in seen.items() if len(ways) > 1}
    assert not clashes, "\n".join(f"{key}: {ways}" for key, ways in clashes.items())


# `{% translate "…" %}` and `_("…")`/`gettext("…")` with one plain literal: enough to catch a
# text that lost its translation when catalogues were split or moved.
_TEMPLATE_TEXT = re.compile(r'{%\s*translate\s+"([^"]+)"(?:\s+context\s+"[^"]*")?\s*%}')
_CODE_TEXT = re.compile(r'\b(?:_|gettext|gettext_lazy)\(\s*"((?:[^"\\]|\\.)+)"\s*\)')


def _own_catalogue(source: Path) -> Path:
    """The catalogue a source file's texts belong in: its app's, else the project's."""
    app = ROOT / source.relative_to(ROOT).parts[0]
    own = app / "locale" / "sv" / "LC_MESSAGES" / "django.po"
    return own if own.exists() else ROOT / "locale" / "sv" / "LC_MESSAGES" / "django.po"


def _texts_in(source: Path) -> set[str]:
    text = source.read_text(encoding="utf-8")
    if source.suffix == ".html":  # a template's % is written %% in the catalogue (makemessages)
        return {found.replace("%", "%%") for found in _TEMPLATE_TEXT.findall(text)}
    return {ast.literal_eval(f'"{literal}"') for literal in _CODE_TEXT.findall(text)}


def test_every_text_is_translated_in_its_own_apps_catalogue():
    translated: dict[Path, set[str]] = {}
    for path in _catalogues():
        if path.parts[-3] == "sv":
            entries = parse_po(path.read_text(encoding="utf-8"))
            translated[path] = {msgid for _ctx, msgid, forms in entries if all(forms)}
    missing = []
    for source in sorted([*ROOT.rglob("*.html"), *ROOT.rglob("*.py")]):
        parts = source.relative_to(ROOT).parts
        if "tests" in parts or "migrations" in parts:
            continue
        catalogue = _own_catalogue(source)
        for text in _texts_in(source) - translated.get(catalogue, set()):
            missing.append(
                f"{source.relative_to(ROOT)}: {text!r} not in {catalogue.relative_to(ROOT)}"
            )
    assert not missing, "\n".join(missing)


def test_no_catalogue_holds_a_fuzzy_or_empty_translation():
    for path in _catalogues():
        text = path.read_text(encoding="utf-8")
        assert "#, fuzzy" not in text.split('msgid ""\nmsgstr ""', 1)[-1][200:], path
        empty = [msgid for _ctx, msgid, forms in parse_po(text) if not all(forms)]
        assert not empty, f"{path.relative_to(ROOT)}: {empty[:5]}"
