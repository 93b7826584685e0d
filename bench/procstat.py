#!/usr/bin/env python3
"""Process-tree figures for bench/run.sh, so multi-process peers (Postfix) are measured like one.

  procstat.py cpu PID          CPU seconds (user+system) of PID and all its descendants, including
                               children they already reaped (cutime/cstime), so processes that
                               exit during a run still count.
  procstat.py rss PID          proportional resident memory (PSS) of PID and its descendants, KiB.
  procstat.py watch PID FILE   samples the tree's PSS every 200 ms and keeps the peak (KiB) in FILE
                               until PID exits or this is killed.
"""
import os
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")


def children_map():
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(name))
    return kids


def tree(pid):
    kids, out, todo = children_map(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        # fields[11..14] are utime, stime, cutime, cstime (stat fields 14-17).
        total += sum(int(x) for x in fields[11:15])
    return total / HZ


def rss(pid, pids=None):
    # Proportional set size: shared pages (libraries, Postfix's many processes) are split between
    # the processes that map them instead of being counted once per process.
    total = 0
    for p in pids or tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def main():
    mode, pid = sys.argv[1], int(sys.argv[2])
    if mode == "cpu":
        print(f"{cpu(pid):.2f}")
    elif mode == "rss":
        print(rss(pid))
    elif mode == "watch":
        peak, n, pids = 0, 0, None
        while os.path.exists(f"/proc/{pid}"):
            # Walking /proc costs CPU the server under test could use: refresh the tree every 0.6 s.
            if n % 3 == 0:
                pids = tree(pid)
            n += 1
            peak = max(peak, rss(pid, pids))
            # Written aside and renamed, so a reader never sees an empty file.
            with open(sys.argv[3] + ".tmp", "w") as f:
                f.write(f"{peak}\n")
            os.replace(sys.argv[3] + ".tmp", sys.argv[3])
            # Not more often: reading smaps_rollup walks the process's page tables (about 1.5 ms
            # for a .NET server here) under its mmap lock, which perturbs what is measured; every
            # 50 ms cost the server a few percent of its throughput in a short cell.
            time.sleep(0.2)


if __name__ == "__main__":
    main()
