"""Every French string of the interface has its English translation, compiled.

The strings are extracted afresh with `makemessages` (GNU gettext) into a scratch copy of the
project, so a string added to the code and never extracted is noticed; the committed catalogue
is only read. `make messages` refreshes it.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

BASE_DIR = Path(settings.BASE_DIR)
CATALOGUE = BASE_DIR / "locale" / "en" / "LC_MESSAGES"
REFRESH = "run `make messages` and translate the new entries in locale/en/LC_MESSAGES/django.po"

# What makemessages must not walk in the scratch copy (environments, uploads, build output).
NOT_SOURCES = {".git", ".venv", ".venv312", "media", "staticfiles", "test-artifacts", "db.sqlite3"}


def key(entry):
    return (entry.msgctxt, entry.msgid, entry.msgid_plural)


def translation_of(entry):
    return entry.msgstr or tuple(sorted(entry.msgstr_plural.items()))


def live_entries(catalogue):
    return [entry for entry in catalogue if entry.msgid and not entry.obsolete]


@pytest.fixture(scope="module")
def committed():
    return polib.pofile(str(CATALOGUE / "django.po"))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The catalogue `makemessages` writes from today's code, in a scratch copy of the project."""
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext is needed (apt-get install gettext); CI installs it")
    project = tmp_path_factory.mktemp("messages") / "project"
    shutil.copytree(
        BASE_DIR,
        project,
        ignore=lambda directory, names: [
            name for name in names if name in NOT_SOURCES or name == "__pycache__" or name.startswith(".")
        ],
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "en", "--no-obsolete"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        pytest.fail(f"makemessages failed:\n{result.stderr}")
    return polib.pofile(str(project / "locale" / "en" / "LC_MESSAGES" / "django.po"))


def test_every_string_of_the_code_is_in_the_committed_catalogue(committed, extracted):
    known = {key(entry) for entry in live_entries(committed)}

    missing = [entry.msgid for entry in live_entries(extracted) if key(entry) not in known]

    assert missing == [], REFRESH


def test_every_string_is_translated_and_none_is_fuzzy(committed, extracted):
    for catalogue in (committed, extracted):
        problems = [entry.msgid for entry in live_entries(catalogue) if not entry.translated() or entry.fuzzy]

        assert problems == [], REFRESH


def test_the_compiled_catalogue_matches_the_source(committed):
    compiled = polib.mofile(str(CATALOGUE / "django.mo"))

    source = {key(entry): translation_of(entry) for entry in live_entries(committed) if entry.translated()}

    assert {key(entry): translation_of(entry) for entry in live_entries(compiled)} == source, (
        "run `make messages` (or compilemessages) to recompile django.mo"
    )


def test_the_interface_speaks_english_on_request():
    with translation.override("en"):
        assert translation.gettext("Nos pizzerias") == "Our pizzerias"
        assert translation.gettext("Épuisé") == "Sold out"
