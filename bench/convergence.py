"""The grader's convergence check alone (train_ch3/convergence-scratch) on the reference solutions.

Starts a fork server on solutions/ as a grading does, has a worker train the scratch softmax regression
on the grader's in-memory Fashion-MNIST, and measures the test accuracy from the parameter snapshots.
Prints one JSON line: the final test accuracy and the seconds the worker spent in train_ch3.
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    """Run the check like a grading does (the fork server starts before the heavy imports)."""
    parser = argparse.ArgumentParser(prog="python -m bench.convergence", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from grader.pool import ForkServer
    server = ForkServer.start(ROOT / "solutions", 1, {})
    try:
        return _check(server, args)
    finally:
        server.close()
        shutil.rmtree(server.scratch, ignore_errors=True)


def _check(server, args):
    import grader.checks.check_train_ch3 as checks
    from grader.harness import Client
    from grader.run import Grading
    checks.EPOCHS = args.epochs
    grading, client, key = Grading(server, args.seed, "cpu"), Client("train_ch3", server), ("scratch", "cpu", False)
    try:
        grading.memo[key] = checks._train(client, grading, key)
        checks.converged(client, grading, "scratch")
    finally:
        client.close()
    print(json.dumps({"accuracy": grading.curves[-1].test_acc[-1], "training_seconds": grading.memo[key]["seconds"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
