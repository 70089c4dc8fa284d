"""Buggy train_ch3 submissions (d2l 3.6.5 to 3.6.7)."""
from bugs import Bug

CONVERGENCE = ("train_ch3/convergence-scratch", "train_ch3/convergence-concise")

BUGS = [
    Bug("train_ch3/evaluate-accuracy", "train_ch3", "    return metric[0] / metric[1]\n",
        "    return metric[0] / len(data_iter)\n",
        ("train_ch3/evaluate-accuracy",), "expected 0."),
    Bug("train_ch3/convergence-scratch", "train_ch3", "            updater(X.shape[0])", "            pass",
        ("train_ch3/convergence-scratch",), "never called the updater", "train_ch3/no-update"),
    Bug("train_ch3/convergence-concise", "train_ch3", "            updater.step()", "            pass",
        # a loop that never updates the parameters cannot be told from a forged one: every loop check fails
        ("train_ch3/convergence-concise", "train_ch3/epochs", "train_ch3/test-each-epoch", "train_ch3/eval-mode",
         "train_ch3/zero-grad"), "test accuracy", "train_ch3/no-update"),
    Bug("train_ch3/epochs", "train_ch3", "    for _ in range(num_epochs):", "    for _ in range(num_epochs - 1):",
        ("train_ch3/epochs", "train_ch3/test-each-epoch"), "made 2 passes"),
    Bug("train_ch3/test-each-epoch", "train_ch3",
        "        test_acc = evaluate_accuracy(net, test_iter)\n"
        "        history.append((train_loss, train_acc, test_acc))\n",
        "        history.append((train_loss, train_acc, None))\n    evaluate_accuracy(net, test_iter)\n",
        ("train_ch3/test-each-epoch",), "in the order"),
    Bug("train_ch3/eval-mode", "train_ch3", "    if isinstance(net, torch.nn.Module):\n        net.eval()\n",
        "", ("train_ch3/eval-mode",), "training flag [True]"),
    Bug("train_ch3/zero-grad", "train_ch3", "            updater.zero_grad()\n", "",
        ("train_ch3/zero-grad",), "never zeroed"),
]
