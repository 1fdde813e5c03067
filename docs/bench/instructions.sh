#!/usr/bin/env bash
# The instructions `liaison serve` executes per request of one kind, counted by
# valgrind's callgrind: unlike requests/s or CPU time, the count hardly moves with
# the machine's load, so two builds can be compared on a busy host.
#
#   docs/bench/instructions.sh <liaison binary> <SQLite database> <path and query> [requests]
#
# Serves a copy of the database under callgrind (it needs `valgrind` and `curl`),
# sends 20 requests to warm the caches, then counts `requests` more (default 100),
# sent one after the other on one connection, and prints the instructions per
# request and the functions that cost most (self and inclusive). The copy gets an
# admin token of its own; the database itself is left as it was. With
# INSTRUCTIONS_OUT=<file> set, the callgrind profile is kept there for
# `callgrind_annotate`.
# Example, the bench's first page on its SQLite data set:
#
#   docs/bench/instructions.sh target/release/liaison target/bench/liaison-40000.db \
#     '/api/v1/visits?from=2021-12-03&to=2027-06-25&sort=starts_at&limit=50'
set -euo pipefail

if [ $# -lt 3 ]; then
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
liaison=$(realpath "$1")
database=$2
path=$3
requests=${4:-100}
port=${INSTRUCTIONS_PORT:-18099}
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

cp "$database" "$work/copy.db"
# A name no earlier run's copy can have taken (token names are unique).
token=$("$liaison" token create --name "instructions-$$-$(date +%s)" --role admin \
    --database-url "$work/copy.db" 2>/dev/null)

# Instrumentation starts only after the warm-up, so start-up is not counted.
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/callgrind.out" \
    "$liaison" serve --database-url "$work/copy.db" --bind "127.0.0.1:$port" \
    >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break
    sleep 0.2
done

send() {
    local args=()
    for _ in $(seq 1 "$1"); do
        args+=(-o /dev/null "http://127.0.0.1:$port$path")
    done
    curl -s -w '%{http_code}\n' -H "Authorization: Bearer $token" "${args[@]}"
}

send 20 >/dev/null
callgrind_control -i on "$server" >/dev/null 2>&1
statuses=$(send "$requests" | sort | uniq -c)
callgrind_control -d "$server" >/dev/null 2>&1
kill "$server"
wait "$server" 2>/dev/null || true

echo "responses: $(echo "$statuses" | xargs)"
if [ -n "${INSTRUCTIONS_OUT:-}" ]; then
    cp "$work/callgrind.out.1" "$INSTRUCTIONS_OUT"
fi
total=$(callgrind_annotate "$work/callgrind.out.1" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
echo "instructions per request: $((total / requests))"
echo
echo "most instructions, the function's own:"
callgrind_annotate "$work/callgrind.out.1" | grep -E '^ *[0-9,]+ \(' | grep -v 'PROGRAM TOTALS' |
    head -15 | sed 's/ \[[^]]*\]$//' | cut -c1-150
echo
echo "most instructions, with what the function calls:"
callgrind_annotate --inclusive=yes "$work/callgrind.out.1" | grep -E '^ *[0-9,]+ \(' |
    grep -v 'PROGRAM TOTALS' | grep -E 'liaison::|serde|diesel::|sqlite3_step|malloc|free' |
    head -15 | sed 's/ \[[^]]*\]$//' | cut -c1-150
