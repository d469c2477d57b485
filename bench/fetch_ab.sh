#!/bin/sh
# Interleaved rounds of several bench_fetch binaries (say, builds of
# successive commits) and wrk on one URL, 64 in flight: the median CPU
# microseconds per request of each: to compare a change with the commit
# before it. On a shared machine only interleaved runs compare.
#
#   bench/fetch_ab.sh URL BENCH_FETCH... (ROUNDS=5 by default)
url=$1; shift
rounds=${ROUNDS:-5}
out=$(mktemp)
for r in $(seq $rounds); do
  for b in "$@"; do echo "$b $($b "$url" 30000 64 | sed 's/.*, \([0-9.]*\) CPU.*/\1/')" >> $out; done
  /usr/bin/python3 - "$url" >> $out <<'PY'
import re, resource, subprocess, sys
out = subprocess.run(["wrk","-t1","-c64","-d3s",sys.argv[1]],capture_output=True,text=True).stdout
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
n=int(re.search(r"(\d+) requests in",out).group(1))
print("wrk %.1f" % ((ru.ru_utime+ru.ru_stime)*1e6/n))
PY
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
awk '{v[$1]=v[$1]" "$2} END {for (k in v) print k":"v[k]}' $out | while read k rest; do
  echo "$k $(echo $rest | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {printf "median %s  (", a[int((NR+1)/2)]}')$rest)"; done
rm -f $out
