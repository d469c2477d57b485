#!/bin/sh
# Runs an example and compares what it prints with the expected output.
# usage: check.sh EXECUTABLE EXPECTED_FILE
set -u
out=$("$1") || { echo "example $1 exited with status $?"; echo "$out"; exit 1; }
if [ "$out" != "$(cat "$2")" ]; then
  echo "example $1 printed:"; echo "$out"
  echo "expected ($2):"; cat "$2"
  exit 1
fi
echo "$out"
