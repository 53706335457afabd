"""Store contract suite (``suite.StoreContract``, composed of one mixin per
area) and its per-adapter subclasses."""

import pytest

# The suite's modules are not test modules, so ask pytest to rewrite their asserts too.
pytest.register_assert_rewrite(*(f"{__name__}.{name}" for name in (
    "base", "candidates", "catalogue", "consistency", "lifecycle", "lookup", "rebuild", "search", "suite",
    "writes")))
