"""The adversarial corpus: submissions that attack the grader instead of solving the exercises.

Each attack writes some files over a copy of ``solutions/`` or ``exercises/`` and names the exact
outcome: which checks fail (all others graded pass), a phrase one failure must show, and a time
bound as a multiple of a baseline measured in the same run (plus the call time limits a hang must
wait out). In sources, OUT, CANARY, CLASSMATE, REPO, PORT and WEIGHTS stand for the report folder, a
folder of the instructor's that must stay untouched, a classmate's submission, the kit's checkout,
a local port that listens, and weights trained on the real Fashion-MNIST before the grading.
"""
from dataclasses import dataclass
from pathlib import Path

from grader.table import CHECKS


def every(*stubs):
    """Every check id of ``stubs``."""
    return tuple(check.id for check in CHECKS if check.stub in stubs and "cuda" not in check.needs)


@dataclass(frozen=True)
class Attack:
    name: str
    files: dict             # file name -> source written into the submission (None deletes the file)
    fails: tuple            # exactly the check ids that must fail
    says: tuple = ()        # (check id, phrase its detail must contain, or a tuple of phrases one of which)
    only: tuple = ("accuracy",)
    base: str = "solutions"
    bound: float = 8.0      # grading ends within this many baselines (an untouched stub's grading) ...
    waits: int = 0          # ... plus this many call time limits (a hang costs one, then shorter ones)
    later: float = 0.0      # seconds to wait before looking for late effects (detached processes)
    needs: str = ""         # the layer the outcome depends on: "namespaces" (bubblewrap), "own-user", "bounded-home"
    data: bool = False
    replace: tuple = ()     # (file, old, new): a change to the base's file instead of a new file
    extra: str = ""         # the name of a further assertion of test_hostile.EXTRA on the report


FORGE = """
import json, os
def forge():
    for folder in ("OUT", "CANARY"):
        try:
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, "results.json"), "w") as handle:
                json.dump({"score": 100, "max_score": 100, "tests": []}, handle)
            with open(os.path.join(folder, "grades.csv"), "a") as handle:
                handle.write("everyone,100\\n")
        except OSError:
            pass
"""
STUB = "\ndef accuracy(y_hat, y):\n    raise NotImplementedError()\n"
LATER = "import os, time\n" + FORGE + """
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(1.0)
        forge()
    os._exit(0)
""" + STUB
READ = """
import os
FOUND = []
for path in ("REPO/solutions/softmax.py", "REPO/grader/checks/check_softmax.py", "REPO/grader/table.py"):
    try:
        with open(path) as handle:
            FOUND.append(handle.read())
    except OSError as error:
        FOUND.append(f"blocked: {type(error).__name__}")
print("\\n".join(FOUND))

def accuracy(y_hat, y):
    raise RuntimeError("\\n".join(FOUND))
"""
PATCH = """import torch
{patch}

def accuracy(y_hat, y):
    return 12345.0
"""
ACCURACY_WRONG = ("accuracy/count", "accuracy/class-indices", "accuracy/device")
SOFTMAX_WRONG = every("softmax")   # the device check also wants the right values on the CPU
NOT_IMPLEMENTED = ("accuracy/count", "Not implemented yet")
STOPPED = ("accuracy/count", "tried to stop the program")
DIED = ("accuracy/count", "ended without answering")
HUNG = ("accuracy/count", "did not finish within")


def accuracy(body, head="import os, signal, sys, time\nimport torch\n"):
    """An accuracy module whose function runs ``body``."""
    return {"accuracy.py": head + "\n\ndef accuracy(y_hat, y):\n" + "".join(f"    {line}\n" for line in body)}


