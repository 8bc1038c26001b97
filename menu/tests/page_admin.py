"""Drive Wagtail's page admin as an editor's browser would, for tests of what goes live.

Each helper loads the admin's own page, reads its form the way a browser submits it (every field
the form shows, with its current value; nothing it does not show), and posts it back. Hidden
`<template>` blocks (the empty forms an inline panel clones) are not part of a submission.
"""

import datetime

from bs4 import BeautifulSoup
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page, TaskState

from accounts.tests.factories import PASSWORD, UserFactory

SKIPPED_INPUT_TYPES = {"submit", "button", "image", "file", "reset"}
EDIT_FORM = "page-edit-form"


def browser_form_data(html, form_id):
    """The fields of `<form id=form_id>` as the test client's `post` data (lists for repeats)."""
    soup = BeautifulSoup(html, "html.parser")
    form = soup.find("form", id=form_id)
    assert form is not None, f"no form #{form_id} in the page"
    data = {}
    for element in form.find_all(["input", "select", "textarea"]):
        name = element.get("name")
        if not name or element.has_attr("disabled") or element.find_parent("template"):
            continue
        for value in _values(element):
            data.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in data.items()}


def _values(element):
    if element.name == "textarea":
        return [element.text.removeprefix("\n")]
    if element.name == "select":
        options = element.find_all("option")
        chosen = [option for option in options if option.has_attr("selected")]
        if not chosen and options and not element.has_attr("multiple"):
            chosen = options[:1]
        return [option.get("value", option.text) for option in chosen]
    kind = element.get("type", "text").lower()
    if kind in SKIPPED_INPUT_TYPES:
        return []
    if kind in ("checkbox", "radio"):
        return [element.get("value", "on")] if element.has_attr("checked") else []
    return [element.get("value", "")]


def editor(client, *groups):
    """`client`, logged in as a new user of `groups`."""
    client.login(username=UserFactory(groups=list(groups)).email, password=PASSWORD)
    return client


def edit_url(page):
    return reverse("wagtailadmin_pages:edit", args=[page.id])


def revert_url(page, revision):
    return reverse("wagtailadmin_pages:revisions_revert", args=[page.id, revision.id])


def submit_editor(client, url, action, **changes):
    """Open the editor at `url`, change `changes`, press `action` ("publish", "submit" or None: save draft).

    Returns the response, which redirects when the editor accepted the form.
    """
    response = client.get(url)
    assert response.status_code == 200
    data = browser_form_data(response.content.decode(), EDIT_FORM)
    data.update(changes)
    if action:
        data[f"action-{action}"] = action
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    return response


def go_live_in(days):
    """The editor's « go live at » value for `days` from now (local time, the widget's format)."""
    moment = timezone.localtime() + datetime.timedelta(days=days)
    return moment.strftime("%Y-%m-%d %H:%M")


def run_publish_scheduled(*, days_later):
    """Run Wagtail's `publish_scheduled` as the server's cron would, `days_later` days from now."""
    import time_machine

    with time_machine.travel(timezone.now() + datetime.timedelta(days=days_later), tick=False):
        call_command("publish_scheduled", verbosity=0)


def copy_page(client, page, *, title, slug, publish=False, alias=False):
    """Copy `page` beside itself (or make an alias of it) through the admin's copy view; returns it."""
    data = {"new_title": title, "new_slug": slug, "new_parent_page": page.get_parent().id}
    if publish:
        data["publish_copies"] = "on"
    if alias:
        data["alias"] = "on"
    response = client.post(reverse("wagtailadmin_pages:copy", args=[page.id]), data)
    assert response.status_code == 302, response.context["form"].errors
    return Page.objects.get(slug=slug).specific


def approve(client, page):
    """Approve the moderation task `page` is waiting on, through the admin's workflow action view."""
    task_state = Page.objects.get(pk=page.pk).specific.current_workflow_task_state
    url = reverse("wagtailadmin_pages:workflow_action", args=[page.id, "approve", task_state.id])
    response = client.post(url, {"comment": ""})
    assert response.status_code == 302
    task_state.refresh_from_db()
    assert task_state.status == TaskState.STATUS_APPROVED
    return response


def gated_in_editor(model):
    """What the editor of `model` hides behind a permission.

    {permission: (fields, relations, {relation: child fields})}.
    """
    from wagtail.admin.panels import FieldPanel, InlinePanel

    found = {}

    def walk(panel, relation=None):
        permission = getattr(panel, "permission", None)
        if isinstance(panel, InlinePanel):
            if permission:
                found.setdefault(permission, (set(), set(), {}))[1].add(panel.relation_name)
            else:
                walk(panel.child_edit_handler, panel.relation_name)
            return
        if isinstance(panel, FieldPanel) and permission:
            fields, _, child_fields = found.setdefault(permission, (set(), set(), {}))
            if relation:
                child_fields.setdefault(relation, set()).add(panel.field_name)
            else:
                fields.add(panel.field_name)
        for child in getattr(panel, "children", ()):
            walk(child, relation)

    walk(model.get_edit_handler())
    return found


def declared(head_office_fields, *, derived=()):
    """A `HeadOfficeFields` as `gated_in_editor` reports it, less the fields the editor never shows."""
    return {
        head_office_fields.permission: (
            set(head_office_fields.fields) - set(derived),
            set(head_office_fields.relations),
            {relation: set(names) for relation, names in head_office_fields.child_fields.items()},
        )
    }
