"""Run a command and append its peak resident memory (KiB, with children) to a log: ``rss_wrapper.py LOG CMD...``.

Used as the Python interpreter of the benchmarked module processes (through
a small shell script), so each module run logs the peak RSS it reached.
"""

from __future__ import annotations

import resource
import subprocess
import sys


def main():
    log, command = sys.argv[1], sys.argv[2:]
    code = subprocess.call(command)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(log, "a") as handle:
        handle.write("%d %s\n" % (peak, " ".join(command[-1:])))
    return code


if __name__ == "__main__":
    sys.exit(main())
