"""The grader's convergence check alone (train_ch3/convergence-scratch) on the reference solutions.

Grades solutions/ with only that check, as ``python -m grader --only train_ch3/convergence-scratch``
would (the grader's own fork server, sandbox and in-memory Fashion-MNIST), and prints one JSON line:
the final test accuracy the grader measured and the seconds the worker spent in train_ch3.
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK = "train_ch3/convergence-scratch"


def main(argv=None):
    """Run the check like a grading does and report what it measured."""
    parser = argparse.ArgumentParser(prog="python -m bench.convergence", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from grader.run import Options, grade
    report = grade(ROOT / "solutions", Options(seed=args.seed, device="cpu", only=(CHECK,)))
    [result], [curve] = report.checks, [curve for curve in report.curves if curve.label == "scratch"]
    if result.status != "passed":
        print(f"{CHECK} did not pass on the reference solutions: {result.detail}", file=sys.stderr)
        return 1
    print(json.dumps({"accuracy": curve.test_acc[-1], "training_seconds": curve.seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
