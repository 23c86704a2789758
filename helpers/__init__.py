"""Helpers for the Behavior-Sequence Interview Lab notebooks.

Public names used by every notebook::

    from helpers import setup_notebook, AttentionLayer
    from helpers import build_lstm_classifier, build_lstm_attention_model

Importing ``helpers`` is cheap on purpose: TensorFlow/Keras are only imported
when one of the names above is first used (PEP 562 module ``__getattr__``), so
``python -m helpers.authoring`` and the data loaders start instantly.
"""

import os
from importlib import import_module

# TensorFlow reads this once, when it is first imported: hide its C++ info and
# warning chatter (Python exceptions are unaffected).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__all__ = [
    "AttentionLayer",
    "build_lstm_attention_model",
    "build_lstm_classifier",
    "setup_notebook",
]

# public name -> module that defines it
_LAZY = {
    "AttentionLayer": "helpers.layers",
    "build_lstm_classifier": "helpers.models",
    "build_lstm_attention_model": "helpers.models",
    "setup_notebook": "helpers.setup",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
