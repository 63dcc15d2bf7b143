# bench/common.sh -- what bench/pipeline.sh and bench/federation.sh share:
# the list of processes to stop at exit, and the small formatting helpers.
# Sourced after the script has set $tmp (its temporary directory).

pids=()
cleanup () {
    local pid
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
# Drops stopped processes from the list, so that a pid reused later by
# someone else's process is never signalled.
forget () {
    local keep=() pid
    for pid in "${pids[@]}"; do
        [[ " $* " == *" $pid "* ]] || keep+=("$pid")
    done
    pids=("${keep[@]}")
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# Helpers

# value KEY LINE: the value of KEY=... in a line of key=value pairs.
value () { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
num () { LC_ALL=C awk -v x="$1" 'BEGIN { if (x == "") print "-"; else printf "%\047.0f", x }'; }
ratio () { LC_ALL=C awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }
percent () { LC_ALL=C awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.0f%%", 100 * a / b }'; }
# verdict VALUE OP LIMIT: "met" / "not met" / "n/a"
verdict () {
    LC_ALL=C awk -v x="$1" -v op="$2" -v y="$3" 'BEGIN {
        if (x == "" || x == "-") { print "n/a"; exit }
        ok = (op == ">=") ? (x + 0 >= y + 0) : (x + 0 < y + 0)
        print ok ? "met" : "not met" }'
}
# " *" when other processes took more than 10% of the CPUs (see the footnote).
disturbed () {
    local o=${1%\%}
    if [[ "$o" =~ ^[0-9]+$ ]] && [ "$o" -gt 10 ]; then printf ' *'; fi
    return 0
}

wait_for () {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
