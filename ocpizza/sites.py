"""The Wagtail site a page is drawn for, read once per content generation with all a page needs of it.

Every page needs its site (Wagtail's lookup by host: one query), the sites' root paths (each link
to a page: one more query, or a round trip to the shared cache), the site's root page as its own
type (Wagtail routes every page through it: one more) and the brand's settings (the footer: one
more). Here all of it is one query, `Site` with its root page, the home page's own row and the brand
settings joined, kept per content generation (`menu.catalogue`): a page drawn right after an edit
pays one query for it, a page drawn again none.

The lookup matches Wagtail's (`wagtail.models.sites.get_site_for_hostname`): the host's name and
port first, then the name on the default site, then the default site, then a single site of that
name. Without a generation (the page cache off, as under `make run`) Wagtail's own lookup is used.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models.expressions import RawSQL
from django.http.request import split_domain_port
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.models.sites import SiteRootPath

from home.models import HomePage
from menu.catalogue import keeps, kept

# As Wagtail ranks the sites a host may be served by (wagtail.models.sites.MATCH_*).
HOSTNAME_PORT, HOSTNAME_DEFAULT, DEFAULT, HOSTNAME = range(4)


def restricted_paths_sql():
    """A subquery: the tree paths of every page with a view restriction and of every alias of one,
    comma-separated (NULL when there is none). A superset of what Wagtail checks (it ignores a
    restriction set on an alias): `menu.models.OneQueryViewRestrictionsMixin` reads the
    restrictions themselves whenever a page's path or one of its ancestors' is in it."""
    restriction, page = PageViewRestriction._meta.db_table, Page._meta.db_table
    joined = "string_agg" if connection.vendor == "postgresql" else "group_concat"
    # Only the models' own table names and a function name are put in: nothing comes from a request.
    return (
        f"SELECT {joined}(page.path, ',') FROM \"{restriction}\" restriction"  # noqa: S608
        f' INNER JOIN "{page}" page'
        " ON page.id = restriction.page_id OR page.alias_of_id = restriction.page_id"
    )


def read_sites():
    """Every site, with its root page (as a `HomePage` when it is one: its own row is joined), the
    root page's locale and the brand settings, in the order of Wagtail's root paths; the root page
    knows the paths under a view restriction (`restricted_paths`), which it hands to the pages it
    routes to."""
    sites = list(
        Site.objects.select_related("root_page__locale", "root_page__homepage__locale", "brandsettings")
        .annotate(restricted_paths=RawSQL(restricted_paths_sql(), ()))  # noqa: S611 (no parameter)
        .order_by("-root_page__url_path", "-is_default_site", "hostname")
    )
    home_type = ContentType.objects.get_for_model(HomePage).id
    for site in sites:
        try:
            home = site.root_page.homepage
        except HomePage.DoesNotExist:
            continue  # another type of root: Wagtail reads it as its own type, as usual
        if home.content_type_id == home_type:  # not a subclass, whose own row is not joined
            site.root_page = home
            paths = site.restricted_paths
            home.restricted_paths = frozenset(paths.split(",") if paths else ())
    return sites


def match_site(sites, hostname, port):
    """The site Wagtail would serve `hostname:port` from, or None."""

    def rank(site):
        if site.hostname != hostname:
            return DEFAULT
        if site.port == port:
            return HOSTNAME_PORT
        return HOSTNAME_DEFAULT if site.is_default_site else HOSTNAME

    candidates = [site for site in sites if site.hostname == hostname or site.is_default_site]
    candidates.sort(key=rank)
    if not candidates:
        return None
    best = rank(candidates[0])
    if len(candidates) == 1 or best in (HOSTNAME_PORT, HOSTNAME_DEFAULT):
        return candidates[0]
    if best == DEFAULT:
        # The default site with another name: a single site of this name wins over it.
        return candidates[len(candidates) == 2]
    return None  # several sites of this name, none of them default: Wagtail finds none


def root_paths(sites):
    """`Site.get_site_root_paths()` (without translations) from the sites already read."""
    return [
        SiteRootPath(site.id, site.root_page.url_path, site.root_url, site.root_page.locale.language_code)
        for site in sites
    ]


def find_site(request):
    """The Wagtail site `request` is for, put where Wagtail and the rest of the request look for it
    (`request._wagtail_site`), with the sites' root paths (`request._wagtail_cached_site_root_paths`)."""
    if (
        not keeps(request)
        or hasattr(request, "_wagtail_site")
        or getattr(settings, "WAGTAIL_I18N_ENABLED", False)
    ):
        return Site.find_for_request(request)
    sites = kept(request, ("sites",), read_sites)
    # As Wagtail matches it: the host's name (checked against ALLOWED_HOSTS, lowercased) and the
    # server's port; a visitor's spelling of the Host header adds no key.
    hostname, port = split_domain_port(request.get_host())[0], request.get_port()
    port = int(port) if port.isdigit() else None  # Wagtail's column is a number
    request._wagtail_site = kept(request, ("site", hostname, port), lambda: match_site(sites, hostname, port))
    request._wagtail_cached_site_root_paths = kept(request, ("site root paths",), lambda: root_paths(sites))
    return request._wagtail_site
