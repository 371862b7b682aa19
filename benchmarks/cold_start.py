"""Cold start: import and app-creation time and memory, each in a fresh interpreter.

    .venv/bin/python -m benchmarks.cold_start [--runs 5] [--before OTHER_CHECKOUT/src]

Each step runs in a new subprocess (`python -c ...`, no .env, a temporary working directory,
an environment with nothing of ours but DATABASE_URL) that times only its own step (wall
time with time.perf_counter, CPU time with time.process_time) and reports its resident set
size (VmRSS, /proc/self/status) afterwards. Baselines: an empty interpreter, `import flask`
and a bare `Flask(__name__)`; measured: `import justdriving`, `create_app()` (settings from
the environment, as gunicorn's `flask_app:create_app()` runs it) on memory:// and on a SQLite
file, `create_app()` then its first request that needs the application (a webhook), and
`create_app(build_container(settings))` (a container built by the caller, as `justdriving
serve` does), also as a production install has it (no pydantic-settings or PyYAML, which
dependency-injector imports when present). `--before SRC` adds `create_app()` from another
checkout's src/ (say, the commit before a change) in the same interleaved rounds.

Where valgrind is installed, each step also runs once under callgrind and counts the
instructions it executed beyond the empty interpreter's: unlike the times, that count does
not move with the machine's load (`--no-instructions` skips it; about 10 s per step).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

from benchmarks import plots

TITLE = "Cold start (import and app creation)"

PROLOGUE = """
import json, sys, time
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
began, cpu = time.perf_counter(), time.process_time()
"""
EPILOGUE = """
took, used = time.perf_counter() - began, time.process_time() - cpu
print(json.dumps({'seconds': took, 'cpu': used, 'rss': rss(), 'modules': len(sys.modules)}))
"""

CREATE_APP = "from justdriving.entrypoints.flask_app import create_app\napp = create_app()"
# The first request that needs the application: a webhook (unsigned, so answered 400 after
# its receiver was found, which builds the container and the application).
FIRST_WEBHOOK = "\napp.test_client().post('/webhook/payments/fake', data=b'{}')"
GIVEN_CONTAINER = (
    "from justdriving.config import Settings\n"
    "from justdriving.container import build_container\n"
    "from justdriving.entrypoints.flask_app import create_app\n"
    "app = create_app(build_container(Settings.from_env()))"
)
# dependency-injector imports pydantic-settings and PyYAML when they are installed; here only
# the dev tools bring them (openapi-schema-validator, bandit). Marked absent, as in a
# production install of justdriving[flask].
WITHOUT_DEV_ONLY = (
    "class Absent:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in ('pydantic_settings', 'pydantic', 'yaml'):\n"
    "            raise ModuleNotFoundError(name)\n"
    "sys.meta_path.insert(0, Absent())\n"
)
EMPTY = "empty interpreter (baseline)"
FLASK_APP = "import flask + Flask(__name__) (baseline)"
CREATE_APP_MEMORY = "justdriving create_app() (memory DB)"
MEMORY = "memory://"
SQLITE = "sqlite:///cold.db"

# name: (DATABASE_URL, code timed)
STEPS = {
    EMPTY: (MEMORY, "pass"),
    "import flask (baseline)": (MEMORY, "import flask"),
    FLASK_APP: (MEMORY, "import flask\napp = flask.Flask('bare')"),
    "import justdriving": (MEMORY, "import justdriving"),
    CREATE_APP_MEMORY: (MEMORY, CREATE_APP),
    "justdriving create_app() (SQLite file)": (SQLITE, CREATE_APP),
    "create_app() + its first webhook (memory DB)": (MEMORY, CREATE_APP + FIRST_WEBHOOK),
    "create_app(build_container(settings)) (memory DB)": (MEMORY, GIVEN_CONTAINER),
    "the same, no pydantic/PyYAML installed": (MEMORY, WITHOUT_DEV_ONLY + GIVEN_CONTAINER),
}
BEFORE = "create_app() (memory DB), before (--before)"
SHORT = {
    EMPTY: "empty",
    "import flask (baseline)": "import\nflask",
    FLASK_APP: "Flask()",
    "import justdriving": "import\njd",
    CREATE_APP_MEMORY: "create\n_app()",
    "justdriving create_app() (SQLite file)": "on\nSQLite",
    "create_app() + its first webhook (memory DB)": "+ 1st\nwebhook",
    "create_app(build_container(settings)) (memory DB)": "given\ncontainer",
    "the same, no pydantic/PyYAML installed": "no dev\npkgs",
    BEFORE: "before",
}


def _environment(database_url: str, source: str | None) -> dict[str, str]:
    """Nothing of the caller's settings: PATH and HOME, DATABASE_URL, and PYTHONPATH for
    `source` (another checkout's src/, first on the path)."""
    environment = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    environment["DATABASE_URL"] = database_url
    if source is not None:
        environment["PYTHONPATH"] = source
    return environment


def one(step: tuple[str, str], folder: str, source: str | None = None) -> dict[str, float]:
    """`source`: run against another checkout's src/ (PYTHONPATH first), e.g. the commit
    before a change, to compare in the same run."""
    database_url, code = step
    done = subprocess.run(
        [sys.executable, "-c", PROLOGUE + code + EPILOGUE],
        cwd=folder,
        env=_environment(database_url, source),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def instructions(step: tuple[str, str], folder: str, source: str | None = None) -> int:
    """Instructions the whole process executed under callgrind (deterministic, load-free)."""
    database_url, code = step
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            PROLOGUE + code + EPILOGUE,
        ],
        cwd=folder,
        env=_environment(database_url, source),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from callgrind: {done.stderr[-500:]}")
    return int(found.group(1))


Run = tuple[str, tuple[str, str], str | None]  # name, (DATABASE_URL, code), source


def _steps(before: str | None) -> list[Run]:
    steps: list[Run] = [(name, step, None) for name, step in STEPS.items()]
    if before is not None:
        steps.append((BEFORE, STEPS[CREATE_APP_MEMORY], before))
    return steps


def measure(runs: int, folder: str, before: str | None) -> dict[str, dict[str, list[float]]]:
    """Each step `runs` times, interleaved, so drift hits every step alike."""
    each: dict[str, dict[str, list[float]]] = {}
    for _ in range(runs):
        for name, step, source in _steps(before):
            for key, value in one(step, folder, source).items():
                each.setdefault(name, {}).setdefault(key, []).append(value)
    return each


def count(folder: str, before: str | None) -> dict[str, float]:
    """Each step's instructions beyond the empty interpreter's (one run each)."""
    total = {name: instructions(step, folder, source) for name, step, source in _steps(before)}
    return {name: float(n - total[EMPTY]) for name, n in total.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cold_start", description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--before", metavar="SRC", help="also create the app from this src/ (another checkout)"
    )
    parser.add_argument("--no-instructions", action="store_true", help="skip callgrind")
    parser.add_argument("--no-docs", action="store_true")
    options = parser.parse_args(argv or [])
    counting = not options.no_instructions and shutil.which("valgrind") is not None
    with tempfile.TemporaryDirectory() as folder:
        each = measure(options.runs, folder, options.before)
        counted = count(folder, options.before) if counting else {}
    medians = {name: {k: statistics.median(v) for k, v in m.items()} for name, m in each.items()}
    flask = medians[FLASK_APP]
    rows = [
        [
            name,
            f"{m['seconds'] * 1000:,.0f}",
            " / ".join(f"{s * 1000:,.0f}" for s in each[name]["seconds"]),
            f"{m['cpu'] * 1000:,.0f}",
            f"{m['rss']:,.1f}",
            f"{m['modules']:,.0f}",
            f"{counted[name] / 1e6:,.0f}" if counted else "-",
            f"{m['seconds'] / flask['seconds']:.1f}",
            f"{m['cpu'] / flask['cpu']:.1f}",
            f"{m['rss'] / flask['rss']:.2f}",
            f"{counted[name] / counted[FLASK_APP]:.2f}" if counted else "-",
        ]
        for name, m in medians.items()
    ]
    header = [
        "step (fresh process)",
        "ms (median)",
        "each run, ms",
        "CPU ms",
        "RSS MiB after",
        "modules",
        "M instructions",
        "time ÷ Flask app",
        "CPU ÷ Flask app",
        "RSS ÷ Flask app",
        "instructions ÷ Flask app",
    ]
    table = plots.markdown_table(header, rows)
    app = medians[CREATE_APP_MEMORY]
    verdict = (
        f"**create_app() takes {app['seconds'] / flask['seconds']:.1f} times the bare Flask "
        f"app's time ({app['cpu'] / flask['cpu']:.1f} times its CPU time"
    )
    if counted:
        verdict += f", {counted[CREATE_APP_MEMORY] / counted[FLASK_APP]:.2f} times its instructions"
    verdict += (
        f") and {app['rss'] / flask['rss']:.2f} times its memory**, "
        f"{app['modules']:,.0f} modules against {flask['modules']:,.0f} (target: at most 2 each)."
    )
    if BEFORE in medians:
        old = medians[BEFORE]
        verdict += (
            f" Before loading on first use, in the same run: {old['seconds'] * 1000:,.0f} ms and "
            f"{old['rss']:,.1f} MiB ({old['seconds'] / flask['seconds']:.1f} and "
            f"{old['rss'] / flask['rss']:.2f} times), {old['modules']:,.0f} modules"
        )
        if counted:
            verdict += f", {counted[BEFORE] / counted[FLASK_APP]:.2f} times the instructions"
        verdict += "."
    print(table)
    print(verdict)
    if options.no_docs:
        return
    if counted:
        png = plots.bars(
            "cold-start",
            "Cold start, million instructions beyond an empty interpreter (callgrind)",
            [SHORT[name] for name in counted],
            [n / 1e6 for n in counted.values()],
            "M instructions",
        )
    else:
        png = plots.bars(
            "cold-start",
            "Cold start, ms (fresh interpreter, median)",
            [SHORT[name] for name in medians],
            [m["seconds"] * 1000 for m in medians.values()],
            "ms",
        )
    plots.write_section(TITLE, _section(options.runs, table, verdict, png))


def _section(runs: int, table: str, verdict: str, png: str | None) -> str:
    return f"""
Command: `.venv/bin/python -m benchmarks.cold_start` (also part of `make bench`; `--before SRC`
adds create_app() from another checkout's `src/`, measured in the same rounds).

{plots.machine()}

Each step in a fresh `python -c` subprocess (temporary working directory, no .env, nothing of
ours in the environment but DATABASE_URL); the time is the step's own (perf_counter around it,
not the interpreter's start-up), CPU its process_time, the RSS is VmRSS after it (so it
includes the interpreter's own), modules is `len(sys.modules)`. Median of {runs} runs, steps
interleaved. M instructions: one run of each step under valgrind's callgrind, the whole
process's count less the empty interpreter's: it does not move with the machine's load, which
the times do (on a machine shared with other jobs, as this one was, read the counts and
the CPU times before the wall times). Ratios are against the bare Flask app (`import flask`
+ `Flask(__name__)`), on the default (fake and log) providers.

`create_app()` reads the settings and checks them at once (what `build_container` refuses, it
refuses there), then mounts the routes; the container (dependency-injector and the adapters'
factories), the use cases and the providers are made by the first request that needs them
(`entrypoints/web/wiring.py`), and `import justdriving` loads none of its modules until a
public name is first used. Still deferred further: fpdf2 with numpy, Pillow and fontTools
(the first PDF rendered), Alembic (the first migration applied or checked), SQLAlchemy on
memory:// and the providers' SDKs (only those configured). `tests/unit/test_cold_start.py`
keeps it so. dependency-injector imports pydantic-settings and PyYAML whenever they are
installed: in this virtualenv only the dev tools bring them, so the row "the same, no
pydantic/PyYAML installed" marks them absent, as in a production install.

{table}

{verdict}

What create_app() still loads beyond Flask: the settings (attrs, cattrs, python-dotenv,
iso4217, and the domain's money and contact values their fields are checked with) and the
web layer's own modules. The first request binds its id through structlog (with rich and
pygments, which its console renderer brings: about 85 modules, some 5 MiB), and a container
(built by the caller, as `justdriving serve` does in each worker, or by the first request
that needs the application) brings dependency-injector, every adapter factory and every use
case, whatever the routes use: the "+ its first webhook" row.

{plots.image(png, "cold start")}
"""


if __name__ == "__main__":
    main(sys.argv[1:])
