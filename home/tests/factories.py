import datetime

import factory
import wagtail_factories
from django.utils import timezone

from home.models import HomePage, Promotion, StandardPage


class HomePageFactory(wagtail_factories.PageFactory):
    class Meta:
        model = HomePage

    title = "Accueil"
    slug = "accueil"


class StandardPageFactory(wagtail_factories.PageFactory):
    class Meta:
        model = StandardPage

    title = factory.Sequence(lambda n: f"Page {n}")
    intro = "Texte d'introduction."


class PromotionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Promotion

    title = factory.Sequence(lambda n: f"Promotion {n}")
    text = "<p>Une offre à ne pas manquer.</p>"
    starts_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))
    live = True
