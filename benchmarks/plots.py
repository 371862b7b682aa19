"""Plots and docs helpers shared by the newer benchmarks (webhook_ingest, relay_limit,
cold_start, scale): a markdown table, replacing one section of docs/benchmarks.md, and one
PNG per benchmark in docs/ (matplotlib, Agg backend; `pip install -e '.[bench]'`).

Each benchmark calls these itself at the end of its run; there is no separate data file, so
`python -m benchmarks.<name>` regenerates both its section and its plot.
"""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
        f"(`os.cpu_count()`), {platform.system()} {platform.machine()}, Python "
        f"{platform.python_version()}; load average {load:.1f} at the end."
    )


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in lines
    ]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def write_section(title: str, body: str) -> None:
    """Replace section `## title` of docs/benchmarks.md (append it if absent)."""
    heading = f"## {title}"
    section = f"{heading}\n\n{body.strip()}\n"
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n\n"
    start = text.find(heading + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section + ("" if end < 0 else "\n" + text[end + 1 :])
    DOCS.write_text(text.rstrip("\n") + "\n")
    print(f"wrote {DOCS} ({title})")


def _pyplot():  # type: ignore[no-untyped-def]
    try:
        import matplotlib
    except ImportError:
        print("matplotlib not installed (pip install -e '.[bench]'): no plot")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def bars(
    name: str, title: str, labels: list[str], values: list[float], ylabel: str, log: bool = False
) -> str | None:
    """docs/bench-<name>.png: one bar per label; returns the file name (for the markdown)."""
    plt = _pyplot()
    if plt is None:
        return None
    figure, axes = plt.subplots(figsize=(7, 3.6))
    axes.bar(labels, values, color="#4878a8")
    for x, value in enumerate(values):
        label = f"{value:,.0f}" if value >= 10 else f"{value:.3g}"
        axes.annotate(label, (x, value), ha="center", va="bottom", fontsize=8)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    if log:
        axes.set_yscale("log")
    axes.tick_params(axis="x", labelsize=8)
    figure.tight_layout()
    path = ROOT / "docs" / f"bench-{name}.png"
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path.name


def lines(
    name: str,
    title: str,
    series: dict[str, tuple[list[float], list[float]]],
    xlabel: str,
    ylabel: str,
    log: bool = True,
    log_y: bool = False,
) -> str | None:
    """docs/bench-<name>.png: one line per series (x values, y values); `log`: a log x axis,
    `log_y`: a log y axis too (series far apart)."""
    plt = _pyplot()
    if plt is None:
        return None
    figure, axes = plt.subplots(figsize=(7, 3.6))
    for label, (xs, ys) in series.items():
        axes.plot(xs, ys, marker="o", label=label)
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if log:
        axes.set_xscale("log")
    if log_y:
        axes.set_yscale("log")
    axes.legend()
    figure.tight_layout()
    path = ROOT / "docs" / f"bench-{name}.png"
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path.name


def image(file: str | None, alt: str) -> str:
    return f"![{alt}]({file})" if file else "(plot not drawn: matplotlib not installed)"
