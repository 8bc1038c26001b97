from wagtail import hooks

from .pagecache import mark_page_shareable


@hooks.register("before_serve_page")
def page_cache_may_store(page, request, serve_args, serve_kwargs):
    """A Wagtail page's response may be shared through the page cache (`ocpizza.pagecache`)."""
    mark_page_shareable(request)
