"""The architecture rule of docs/architecture.md, held by import-linter's contracts (pyproject.toml).

Each broken case runs `lint-imports` on a scratch copy of the apps with one offending module added,
so the working tree is never touched.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

APPS = ["ocpizza", "home", "menu", "stores", "accounts", "ordering"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

LAYERS = "Apps depend downwards: ocpizza > home | ordering > accounts > stores > menu"
HOME = "Home reads only menu and stores"
TESTS = "Application code never imports tests"


def lint_imports(project_dir):
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=project_dir,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def project_copy(tmp_path):
    """The apps' Python sources and pyproject.toml, copied into a temporary directory."""
    base = Path(settings.BASE_DIR)
    for app in APPS:
        shutil.copytree(
            base / app,
            tmp_path / app,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "templates", "static", "locale"),
        )
    shutil.copy(base / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_project_keeps_every_architecture_contract():
    result = lint_imports(settings.BASE_DIR)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("app", "statement", "contract", "complaint"),
    [
        ("menu", "from stores import models", LAYERS, "menu is not allowed to import stores"),
        ("menu", "import home.models", LAYERS, "menu is not allowed to import home"),
        ("stores", "from accounts import models", LAYERS, "stores is not allowed to import accounts"),
        ("stores", "from ocpizza import roles", LAYERS, "stores is not allowed to import ocpizza"),
        ("accounts", "import ordering.views", LAYERS, "accounts is not allowed to import ordering"),
        ("ordering", "from home import models", LAYERS, "ordering is not allowed to import home"),
        ("home", "from accounts.models import User", HOME, "home is not allowed to import accounts"),
        ("stores", "from stores.tests import factories", TESTS, "stores.offending -> stores.tests"),
    ],
)
def test_a_forbidden_import_breaks_its_contract_and_fails_the_lint(
    project_copy, app, statement, contract, complaint
):
    (project_copy / app / "offending.py").write_text(statement + "\n")

    result = lint_imports(project_copy)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{contract} BROKEN" in result.stdout
    assert complaint in result.stdout
    assert "Contracts: 2 kept, 1 broken." in result.stdout
