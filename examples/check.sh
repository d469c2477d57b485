#!/bin/sh
# Runs an example and compares what it prints with the expected output.
# usage: check.sh EXECUTABLE EXPECTED_FILE [ARGS...]
set -u
exe=$1 expected=$2
shift 2
out=$("$exe" "$@") || { echo "example $exe exited with status $?"; echo "$out"; exit 1; }
if [ "$out" != "$(cat "$expected")" ]; then
  echo "example $exe printed:"; echo "$out"
  echo "expected ($expected):"; cat "$expected"
  exit 1
fi
echo "$out"
