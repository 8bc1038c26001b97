"""Head office's fields of a page: only a holder of their permission brings values of them live.

A product's recipe, options, preparation, availability and recipe factors, and a store's delivery
postcodes and payment location, drive kitchens, stock, deliveries and payments. The editor shows
them only to holders of a permission (`menu.panels`), but a page has other ways to take values
that nobody with the permission chose: reverting to an old revision, copying a page, publishing a
scheduled draft, approving a moderated one. All of them save a revision, build the page from one,
or both. The rule, applied at those two points:

- **Whose values count**: those of the *author* of the revision, never those of the person who
  publishes, schedules or approves it. An approver sees marketing's change, not a recipe hidden in
  an old revision; head office changes a recipe by editing it, which makes head office the author.
  A revision made by code (demo data, a management command: no user) counts as authorised; a
  revision whose author was deleted does not (Wagtail then leaves its user empty too, so the
  revision remembers that it had an author, under `AUTHORED`).
- **What an author without the permission gets**: the page's current values from the database
  (its live values, or its saved values for a page never published), field by field for a page
  field, row by row for a child relation (the live rows, by id), field by field for a gated field
  of a child row that is not gated itself (a size's recipe factor: the live size's, matched by
  id; the field's default for a size that is not live).

Where it is applied (`HeadOfficeFieldsMixin` on the page model, `HeadOfficeFieldsFormMixin` on its
form):
- the editor's form, for a user without the permission, starts from the live values, so what they
  preview, save as a draft, schedule or submit carries them (a revert included);
- `save_revision(user=…)` does the same for revisions made outside the editor (the copy of a page,
  Wagtail's revert action, the admin API);
- when a page goes live with a revision whose author lacks the permission (publishing, scheduled
  publishing, workflow approval), the page keeps its live values even if they changed after that
  revision was saved; aliases are updated from the page as published, not from the raw revision.

`menu` must not import `stores`: stores declares its own `HeadOfficeFields` with this module.
"""

from dataclasses import dataclass, field

# Key added to the content of a revision saved by a user: its author, if later deleted, is not
# mistaken for code (both leave `Revision.user` empty).
AUTHORED = "head_office_fields_authored"


@dataclass(frozen=True)
class HeadOfficeFields:
    """The fields of a page model that only holders of `permission` may change.

    - `fields`: fields of the page (a `ParentalManyToManyField` included);
    - `relations`: child relations kept whole (every live row, none of the revision's);
    - `child_fields`: {relation: fields} of child rows the editor may otherwise change.
    """

    permission: str
    fields: tuple[str, ...] = ()
    relations: tuple[str, ...] = ()
    child_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def allows(self, user):
        """Whether values authored by `user` may go live (`None`: made by code, not an editor)."""
        return user is None or user.has_perm(self.permission)

    def allows_revision(self, revision):
        """Whether the values of `revision` may go live: its author's right (code's, if it has none
        and never had one; nobody's if its author was deleted)."""
        if revision.user_id is None and revision.content.get(AUTHORED):
            return False
        return self.allows(revision.user)

    def keep_live(self, page):
        """Give `page` (in memory: a revision's or a form's) the database's values for these fields.

        A page not saved yet has no live values and is left alone.
        """
        if page.pk is None:
            return
        live = (
            type(page)
            .objects.filter(pk=page.pk)
            .prefetch_related(*self.relations, *self.child_fields, *self._many_to_many(page))
            .first()
        )
        if live is None:
            return
        for name in self.fields:
            model_field = page._meta.get_field(name)
            if model_field.many_to_many:
                setattr(page, name, list(getattr(live, name).all()))
            else:
                setattr(page, model_field.attname, getattr(live, model_field.attname))
        for relation in self.relations:
            setattr(page, relation, list(getattr(live, relation).all()))
        for relation, names in self.child_fields.items():
            live_rows = {row.pk: row for row in getattr(live, relation).all()}
            child_model = page._meta.get_field(relation).related_model
            rows = list(getattr(page, relation).all())
            for row in rows:
                live_row = live_rows.get(row.pk)
                for name in names:
                    value = (
                        getattr(live_row, name)
                        if live_row is not None
                        else child_model._meta.get_field(name).get_default()
                    )
                    setattr(row, name, value)
            setattr(page, relation, rows)  # held in memory, so the revision and the save see them

    def _many_to_many(self, page):
        return [name for name in self.fields if page._meta.get_field(name).many_to_many]


class HeadOfficeFieldsMixin:
    """For a page model whose `head_office_fields` (a `HeadOfficeFields`) only some editors may change.

    Put it before `Page` in the bases, and `HeadOfficeFieldsFormMixin` in its `base_form_class`.
    """

    head_office_fields: HeadOfficeFields

    def save_revision(self, user=None, *args, **kwargs):
        if not self.head_office_fields.allows(user):
            self.head_office_fields.keep_live(self)
        revision = super().save_revision(user, *args, **kwargs)
        if user is not None:
            revision.content[AUTHORED] = True
            revision.save(update_fields=["content"])
        return revision

    def save(self, *args, **kwargs):
        if kwargs.get("update_fields") is None and self._goes_live_with_a_revision_it_may_not_use():
            self.head_office_fields.keep_live(self)
        return super().save(*args, **kwargs)

    def update_aliases(self, *, revision=None, _content=None, _updated_ids=None):
        # Wagtail passes the raw revision; aliases must follow the page as it went live.
        return super().update_aliases(revision=revision, _updated_ids=_updated_ids)

    def _goes_live_with_a_revision_it_may_not_use(self):
        """Whether this save publishes a revision whose author lacks the permission.

        Wagtail's publishing (now, scheduled or approved) builds the page from the revision, sets
        `live_revision` to it and saves the whole page. An alias has no revisions of its own: it
        copies its original once the original is published (`update_aliases`).
        """
        if self.pk is None or self.live_revision_id is None or self.alias_of_id is not None:
            return False
        if self.head_office_fields.allows_revision(self.live_revision):
            return False
        saved = type(self).objects.filter(pk=self.pk).values_list("live_revision_id", flat=True).first()
        return saved != self.live_revision_id


class HeadOfficeFieldsFormMixin:
    """For the page's `base_form_class`: a user without the permission edits from the live values.

    The gated fields are not in their form (panels with `permission=`), so without this the page
    would keep whatever the revision being edited holds: an old recipe when reverting, a head
    office draft not yet published.
    """

    def __init__(self, *args, **kwargs):
        instance, user = kwargs.get("instance"), kwargs.get("for_user")
        gated = getattr(self._meta.model, "head_office_fields", None)
        if instance is not None and user is not None and gated and not gated.allows(user):
            gated.keep_live(instance)
        super().__init__(*args, **kwargs)
