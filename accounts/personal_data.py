"""A customer's personal data: what the JSON download holds, and what deleting the account erases.

`accounts` knows only its own tables. Higher apps plug theirs in at start-up (the "lower app
offers a registry" rule, as `menu/offers.py`): `ordering` adds the customer's orders to the
download, anonymises them (keeping them for accounting) before the account goes, and attaches a
guest's orders to the account that confirms their e-mail address.
"""

from django.db import transaction

_exports = {}
_erasures = []
_email_confirmed = []
_deletion_blockers = []


def register_export(name, fn):
    """Add a section `name` to the download: `fn(user)` returns something JSON can hold."""
    _exports[name] = fn


def register_erasure(fn):
    """`fn(user)` runs inside the deletion's transaction, before the user row is deleted."""
    if fn not in _erasures:
        _erasures.append(fn)


def register_email_confirmed(fn):
    """`fn(user, email)` runs when a user confirms an e-mail address."""
    if fn not in _email_confirmed:
        _email_confirmed.append(fn)


def register_deletion_blocker(fn):
    """`fn(user)` returns why the account cannot be deleted now (French), or "" when it can."""
    if fn not in _deletion_blockers:
        _deletion_blockers.append(fn)


def deletion_blockers(user):
    """The reasons, from every registered app, why `user` cannot delete their account now."""
    return [reason for reason in (fn(user) for fn in _deletion_blockers) if reason]


def export_personal_data(user):
    """Everything we hold about `user`, as a JSON-able dict (dates as ISO strings by the encoder)."""
    from allauth.account.models import EmailAddress

    store = user.preferred_store
    data = {
        "profile": {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "phone": user.phone,
            "preferred_store": store.title if store else None,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
        },
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in EmailAddress.objects.filter(user=user).order_by("email")
        ],
        "addresses": [address.as_dict() for address in user.addresses.all()],
    }
    for name, fn in _exports.items():
        data[name] = fn(user)
    return data


def delete_account(user):
    """Erase what the registered apps hold about `user`, then the user, all or nothing."""
    with transaction.atomic():
        for fn in _erasures:
            fn(user)
        user.delete()


def email_confirmed(user, email):
    for fn in _email_confirmed:
        fn(user, email)
