"""Wagtail's chooser « create » URL answers 404 where the chooser offers no creation form.

Wagtail 7.4 routes `<chooser>/create/` for every snippet chooser, also for models whose chooser
has no creation form (ours: ingredients, promotions, store memberships are made in their own
editors). A POST there calls `is_valid()` on no form: a 500 for anyone who tries the URL by hand.
One override of `CreateViewMixin`, installed at start-up by `OcpizzaConfig.ready`, turns that into
a 404 for every chooser, present and future; the permission check (403) still comes first.
"""

from django.http import Http404


def refuse_chooser_creation_without_a_form():
    """Make chooser create views without a creation form answer 404 (idempotent)."""
    from wagtail.admin.views.generic.chooser import CreateViewMixin

    if getattr(CreateViewMixin.post, "refuses_without_form", False):
        return
    original_get, original_post = CreateViewMixin.get, CreateViewMixin.post

    def get(self, request, *args, **kwargs):
        if self.get_creation_form_class() is None:
            raise Http404
        return original_get(self, request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if self.get_creation_form_class() is None:
            raise Http404
        return original_post(self, request, *args, **kwargs)

    post.refuses_without_form = True
    CreateViewMixin.get, CreateViewMixin.post = get, post
