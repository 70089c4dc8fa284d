"""The kit's grading and instructor tooling; it never imports student code."""
