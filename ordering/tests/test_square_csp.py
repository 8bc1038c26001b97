"""The Content-Security-Policy lets Square's Web Payments SDK in, from the configured environment's
origins only, when Square is the provider; the settings module is loaded fresh in a subprocess with
the environment variables of each case (settings are read once, at start-up)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
DUMP = (
    "import json, ocpizza.settings as s; "
    "print(json.dumps({'site': s.CONTENT_SECURITY_POLICY['DIRECTIVES'], "
    "'admin': s.CONTENT_SECURITY_POLICY_ADMIN['DIRECTIVES']}, default=str))"
)


def policies(**variables):
    environment = {
        **os.environ,
        "DEBUG": "false",
        "DJANGOSECRETKEY": "csp-test-key",
        "PAYMENT_PROVIDER": "",
        "SQUARE_ENVIRONMENT": "",
        "CSP_EXTRA_SCRIPT_SRC": "",
        "CSP_EXTRA_CONNECT_SRC": "",
        "CSP_EXTRA_FRAME_SRC": "",
        "CSP_EXTRA_IMG_SRC": "",
        **variables,
    }
    done = subprocess.run(
        [sys.executable, "-c", DUMP], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def square_sources(directives):
    return {
        name: [
            source
            for source in map(str, sources)
            if "square" in source or "sentry" in source or "cloudfront" in source
        ]
        for name, sources in directives.items()
        if isinstance(sources, list)
    }


@pytest.mark.parametrize(
    ("environment", "sdk", "pci", "api"),
    [
        (
            "sandbox",
            "https://sandbox.web.squarecdn.com",
            "https://pci-connect.squareupsandbox.com",
            "https://connect.squareupsandbox.com",
        ),
        (
            "production",
            "https://web.squarecdn.com",
            "https://pci-connect.squareup.com",
            "https://connect.squareup.com",
        ),
    ],
)
def test_square_s_origins_join_the_storefront_policy_for_its_environment(environment, sdk, pci, api):
    site = policies(PAYMENT_PROVIDER="square", SQUARE_ENVIRONMENT=environment)["site"]

    assert {name: sources for name, sources in square_sources(site).items() if sources} == {
        "script-src": [sdk],
        "style-src": [sdk],
        "img-src": [sdk],
        "font-src": [
            "https://square-fonts-production-f.squarecdn.com",
            "https://d1g145x70srn7h.cloudfront.net",
        ],
        "connect-src": [sdk, pci, api, "https://o160250.ingest.sentry.io"],
        "frame-src": [sdk, api],
    }
    # Nothing loosened: still nonces, no 'unsafe-inline', no wildcard.
    assert "'unsafe-inline'" not in site["script-src"] + site["style-src"]
    assert not any(
        "*" in source for sources in site.values() if isinstance(sources, list) for source in sources
    )


def test_the_admin_never_gets_square_s_origins():
    admin = policies(PAYMENT_PROVIDER="square", SQUARE_ENVIRONMENT="production")["admin"]

    assert not any(square_sources(admin).values())


@pytest.mark.parametrize(
    "variables",
    [
        {"PAYMENT_PROVIDER": "simulator"},
        {"PAYMENT_PROVIDER": "none"},
        {"PAYMENT_PROVIDER": "square", "SQUARE_ENVIRONMENT": "test"},
    ],
)
def test_without_square_the_policy_names_none_of_its_origins(variables):
    site = policies(**variables)["site"]

    assert not any(square_sources(site).values())


def test_the_test_settings_use_the_simulator_and_its_policy_has_no_square_origin():
    assert settings.PAYMENT_PROVIDER == "simulator"
    assert not any(square_sources(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]).values())
