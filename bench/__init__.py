"""Benchmarks and model fitting scripts (not part of the installed product).

Run each one as a module from the repository root, with the project
installed in .venv/ (``make install``), e.g. ``.venv/bin/python -m bench.checkthat``;
what several scripts share is in ``bench.common``. See docs/benchmarks.md.
"""
