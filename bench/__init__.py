"""make bench: the book's pipeline against the grader, grading times, class throughput and memory."""
