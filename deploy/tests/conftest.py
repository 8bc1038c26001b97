# The fixtures live in deploy_scratch.py, a module with a name of its own: the tests import its
# helpers too, and "import conftest" would be ambiguous next to other conftest.py files.
from deploy_scratch import deploy_tools, scratch_server  # noqa: F401
