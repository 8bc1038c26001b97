"""deploy/gunicorn.conf.py's worker hook, run as Gunicorn runs it once a worker has loaded the site."""

import gc
import runpy
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test run collects as before


def test_a_worker_freezes_what_it_loaded_so_collections_no_longer_scan_it(unfrozen):
    hook = runpy.run_path(str(CONFIG))["post_worker_init"]
    assert gc.get_freeze_count() == 0

    hook(worker=None)

    # The interpreter's, Django's and the site's objects: hundreds of thousands of them.
    assert gc.get_freeze_count() > 100_000


def test_a_urlconf_that_fails_to_import_does_not_stop_the_worker_from_booting(unfrozen, settings):
    """Gunicorn shuts the whole server down when a worker's hook raises; the error belongs to the
    requests, which answer 500 and report it, as they would without the hook."""
    settings.ROOT_URLCONF = "ocpizza.tests.urls_that_fail"
    hook = runpy.run_path(str(CONFIG))["post_worker_init"]

    hook(worker=None)

    assert gc.get_freeze_count() > 100_000
