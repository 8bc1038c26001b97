"""The ceiling of bench/http_bench.py: OC Pizza's settings and middleware, one tiny view.

Everything (middleware, database, cache, security settings) is the site's; only the URLs differ:
a single view returning a short response, so its requests/s is what Django itself can serve here.
"""

from ocpizza.settings import *  # noqa: F403

ROOT_URLCONF = "bench.minimal_urls"