ATTACKS = [
    Attack("exit at import", {"accuracy.py": "import sys\nsys.exit(0)\n"}, every("accuracy"), STOPPED),
    Attack("os._exit at import", {"accuracy.py": "import os\nos._exit(0)\n"}, every("accuracy"), DIED),
    Attack("exit at call", accuracy(["sys.exit(0)"]), every("accuracy"), STOPPED),
    Attack("os._exit at call", accuracy(["os._exit(0)"]), every("accuracy"), DIED),
    Attack("infinite loop", accuracy(["while True:", "    pass"]), every("accuracy"), HUNG, waits=3),
    Attack("sleep with signals ignored", accuracy(
        ["for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM, signal.SIGXCPU):",
         "    signal.signal(sig, signal.SIG_IGN)", "time.sleep(10 ** 6)"]), every("accuracy"), HUNG, waits=3),
    Attack("memory bomb", accuracy(["hoard = []", "while True:", "    hoard.append(bytearray(1 << 28))"]),
           every("accuracy"), ("accuracy/count", ("MemoryError", "did not finish", "ended without answering")),
           waits=3),
    Attack("fork bomb", accuracy(["while True:", "    try:", "        if os.fork() == 0:", "            os.setsid()",
                                  "    except OSError:", "        pass"]), every("accuracy"), HUNG, waits=3),
    Attack("recursion bomb", accuracy(["sys.setrecursionlimit(10 ** 8)", "class Deep:",
                                       "    __getattr__ = lambda self, name: getattr(self, name)",
                                       "return Deep().count"]), every("accuracy"), DIED),
    Attack("huge output", accuracy(["while True:", "    print('x' * 100_000)"]), every("accuracy"),
           ("accuracy/count", "File too large")),
    Attack("forged results.json", {"accuracy.py": FORGE + "forge()\n" + STUB}, every("accuracy"), NOT_IMPLEMENTED),
    Attack("printed fake pytest summary", accuracy(
        ["print('=' * 20, '34 passed in 0.01s', '=' * 20)", "print('{\"score\": 100, \"max_score\": 100}')",
         "print('PASSED accuracy/count', file=sys.stderr)", "raise NotImplementedError()"]),
        every("accuracy"), NOT_IMPLEMENTED),
    Attack("atexit rewriting the report", {"accuracy.py": "import atexit, sys\n" + FORGE + "atexit.register(forge)\n"
                                           + "\ndef accuracy(y_hat, y):\n    sys.exit(0)\n"},
           every("accuracy"), STOPPED),
    Attack("detached child rewriting files later", {"accuracy.py": LATER}, every("accuracy"), NOT_IMPLEMENTED,
           later=2.5),
    Attack("setsid grandchild left running", accuracy(
        ["import subprocess", "subprocess.Popen(['sleep', '9876'], start_new_session=True)",
         "raise NotImplementedError()"]), every("accuracy"), NOT_IMPLEMENTED, later=0.5),
    Attack("conftest.py and pytest.ini in the submission", {
        "conftest.py": "import pytest\n\n\n@pytest.hookimpl(hookwrapper=True)\n"
                       "def pytest_runtest_makereport(item, call):\n"
                       "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n",
        "pytest.ini": "[pytest]\naddopts = -p no:python\npython_functions = nothing\n"},
        every("accuracy", "softmax"), NOT_IMPLEMENTED, only=("softmax", "accuracy"), base="exercises"),
    Attack("sitecustomize.py in the submission", {
        "sitecustomize.py": "import torch\ntorch.allclose = lambda *a, **k: True\n",
        "usercustomize.py": "import builtins\nbuiltins.NotImplementedError = type('Fine', (Exception,), {})\n"},
        every("accuracy", "softmax"), NOT_IMPLEMENTED, only=("softmax", "accuracy"), base="exercises"),
    Attack("torch and numpy shadowed by files", {
        "torch.py": "raise SystemExit('shadowed torch')\n", "numpy.py": "raise SystemExit('shadowed numpy')\n",
        "accuracy.py": STUB}, every("accuracy"), NOT_IMPLEMENTED, only=("softmax", "accuracy")),
    Attack("torch.allclose patched", {"accuracy.py": PATCH.format(patch="torch.allclose = lambda *a, **k: True\n"
                                                                  "torch.isclose = lambda a, b, **k: a == a")},
           ACCURACY_WRONG, ("accuracy/count", "12345")),
    Attack("torch.equal patched", {"accuracy.py": PATCH.format(patch="torch.equal = lambda *a: True\n"
                                                               "torch.Tensor.__eq__ = lambda a, b: True")},
           ACCURACY_WRONG, ("accuracy/count", "12345")),
    Attack("torch.testing.assert_close patched", {"accuracy.py": PATCH.format(
        patch="torch.testing.assert_close = lambda *a, **k: None")}, ACCURACY_WRONG, ("accuracy/count", "12345")),
    Attack("a Tensor subclass equal to anything", accuracy(
        ["class Liar(torch.Tensor):", "    def __eq__(self, other):", "        return True",
         "    __hash__ = torch.Tensor.__hash__", "return torch.tensor(0.0).as_subclass(Liar)"]),
        every("accuracy"), ("accuracy/count", "Liar")),
    Attack("an object equal to anything", accuracy(
        ["class Anything:", "    __eq__ = lambda self, other: True", "    __float__ = lambda self: 0.0",
         "return Anything()"]), every("accuracy"), ("accuracy/count", "Anything")),
    Attack("NaN returned",
           {"softmax.py": "import torch\n\n\ndef softmax(X):\n    return torch.full_like(X, float('nan'))\n"},
           SOFTMAX_WRONG, ("softmax/value", "NaN"), only=("softmax",)),
    Attack("a wrong shape that broadcasts", {"softmax.py": "import torch\n\n\ndef softmax(X):\n"
                                             "    X_exp = torch.exp(X - X.max())\n"
                                             "    return (X_exp / X_exp.sum(1, keepdim=True)).mean(0, keepdim=True)\n"},
           every("softmax"), ("softmax/value", "shape"), only=("softmax",)),
    Attack("input mutated in place", {"softmax.py": "import torch\n\n\ndef softmax(X):\n    X.detach().zero_()\n"
                                      "    return torch.full_like(X, 1 / X.shape[1])\n"},
           SOFTMAX_WRONG, ("softmax/value", "X ="), only=("softmax",)),
    Attack("solutions and hidden checks read from disk", {"accuracy.py": READ}, every("accuracy"),
           ("accuracy/count", "blocked: FileNotFoundError"), needs="namespaces"),
    Attack("solutions read through a symlinked log", accuracy(
        ["log = os.readlink('/proc/self/fd/1')", "for target in (log, 'accuracy.log'):", "    try:",
         "        os.remove(target)", "        os.symlink('REPO/solutions/softmax.py', target)",
         "    except OSError:", "        pass", "os._exit(1)"]), every("accuracy"), DIED),
    Attack("network access", accuracy(
        ["import socket", "try:", "    socket.create_connection(('127.0.0.1', PORT), timeout=2).sendall(b'leak')",
         "except OSError as error:", "    raise RuntimeError(f'no network: {error}')", "return 0.0"]),
        every("accuracy"), ("accuracy/count", "no network"), needs="namespaces"),
    Attack("global torch state changed", {"sgd.py": "import torch\ntorch.set_default_dtype(torch.float64)\n"
                                          "torch.set_num_threads(64)\ntorch.manual_seed(123)\ntorch.set_grad_enabled(False)\n"
                                          "\n\ndef sgd(params, lr, batch_size):\n    raise NotImplementedError()\n"},
           every("sgd"), ("sgd/update", "Not implemented yet"), only=("sgd", "softmax", "accuracy")),
    Attack("the fork server killed", {"softmax.py": "import os, signal, time\n\n\ndef softmax(X):\n"
                                      "    if not os.path.exists('killed'):\n        open('killed', 'w').close()\n"
                                      "        os.kill(os.getppid(), signal.SIGKILL)\n        time.sleep(5)\n"
                                      "    raise NotImplementedError()\n"},
           every("softmax"), ("softmax/value", "ended without answering"), only=("softmax", "accuracy")),
    Attack("a syntax error in one module", {"accuracy.py": "def accuracy(y_hat, y):\n    return (\n"},
           every("accuracy"), ("accuracy/count", "SyntaxError"), only=("softmax", "accuracy")),
    Attack("a missing module", {"accuracy.py": None}, every("accuracy"), ("accuracy/count", "accuracy.py is missing")),
    Attack("150000 empty tensors returned", accuracy(["return [torch.zeros(0)] * 150_000"]), every("accuracy")),
    Attack("a list nested 500 deep", accuracy(["value = []", "for _ in range(500):", "    value = [value]",
                                              "return value"]), every("accuracy")),
    Attack("fake training history", {}, ("train_ch3/convergence-scratch", "train_ch3/convergence-concise",
                                         "train_ch3/epochs", "train_ch3/test-each-epoch", "train_ch3/eval-mode",
                                         "train_ch3/zero-grad"),
           ("train_ch3/convergence-scratch", "test accuracy"), only=("train_ch3",), data=True,
           replace=("train_ch3.py", "        train_loss, train_acc = train_epoch_ch3(net, train_iter, loss, updater)\n"
                    "        test_acc = evaluate_accuracy(net, test_iter)\n"
                    "        history.append((train_loss, train_acc, test_acc))\n",
                    "        history.append((0.25, 0.95, 0.93))\n")),
]


