#!/usr/bin/python3
"""Run a command and print what it cost: wall seconds, user+sys CPU seconds of
the process (and its children), peak RSS. With -n N, also CPU microseconds
per request and requests/s. With -s, the command's stdout is discarded.

  cpu_of.py [-n REQUESTS] [-s] [-l LABEL] -- CMD ARGS...

Prints one line: LABEL wall=S cpu=S rss_mb=M [req_s=R cpu_us_req=U]
"""
import resource
import subprocess
import sys
import time

n, label, silent = 0, None, False
args = sys.argv[1:]
while args and args[0] != "--":
    if args[0] == "-n":
        n = int(args[1]); args = args[2:]
    elif args[0] == "-l":
        label = args[1]; args = args[2:]
    elif args[0] == "-s":
        silent = True; args = args[1:]
    else:
        sys.exit("cpu_of: unknown option %s" % args[0])
cmd = args[1:]
t0 = time.monotonic()
p = subprocess.run(cmd, stdout=subprocess.DEVNULL if silent else None)
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = ru.ru_utime + ru.ru_stime
line = "%s wall=%.3f cpu=%.3f rss_mb=%.1f" % (label or cmd[0], wall, cpu, ru.ru_maxrss / 1024)
if n:
    line += " req_s=%.0f cpu_us_req=%.1f" % (n / wall, cpu * 1e6 / n)
if p.returncode != 0:
    line += " EXIT=%d" % p.returncode
print(line, flush=True)
