"""The instructor's release: stubs from solutions/, the student handout, the nbgrader course and its autograde.

``stubgen`` makes exercises/ from solutions/, ``handout`` the files of dist/student/, ``notebooks``
the nbgrader source notebooks and configuration, ``sync`` writes a release without losing anyone's
edits, ``nbhooks`` are the preprocessors nbgrader runs, ``isolated`` the kit's grading of each submission
that they and ``autograde`` (``make autograde``) share.
A student handout contains none of this package.
"""
