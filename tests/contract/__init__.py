"""Store contract suite (``suite.StoreContract``) and its per-adapter subclasses."""

import pytest

# suite.py is not a test module, so ask pytest to rewrite its asserts too.
pytest.register_assert_rewrite(f"{__name__}.suite")
