#!/usr/bin/env bash
# Runs a command and prints its peak memory, sampled every 0.1 s from /proc/PID/status:
# RssAnon (the process's own memory) and RssFile (files it maps, such as SQLite's database),
# then its wall time and exit code. Usage: bench/scripts/peak-memory.sh COMMAND [ARGS...]
set -uo pipefail
start=$(date +%s.%N)
"$@" >/dev/null 2>"${PEAK_STDERR:-/dev/null}" &
pid=$!
anon=0
file=0
while kill -0 "$pid" 2>/dev/null; do
    if read -r a f < <(awk '/^RssAnon/ {a=$2} /^RssFile/ {f=$2} END {print a+0, f+0}' "/proc/$pid/status" 2>/dev/null); then
        ((a > anon)) && anon=$a
        ((f > file)) && file=$f
    fi
    sleep 0.1
done
wait "$pid"
code=$?
end=$(date +%s.%N)
printf 'peak RssAnon %d MB, peak RssFile %d MB, %.1f s, exit %d\n' $((anon / 1024)) $((file / 1024)) "$(echo "$end - $start" | bc)" "$code"
