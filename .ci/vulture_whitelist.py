"""Names vulture (``make lint``, 80% confidence) takes for unused that Django uses.

Each line names one, with where it is and who uses it. Generated with
``vulture … --make-whitelist`` and checked by hand.
"""

renderer  # unused variable (shares/filters.py:26): Widget.render's keyword argument, passed by BoundField
