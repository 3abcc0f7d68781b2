"""The benchmark's profiler (`make profile`): py-spy's raw stacks read and summed correctly, and a
real py-spy recording of a small program attributed to the right lines."""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.benchmarks.profiler import (
    NO_FRAME_OF_OURS,
    ON_OUR_LINE,
    frame_file,
    library,
    read_stacks,
    render,
    summarise,
)

PIPELINE_FRAMES = (
    "_run_module_as_main (<frozen runpy>:198);main (tests/benchmarks/workloads.py:302);"
    "ingest (tests/benchmarks/workloads.py:236);"
    "materialize (dagster/_core/definitions/materialize.py:24);"
    "execute_in_process (dagster/_core/definitions/job_definition.py:732)"
)
RAW = "\n".join(
    [
        # inside the work: 40 samples in DuckDB (sampled on our line), 10 in polars under pandera
        f"thread (101): MainThread;{PIPELINE_FRAMES};stg_oews__estimates (assets/staging.py:152);"
        "write_table (pipelines/warehouse.py:270) 40",
        f"thread (101): MainThread;{PIPELINE_FRAMES};write_table (pipelines/warehouse.py:290);"
        "validate_table (schemas/__init__.py:100);validate (pandera/api/polars/model.py:179);"
        "collect (polars/lazyframe/frame.py:2071) 10",
        # a sample whose thread name py-spy could not read: still the main thread, in the work
        f"thread (101);{PIPELINE_FRAMES};_store (sqlalchemy/engine/base.py:1705) 5",
        # outside the work (imports before the clock), and another thread
        "thread (101): MainThread;<module> (tests/benchmarks/workloads.py:310);"
        "_find_and_load (<frozen importlib._bootstrap>:1176) 30",
        "thread (102): sha256;Thread._bootstrap (threading.py:1002);"
        "run (pipelines/sources/digest.py:70) 8",
        "",
        "not a stack line",
    ]
)


def test_read_stacks_names_threads_and_counts_samples():
    stacks = read_stacks(RAW)
    assert [s.count for s in stacks] == [40, 10, 5, 30, 8]
    assert [s.thread for s in stacks] == ["MainThread"] * 4 + ["sha256"]
    assert stacks[0].frames[-1] == "write_table (pipelines/warehouse.py:270)"
    assert stacks[0].frames[0] == "_run_module_as_main (<frozen runpy>:198)"


def test_file_and_library_of_a_frame():
    generated = "create_engine (<sqlalchemy generated warned() wrapper for x>:2)"
    assert frame_file(generated) == "<sqlalchemy generated warned() wrapper for x>"
    assert library(generated) == "generated code"
    assert frame_file("__closure__ (__get__)") == "__get__"
    assert library("join (<frozen posixpath>:88)") == "python stdlib"
    assert library("encoder_listencode_obj (_json.c:1436)") == "native: json"
    assert library("root (cluster.html.j2:12)") == "jinja2 templates"
    assert library("run_migrations_online (env.py:40)") == "other Python"


def test_library_of_a_frame():
    assert library("write_table (pipelines/warehouse.py:270)") == ON_OUR_LINE
    assert library("collect (polars/lazyframe/frame.py:2071)") == "polars"
    assert library("recv_into (socket.py:706)") == "python stdlib"
    assert library("iterencode (json/encoder.py:205)") == "python stdlib"
    assert library("_find_and_load (<frozen importlib._bootstrap>:1176)") == "imports"
    assert library("duckdb::SubstringUnicode (_duckdb.cpython-311-x86_64-linux-gnu.so)") == (
        "native: duckdb"
    )


