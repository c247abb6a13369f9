"""Reusable SOC Copilot components: artifact access, readers and views.

The same objects render in a Jupyter notebook and under ``panel serve``.
"""

import logging

LOGGER_NAME = "soc_copilot"

logging.getLogger(LOGGER_NAME).addHandler(logging.NullHandler())


def get_logger(module: str) -> logging.Logger:
    """Return a logger below the ``soc_copilot`` tree for ``module``."""
    return logging.getLogger(f"{LOGGER_NAME}.{module}")
