#!/usr/bin/env bash
# bench/pipeline.sh -- the pipeline benchmark of issue 3, side by side in one
# run: Liandong ingest acknowledged after fsync, the Ed25519 bound on the same
# cores, NATS JetStream on the same machine, delivery of signed events to 10
# subscribers, and latencies at 1,000 events/s. Prints every figure, the
# ratios and "met"/"not met" beside each goal (bench/README.md explains them).
#
#   bench/pipeline.sh [--events N] [--fill N] [--latency-events N] [--dir DIR]
#                     [--wait-quiet SECONDS] [--quick]
#
# Builds liandong and the benchmark programs (Release) in build-pbench/,
# installs nats-server and libnats-dev with apt if missing, and works in a
# temporary directory under --dir (default build-pbench/: a real disk; on
# tmpfs fsync is free and the figures would lie). Every process it starts is
# stopped at exit, also on Ctrl-C. Progress goes to stderr; the report to
# stdout and to build-pbench/pipeline-<time>.txt. On a shared machine,
# --wait-quiet waits (up to SECONDS) for other processes to leave the CPUs
# idle before starting; the "others" columns show what they took meanwhile.
#
# Pinning: a broker (or nats-server) measured "on 1 core" runs under
# `taskset -c 0` with --workers 1, "on 2 cores" under `taskset -c 0,1` with
# --workers 2; the Ed25519 bound runs with 1 and 2 threads under the same
# masks. The client (loader, subscribers, NATS publisher and consumers) runs
# on the cores left over: core 1 beside a 1-core server; on a 2-core machine
# it is unpinned beside a 2-core server, and so competes with it.
set -euo pipefail

events=200000          # per measured run
fill=1000000           # events already in the store for the "1M stored" runs
latency_events=5000    # samples at 1,000 events/s
latency_rate=1000
subscribers=10
fill_authors=16
parent=""
wait_quiet=0

usage () {
    sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case $1 in
        --events) events=$2; shift 2 ;;
        --fill) fill=$2; shift 2 ;;
        --latency-events) latency_events=$2; shift 2 ;;
        --dir) parent=$2; shift 2 ;;
        --wait-quiet) wait_quiet=$2; shift 2 ;;
        --quick) events=50000; fill=200000; latency_events=2000; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 64 ;;
    esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-pbench"
log () { printf '%s\n' "$*" >&2; }
die () { log "pipeline.sh: $*"; exit 1; }

# ---------------------------------------------------------------------------
# Dependencies and build

