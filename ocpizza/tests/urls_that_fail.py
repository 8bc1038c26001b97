"""A URLconf that cannot be imported: what a release with a broken URL module gives a worker."""

raise RuntimeError("this URLconf is broken on purpose")
