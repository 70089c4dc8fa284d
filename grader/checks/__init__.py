"""The checks, one module per stub; each test function is one row of the check table."""
