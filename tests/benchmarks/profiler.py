"""Profile one benchmark measurement with py-spy: where its wall time goes.

    python -m tests.benchmarks.profiler [--only ingest_cold_full] [--rate 250] [--native]
        [--workdir var/bench]        (or: make profile)

Runs the measurement's child process (the same command `suite` times) under `py-spy record`,
sampling every thread, idle or not, so the main thread's samples add up to its wall time. Writes
the raw stacks (`WORKDIR/profiles/NAME.pyspy.txt`: collapsed stacks, which speedscope.app and
flamegraph.pl open) and prints, for the work the suite times (inside `dagster.materialize` for
the ingest, inside the workload's `_execute` for the refresh and re-render; imports and set-up
are left out), the main thread's time by the innermost frame of the project's own code, with the
library the sampled frame is in, and by that library. A line of ours whose samples sit in
native code is a call into DuckDB, polars or the OS made from that line. Measurements that need
another one's state first (the re-render needs the embedded refresh) get it from an unprofiled
run.

Timings under the profiler run a little slower than in `suite`; read them as shares.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.benchmarks.datasets import FileServer, prepare_dataset
from tests.benchmarks.plan import FRACTIONS, plan
from tests.benchmarks.suite import REPO, child_command, child_env, child_result, run_child

OURS = ("assets/", "pipelines/", "schemas/")
# Frames that enclose the work each workload times (see workloads / workloads_refresh).
WORK_FRAMES = (
    "materialize (dagster/_core/definitions/materialize.py",
    "_execute (tests/benchmarks/workloads_refresh.py",
)
# Dagster's run starts here; our frames above it (the workload, `run_job`) only start the run, so
# a sample in Dagster's own bookkeeping is not put on them.
RUN_FRAME = "execute_in_process (dagster/"
ON_OUR_LINE = "our line (or a native call from it: DuckDB, I/O)"
NO_FRAME_OF_OURS = "(none: Dagster and libraries)"


@dataclass(frozen=True)
class Stack:
    """One line of py-spy's raw output: a thread's call stack (outermost first), sampled `count`
    times."""

    thread: str
    frames: tuple[str, ...]
    count: int


def read_stacks(text: str) -> list[Stack]:
    """Parse py-spy's `--format raw` output (recorded with `--threads`). Each line starts with
    `thread (TID): NAME`, or `thread (TID)` alone when py-spy could not read the name at that
    sample; such a line gets the name its thread id has elsewhere."""
    parsed: list[tuple[str, str, tuple[str, ...], int]] = []
    names: dict[str, str] = {}
    for line in text.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        head, *frames = stack.split(";")
        tid, _, name = head.partition(": ")
        if not tid.startswith("thread ("):  # recorded without --threads
            tid, name, frames = "", "", [head, *frames]
        if name:
            names[tid] = name
        parsed.append((tid, name, tuple(frames), int(count)))
    return [Stack(name or names.get(tid, tid), frames, n) for tid, name, frames, n in parsed]


def frame_file(frame: str) -> str:
    """`write_table (pipelines/warehouse.py:270)` -> `pipelines/warehouse.py`; a native frame's
    file is its shared library (or its C source, when py-spy knows it)."""
    _, sep, rest = frame.partition(" (")
    if not sep or not rest.endswith(")"):
        return ""
    inside = rest[:-1]
    file, colon, line = inside.rpartition(":")
    return file if colon and line.isdigit() else inside


def library(frame: str, ours: tuple[str, ...] = OURS) -> str:
    """What a frame belongs to: the project, a package, the standard library or native code."""
    path = frame_file(frame)
    if path.startswith(ours):
        return ON_OUR_LINE
    if path.startswith("<frozen importlib"):
        return "imports"
    if path.startswith("<frozen "):  # os, posixpath, abc ... are frozen in Python 3.11
        return "python stdlib"
    if path.startswith("<"):  # <string>, SQLAlchemy's generated wrappers
        return "generated code"
    if path.endswith(".py"):
        top = path.split("/", 1)[0].removesuffix(".py")
        if top in sys.stdlib_module_names:
            return "python stdlib"
        return top.lstrip("_") if "/" in path else "other Python"
    if path.endswith((".j2", ".jinja", ".html")):
        return "jinja2 templates"
    return f"native: {Path(path).name.split('.', 1)[0].lstrip('_') or '?'}"


def summarise(
    stacks: Iterable[Stack],
    rate_hz: float,
    work_frames: Sequence[str] = WORK_FRAMES,
    ours: tuple[str, ...] = OURS,
    measured_s: float | None = None,
) -> dict[str, Any]:
    """The samples inside the timed work (the thread that runs it: the main one), by our
    innermost frame and by the library of the sampled frame, in seconds: samples / rate, or,
    given the work's own `measured_s`, each row's share of it (py-spy drops the samples it
    could not read without pausing the process, so samples / rate comes out short)."""
    by_ours: Counter[tuple[str, str]] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for s in stacks:
        threads[s.thread or "?"] += s.count
        if not any(w in f for f in s.frames for w in work_frames):
            continue
        total += s.count
        run = max((i for i, f in enumerate(s.frames) if RUN_FRAME in f), default=-1)
        inside = s.frames[run + 1 :]
        mine = (f for f in reversed(inside) if frame_file(f).startswith(ours))
        frame = next(mine, NO_FRAME_OF_OURS)
        leaf = library(s.frames[-1], ours) if s.frames else "?"
        by_ours[(frame, leaf)] += s.count
    by_library: Counter[str] = Counter()
    for (_, lib), n in by_ours.items():
        by_library[lib] += n
    seconds = measured_s / total if measured_s and total else 1.0 / rate_hz
    return {
        "rate_hz": rate_hz,
        "work_samples": total,
        "work_s": total * seconds,
        "scaled_to_measured": bool(measured_s and total),
        "by_our_frame": [
            {"frame": f, "in": lib, "samples": n, "seconds": n * seconds}
            for (f, lib), n in by_ours.most_common()
        ],
        "by_library": [
            {"library": lib, "samples": n, "seconds": n * seconds}
            for lib, n in by_library.most_common()
        ],
        "thread_seconds": {t: n / rate_hz for t, n in threads.most_common()},
    }


def render(summary: dict[str, Any], name: str, top: int = 15) -> str:
    total = summary["work_s"] or 1.0
    how = "its own timing, shared out by samples" if summary["scaled_to_measured"] else "samples"
    out = [
        f"{name}: the thread running the timed work, {summary['work_s']:.2f} s "
        f"({how}; {summary['work_samples']} samples at {summary['rate_hz']:g} Hz, idle "
        "included)",
        "",
        "by the innermost frame of our code (and where the sampled frame was)",
    ]
    for row in summary["by_our_frame"][:top]:
        out.append(
            f"  {row['seconds']:6.2f} s {100 * row['seconds'] / total:5.1f}%  "
            f"{row['frame']}  [{row['in']}]"
        )
    rest = summary["by_our_frame"][top:]
    if rest:
        out.append(f"  {sum(r['seconds'] for r in rest):6.2f} s  ({len(rest)} more)")
    out += ["", "by the library of the sampled frame"]
    for row in summary["by_library"]:
        out.append(
            f"  {row['seconds']:6.2f} s {100 * row['seconds'] / total:5.1f}%  {row['library']}"
        )
    out += ["", "every thread of the process, whole run (samples / rate, idle included)"]
    for thread, secs in summary["thread_seconds"].items():
        out.append(f"  {secs:6.2f} s  {thread}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    measurements = plan(scaling=True, refresh=True)
    names = [m.name for m in measurements if m.workload in ("ingest", "refresh", "rerender")]
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.profiler")
    parser.add_argument("--only", default="ingest_cold_full", choices=names)
    parser.add_argument("--rate", type=int, default=250, help="samples per second")
    parser.add_argument(
        "--native",
        action="store_true",
        help="also sample native frames (py-spy then pauses the process at each sample: "
        "about three times slower, so read the shares)",
    )
    parser.add_argument("--workdir", type=Path, default=REPO / "var" / "bench")
    args = parser.parse_args(argv)
    venv_py_spy = Path(sys.executable).with_name("py-spy")
    py_spy = str(venv_py_spy) if venv_py_spy.exists() else shutil.which("py-spy")
    if not py_spy:
        parser.error("py-spy is not installed: `pip install -e .[dev]` (or `make setup`)")
    target = next(m for m in measurements if m.name == args.only)
    earlier = measurements[: measurements.index(target)]
    needs = [m for m in earlier if target.state and m.state == target.state]
    workdir = args.workdir.resolve()
    dataset = prepare_dataset(workdir, target.dataset, FRACTIONS[target.dataset])
    env = child_env(workdir)
    folder = workdir / "profiles"
    state = folder / "state" / (target.state or target.name)
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / f"{target.name}.pyspy.txt"
    log = folder / f"{target.name}.log"
    shutil.rmtree(state, ignore_errors=True)
    raw.unlink(missing_ok=True)
    try:
        with FileServer([dataset]) as server:
            for m in needs:
                print(f"first {m.name} (not profiled): {target.name} starts from its state")
                run_child(m, dataset, server, state, folder / f"{m.name}.first.log", env, False)
            cmd = [py_spy, "record", "--rate", str(args.rate), "--idle", "--threads"]
            cmd += ["--format", "raw", "--output", str(raw)]
            # Without pausing the process at each sample (py-spy drops the samples it cannot
            # read, hence the scaling below); native stacks can only be read from a paused one.
            cmd += ["--native"] if args.native else ["--nonblocking"]
            cmd += ["--", *child_command(target, dataset, server, state)]
            print(f"profiling {target.name} with py-spy at {args.rate} Hz ...", flush=True)
            with log.open("w", encoding="utf-8") as handle:
                done = subprocess.run(cmd, cwd=REPO, env=env, stdout=handle, stderr=handle)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    # py-spy exits 0 even when the program it ran failed: the result line says it finished.
    measured = float(child_result(f"{target.name} under py-spy", done.returncode, log)["seconds"])
    if not raw.exists():
        raise SystemExit(f"py-spy wrote no {raw}; log {log}")
    summary = summarise(
        read_stacks(raw.read_text(encoding="utf-8")), args.rate, measured_s=measured
    )
    if not summary["work_samples"]:
        raise SystemExit(
            f"no sample of {raw} lies inside the timed work: WORK_FRAMES in {__file__} no "
            "longer matches what tests/benchmarks/workloads*.py time"
        )
    print()
    print(render(summary, target.name))
    print(f"\n{target.name} timed itself at {measured:.2f} s under the profiler")
    print(f"\nraw stacks: {raw} (open in https://www.speedscope.app or flamegraph.pl)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