as_root () { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v nats-server >/dev/null 2>&1 || ! pkg-config --exists libnats 2>/dev/null; then
    log "installing nats-server and libnats-dev"
    as_root apt-get install -y --no-install-recommends nats-server libnats-dev >&2 \
        || { as_root apt-get update >&2 \
             && as_root apt-get install -y --no-install-recommends nats-server libnats-dev >&2; }
fi
nats_server=$(command -v nats-server) || die "nats-server is not installed"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
cmake --build "$build" -j"$(nproc)" --target liandong ld_loader ld_subbench ld_natsbench >&2
liandong="$build/liandong"
loader="$build/bench/ld_loader"
subbench="$build/bench/ld_subbench"
natsbench="$build/bench/ld_natsbench"

mkdir -p "${parent:=$build}"
tmp=$(mktemp -d "$parent/pbench.XXXXXX")
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
us_to_ms () { LC_ALL=C awk -v x="$1" 'BEGIN { if (x == "") print "-"; else printf "%.2f", x / 1000 }'; }

# Ours, for phase_begin/phase_end (bench/common.sh): this script's
# waited-for children.
our_ticks () { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$$/stat"; }

# Client pinning beside a server on cores 0..k-1: the cores left, if any.
client_pin () {
    local k=$1
    if [ "$ncpu" -gt "$k" ]; then echo "taskset -c $k-$((ncpu - 1))"; fi
}
server_cpus () { if [ "$1" -eq 1 ]; then echo 0; else echo "0-$(($1 - 1))"; fi; }

# fsync/fdatasync calls of a server, counted with perf only between
# count_on and count_off (not at start-up or shutdown), if perf may.
perf_ok=false
if command -v perf >/dev/null 2>&1 \
    && perf stat -x, -o /dev/null -e syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync true \
        >/dev/null 2>&1; then
    perf_ok=true
fi

# start_server NAME CORES READY_FILE READY_REGEX command...
# Sets SERVER_PID (the server) and SERVER_WAIT (what to wait for).
start_server () {
    local name=$1 cores=$2 ready_file=$3 ready=$4 i
    shift 4
    if $perf_ok; then
        mkfifo "$tmp/$name.ctl" "$tmp/$name.ack"
        perf stat -D -1 --control "fifo:$tmp/$name.ctl,$tmp/$name.ack" -x, -o "$tmp/$name.perf" \
            -e syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync \
            -- taskset -c "$cores" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
        SERVER_WAIT=$!
        exec {ctl_fd}<>"$tmp/$name.ctl" {ack_fd}<>"$tmp/$name.ack"
        # the server is perf's child (taskset execs it): found by parent pid
        SERVER_PID=""
        for ((i = 0; i < 500; i++)); do
            SERVER_PID=$(pgrep -P "$SERVER_WAIT" || true)
            [ -z "$SERVER_PID" ] || break
            sleep 0.01
        done
    else
        taskset -c "$cores" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
        SERVER_WAIT=$!
        SERVER_PID=$!
    fi
    pids+=(${SERVER_PID:+"$SERVER_PID"} "$SERVER_WAIT")
    wait_for "$ready_file" "$ready" 30 \
        || die "$name did not start: $(tail -3 "$tmp/$name.err" 2>/dev/null)"
}
count_on () {
    if $perf_ok; then echo enable >&"$ctl_fd"; read -r -t 10 -u "$ack_fd" _ || true; fi
}
count_off () {
    if $perf_ok; then echo disable >&"$ctl_fd"; read -r -t 10 -u "$ack_fd" _ || true; fi
}
# Stops the server; sets FSYNCS (calls counted while on, or "n/a").
stop_server () {
    local name=$1
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_WAIT" 2>/dev/null || true
    forget "$SERVER_PID" "$SERVER_WAIT"
    FSYNCS="n/a"
    if $perf_ok; then
        exec {ctl_fd}>&- {ack_fd}>&-
        FSYNCS=$(awk -F, '/sys_enter_f(data)?sync/ { if ($1 ~ /^[0-9]+$/) s += $1; else bad = 1 }
                         END { print bad ? "n/a" : s + 0 }' "$tmp/$name.perf" 2>/dev/null || echo n/a)
    fi
}

server_seq=0
# start_broker CORES DATA_DIR [TRANSPORT FLAGS...]: sets BROKER (listen
# endpoint) and BROKER_NAME. Without transport flags the broker runs --open
# (plain tcp, the figures of (a)-(e)); section (f) passes --trust ... for CURVE.
start_broker () {
    local cores=$1 data=$2
    shift 2
    [ $# -gt 0 ] || set -- --open
    server_seq=$((server_seq + 1))
    BROKER_NAME="broker$server_seq"
    start_server "$BROKER_NAME" "$(server_cpus "$cores")" "$tmp/$BROKER_NAME.out" '^ready ' \
        "$liandong" broker --data "$data" --listen 'tcp://127.0.0.1:*' --workers "$cores" "$@"
    BROKER=$(sed -n 's/^ready .*listen=\([^ ]*\).*/\1/p' "$tmp/$BROKER_NAME.out")
}
# start_nats CORES: sets NATS (url) and NATS_NAME.
start_nats () {
    server_seq=$((server_seq + 1))
    NATS_NAME="nats$server_seq"
    mkdir -p "$tmp/$NATS_NAME.js"
    : >"$tmp/$NATS_NAME.log"
    start_server "$NATS_NAME" "$(server_cpus "$1")" "$tmp/$NATS_NAME.log" 'Server is ready' \
        "$nats_server" -js -sd "$tmp/$NATS_NAME.js" -a 127.0.0.1 -p -1 -l "$tmp/$NATS_NAME.log"
    NATS="nats://$(sed -n 's/.*Listening for client connections on \([^ ]*\).*/\1/p' \
        "$tmp/$NATS_NAME.log" | head -1)"
}

run=0 # every loader run signs fresh feeds: run numbers are never reused
next_run () { run=$((run + 1)); }

# ---------------------------------------------------------------------------
# The machine

machine_prelude pipeline

# ---------------------------------------------------------------------------
# fsync on this file system

fsync_line=$("$loader" fsync --dir "$tmp" --samples 1000) || fsync_line=""
fsync_p50=$(value p50_us "$fsync_line")
fsync_p99=$(value p99_us "$fsync_line")
log "fsync: p50 ${fsync_p50} us, p99 ${fsync_p99} us"

# ---------------------------------------------------------------------------
# (b) the Ed25519 bound on the same cores

# Measured at the start and again at the end of the run: this machine's
# speed drifts by 10% and more over minutes (shared host), so the ratios use
# the mean of both, and the report shows the drift.
declare -A bound bound_others
# measure_bound WHEN
measure_bound () {
    local cores line
    for cores in 1 2; do
        next_run
        phase_begin
        line=$(taskset -c "$(server_cpus $cores)" "$loader" verify --events "$events" \
            --authors 16 --threads "$cores" --run "$run") || line=""
        bound[$1,$cores]=$(value rate "$line")
        bound_others[$1,$cores]=$(phase_end)
        log "(b) verify bound ($1), $cores core(s): ${bound[$1,$cores]}/s"
    done
}
measure_bound start

# ---------------------------------------------------------------------------
# (a) ingest

# Each row's ratio is taken against the bound measured just before it on the
# same cores (a shorter run of the same kind as (b)), so that the machine's
# drift over minutes does not land in the ratio.
declare -A ingest ingest_fsyncs ingest_others ingest_before ingest_bound
envelope_bytes=""
bound_events=$((events / 4))
# ingest_run STATE CORES AUTHORS DATA_DIR
ingest_run () {
    local state=$1 cores=$2 authors=$3 data=$4 line pin
    next_run
    line=$(taskset -c "$(server_cpus "$cores")" "$loader" verify --events "$bound_events" \
        --authors 16 --threads "$cores" --run "$run") || line=""
    ingest_bound[$state,$cores,$authors]=$(value rate "$line")
    next_run
    pin=$(client_pin "$cores")
    start_broker "$cores" "$data"
    phase_begin
    count_on
    line=$($pin "$loader" ingest --broker "$BROKER" --events "$events" --authors "$authors" \
        --run "$run") || line=""
    count_off
    stop_server "$BROKER_NAME"
    ingest_others[$state,$cores,$authors]=$(phase_end)
    ingest[$state,$cores,$authors]=$(value rate "$line")
    ingest_before[$state,$cores,$authors]=$(value stored_before "$line")
    ingest_fsyncs[$state,$cores,$authors]=$FSYNCS
    envelope_bytes=${envelope_bytes:-$(value envelope_bytes "$line")}
    log "(a) $state store, $cores core(s), $authors author(s): $(value rate "$line")/s," \
        "$FSYNCS fsyncs; bound just before: ${ingest_bound[$state,$cores,$authors]}/s"
}

for cores in 1 2; do
    for authors in 1 4 16; do
        ingest_run empty "$cores" "$authors" "$tmp/empty.$cores.$authors"
        rm -rf "$tmp/empty.$cores.$authors"
    done
done

# Latency at a steady 1,000 events/s: loader send -> Ack, and -> live SUB.
# latency_run LABEL DATA_DIR
declare -A lat
latency_run () {
    local label=$1 data=$2 line
    next_run
    start_broker 2 "$data"
    phase_begin
    line=$("$loader" latency --broker "$BROKER" --events "$latency_events" \
        --rate "$latency_rate" --run "$run") || line=""
    stop_server "$BROKER_NAME"
    lat[$label,others]=$(phase_end)
    for key in ack_p50_us ack_p99_us ack_over_1ms live_p50_us live_p99_us stored_before; do
        lat[$label,$key]=$(value "$key" "$line")
    done
    log "latency ($label store): ack p50/p99 ${lat[$label,ack_p50_us]}/${lat[$label,ack_p99_us]} us," \
        "live p50/p99 ${lat[$label,live_p50_us]}/${lat[$label,live_p99_us]} us"
}
latency_run empty "$tmp/latency.empty"
rm -rf "$tmp/latency.empty"

# Through a node, when `liandong node` exists: Author requests on its control
# socket, answered after the broker's Ack reached the node.
node_line=""
if "$liandong" node --help >/dev/null 2>&1; then
    next_run
    start_broker 2 "$tmp/node.broker"
    node_broker_name=$BROKER_NAME
    "$liandong" keygen --out "$tmp/node.key" >/dev/null
    "$liandong" node --data "$tmp/node.data" --identity "$tmp/node.key/identity.secret" \
        --broker "$BROKER" --control "ipc://$tmp/node.ipc" >"$tmp/node.out" 2>"$tmp/node.err" &
    node_pid=$!
    pids+=("$node_pid")
    phase_begin
    if wait_for "$tmp/node.out" '^ready' 30; then
        node_line=$("$loader" node --control "ipc://$tmp/node.ipc" --events "$latency_events" \
            --rate "$latency_rate") || node_line=""
    else
        log "node did not start: $(tail -3 "$tmp/node.err")"
    fi
    kill -TERM "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
    forget "$node_pid"
    BROKER_NAME=$node_broker_name
    stop_server "$BROKER_NAME"
    node_others=$(phase_end)
    log "node latency: $node_line"
fi

# The store already holding $fill events: filled once, then reused.
next_run
fill_t0=$(date +%s.%N)
start_broker 2 "$tmp/full"
fill_line=$("$loader" ingest --broker "$BROKER" --events "$fill" --authors "$fill_authors" \
    --run "$run") || die "cannot fill the store"
stop_server "$BROKER_NAME"
fill_wall=$(LC_ALL=C awk -v a="$fill_t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
fill_db=$(du -sm "$tmp/full" | cut -f1)
log "fill: $fill events in $(value seconds "$fill_line") s of ingest ($fill_wall s with signing)"

for cores in 1 2; do
    for authors in 1 4 16; do
        ingest_run full "$cores" "$authors" "$tmp/full"
    done
done
latency_run full "$tmp/full"

# ---------------------------------------------------------------------------
# (c) NATS JetStream: async publish with acks, file storage

declare -A nats nats_fsyncs nats_others
nats_bytes=""
for cores in 1 2; do
    next_run
    pin=$(client_pin "$cores")
    start_nats "$cores"
    phase_begin
    count_on
    line=$($pin "$natsbench" publish --url "$NATS" --events "$events" --run "$run") || line=""
    count_off
    stop_server "$NATS_NAME"
    nats_others[$cores]=$(phase_end)
    nats[$cores]=$(value rate "$line")
    nats_fsyncs[$cores]=$FSYNCS
    nats_bytes=${nats_bytes:-$(value message_bytes "$line")}
    log "(c) NATS JetStream, $cores core(s): ${nats[$cores]}/s, $FSYNCS fsyncs"
done

# ---------------------------------------------------------------------------
# (d) signed events delivered to 10 subscribers, server on 2 cores

next_run
start_broker 2 "$tmp/fanout"
"$subbench" --broker "$BROKER" --events "$events" --subscribers "$subscribers" \
    >"$tmp/sub.out" 2>"$tmp/sub.err" &
sub_pid=$!
pids+=("$sub_pid")
wait_for "$tmp/sub.out" '^ready' 30 || die "subscribers did not start: $(tail -3 "$tmp/sub.err")"
phase_begin
d_load=$("$loader" ingest --broker "$BROKER" --events "$events" --authors 16 --run "$run") \
    || d_load=""
wait "$sub_pid" || log "subscribers failed: $(tail -3 "$tmp/sub.err")"
forget "$sub_pid"
d_sub=$(grep '^subscribe' "$tmp/sub.out" || true)
d_live=$(LC_ALL=C awk -v n="$events" -v s="$(value start_ns "$d_load")" \
    -v e="$(value last_end_ns "$d_sub")" 'BEGIN { if (s && e > s) printf "%.0f", n / ((e - s) / 1e9) }')
d_ingest=$(value rate "$d_load")
d_caught=$(value caught_up_events "$d_sub")
d_catchups=$(value catchups "$d_sub")
log "(d) Liandong live: $d_live/s to all $subscribers (ingest $d_ingest/s)"
d_read=$("$subbench" --broker "$BROKER" --events "$events" --subscribers "$subscribers" \
    --catchup) || d_read=""
d_catchup=$(LC_ALL=C awk -v n="$events" -v s="$(value start_ns "$d_read")" \
    -v e="$(value last_end_ns "$d_read")" 'BEGIN { if (s && e > s) printf "%.0f", n / ((e - s) / 1e9) }')
stop_server "$BROKER_NAME"
d_others=$(phase_end) # after the broker was waited for: its CPU is ours
log "(d) Liandong catch-up readers: $d_catchup/s to all $subscribers"

declare -A fan fan_others
for mode in verify relay; do
    next_run
    start_nats 2
    phase_begin
    line=$("$natsbench" fanout --mode "$mode" --url "$NATS" --events "$events" \
        --consumers "$subscribers" --run "$run") || line=""
    stop_server "$NATS_NAME"
    fan_others[$mode]=$(phase_end)
    fan[$mode]=$(value rate "$line")
    log "(d) NATS $mode: ${fan[$mode]}/s to all $subscribers"
done

# ---------------------------------------------------------------------------
# (f) transport: the same runs against a broker --open and one with CURVE
#
# With CURVE (--trust) the broker's ZAP handler admits only keys its trust
# admits (plus --allow-subscriber keys, read only), and every event passes the
# authority check: before each publishing run the root certifies the run's
# authors (street level, path bench/pipeline/, signed offline and imported),
# and the loader connects with the root's key (always admitted: it relays the
# authors' pre-signed events). The readers connect with an
# --allow-subscriber key.
declare -A tp
mkdir -p "$tmp/transport.keys"
"$liandong" keygen --out "$tmp/transport.keys/root" >/dev/null
"$liandong" keygen --out "$tmp/transport.keys/client" >/dev/null
tp_root="$tmp/transport.keys/root/identity.pub"
tp_root_secret="$tmp/transport.keys/root/identity.secret"
tp_client="$tmp/transport.keys/client/identity.secret"
tp_client_pub="$tmp/transport.keys/client/identity.pub"
tp_cert=0
# tp_certify MODE AUTHORS: the root certifies the authors of run $run, and
# the broker gets every certificate the root signed so far, in its feed's
# order (a fresh broker needs the root's earlier events first).
tp_certify () {
    local key i
    [ "$1" = curve ] || return 0
    for key in $("$loader" keys --authors "$2" --run "$run"); do
        tp_cert=$((tp_cert + 1))
        "$liandong" cert issue --offline --identity "$tp_root_secret" --subject "$key" \
            --level street --path "$LD_BENCH_PATH" --name "bench-$tp_cert" \
            --out "$tmp/transport.keys/cert-$tp_cert" >/dev/null
    done
    for i in $(seq 1 "$tp_cert"); do
        "$liandong" import "$tmp/transport.keys/cert-$i" --broker "$BROKER" \
            "${tp_pub_keys[@]}" >/dev/null
    done
}
LD_BENCH_PATH=pipeline/
# tp_start MODE DATA_DIR: a 2-core broker --open or with CURVE; sets
# tp_keys (the readers' flags for CURVE: an allowed subscriber's key and the
# broker's, pinned) and tp_pub_keys (the loader's: the root's key).
tp_start () {
    if [ "$1" = open ]; then
        start_broker 2 "$2"
        tp_keys=()
        tp_pub_keys=()
    else
        start_broker 2 "$2" --trust "$tp_root" --allow-subscriber "$tp_client_pub"
        tp_keys=(--identity "$tp_client" --broker-key "$2/identity.pub")
        tp_pub_keys=(--identity "$tp_root_secret" --broker-key "$2/identity.pub")
    fi
}
# tp_refusal FILE: why a CURVE publish run gave no figure.
tp_refusal () {
    if grep -q 'unauthorized' "$1"; then
        echo "refused: unauthorized (the loader's key may not publish)"
    else
        echo "failed: $(tail -1 "$1")"
    fi
}
# tp_read MODE: catch-up readers of the $events stored in $tmp/transport.read
tp_read () {
    local line
    line=$("$subbench" --broker "$BROKER" --events "$events" --subscribers "$subscribers" \
        --catchup "${tp_keys[@]}" 2>"$tmp/transport.$1.read.err") || line=""
    tp[$1,read]=$(LC_ALL=C awk -v n="$events" -v s="$(value start_ns "$line")" \
        -v e="$(value last_end_ns "$line")" 'BEGIN { if (s && e > s) printf "%.0f", n / ((e - s) / 1e9) }')
}
# tp_ingest MODE
tp_ingest () {
    local line
    next_run
    tp_certify "$1" 16
    line=$("$loader" ingest --broker "$BROKER" --events "$events" --authors 16 --run "$run" \
        "${tp_pub_keys[@]}" 2>"$tmp/transport.$1.ingest.err") || line=""
    tp[$1,ingest]=$(value rate "$line")
    [ -n "${tp[$1,ingest]}" ] || tp[$1,why]=$(tp_refusal "$tmp/transport.$1.ingest.err")
}
# tp_latency MODE
tp_latency () {
    local line key
    next_run
    tp_start "$1" "$tmp/transport.latency.$1"
    tp_certify "$1" 1
    line=$("$loader" latency --broker "$BROKER" --events "$latency_events" --rate "$latency_rate" \
        --run "$run" "${tp_pub_keys[@]}" 2>"$tmp/transport.$1.latency.err") || line=""
    stop_server "$BROKER_NAME"
    for key in ack_p50_us ack_p99_us live_p50_us live_p99_us; do
        tp[$1,$key]=$(value "$key" "$line")
    done
    [ -n "$line" ] || tp[$1,why]=${tp[$1,why]:-$(tp_refusal "$tmp/transport.$1.latency.err")}
}
# One store for the reads: filled by the open run, then read by both. The
# CURVE run reads before it tries to publish, so both read the same events.
tp_start open "$tmp/transport.read"
tp_ingest open
tp_read open
stop_server "$BROKER_NAME"
tp_start curve "$tmp/transport.read"
tp_read curve
tp_ingest curve
stop_server "$BROKER_NAME"
tp_latency open
tp_latency curve
rm -rf "$tmp/transport.read" "$tmp/transport.latency.open" "$tmp/transport.latency.curve"
log "(f) events/s: ingest --open ${tp[open,ingest]:-n/a}, CURVE ${tp[curve,ingest]:-n/a};" \
    "catch-up read --open ${tp[open,read]:-n/a}, CURVE ${tp[curve,read]:-n/a}"
[ -z "${tp[curve,why]:-}" ] || log "(f) CURVE publish: ${tp[curve,why]}"

measure_bound end
for cores in 1 2; do
    bound[$cores]=$(LC_ALL=C awk -v a="${bound[start,$cores]}" -v b="${bound[end,$cores]}" \
        'BEGIN { if (a && b) printf "%.0f", (a + b) / 2; else if (a || b) print a + b }')
done
script_t1=$(date +%s)

# ---------------------------------------------------------------------------
# The report

report () {
    local state cores authors label r g
    echo "Liandong pipeline benchmark -- $started"
    echo "machine: $cpu_model, $ncpu CPUs; store and NATS files on $fs_type ($parent)"
    echo "events: $(num "$events") per run; Liandong envelope ${envelope_bytes} B (Note payload 512 B)," \
         "NATS message ${nats_bytes} B (signature + key + the same body)"
    echo "pinning: server under taskset -c 0 (1 core, --workers 1) or -c 0,1 (2 cores, --workers 2);"
    echo "         clients on the cores left: core 1 beside 1 core, unpinned beside 2 cores ($ncpu CPUs)"
    echo "others: share of all CPUs that processes other than this benchmark's took meanwhile"
    echo "        (before the run: $others_before)"
    echo
    printf 'fsync (fdatasync of a 4 KiB append, 1000 samples, same file system): p50 %s ms, p99 %s ms\n' \
        "$(us_to_ms "$fsync_p50")" "$(us_to_ms "$fsync_p99")"
    echo
    echo "(b) Ed25519 bound: ld_event_decode + ld_event_verify of the same envelopes, verifies/s,"
    echo "    at the start and at the end of the run (each (a) row also measures it just before)"
    printf '    %-26s %10s %7s %10s %7s %10s %7s\n' "" "start" "others" "end" "others" "mean" "drift"
    for cores in 1 2; do
        printf '    %-26s %10s %7s %10s %7s %10s %7s\n' "$cores core(s), $cores thread(s)" \
            "$(num "${bound[start,$cores]}")" \
            "${bound_others[start,$cores]}$(disturbed "${bound_others[start,$cores]}")" \
            "$(num "${bound[end,$cores]}")" \
            "${bound_others[end,$cores]}$(disturbed "${bound_others[end,$cores]}")" \
            "$(num "${bound[$cores]}")" \
            "$(LC_ALL=C awk -v a="${bound[start,$cores]}" -v b="${bound[end,$cores]}" \
                'BEGIN { if (a && b) printf "%+.0f%%", 100 * (b - a) / a; else print "-" }')"
    done
    echo
    echo "(a) Liandong ingest: events/s acknowledged after fsync (Publish batches of 1000, 8 in flight);"
    echo "    (b) now: the bound measured just before the row on the same cores ($(num "$bound_events") events)"
    printf '    %-14s %5s %7s %10s %10s %8s %7s %8s  %s\n' "store" "cores" "authors" "events/s" \
        "(b) now" "(a)/(b)" "fsyncs" "others" "goal (a) >= 70% of (b) on 2 cores"
    for state in empty full; do
        for cores in 1 2; do
            for authors in 1 4 16; do
                if [ "$state" = empty ]; then label="empty"; else
                    label="$(num "${ingest_before[$state,$cores,$authors]}") stored"; fi
                r=$(ratio "${ingest[$state,$cores,$authors]}" "${ingest_bound[$state,$cores,$authors]}")
                g=""
                if [ "$cores" -eq 2 ]; then g=$(verdict "$r" ">=" 0.70); fi
                g="$g$(disturbed "${ingest_others[$state,$cores,$authors]}")"
                printf '    %-14s %5s %7s %10s %10s %8s %7s %8s  %s\n' "$label" "$cores" "$authors" \
                    "$(num "${ingest[$state,$cores,$authors]}")" \
                    "$(num "${ingest_bound[$state,$cores,$authors]}")" \
                    "$(percent "${ingest[$state,$cores,$authors]}" "${ingest_bound[$state,$cores,$authors]}")" \
                    "${ingest_fsyncs[$state,$cores,$authors]}" \
                    "${ingest_others[$state,$cores,$authors]}" "$g"
            done
        done
    done
    printf '    fill: %s events from %s authors in %s s of ingest (%s/s, 2 cores), %s s with signing; store %s MiB\n' \
        "$(num "$fill")" "$fill_authors" "$(value seconds "$fill_line")" \
        "$(num "$(value rate "$fill_line")")" "$fill_wall" "$fill_db"
    echo
    echo "Latency at a steady $latency_rate events/s, broker on 2 cores ($(num "$latency_events") samples)"
    printf '    %-46s %7s %7s %7s  %s\n' "" "p50 ms" "p99 ms" "others" "goal"
    for state in empty full; do
        label="empty store"
        [ "$state" = full ] && label="$(num "${lat[$state,stored_before]}") stored"
        printf '    %-46s %7s %7s %7s  p99 < 1 ms: %s%s; fsync p99 %s ms; %s over 1 ms\n' \
            "loader send -> Ack ($label)" "$(us_to_ms "${lat[$state,ack_p50_us]}")" \
            "$(us_to_ms "${lat[$state,ack_p99_us]}")" "${lat[$state,others]}" \
            "$(verdict "${lat[$state,ack_p99_us]}" "<" 1000)" "$(disturbed "${lat[$state,others]}")" \
            "$(us_to_ms "$fsync_p99")" "$(percent "${lat[$state,ack_over_1ms]}" "$latency_events")"
        printf '    %-46s %7s %7s %7s  p99 < 2 ms: %s%s\n' \
            "loader send -> live subscriber ($label)" "$(us_to_ms "${lat[$state,live_p50_us]}")" \
            "$(us_to_ms "${lat[$state,live_p99_us]}")" "${lat[$state,others]}" \
            "$(verdict "${lat[$state,live_p99_us]}" "<" 2000)" "$(disturbed "${lat[$state,others]}")"
    done
    if [ -n "$node_line" ]; then
        printf '    %-46s %7s %7s %7s  p99 < 1 ms: %s\n' "node control request -> acknowledged (empty)" \
            "$(us_to_ms "$(value ack_p50_us "$node_line")")" \
            "$(us_to_ms "$(value ack_p99_us "$node_line")")" "$node_others" \
            "$(verdict "$(value ack_p99_us "$node_line")" "<" 1000)$(disturbed "$node_others")"
        echo "    (the node signs, commits to its own feed with its own fsync, then the broker's"
        echo "    commit; timed by the client around the control round trip)"
    else
        echo "    node: \`liandong node\` is not in this build; the figures above are the loader's"
        echo "    (send -> Ack on its DEALER), not from a node's control socket"
    fi
    echo
    echo "(c) NATS JetStream $("$nats_server" --version | sed 's/^nats-server: //') on the same machine:" \
         "file storage, js_PublishAsync, 8000 acks pending"
    printf '    %-28s %12s %7s %8s %18s\n' "" "msgs/s" "fsyncs" "others" "Liandong / NATS"
    for cores in 1 2; do
        printf '    %-28s %12s %7s %8s %18s\n' "$cores core(s)" "$(num "${nats[$cores]}")" \
            "${nats_fsyncs[$cores]}" "${nats_others[$cores]}$(disturbed "${nats_others[$cores]}")" \
            "$(ratio "${ingest[empty,$cores,16]}" "${nats[$cores]}") (16 authors)"
    done
    echo "    note: JetStream 2.9 acknowledges a publish once it is in the stream's write buffer, before"
    echo "    any fsync; its file store syncs every 2 minutes (sync_interval, not configurable in 2.9)."
    echo "    Liandong acknowledges only after its commit's fsync (SQLite WAL, synchronous=FULL)."
    echo "    fsyncs: fsync + fdatasync calls by the server while the clock ran (perf), or n/a"
    echo
    echo "(d) signed events delivered to $subscribers subscribers that can trust them, server on 2 cores:"
    echo "    events/s until the last subscriber has all $(num "$events"), from the first publish"
    printf '    %-62s %10s %8s\n' "" "events/s" "others"
    printf '    %-62s %10s %8s\n' "Liandong: broker verifies once, $subscribers live subscribers trust it" \
        "$(num "$d_live")" "$d_others"
    printf '    %-62s %10s\n' "  (ingest in that run; events subscribers took from catch-up)" \
        "$(num "$d_ingest")/s, $(num "$d_caught") in $d_catchups catch-ups"
    printf '    %-62s %10s\n' "Liandong: $subscribers catch-up readers of the stored events" "$(num "$d_catchup")"
    printf '    %-62s %10s %8s\n' "NATS (i): $subscribers consumers, each verifies every signature" \
        "$(num "${fan[verify]}")" "${fan_others[verify]}"
    printf '    %-62s %10s %8s\n' "NATS (ii): 1 verifying relay -> 2nd stream -> $subscribers consumers" \
        "$(num "${fan[relay]}")" "${fan_others[relay]}"
    r=$(ratio "$d_live" "${fan[verify]}")
    printf '    Liandong / NATS (i)  = %s   goal >= 4: %s%s\n' "$r" "$(verdict "$r" ">=" 4)" \
        "$(disturbed "$d_others")$(disturbed "${fan_others[verify]}")"
    r=$(ratio "$d_live" "${fan[relay]}")
    printf '    Liandong / NATS (ii) = %s   goal >= 1: %s%s\n' "$r" "$(verdict "$r" ">=" 1)" \
        "$(disturbed "$d_others")$(disturbed "${fan_others[relay]}")"
    echo
    echo "(f) transport, server on 2 cores: the same broker --open (plain tcp, any key) and with"
    echo "    CURVE (--trust: ZAP handler, sender checked on every message)"
    printf '    %-44s %16s %16s\n' "" "--open" "CURVE"
    printf '    %-44s %16s %16s\n' "ingest, events/s (16 authors)" \
        "$(num "${tp[open,ingest]:-}")" "$(num "${tp[curve,ingest]:-}")"
    printf '    %-44s %16s %16s\n' "Ack latency p50 / p99, ms (1,000 events/s)" \
        "$(us_to_ms "${tp[open,ack_p50_us]:-}") / $(us_to_ms "${tp[open,ack_p99_us]:-}")" \
        "$(us_to_ms "${tp[curve,ack_p50_us]:-}") / $(us_to_ms "${tp[curve,ack_p99_us]:-}")"
    printf '    %-44s %16s %16s\n' "live latency p50 / p99, ms" \
        "$(us_to_ms "${tp[open,live_p50_us]:-}") / $(us_to_ms "${tp[open,live_p99_us]:-}")" \
        "$(us_to_ms "${tp[curve,live_p50_us]:-}") / $(us_to_ms "${tp[curve,live_p99_us]:-}")"
    printf '    %-44s %16s %16s\n' "catch-up read, events/s to all $subscribers readers" \
        "$(num "${tp[open,read]:-}")" "$(num "${tp[curve,read]:-}")"
    if [ -n "${tp[curve,why]:-}" ]; then
        echo "    CURVE publish runs (\"-\"): ${tp[curve,why]}"
    fi
    echo
    echo "* other processes took more than 10% of the CPUs while this figure was measured: it is"
    echo "  disturbed (low for throughput, high for latency); rerun on a quiet machine"
    echo
    echo "run time: $((script_t1 - script_t0)) s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

out="$build/pipeline-$(date -u +%Y%m%dT%H%M%SZ).txt"
report | tee "$out"
log "report saved in $out"
