"""Run a command and print its peak resident set size in bytes (Linux ru_maxrss is KiB)."""

import resource
import subprocess
import sys

code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
if code:
    sys.exit(code)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
