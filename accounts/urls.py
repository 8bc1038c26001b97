"""Customer account URLs, in French under /compte/.

django-allauth's views are mounted here under allauth's own URL names (`account_login`, …),
which allauth reverses itself; the same views carry the names of the `accounts` namespace
(`accounts:login`, `accounts:signup`, `accounts:logout`, …) that templates and other apps use.
Both names of a view give the same path. Wagtail's admin keeps its own login.
"""

from allauth.account import views as allauth_views
from django.http import Http404
from django.urls import include, path, re_path

from . import views

login = allauth_views.LoginView.as_view()
signup = views.SignupView.as_view()
logout = allauth_views.LogoutView.as_view()
password_change = views.PasswordChangeView.as_view()
password_reset = views.PasswordResetView.as_view()
email = views.EmailView.as_view()


def not_offered(request, *args, **kwargs):
    """Reauthentication by a mailed code is not offered (login by code is off). allauth names these
    URLs, so they must resolve, but their pages were allauth's bare ones, not ours."""
    raise Http404


allauth_patterns = [
    path("connexion/", login, name="account_login"),
    path("deconnexion/", logout, name="account_logout"),
    path("inscription/", signup, name="account_signup"),
    path("inactif/", allauth_views.account_inactive, name="account_inactive"),
    path("reauthentification/", allauth_views.reauthenticate, name="account_reauthenticate"),
    path(
        "reauthentification/code/",
        not_offered,
        name="account_request_reauthentication_code",
    ),
    path(
        "reauthentification/code/confirmer/",
        not_offered,
        name="account_confirm_reauthentication_code",
    ),
    path("connexion/code/confirmer/", allauth_views.confirm_login_code, name="account_confirm_login_code"),
    path("email/", email, name="account_email"),
    path(
        "email/confirmation-envoyee/",
        allauth_views.email_verification_sent,
        name="account_email_verification_sent",
    ),
    re_path(
        r"^email/confirmer/(?P<key>[-:\w]+)/$", views.ConfirmEmailView.as_view(), name="account_confirm_email"
    ),
    path("mot-de-passe/", password_change, name="account_change_password"),
    path("mot-de-passe/definir/", allauth_views.password_set, name="account_set_password"),
    path("mot-de-passe/oublie/", password_reset, name="account_reset_password"),
    path(
        "mot-de-passe/oublie/envoye/", allauth_views.password_reset_done, name="account_reset_password_done"
    ),
    path(
        "mot-de-passe/nouveau/fait/",
        allauth_views.password_reset_from_key_done,
        name="account_reset_password_from_key_done",
    ),
    re_path(
        r"^mot-de-passe/nouveau/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
        allauth_views.password_reset_from_key,
        name="account_reset_password_from_key",
    ),
]

account_patterns = [
    path("", views.account, name="account"),
    path("connexion/", login, name="login"),
    path("inscription/", signup, name="signup"),
    path("deconnexion/", logout, name="logout"),
    path("mot-de-passe/", password_change, name="password_change"),
    path("mot-de-passe/oublie/", password_reset, name="password_reset"),
    path("email/", email, name="email"),
    path("adresses/ajouter/", views.address_edit, name="address_add"),
    path("adresses/<int:pk>/", views.address_edit, name="address_edit"),
    path("adresses/<int:pk>/supprimer/", views.address_delete, name="address_delete"),
    path("adresses/<int:pk>/par-defaut/", views.address_default, name="address_default"),
    path("mes-donnees/", views.personal_data, name="personal_data"),
    path("supprimer/", views.delete, name="delete"),
    path("supprime/", views.deleted, name="deleted"),
]

urlpatterns = [
    *allauth_patterns,
    path("", include((account_patterns, "accounts"))),
]
