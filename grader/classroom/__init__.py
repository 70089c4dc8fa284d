"""Grading a class: ``batch`` grades every student's folder in parallel (``make grade-all``), ``gradebook``
keeps one record per student and the gradebook CSV, ``gradescope`` builds and runs the Gradescope bundle.
"""
