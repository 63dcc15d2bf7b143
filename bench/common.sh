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

# CPU other processes took: machine busy time minus ours, in clock ticks,
# from /proc (the script defines our_ticks: what counts as ours).
# phase_begin; ...; phase_end prints the share of all cores others used
# meanwhile.
hz=$(getconf CLK_TCK)
ncpu=$(nproc)
busy_ticks () { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
phase_begin () { phase_busy=$(busy_ticks); phase_ours=$(our_ticks); phase_t0=$(date +%s.%N); }
phase_end () {
    LC_ALL=C awk -v b0="$phase_busy" -v b1="$(busy_ticks)" -v o0="$phase_ours" -v o1="$(our_ticks)" \
        -v t0="$phase_t0" -v t1="$(date +%s.%N)" -v hz="$hz" -v n="$ncpu" 'BEGIN {
        others = ((b1 - b0) - (o1 - o0)) / hz; if (others < 0) others = 0
        printf "%.0f%%", 100 * others / ((t1 - t0) * n) }'
}

# machine_prelude NAME: waits up to $wait_quiet s for quiet CPUs, then sets
# started, cpu_model, fs_type, others_before and script_t0 (uses the
# script's log).
machine_prelude () {
    if [ "$wait_quiet" -gt 0 ]; then
        log "waiting up to $wait_quiet s for the CPUs to be idle"
        waited=0
        while [ "$waited" -lt "$wait_quiet" ]; do
            phase_begin
            sleep 5
            waited=$((waited + 5))
            [ "$(phase_end | tr -d %)" -lt 5 ] && break
        done
    fi
    started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
    cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
    fs_type=$(findmnt -n -o FSTYPE -T "$tmp" 2>/dev/null || stat -f -c %T "$tmp")
    phase_begin
    sleep 1
    others_before=$(phase_end)
    log "$1 benchmark in $tmp ($fs_type); other processes used $others_before of the CPUs"
    [ "$fs_type" = "tmpfs" ] && log "warning: $tmp is on tmpfs, where fsync costs nothing"
    script_t0=$(date +%s)
}
