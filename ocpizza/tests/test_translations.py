"""Every French string of the interface has its English translation, compiled."""

import gettext
import re
from pathlib import Path

from django.utils import translation

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES"


def entries():
    text = (CATALOGUE / "django.po").read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        lines = [line for line in block.strip().splitlines() if not line.startswith("#~")]
        if not any(line.startswith("msgid ") for line in lines):
            continue
        joined = "\n".join(lines)
        msgid = "".join(re.findall(r'"(.*)"', joined.split("msgstr")[0].split("msgid", 1)[1]))
        msgstr = "".join(re.findall(r'"(.*)"', joined.split("msgstr", 1)[1]))
        yield msgid, msgstr, "#, fuzzy" in joined or ", fuzzy" in joined


def test_every_string_is_translated_and_none_is_fuzzy():
    problems = [msgid for msgid, msgstr, fuzzy in entries() if msgid and (not msgstr or fuzzy)]

    assert problems == []


def test_the_compiled_catalogue_matches_the_source():
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)

    stale = [
        msgid
        for msgid, msgstr, _fuzzy in entries()
        if msgid and "\\" not in msgid + msgstr and catalogue.gettext(msgid) != msgstr
    ]

    assert stale == [], "run `make messages` (or msgfmt) to recompile django.mo"


def test_the_interface_speaks_english_on_request():
    with translation.override("en"):
        assert translation.gettext("Nos pizzerias") == "Our pizzerias"
        assert translation.gettext("Épuisé") == "Sold out"
