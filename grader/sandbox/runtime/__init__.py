"""What runs inside the sandbox, next to student code: the fork server and workers, the wire format, the probes.

These files are copied into each grading's scratch folder as the package ``runtime`` and are all of
the kit that a sandboxed process can see. They import nothing of the grader outside this folder.
"""
