"""`python -m datasets` (what `make data` runs): make Fashion-MNIST (d2l 3.5) ready, or say how."""

from __future__ import annotations

import argparse
import sys

from grader import messages

from . import routes
from .explain import explained
from .vision import EnvironmentMismatch, torchvision


def main(argv=None) -> int:
    """Find, verify and cache Fashion-MNIST (d2l 3.5); return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m datasets", description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="only report where the data is; never download or install")
    args = parser.parse_args(argv)
    try:
        torchvision()  # a mismatched torch/torchvision pair is reported before anything else
        if args.check:
            found = routes.lookup(allow_download=False, allow_install=False, install_files=False)
        else:
            found = routes.lookup()
    except (routes.DatasetUnavailable, EnvironmentMismatch) as exc:
        print(explained(exc), file=sys.stderr)
        return 1
    via = f"{found.route} {found.source}" if found.source else found.route
    print(messages.text("data.ready" if found.installed else "data.found", root=found.root, via=via))
    return 0


if __name__ == "__main__":
    sys.exit(main())
