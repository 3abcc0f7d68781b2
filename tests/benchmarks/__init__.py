"""Benchmarks (not tests): run by hand or with `make bench`, never collected by pytest.

`suite` is the entry point; `plan` lists the named measurements, `workloads` holds what
each measurement's child process does, `datasets` writes and serves the BLS files, `report`
renders the results.
"""
