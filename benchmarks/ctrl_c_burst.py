"""Press Ctrl-C several times in a row on a painting run, as an impatient user does, and count the runs that kept
their picture so far.

    .venv/bin/python benchmarks/ctrl_c_burst.py --runs 6 --after 20 --gaps 0.05,0.25,0.75 -- \
        brushwork/examples/content/chicago.jpg brushwork/examples/style/starry_night.jpg --size 256 --steps 300

Each run paints into a fresh temporary folder; the first SIGINT comes ``--after`` seconds after the start, the
others ``--gaps`` seconds apart (each only while the run is still going). A run counts as kept when it exits 130
and its picture is there.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def burst(command: list[str], after: float, gaps: list[float]) -> tuple[int, str]:
    """One run stopped by a burst of SIGINTs: its exit status and its last line on stderr."""
    run = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    time.sleep(after)
    run.send_signal(signal.SIGINT)
    for gap in gaps:
        time.sleep(gap)
        if run.poll() is None:
            run.send_signal(signal.SIGINT)
    _, err = run.communicate()
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    return run.returncode, lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--after", type=float, default=20.0, help="seconds before the first Ctrl-C")
    parser.add_argument("--gaps", default="0.05,0.25,0.75", help="seconds between the Ctrl-Cs after it")
    parser.add_argument("paint", nargs=argparse.REMAINDER, help="-- then brushwork's arguments, without -o")
    args = parser.parse_args()
    gaps = [float(g) for g in args.gaps.split(",") if g]
    kept = 0
    for i in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "out.png"
            command = [sys.executable, "-m", "brushwork", *[a for a in args.paint if a != "--"], "-o", str(out)]
            status, last = burst(command, args.after, gaps)
            ok = status == 130 and out.exists()
            kept += ok
            print(f"run {i}: exit {status}, {'kept' if ok else 'LOST'}: {last}")
    print(f"{kept} of {args.runs} runs kept their picture so far")


if __name__ == "__main__":
    main()
