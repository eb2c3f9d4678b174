"""Writes BENCHMARKS.md and benchmarks.png from bench/compare.sh's client sweep.

    python3 bench/report.py <sweep.csv> <repository root> "<the command that ran>"

The CSV has one row per (system, workload, clients): tps, average and p99 latency in ms.
The chart needs matplotlib; it is installed with pip when missing.
"""

import csv
import os
import platform
import subprocess
import sys


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            memory = f", {kib / 1024 / 1024:.0f} GiB memory"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory}, Linux {platform.release()}"


def chart(rows, path):
    try:
        import matplotlib
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "matplotlib"], check=True)
        import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workloads = list(dict.fromkeys(r["workload"] for r in rows))
    clients = sorted({int(r["clients"]) for r in rows})
    fig, axes = plt.subplots(1, len(workloads), figsize=(4.5 * len(workloads), 4))
    for ax, workload in zip(axes, workloads):
        width = 0.38
        for i, system in enumerate(["postgres", "litescale"]):
            tps = [
                next(
                    float(r["tps"])
                    for r in rows
                    if r["workload"] == workload and r["system"] == system and int(r["clients"]) == c
                )
                for c in clients
            ]
            xs = [x + (i - 0.5) * width for x in range(len(clients))]
            ax.bar(xs, tps, width, label="PostgreSQL 15" if system == "postgres" else "litescale")
        ax.set_title(workload)
        ax.set_xticks(range(len(clients)))
        ax.set_xticklabels([f"{c} clients" for c in clients])
        ax.set_ylabel("TPS")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    sweep, root, command = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(sweep) as f:
        rows = list(csv.DictReader(f))
    lines = [
        "# Benchmarks",
        "",
        "pgbench's builtin scripts against litescale and PostgreSQL 15 on the same machine, in",
        "the same run: scale 10, `-M prepared`, TCP loopback, fsync on for both (litescale:",
        "`synchronous = \"full\"`, every acknowledged commit fsynced, by group commit).",
        "",
        f"- Machine: {machine()}.",
        f"- Command: `{command}` (the client sweep below is its second part; `REPORT=1` writes",
        "  this file and the chart).",
        "- Run to run, the same command gives results far apart on the shared 2-core virtual",
        "  machine these numbers come from, for both systems: select-only at 8 clients ran at",
        "  73k to 109k TPS on PostgreSQL and 56k to 106k on litescale (2026-11-25), depending on",
        "  which cores the client's and the server's threads fall on (waking a thread on the",
        "  other core takes an interrupt, which is dear in a VM). Compare the two systems",
        "  within one run, and over several.",
        "",
        "| workload | clients | PostgreSQL TPS | litescale TPS | ratio | PG avg / p99 ms | litescale avg / p99 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    by_key = {(r["system"], r["workload"], r["clients"]): r for r in rows}
    for r in rows:
        if r["system"] != "postgres":
            continue
        ls = by_key[("litescale", r["workload"], r["clients"])]
        ratio = float(ls["tps"]) / float(r["tps"])
        lines.append(
            f"| {r['workload']} | {r['clients']} | {float(r['tps']):,.0f} | {float(ls['tps']):,.0f} "
            f"| {ratio:.2f}× | {r['avg_ms']} / {r['p99_ms']} | {ls['avg_ms']} / {ls['p99_ms']} |"
        )
    lines += ["", "![TPS by workload and client count](benchmarks.png)", ""]
    chart(rows, os.path.join(root, "benchmarks.png"))
    with open(os.path.join(root, "BENCHMARKS.md"), "w") as f:
        f.write("\n".join(lines))
    print("wrote BENCHMARKS.md and benchmarks.png")


if __name__ == "__main__":
    main()
