"""Our French strings stay as written, although django-allauth ships a French catalogue."""

import re

from django.conf import settings
from django.utils import translation


def test_no_french_string_of_ours_is_changed_by_another_catalogue():
    catalogue = (settings.BASE_DIR / "locale" / "en" / "LC_MESSAGES" / "django.po").read_text()
    ours = set(re.findall(r'^msgid "(.+)"$', catalogue, re.MULTILINE))
    assert len(ours) > 100

    with translation.override("fr"):
        changed = {msgid: translation.gettext(msgid) for msgid in ours if translation.gettext(msgid) != msgid}

    # "English" (a language's name in LANGUAGES) is meant to read « Anglais »: Django's catalogue.
    changed.pop("English", None)
    # A clash goes into accounts/allauth_locale/fr/LC_MESSAGES/django.po, mapped to itself.
    assert changed == {}
