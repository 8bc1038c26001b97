"""Load a .env file into the environment, then replace this process with a command.

    python with_env.py /srv/ocpizza/.env newrelic-admin run-program gunicorn ...

Supervisor starts Gunicorn through this script so that the New Relic agent, which reads its
settings (NEW_RELIC_LICENSE_KEY, NEW_RELIC_APP_NAME...) from the environment before Django starts,
sees the values kept in .env. Variables already in the environment win over the file. The
command keeps this process's id (exec), so Supervisor's signals reach Gunicorn directly.
The file is parsed the way Django's settings parse it (django-environ), never run as shell code.
"""

import os
import sys

import environ


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: with_env.py ENV_FILE COMMAND [ARG...]")
    env_file, command = argv[1], argv[2:]
    if not os.path.isfile(env_file):
        sys.exit(f"with_env.py: {env_file} is missing: copy .env.example there and fill it in.")
    environ.Env.read_env(env_file, overwrite=False)
    # exec, not a shell: the arguments come from Supervisor's config, passed through untouched.
    os.execv(command[0], command)  # noqa: S606


if __name__ == "__main__":
    main(sys.argv)