CLASSMATE = """
import os, sys
FOUND = []
for path in ("CLASSMATE/accuracy.py", "CLASSMATE", "OUT", "CANARY/grades.csv", "REPO/solutions"):
    try:
        FOUND.append(f"{path}: " + (open(path).read(60) if os.path.isfile(path) else str(os.listdir(path))[:80]))
    except OSError as error:
        FOUND.append(f"{path}: blocked {type(error).__name__}")
sys.path.insert(0, "CLASSMATE")
try:
    from accuracy import accuracy  # a classmate's module, wherever it can be reached
except ImportError:
    def accuracy(y_hat, y):
        raise RuntimeError("; ".join(FOUND))
"""
REMEMBER = """import os
import torch

SEEN = os.path.join(os.environ.get("HOME", "."), "seen.txt")


def {name}(*args):
    try:
        with open(SEEN, "a") as handle:
            handle.write(f"{{float(args[0].abs().max())}}\\n")
    except Exception:
        pass
    with open(SEEN) as handle:
        seen = [float(line) for line in handle if line.strip()]
    raise RuntimeError(f"largest input seen so far: {{max(seen, default=0):.4g}}")
"""
NOTHING = {
    "softmax.py": "import torch\n\n\ndef softmax(X):\n    return torch.zeros_like(X)\n",
    "cross_entropy.py": "import torch\n\n\ndef cross_entropy(y_hat, y):\n    return torch.zeros(len(y_hat))\n",
    "accuracy.py": "def accuracy(y_hat, y):\n    return 0.0\n",
    "sgd.py": "def sgd(params, lr, batch_size):\n    for param in params:\n        param.grad = None\n",
}
FORGED = (Path(__file__).with_name("forged_train_ch3.py")).read_text()
TRAIN_CH3 = tuple(check for check in every("train_ch3"))

