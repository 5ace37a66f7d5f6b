"""Warta: retrieval-augmented answers over an Indonesian/English news corpus.

Importing this package is cheap: torch, transformers, faiss and gradio load only inside the
functions that need them.
"""
__version__ = "0.1.0"
