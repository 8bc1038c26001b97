from axes.backends import AxesStandaloneBackend


class LoginLockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, first in AUTHENTICATION_BACKENDS; ModelBackend logs users in.

    Every login form (Django's, Wagtail's, django-allauth's) calls `authenticate(request, ...)`
    and is checked. A call without a request is not a visitor's form: Django's test client
    `login()` and code in a shell. Axes refuses those with an error; we let them through to the
    next backend instead, so tests that log users in that way keep working. The login forms
    themselves are proven protected in `accounts/tests/test_login_lockout.py`.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
