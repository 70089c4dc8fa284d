"""Diagnosis: the failed checks of a grading grouped by what caused them, largest first.

``rules`` holds the evidence that names a cause; ``causes`` applies it to a grading's checks.
"""
from .causes import diagnose

__all__ = ["diagnose"]
