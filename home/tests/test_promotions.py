"""Promotions: an editor creates, previews and schedules one; it shows itself at its dates."""

import datetime
import re
from html import unescape

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils.form_data import rich_text

from accounts.tests.factories import PASSWORD, UserFactory
from home.models import Promotion
from ocpizza import roles

from .factories import PromotionFactory

# Near today: the editor's session (two weeks) must outlive the trip through time.
BEFORE = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
START = BEFORE + datetime.timedelta(days=2)
END = BEFORE + datetime.timedelta(days=9)


@pytest.fixture
def home_with_promotions(home_page):
    home_page.body = [("promotions", {"heading": "Promotions du moment"})]
    home_page.save_revision().publish()
    return home_page


@pytest.fixture
def marketing_client(client, db):
    user = UserFactory(groups=[roles.MARKETING])
    client.login(username=user.email, password=PASSWORD)
    return client


def promotion_form(title, **extra):
    data = {
        "title": title,
        "text": rich_text("<p>La deuxième pizza à moitié prix.</p>"),
        "starts_at": timezone.localtime(START).strftime("%Y-%m-%d %H:%M"),
        "ends_at": timezone.localtime(END).strftime("%Y-%m-%d %H:%M"),
        "go_live_at": "",
        "expire_at": "",
        "rule_kind": "none",
        "min_quantity": "0",
    }
    data.update(extra)
    return data


def shown_promotions(client, home_page):
    """Titles of the promotion cards on the home page."""
    html = client.get(home_page.url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    return [unescape(title) for title in re.findall(r'promotion-card">.*?<h3>(.*?)</h3>', html, re.DOTALL)]


@time_machine.travel(BEFORE, tick=False)
def test_marketing_previews_then_publishes_a_promotion_that_shows_only_between_its_dates(
    marketing_client, home_with_promotions
):
    data = promotion_form("Deuxième pizza à -50 %")

    preview = marketing_client.post(reverse("wagtailsnippets_home_promotion:preview_on_add"), data)
    assert preview.json() == {"is_valid": True, "is_available": True}
    shown = marketing_client.get(reverse("wagtailsnippets_home_promotion:preview_on_add"))
    assert "Deuxième pizza à -50 %" in shown.content.decode()

    response = marketing_client.post(
        reverse("wagtailsnippets_home_promotion:add"), {**data, "action-publish": "action-publish"}
    )
    assert response.status_code == 302
    promotion = Promotion.objects.get(title="Deuxième pizza à -50 %")
    assert promotion.live

    assert shown_promotions(marketing_client, home_with_promotions) == []
    with time_machine.travel(START + datetime.timedelta(minutes=1), tick=False):
        assert shown_promotions(marketing_client, home_with_promotions) == ["Deuxième pizza à -50 %"]
    with time_machine.travel(END + datetime.timedelta(minutes=1), tick=False):
        assert shown_promotions(marketing_client, home_with_promotions) == []


@time_machine.travel(BEFORE, tick=False)
def test_a_promotion_scheduled_for_publication_goes_live_when_its_time_comes(
    marketing_client, home_with_promotions
):
    go_live = BEFORE + datetime.timedelta(days=1)
    data = promotion_form(
        "Soirée calzone",
        starts_at=timezone.localtime(BEFORE).strftime("%Y-%m-%d %H:%M"),
        go_live_at=timezone.localtime(go_live).strftime("%Y-%m-%d %H:%M"),
    )

    marketing_client.post(
        reverse("wagtailsnippets_home_promotion:add"), {**data, "action-publish": "action-publish"}
    )

    promotion = Promotion.objects.get(title="Soirée calzone")
    assert not promotion.live
    assert promotion.revisions.filter(approved_go_live_at__isnull=False).exists()
    call_command("publish_scheduled")
    assert shown_promotions(marketing_client, home_with_promotions) == []

    with time_machine.travel(go_live + datetime.timedelta(minutes=5), tick=False):
        call_command("publish_scheduled")
        assert Promotion.objects.get(pk=promotion.pk).live
        assert shown_promotions(marketing_client, home_with_promotions) == ["Soirée calzone"]


def test_a_draft_promotion_is_not_shown(client, home_with_promotions):
    PromotionFactory(title="En ligne", live=True)
    PromotionFactory(title="Brouillon secret", live=False)

    assert shown_promotions(client, home_with_promotions) == ["En ligne"]


def test_current_promotions_respect_the_validity_period(db):
    now = timezone.now()
    running = PromotionFactory(
        starts_at=now - datetime.timedelta(hours=1), ends_at=now + datetime.timedelta(hours=1)
    )
    PromotionFactory(starts_at=now + datetime.timedelta(hours=1), ends_at=now + datetime.timedelta(days=1))
    PromotionFactory(starts_at=now - datetime.timedelta(days=2), ends_at=now - datetime.timedelta(days=1))

    assert list(Promotion.objects.current(now=now)) == [running]
    assert list(Promotion.objects.current(now=now + datetime.timedelta(days=2))) == []


def test_a_promotion_that_ends_before_it_starts_is_refused(marketing_client, home_with_promotions):
    data = promotion_form("À l'envers", starts_at="2031-03-15 10:00", ends_at="2031-03-01 10:00")

    response = marketing_client.post(
        reverse("wagtailsnippets_home_promotion:add"), {**data, "action-publish": "action-publish"}
    )

    assert response.status_code == 200
    assert "La fin de validité doit être après le début." in response.content.decode()
    assert not Promotion.objects.filter(title="À l'envers").exists()