def test_summary_counts_only_the_timed_work():
    summary = summarise(read_stacks(RAW), rate_hz=100)
    assert summary["work_samples"] == 55
    assert summary["work_s"] == pytest.approx(0.55)
    rows = {(r["frame"], r["in"]): r["seconds"] for r in summary["by_our_frame"]}
    assert rows == {
        ("write_table (pipelines/warehouse.py:270)", ON_OUR_LINE): pytest.approx(0.40),
        ("validate_table (schemas/__init__.py:100)", "polars"): pytest.approx(0.10),
        ("(none: Dagster and libraries)", "sqlalchemy"): pytest.approx(0.05),
    }
    assert [r["library"] for r in summary["by_library"]][1:] == ["polars", "sqlalchemy"]
    assert summary["thread_seconds"] == {"MainThread": 0.85, "sha256": 0.08}
    text = render(summary, "ingest_cold_full")
    assert "0.55 s (samples; 55 samples at 100 Hz" in text
    assert "0.40 s  72.7%  write_table (pipelines/warehouse.py:270)" in text
    # Given the work's own timing, the rows share it out (dropped samples do not shorten it).
    scaled = summarise(read_stacks(RAW), rate_hz=100, measured_s=1.1)
    assert scaled["work_s"] == pytest.approx(1.1)
    assert scaled["by_our_frame"][0]["seconds"] == pytest.approx(0.8)
    assert scaled["thread_seconds"] == summary["thread_seconds"]


def test_dagsters_own_work_is_not_put_on_the_line_that_started_its_run():
    run = (
        "thread (7): MainThread;_execute (tests/benchmarks/workloads_refresh.py:143);"
        "run_job (pipelines/releases.py:78);"
        "JobDefinition.execute_in_process (dagster/_core/definitions/job_definition.py:821);"
        "core_execute_in_process (dagster/_core/execution/execute_in_process.py:157);"
    )
    raw = (
        f"{run}store_event (dagster/_core/storage/event_log/sqlite/sqlite_event_log.py:271);"
        "_execute_context (sqlalchemy/engine/base.py:1868) 6\n"
        f"{run}out_profiles__tables (assets/profiles.py:100);"
        "write_table (pipelines/warehouse.py:270) 4\n"
    )
    summary = summarise(read_stacks(raw), 100)
    assert summary["work_samples"] == 10
    rows = {(r["frame"], r["in"]): r["samples"] for r in summary["by_our_frame"]}
    assert rows == {
        (NO_FRAME_OF_OURS, "sqlalchemy"): 6,
        ("write_table (pipelines/warehouse.py:270)", ON_OUR_LINE): 4,
    }


def test_a_real_py_spy_recording(tmp_path: Path):
    """py-spy (a dev dependency) records a small program; the summary puts its time on the
    lines that spent it: a Python loop, and a sleep (a native call made from our line)."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    program = tmp_path / "toy_work.py"
    program.write_text(
        textwrap.dedent(
            """
            import time
            def busy(n):
                x = 0
                for i in range(n):
                    x += i * i
                return x
            def materialize():
                busy(3_000_000)
                time.sleep(1.0)
            materialize()
            """
        ),
        encoding="utf-8",
    )
    raw = tmp_path / "out.txt"
    cmd = [py_spy, "record", "--rate", "200", "--idle", "--threads", "--nonblocking"]
    cmd += ["--format", "raw", "--output", str(raw), "--", sys.executable, str(program)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0 and "ermission" in done.stdout + done.stderr:
        pytest.skip(f"py-spy may not read other processes here: {done.stderr.strip()[-300:]}")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = summarise(
        read_stacks(raw.read_text(encoding="utf-8")),
        200,
        work_frames=("materialize (toy_work.py",),
        ours=("toy_work.py",),
    )
    rows = {r["frame"]: r for r in summary["by_our_frame"]}
    sleep = rows["materialize (toy_work.py:10)"]
    assert sleep["in"] == ON_OUR_LINE
    loop = sum(r["samples"] for f, r in rows.items() if f.startswith("busy (toy_work.py:"))
    assert loop > 0
    # Every sample in the work is on one of the two lines; the sleep has most of them (py-spy
    # drops some samples, so shares, not seconds).
    assert summary["work_samples"] == sleep["samples"] + loop
    assert 0.5 < sleep["samples"] / summary["work_samples"] < 1.0
