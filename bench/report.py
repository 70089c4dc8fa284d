"""The bench's verdicts on the issue's targets, and its results as a terminal table."""

ACCURACY_SLACK = 0.005   # two runs that shuffle differently land this close; "equal" allows for it


def _median(results, name, key="seconds"):
    return results["summary"][name][key]["median"]


def _class_items(results):
    """(jobs, summary name) of the grade-all measurements, fewest jobs first."""
    names = [name for name in results["summary"] if name.startswith("class_")]
    return sorted((int(name.split("_")[1]), name) for name in names)


def targets(results):
    """Each target of the issue with what was measured and whether it is met."""
    book, check = _median(results, "book"), _median(results, "convergence")
    book_acc, check_acc = _median(results, "book", "accuracy"), _median(results, "convergence", "accuracy")
    book_loop, check_loop = (_median(results, name, "training_seconds") for name in ("book", "convergence"))
    ratio = book / check
    found = [{"target": "convergence check >= 20x faster than the book's pipeline at equal or better accuracy",
              "met": ratio >= 20 and check_acc >= book_acc - ACCURACY_SLACK,
              "measured": f"{ratio:.1f}x process to result ({book_loop / check_loop:.1f}x inside train_ch3); "
                          f"accuracy {check_acc:.4f} against {book_acc:.4f}"}]
    grade, stubs = _median(results, "grade_reference"), _median(results, "grade_stubs")
    found.append({"target": "a correct submission graded in <= 15 s (warm)", "met": grade <= 15,
                  "measured": f"{grade:.1f} s"})
    found.append({"target": "the untouched stubs graded in <= 5 s (warm)", "met": stubs <= 5,
                  "measured": f"{stubs:.1f} s"})
    classes = _class_items(results)
    (one, one_name), (most, most_name) = classes[0], classes[-1]
    rate_one = _median(results, one_name, "per_minute")
    rate_most = _median(results, most_name, "per_minute")
    found.append({"target": f">= 8 correct submissions per minute with all {most} cores", "met": rate_most >= 8,
                  "measured": f"{rate_most:.1f} per minute"})
    if most > one:
        speedup = rate_most / rate_one
        found.append({"target": f"throughput scales with cores (from {one} to {most} jobs, at least "
                                f"{0.6 * most / one:.1f}x)", "met": speedup >= 0.6 * most / one,
                      "measured": f"{speedup:.2f}x ({rate_one:.1f} to {rate_most:.1f} per minute)"})
    return found


def _cell(stats, digits):
    if stats is None:
        return ""
    if stats["min"] == stats["max"]:
        return f"{stats['median']:.{digits}f}"
    return f"{stats['median']:.{digits}f} ({stats['min']:.{digits}f}-{stats['max']:.{digits}f})"


def _rows(results):
    """(label, summary name, extra quantity to show in the accuracy/rate column)."""
    epochs, size = results["config"]["epochs"], results["class_size"]
    rows = [("python start-up and import torch (a floor for each)", "startup", None),
            (f"book pipeline: ToTensor, DataLoader x4, train_ch3, {epochs} epochs", "book", "accuracy"),
            ("  of which inside train_ch3", ("book", "training_seconds"), None),
            ("grader convergence check (always the book's 10 epochs)", "convergence", "accuracy"),
            ("  of which inside train_ch3 (worker)", ("convergence", "training_seconds"), None),
            ("make grade: reference solutions", "grade_reference", None),
            ("  the same without the sandbox (D2L_KIT_SANDBOX=none)", "grade_unsandboxed", None),
            ("make grade: untouched stubs", "grade_stubs", None)]
    for jobs, name in _class_items(results):
        rows.append((f"grade-all: {size} correct submissions, {jobs} job{'s' * (jobs > 1)}", name, "per_minute"))
    return rows


def to_table(results):
    """The measurements as an aligned table (median, and min-max over the repetitions), then the targets."""
    summary, machine = results["summary"], results["machine"]
    header = ("measurement", "seconds", "accuracy or per min", "peak PSS MiB", "max RSS MiB")
    lines = []
    for label, name, extra in _rows(results):
        if isinstance(name, tuple):
            lines.append((label, _cell(summary[name[0]].get(name[1]), 2), "", "", ""))
            continue
        stats = summary[name]
        digits = 4 if extra == "accuracy" else 1
        lines.append((label, _cell(stats["seconds"], 2), _cell(stats.get(extra), digits),
                      _cell(stats["peak_pss_mib"], 0), _cell(stats["max_rss_mib"], 0)))
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    text = [f"make bench ({results['mode']}): {machine['cores']} cores, torch {machine['torch']}, "
            f"load average {machine['load_average_at_start'][0]} at start; median (min-max) of "
            f"{results['config']['reps']} repetitions"]
    if results["mode"] == "quick":
        text.append("quick mode: 1 repetition and 1 epoch of the book's pipeline check that the bench works; "
                    "they measure little (the ratios compare 1 epoch of the book with 10 of the grader)")
    for row in [header, *lines]:
        text.append("  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                              for i, (cell, width) in enumerate(zip(row, widths))).rstrip())
    text += ["", "Targets:"]
    text += [f"  [{'met' if t['met'] else 'NOT met'}] {t['target']}: {t['measured']}" for t in results["targets"]]
    text += ["", "Memory: " + results["memory"]]
    return "\n".join(text)
