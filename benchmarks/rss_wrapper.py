"""Run a command and append its peak RSS and CPU time to a log: ``rss_wrapper.py LOG CMD...``.

Used as the Python interpreter of the benchmarked module processes (through
a small shell script), so each module run logs one line:
``<peak RSS KiB> <CPU s of the command> <CPU s of this wrapper> <last argument>``.
The wrapper's own CPU (an interpreter start) is logged so the benchmark can
leave it out of the contestant's CPU time.
"""

from __future__ import annotations

import resource
import subprocess
import sys


def cpu_seconds(usage):
    return usage.ru_utime + usage.ru_stime


def main():
    log, command = sys.argv[1], sys.argv[2:]
    code = subprocess.call(command)
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    with open(log, "a") as handle:
        handle.write("%d %.3f %.3f %s\n" % (child.ru_maxrss, cpu_seconds(child), cpu_seconds(own), " ".join(command[-1:])))
    return code


if __name__ == "__main__":
    sys.exit(main())
