#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocpizza.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    # Django keeps a settings error for later so that `help` works, then runs the system checks
    # anyway: the operator got "Models aren't loaded yet" or the real reason, depending on which
    # check came first. Read the settings now and say only what is wrong, with a failing status.
    if sys.argv[1:2] not in (["help"], ["--help"], ["-h"], ["version"], ["--version"], []):
        try:
            from django.conf import settings

            settings.INSTALLED_APPS  # noqa: B018 (reading it loads the settings module)
        except ImproperlyConfigured as error:
            sys.exit(str(error))
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
