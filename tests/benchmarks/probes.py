"""Process probes shared by the workloads: RSS now, peak RSS, CPU seconds."""

from __future__ import annotations

import resource

import psutil


def rss_mb() -> float:
    """Current resident set size of this process, MiB."""
    return psutil.Process().memory_info().rss / 2**20


def maxrss_mb() -> float:
    """Peak resident set size of this process so far, MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """User + system CPU seconds of this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
