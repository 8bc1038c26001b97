"""Every spreadsheet the Wagtail admin exports keeps formulas as text (CSV injection)."""

import csv
import io

import openpyxl
import pytest
from wagtail.contrib.redirects.models import Redirect
from wagtail.log_actions import log

from accounts.tests.factories import UserFactory
from home.tests.factories import PromotionFactory, StandardPageFactory
from ocpizza.spreadsheets import csv_safe

EVIL = '=HYPERLINK("http://evil","x")'


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def csv_rows(response):
    content = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(content)))


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_text_starting_like_a_formula_gets_an_apostrophe(prefix):
    assert csv_safe(prefix + "1+1") == "'" + prefix + "1+1"


@pytest.mark.parametrize("value", ["Margherita", "", None, -5, "a=b"])
def test_other_values_are_left_alone(value):
    assert csv_safe(value) == value


def test_the_site_history_csv_escapes_a_crafted_page_title(admin_client, home_page):
    page = StandardPageFactory(parent=home_page, title=EVIL)
    log(page, "wagtail.edit")  # an edit entry besides the creation's

    response = admin_client.get("/admin/reports/site-history/", {"export": "csv"})

    rows = csv_rows(response)
    assert response.status_code == 200
    assert rows[0][:2] == ["ID", "Nom"]
    assert [row[:2] for row in rows[1:] if row[0] == str(page.id)] == [[str(page.id), "'" + EVIL]] * 2


def test_the_site_history_xlsx_keeps_a_crafted_page_title_as_text(admin_client, home_page):
    page = StandardPageFactory(parent=home_page, title=EVIL)
    log(page, "wagtail.edit")  # an edit entry besides the creation's

    response = admin_client.get("/admin/reports/site-history/", {"export": "xlsx"})

    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = [row[1] for row in sheet.iter_rows(min_row=2) if row[0].value == page.id]
    assert [(cell.value, cell.data_type) for cell in cells] == [(EVIL, "s")] * 2


def test_the_promotions_snippet_csv_escapes_a_crafted_title(admin_client):
    PromotionFactory(title=EVIL)

    response = admin_client.get("/admin/snippets/home/promotion/", {"export": "csv"})

    rows = csv_rows(response)
    assert response.status_code == 200
    assert [row[0] for row in rows] == ["Titre", "'" + EVIL]


def test_the_redirects_csv_escapes_a_crafted_link(admin_client, home_page):
    Redirect.objects.create(old_path="/ancienne", redirect_link="@SUM(1+1)*cmd|' /C calc'!A0")

    response = admin_client.get("/admin/redirects/", {"export": "csv"})

    rows = csv_rows(response)
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in rows[1]
