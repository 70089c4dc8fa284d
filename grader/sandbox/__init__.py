"""Where student code runs: the fork-server pool, the confinement layers around it, and what runs inside.

``pool`` starts and talks to the processes, ``layers`` chooses bubblewrap, a user of its own and a
control group (``cgroups``), ``launch`` applies the layers outside bubblewrap, ``procs`` finds and
kills processes, and ``runtime/`` holds exactly the files that run inside the sandbox.
"""
