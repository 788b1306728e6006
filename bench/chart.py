"""Draw bench/compare.py's results: wall time and peak RSS per method, side by side.

    bench/.venv-tools/bin/python bench/chart.py bench/results/compare.json out.png

Runs in the tools venv (matplotlib lives there, not in sluice's own dependencies). The pipe
and the engines' own file loads and exports (bench/ceilings.py) are green. Time bars
show the median with the min-max spread as whiskers and the ratio to the psql pipe; memory
bars are on a log scale, since the methods span two orders of magnitude.
"""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OURS = "#1f6feb"
LIMIT = "#2da44e"
OTHERS = "#8c959f"


def colour(method: str) -> str:
    # the limits and ceilings
    if method == "pipe" or "-file-load" in method or method.endswith("-export"):
        return LIMIT
    return OURS if method.startswith("sluice") else OTHERS


def draw(data: dict, out: str) -> None:
    runs = [r for r in data["results"] if "median_s" in r][::-1]  # first method on top
    names = [r["method"] for r in runs]
    colours = [colour(n) for n in names]
    fig, (t_ax, m_ax) = plt.subplots(1, 2, figsize=(12, 0.45 * len(runs) + 1.8), sharey=True)
    medians = [r["median_s"] for r in runs]
    spread = [
        [r["median_s"] - r["min_s"] for r in runs],
        [r["max_s"] - r["median_s"] for r in runs],
    ]
    t_ax.barh(names, medians, xerr=spread, color=colours, capsize=3)
    for y, r in enumerate(runs):
        ratio = f"  {r['median_s']:.1f} s (x{r['ratio_to_pipe']:.2f})" if r["ratio_to_pipe"] else ""
        t_ax.text(r["max_s"], y, ratio, va="center", fontsize=8)
    t_ax.set_xlabel("wall time, median of runs (s); whiskers: min-max")
    t_ax.set_xlim(0, max(r["max_s"] for r in runs) * 1.45)
    peaks = [r["peak_rss_mib"] for r in runs]
    m_ax.barh(names, peaks, color=colours)
    m_ax.set_xscale("log")
    for y, p in enumerate(peaks):
        m_ax.text(p * 1.08, y, f"{p:,.0f} MiB", va="center", fontsize=8)
    m_ax.set_xlim(min(peaks) / 1.5, max(peaks) * 4)
    m_ax.set_xlabel("peak RSS of the largest process (MiB, log scale)")
    fig.suptitle(f"StackOverflow2010 at scale {data['scale']}: {data['rows']:,} rows, "
                 f"{data['source_mb']:,.0f} MB ({data['machine']['cores']} cores, "
                 f"{data['machine']['postgresql']})", fontsize=10)  # fmt: skip
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as fh:
        draw(json.load(fh), sys.argv[2])