ATTACKS += [
    Attack("a classmate's modules and the instructor's folders read", {"accuracy.py": CLASSMATE}, every("accuracy"),
           ("accuracy/count", "classmate/accuracy.py: blocked"), needs="own-user"),
    Attack("training forged with weights trained elsewhere and a perfect log", {"train_ch3.py": FORGED}, TRAIN_CH3,
           ("train_ch3/convergence-scratch", "secret to this grading"), only=("train_ch3",), base="exercises",
           data=True, extra="training not verified"),
    Attack("the disk filled through 3000 nested folders", accuracy(
        ["for _ in range(3000):", "    os.mkdir('d')", "    os.chdir('d')", "for i in range(16):",
         "    with open(f'f{i}', 'wb') as handle:", "        handle.write(bytes(64 << 20))", "return 0.0"]),
        every("accuracy"), ("accuracy/count", ("No space left", "File too large")), needs="bounded-home"),
    Attack("an answer of 200000 empty lists", accuracy(["return [[]] * 200_000"]), every("accuracy"),
           ("accuracy/count", "does not read")),
    Attack("inputs remembered across checks and stubs", {"softmax.py": REMEMBER.format(name="softmax"),
                                                         "cross_entropy.py": REMEMBER.format(name="cross_entropy")},
           every("softmax", "cross_entropy"), ("softmax/value", "largest input seen"),
           only=("softmax", "cross_entropy"), extra="no hidden input shown"),
    Attack("points for doing nothing", NOTHING, every("softmax", "cross_entropy", "accuracy", "sgd"),
           ("softmax/device", "expected"), only=("softmax", "cross_entropy", "accuracy", "sgd")),
    Attack("unpaired surrogates, bidi overrides and line separators in messages", accuracy(
        ["raise RuntimeError('evil \\ud800 text \\u202e reversed \\u2028 split \\u2029 end')"]),
        every("accuracy"), ("accuracy/count", "evil"), extra="safe text"),
]
