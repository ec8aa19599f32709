"""bench/load.py's CPU per turn: each role's process is counted with everything below it (a server's workers), so
a forking gateway's CPU is not lost. Only the figure's plumbing is tested here; the bench prints the figures."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.load import cpu_seconds

BURN_IN_CHILD = ("import subprocess, sys; "
                 "subprocess.run([sys.executable, '-c', 'import time\\nend = time.process_time() + 0.6\\n"
                 "while time.process_time() < end: pass\\ntime.sleep(30)'])")


def test_a_roles_cpu_includes_the_workers_it_started():
    """Mutation tried: cpu_seconds reading the root process only (no children) -> about 0 s, fails."""
    parent = subprocess.Popen([sys.executable, "-c", BURN_IN_CHILD])
    try:
        deadline = time.monotonic() + 20
        used = 0.0
        while time.monotonic() < deadline and used < 0.5:
            time.sleep(0.2)
            used = cpu_seconds({"server": parent.pid})["server"]
        assert used >= 0.5  # the child's 0.6 s of CPU, counted under its parent's role
        assert cpu_seconds({"gone": 2 ** 22 + 7}) == {"gone": 0.0}  # a process that does not exist counts nothing
    finally:
        subprocess.run(["pkill", "-P", str(parent.pid)], check=False)
        parent.kill()
        parent.wait()
