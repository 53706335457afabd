"""Fitting, calibration and evaluation of the product's models.

One entry point: ``python -m claimlookup.training COMMAND ...`` (see
``__main__.py``). Training the relation model needs the ``train`` extra
(PyTorch, CPU build); nothing here is imported at serving time.
"""
