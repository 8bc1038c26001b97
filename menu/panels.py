"""An inline panel that honours permissions, which Wagtail's own `InlinePanel` does not (7.4).

Wagtail's `InlinePanel` takes no `permission`, and a `FieldPanel(..., permission=...)` among its
child panels only hides the field: the child form still expects it, so a user without the
permission could neither see it nor save the page. `PermissionedInlinePanel` fixes both:

- `permission=`: a user without it gets neither the panel nor its formset; whatever they post
  for the relation is ignored and the child objects are kept as they are. The model's
  `base_form_class` must include `PermissionedFormsetsMixin`.
- a child `FieldPanel(..., permission=...)`: the field is left out of the child forms of a user
  without it, like Wagtail does for a field of the page itself; existing rows keep their value
  and new rows get the field's default.
"""

from django.core.exceptions import ImproperlyConfigured
from wagtail.admin.panels import InlinePanel
from wagtail.admin.panels.base import get_form_for_model


class PermissionedFormsetsMixin:
    """Drops the formsets the user may not edit (`Meta.formset_permissions`, set by the panels)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.for_user is None:  # a form built outside the admin, as Wagtail's field permissions
            return
        for relation_name, permission in getattr(self.Meta, "formset_permissions", {}).items():
            if not self.for_user.has_perm(permission):
                del self.formsets[relation_name]


class PermissionedInlinePanel(InlinePanel):
    def __init__(self, *args, permission=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.permission = permission

    def clone_kwargs(self):
        kwargs = super().clone_kwargs()
        kwargs["permission"] = self.permission
        return kwargs

    def on_model_bound(self):
        super().on_model_bound()
        form_class = getattr(self.model, "base_form_class", None)
        if self.permission and not (form_class and issubclass(form_class, PermissionedFormsetsMixin)):
            raise ImproperlyConfigured(
                f"{self.model.__name__}.base_form_class must include PermissionedFormsetsMixin "
                f"for the permission of its '{self.relation_name}' panel to be enforced."
            )

    def get_form_options(self):
        options = super().get_form_options()
        if self.permission:
            options["formset_permissions"] = {self.relation_name: self.permission}
        child_options = self.child_edit_handler.get_form_options()
        if child_options.get("field_permissions"):
            formset_options = options["formsets"][self.relation_name]
            formset_options["form"] = get_form_for_model(
                self.db_field.related_model,
                defer_required_on_fields=child_options.get("defer_required_on_fields", []),
                field_permissions=child_options["field_permissions"],
            )
            # Child forms then receive the user, and drop the fields they may not edit.
            formset_options["inherit_kwargs"] = ["for_user"]
        return options

    class BoundPanel(InlinePanel.BoundPanel):
        def __init__(self, **kwargs):
            form = kwargs.get("form")
            if form is not None and kwargs["panel"].relation_name not in form.formsets:
                kwargs["form"] = None  # removed by PermissionedFormsetsMixin: nothing to render
            super().__init__(**kwargs)

        def is_shown(self):
            if self.panel.permission and not self.request.user.has_perm(self.panel.permission):
                return False
            return self.form is not None and super().is_shown()
