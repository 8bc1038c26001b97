"""The Nu HTML Checker that reads every page the tests render (html_check.py) sees real errors."""

import shutil

import pytest
from django.http import HttpResponse

from .html_check import HtmlCollector

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="the Nu HTML Checker needs Java")

VALID = (
    '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>OC Pizza</title></head>'
    "<body>{}</body></html>"
)


def check(tmp_path, body):
    collector = HtmlCollector(tmp_path)
    collector.current_test = "test"
    collector.keep("/compte/inscription/", HttpResponse(VALID.format(body)))
    return [message for _test, _url, _status, message, _line in collector.check(shutil.which("java"))]


def test_a_paragraph_closed_around_a_list_is_an_error(tmp_path):
    """What the sign-up page did with the password rules (a <ul> inside <p class="help">)."""
    assert check(tmp_path, "<p>Règles :<ul><li>8 caractères</li></ul></p>") == [
        "No “p” element in scope but a “p” end tag seen."
    ]


def test_a_valid_page_has_no_error(tmp_path):
    assert check(tmp_path, "<div>Règles :<ul><li>8 caractères</li></ul></div>") == []


def test_the_same_body_is_checked_once_wagtails_screens_and_fragments_are_left_out(tmp_path):
    collector = HtmlCollector(tmp_path)
    page = HttpResponse(VALID.format("<p>Bonjour</p>"))
    collector.keep("/panier/", page)
    collector.keep("/panier/", page)
    collector.keep("/admin/pages/", HttpResponse(VALID.format("<p>Wagtail</p>")))
    collector.keep("/admin/stock/", HttpResponse(VALID.format("<p>Stock</p>")))
    collector.keep("/commandes/X/suivi/", HttpResponse("<div>Fragment</div>"))

    assert [url for _test, url, _status in collector.documents.values()] == ["/panier/", "/admin/stock/"]
