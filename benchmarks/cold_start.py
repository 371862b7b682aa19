"""Cold start: import and app-creation time and memory, each in a fresh interpreter.

    .venv/bin/python -m benchmarks.cold_start [--runs 5]

Each step runs in a new subprocess (`python -c ...`, no .env, a temporary working directory)
that times only its own step with time.perf_counter and reports its resident set size
(VmRSS, /proc/self/status) afterwards. Baselines: an empty interpreter, `import flask` and a
bare `Flask(__name__)`; measured: `import justdriving` and `create_app` on a container built
from DATABASE_URL=memory:// (which imports Flask, the container and the routes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile

from benchmarks import plots

TITLE = "Cold start (import and app creation)"

PROLOGUE = """
import json, time
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
began = time.perf_counter()
"""
EPILOGUE = """
took = time.perf_counter() - began
print(json.dumps({'seconds': took, 'rss': rss()}))
"""

STEPS = {
    "empty interpreter (baseline)": "pass",
    "import flask (baseline)": "import flask",
    "import flask + Flask(__name__) (baseline)": "import flask\napp = flask.Flask('bare')",
    "import justdriving": "import justdriving",
    "justdriving create_app (memory DB)": (
        "from justdriving.config import Settings\n"
        "from justdriving.container import build_container\n"
        "from justdriving.entrypoints.flask_app import create_app\n"
        "settings = Settings.from_env({'DATABASE_URL': 'memory://'}, env_file=None)\n"
        "app = create_app(build_container(settings))"
    ),
}


def one(code: str, folder: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", PROLOGUE + code + EPILOGUE],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cold_start", description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-docs", action="store_true")
    options = parser.parse_args(argv or [])
    medians: dict[str, tuple[float, float]] = {}
    each: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(options.runs):  # interleaved, so drift hits every step alike
            for name, code in STEPS.items():
                result = one(code, folder)
                each.setdefault(name + " s", []).append(result["seconds"])
                each.setdefault(name + " rss", []).append(result["rss"])
    for name in STEPS:
        medians[name] = (
            statistics.median(each[name + " s"]),
            statistics.median(each[name + " rss"]),
        )
    flask_s, flask_rss = medians["import flask + Flask(__name__) (baseline)"]
    rows = []
    for name, (seconds, rss) in medians.items():
        rows.append(
            [
                name,
                f"{seconds * 1000:,.0f}",
                " / ".join(f"{s * 1000:,.0f}" for s in each[name + " s"]),
                f"{rss:,.1f}",
                f"{seconds / flask_s:.1f}",
                f"{rss / flask_rss:.2f}",
            ]
        )
    header = [
        "step (fresh process)",
        "ms (median)",
        "each run, ms",
        "RSS MiB after",
        "time ÷ Flask app",
        "RSS ÷ Flask app",
    ]
    table = plots.markdown_table(header, rows)
    print(table)
    if options.no_docs:
        return
    png = plots.bars(
        "cold-start",
        "Cold start, ms (fresh interpreter, median)",
        ["empty", "import flask", "Flask()", "import justdriving", "create_app"],
        [seconds * 1000 for seconds, _ in medians.values()],
        "ms",
    )
    plots.write_section(
        TITLE,
        f"""
Command: `.venv/bin/python -m benchmarks.cold_start` (also part of `make bench`).

{plots.machine()}

Each step in a fresh `python -c` subprocess (temporary working directory, no .env); the time is
the step's own (perf_counter around it, not the interpreter's start-up), the RSS is VmRSS after
it (so it includes the interpreter's own). Median of {options.runs} runs, steps interleaved.
Ratios are against the bare Flask app (`import flask` + `Flask(__name__)`).

{table}

{plots.image(png, "cold start times")}
""",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
