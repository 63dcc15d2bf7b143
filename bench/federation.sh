#!/usr/bin/env bash
# bench/federation.sh -- the federation catch-up benchmark of issue 6: a
# broker started empty with --follow, behind a broker holding N events,
# catches up; its rate in events/s is printed beside the Ed25519 bound of this
# machine (the goal: at least 50% of the 2-thread bound), with the fill's
# node-ingest rate as a reference (bench/README.md explains the figures).
#
#   bench/federation.sh [--events N] [--authors A] [--dir DIR] [--quick]
#                       [--curve] [--profile] [--wait-quiet SECONDS]
#
#   --events N   events in the followed broker (default 1000000)
#   --authors A  their authors (default 16)
#   --quick      100000 events
#   --curve      also the same catch-up between --trust brokers (CurveZMQ,
#                ZAP, authority checks): a root certifies both brokers at
#                level broker and the loader's authors
#   --profile    perf record -g on the follower while it catches up (its
#                figures are then disturbed); the top of perf report goes
#                into the report, perf.data beside it
#   --wait-quiet S  first wait up to S seconds for other processes to
#                leave the CPUs idle (the "others" figures show the rest)
#
# Builds liandong and ld_loader (Release) in build-fbench/ and works in a
# temporary directory under --dir (default build-fbench/: a real disk; on
# tmpfs fsync is free and the figures would lie). Every process it starts is
# stopped at exit, also on Ctrl-C. Progress goes to stderr; the report to
# stdout and to build-fbench/federation-<time>.txt.
#
# Pinning: the follower B runs under `taskset -c 0,1` with --workers 2, and
# the bound with 1 and 2 verify threads under `taskset -c 0` and `-c 0,1`.
# The followed broker A and the loader run on the cores left: on a 2-CPU
# machine none are, so A serves B's pulls on the same two cores.
set -euo pipefail

events=1000000
authors=16
parent=""
curve=false
profile=false
wait_quiet=0
poll=0.5        # seconds between progress polls
stall_limit=120 # seconds without progress before the run is given up

usage () {
    sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case $1 in
        --events) events=$2; shift 2 ;;
        --authors) authors=$2; shift 2 ;;
        --dir) parent=$2; shift 2 ;;
        --quick) events=100000; shift ;;
        --curve) curve=true; shift ;;
        --profile) profile=true; shift ;;
        --wait-quiet) wait_quiet=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 64 ;;
    esac
done
[[ "$events" =~ ^[1-9][0-9]*$ && "$authors" =~ ^[1-9][0-9]*$ ]] || { usage >&2; exit 64; }

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fbench"
log () { printf '%s\n' "$*" >&2; }
die () { log "federation.sh: $*"; exit 1; }
! $profile || command -v perf >/dev/null 2>&1 || die "--profile needs perf"
for tool in jq sqlite3 taskset; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done

# ---------------------------------------------------------------------------
# Build

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
cmake --build "$build" -j"$(nproc)" --target liandong ld_loader >&2
liandong="$build/liandong"
loader="$build/bench/ld_loader"

mkdir -p "${parent:=$build}"
tmp=$(mktemp -d "$parent/fbench.XXXXXX")
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$build/federation-$stamp.txt"
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
now_ms () { date +%s%3N; }

# Ours, for phase_begin/phase_end (bench/common.sh): this script's
# waited-for children plus the brokers still running (their ticks are read
# from /proc/PID/stat), so a phase may end while a broker runs.
# cpu_ticks PID: user + system ticks of a running process (0 if gone).
cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
running_brokers=()
our_ticks () {
    local pid sum
    sum=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$$/stat")
    for pid in "${running_brokers[@]}"; do sum=$((sum + $(cpu_ticks "$pid"))); done
    echo "$sum"
}

# The follower on cores 0-1 (or 0), the rest on the cores left, if any.
follower_cpus=0-1
[ "$ncpu" -ge 2 ] || follower_cpus=0
client_pin=()
[ "$ncpu" -le 2 ] || client_pin=(taskset -c "2-$((ncpu - 1))")

server_seq=0
# start_broker NAME CPUS DATA_DIR FLAGS...: sets BROKER_PID and BROKER_EP
# (the --listen endpoint, from its ready line).
start_broker () {
    local name=$1 cpus=$2 data=$3
    shift 3
    if [ -n "$cpus" ]; then
        taskset -c "$cpus" "$liandong" broker --data "$data" --listen 'tcp://127.0.0.1:*' \
            --workers 2 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    else
        "${client_pin[@]}" "$liandong" broker --data "$data" --listen 'tcp://127.0.0.1:*' \
            --workers 2 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    fi
    BROKER_PID=$!
    pids+=("$BROKER_PID")
    running_brokers+=("$BROKER_PID")
    wait_for "$tmp/$name.out" '^ready ' 30 \
        || die "$name did not start: $(tail -3 "$tmp/$name.err" 2>/dev/null)"
    BROKER_EP=$(sed -n 's/^ready .*listen=\([^ ]*\).*/\1/p' "$tmp/$name.out")
}
stop_broker () {
    local keep=() pid
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    forget "$1"
    for pid in "${running_brokers[@]}"; do [ "$pid" = "$1" ] || keep+=("$pid"); done
    running_brokers=("${keep[@]}")
}

# status EP [FLAGS...]: the broker's status as JSON (empty if it did not answer).
status () {
    local ep=$1
    shift
    "$liandong" status --broker "$ep" --json --timeout 5000 "$@" 2>/dev/null || true
}

# ---------------------------------------------------------------------------
# The machine

machine_prelude federation

# ---------------------------------------------------------------------------
# The Ed25519 bound on the follower's cores, at the start and at the end
# (this machine's speed drifts over minutes: the ratio uses the mean)

bound_events=$((events < 200000 ? events : 200000))
declare -A bound bound_others
# measure_bound WHEN
measure_bound () {
    local threads cpus line
    for threads in 1 2; do
        cpus=0
        [ "$threads" -eq 1 ] || cpus=$follower_cpus
        phase_begin
        line=$(taskset -c "$cpus" "$loader" verify --events "$bound_events" --authors "$authors" \
            --threads "$threads" --run 900) || line=""
        bound[$1,$threads]=$(value rate "$line")
        bound_others[$1,$threads]=$(phase_end)
        log "verify bound ($1), $threads thread(s) on cores $cpus: ${bound[$1,$threads]}/s"
    done
}
measure_bound start

# ---------------------------------------------------------------------------
# One catch-up: fill A, start B empty behind it, time B until it holds all

declare -A r # results, keyed MODE,FIGURE

# catchup MODE (open | curve)
catchup () {
    local mode=$1 a_flags=() b_flags=() load_flags=() a_pid b_pid a_ep b_ep line t0 target
    local dir="$tmp/$mode" a_t0 b_t0 polls=0 held=0 last_held=0 last_move rate behind json
    local hwm=0 rss=0 perf_pid="" b_status=()
    mkdir -p "$dir"
    if [ "$mode" = curve ]; then
        "$liandong" keygen --out "$dir/root" >/dev/null
        "$liandong" keygen --out "$dir/b.key" >/dev/null
        a_flags=(--trust "$dir/root/identity.pub")
    else
        a_flags=(--open)
    fi

    # A, filled by the loader (node ingest: Publish batches of 1000, 8 in flight)
    start_broker "$mode.A" "" "$dir/a" "${a_flags[@]}"
    a_pid=$BROKER_PID a_ep=$BROKER_EP
    if [ "$mode" = curve ]; then
        # The root certifies both brokers (level broker) and the loader's
        # authors (street), offline; A stores the root's feed in its order.
        # The loader relays the pre-signed events with the root's key.
        local subject n=0 i
        certify () {
            n=$((n + 1))
            "$liandong" cert issue --offline --identity "$dir/root/identity.secret" \
                --subject "$1" --level "$2" --path pipeline/ --name "bench-$n" \
                --out "$dir/cert-$n" >/dev/null
        }
        certify "$dir/a/identity.pub" broker
        certify "$dir/b.key/identity.pub" broker
        for subject in $("$loader" keys --authors "$authors" --run 1); do
            certify "$subject" street
        done
        for i in $(seq 1 "$n"); do
            "$liandong" import "$dir/cert-$i" --broker "$a_ep" \
                --identity "$dir/root/identity.secret" --broker-key "$dir/a/identity.pub" \
                >/dev/null || die "$mode: cannot import certificate $i into A"
        done
        load_flags=(--identity "$dir/root/identity.secret" --broker-key "$dir/a/identity.pub")
        b_flags=(--trust "$dir/root/identity.pub" --identity "$dir/b.key/identity.secret"
                 --follow "$a_ep=$dir/a/identity.pub" --replicate "")
        b_status=(--identity "$dir/root/identity.secret" --broker-key "$dir/b.key/identity.pub")
    else
        b_flags=(--open --follow "$a_ep")
    fi
    log "$mode: filling A with $events events from $authors authors"
    t0=$(date +%s.%N)
    phase_begin
    line=$("${client_pin[@]}" "$loader" ingest --broker "$a_ep" --events "$events" \
        --authors "$authors" --run 1 "${load_flags[@]}") || die "$mode: cannot fill A"
    r[$mode,fill_wall]=$(LC_ALL=C awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    r[$mode,fill_others]=$(phase_end)
    r[$mode,fill_seconds]=$(value seconds "$line")
    r[$mode,fill_rate]=$(value rate "$line")
    json=$(status "$a_ep" "${load_flags[@]}")
    target=$(jq -r '.events // empty' <<<"$json")
    [ -n "$target" ] || die "$mode: A does not answer status"
    r[$mode,target]=$target
    r[$mode,a_authors]=$(jq -r '.authors' <<<"$json")
    r[$mode,a_mib]=$(du -sm "$dir/a" | cut -f1)
    log "$mode: fill ${r[$mode,fill_rate]}/s (${r[$mode,fill_seconds]} s of ingest," \
        "${r[$mode,fill_wall]} s with signing); A holds $target events, ${r[$mode,a_mib]} MiB"
    sync # A's write-back must not land in B's fsyncs

    # B, empty, follows A
    phase_begin
    a_t0=$(cpu_ticks "$a_pid")
    t0=$(now_ms)
    start_broker "$mode.B" "$follower_cpus" "$dir/b" "${b_flags[@]}"
    b_pid=$BROKER_PID b_ep=$BROKER_EP
    b_t0=0
    if $profile; then
        perf record -g -F 499 -o "$build/federation-$stamp.$mode.perf.data" -p "$b_pid" \
            >/dev/null 2>"$tmp/$mode.perf.err" &
        perf_pid=$!
        pids+=("$perf_pid")
    fi
    : >"$dir/polls"
    last_move=$(now_ms)
    while :; do
        sleep "$poll"
        json=$(status "$b_ep" "${b_status[@]}")
        held=$(jq -r '.events // empty' <<<"$json" 2>/dev/null || true)
        [ -n "$held" ] || held=$last_held
        rate=$(jq -r '.peers[0].rate // empty' <<<"$json" 2>/dev/null || true)
        behind=$(jq -r '.peers[0].behind_in // empty' <<<"$json" 2>/dev/null || true)
        hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$b_pid/status" 2>/dev/null || echo "$hwm")
        rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$b_pid/status" 2>/dev/null || echo "$rss")
        printf '%s %s %s %s %s\n' "$(($(now_ms) - t0))" "$held" "${rate:--}" "${behind:--}" \
            "$rss" >>"$dir/polls"
        polls=$((polls + 1))
        if [ "$held" -ne "$last_held" ]; then last_move=$(now_ms); last_held=$held; fi
        if [ $((polls % 10)) -eq 0 ]; then
            log "$mode: B holds $held of $target events after $(( ($(now_ms) - t0) / 1000 )) s" \
                "(link rate ${rate:--}/s, RSS $((rss / 1024)) MiB)"
        fi
        [ "$held" -lt "$target" ] || break
        kill -0 "$b_pid" 2>/dev/null || die "$mode: B stopped: $(tail -3 "$tmp/$mode.B.err")"
        [ $(($(now_ms) - last_move)) -lt $((stall_limit * 1000)) ] \
            || die "$mode: B made no progress for $stall_limit s at $held of $target events"
    done
    r[$mode,poll_seconds]=$(LC_ALL=C awk -v a="$t0" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
    r[$mode,b_cpu]=$(LC_ALL=C awk -v t="$(cpu_ticks "$b_pid")" -v hz="$hz" 'BEGIN { printf "%.1f", t / hz }')
    r[$mode,a_cpu]=$(LC_ALL=C awk -v t="$(( $(cpu_ticks "$a_pid") - a_t0 ))" -v hz="$hz" \
        'BEGIN { printf "%.1f", t / hz }')
    r[$mode,b_user]=$(awk -v hz="$hz" '{ printf "%.1f", $14 / hz }' "/proc/$b_pid/stat")
    r[$mode,b_sys]=$(awk -v hz="$hz" '{ printf "%.1f", $15 / hz }' "/proc/$b_pid/stat")
    # the follower's threads, by CPU time: name (creation order) seconds
    r[$mode,b_threads]=$(for t in /proc/"$b_pid"/task/*; do
            printf '%s %s %s\n' "${t##*/}" "$(tr ' ' '_' <"$t/comm")" \
                "$(sed 's/^.*) //' "$t/stat" | awk '{ print $12 + $13 }')"
        done | sort -n | awk -v hz="$hz" -v mode="$mode" '{
            # liandong threads in creation order: main, the broker actor,
            # with --trust its ZAP handler, then the verifiers
            name = $2
            if (name == "liandong") {
                k = ++n
                if (k == 1) name = "main"; else if (k == 2) name = "broker"
                else if (k == 3 && mode == "curve") name = "zap"
                else name = "verifier" (k - (mode == "curve" ? 3 : 2))
            }
            printf "%s %.1f\n", name, $3 / hz }' \
            | sort -k2 -rn | awk '{ printf "%s%s %s s", (NR > 1 ? ", " : ""), $1, $2 }')
    r[$mode,hwm]=$(awk '/^VmHWM/ { print $2 }' "/proc/$b_pid/status")
    r[$mode,others]=$(phase_end)
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" 2>/dev/null || true
        forget "$perf_pid"
    fi
    # Both hold the same events and marks: their digests agree.
    local da db
    da=$(status "$a_ep" --digest --timeout 60000 "${load_flags[@]}" \
        | jq -r '[.heads_digest, .events_digest] | join(" ")' 2>/dev/null || true)
    db=$(status "$b_ep" --digest --timeout 60000 "${b_status[@]}" \
        | jq -r '[.heads_digest, .events_digest] | join(" ")' 2>/dev/null || true)
    if [ -n "$da" ] && [ "$da" = "$db" ]; then r[$mode,digests]="equal"
    elif [ -z "$da" ] || [ -z "$db" ] || [ "$da" = " " ]; then r[$mode,digests]="n/a"
    else r[$mode,digests]="DIFFER"; fi
    stop_broker "$b_pid"
    stop_broker "$a_pid"
    r[$mode,b_mib]=$(du -sm "$dir/b" | cut -f1)

    # The exact curve, from the follower's store: every event carries the
    # wall-clock ms its commit stored it at (stored_ms, the same clock as t0).
    sqlite3 "$dir/b/liandong.db" \
        'SELECT stored_ms, count(*) FROM events GROUP BY stored_ms ORDER BY stored_ms' \
        | tr '|' ' ' >"$dir/stored"
    local curve_line
    curve_line=$(LC_ALL=C awk -v t0="$t0" -v n="$target" '
        { ms[NR] = $1 - t0; c[NR] = $2; total += $2; cum[NR] = total }
        END {
            if (NR == 0) exit
            end = ms[NR]
            # time at which 10, 50, 90 % of the events were held
            split("10 50 90", q)
            for (k = 1; k <= 3; k++) {
                want = n * q[k] / 100
                for (i = 1; i <= NR && cum[i] < want; i++) ;
                printf "t%s=%.1f ", q[k], ms[i] / 1000
            }
            # events held at 10, 50, 90 % of the time
            for (k = 1; k <= 3; k++) {
                at = end * q[k] / 100; held = 0
                for (i = 1; i <= NR && ms[i] <= at; i++) held = cum[i]
                printf "e%s=%d ", q[k], held
            }
            # the rate over each tenth of the events
            prev_t = 0; prev_e = 0; i = 1
            for (k = 1; k <= 10; k++) {
                want = n * k / 10
                for (; i <= NR && cum[i] < want; i++) ;
                if (i > NR) i = NR
                dt = (ms[i] - prev_t) / 1000
                printf "d%d=%.0f ", k, (dt > 0 ? (cum[i] - prev_e) / dt : 0)
                prev_t = ms[i]; prev_e = cum[i]
            }
            printf "first=%.2f seconds=%.2f held=%d commits=%d", ms[1] / 1000, end / 1000, total, NR
        }' "$dir/stored")
    r[$mode,curve]=$curve_line
    r[$mode,seconds]=$(value seconds "$curve_line")
    r[$mode,rate]=$(LC_ALL=C awk -v n="$target" -v s="${r[$mode,seconds]}" \
        'BEGIN { if (s > 0) printf "%.0f", n / s }')
    cp "$dir/polls" "$build/federation-$stamp.$mode.polls"
    log "$mode: B held all $target events after ${r[$mode,seconds]} s: ${r[$mode,rate]}/s;" \
        "CPU B ${r[$mode,b_cpu]} s, A ${r[$mode,a_cpu]} s; peak RSS $((r[$mode,hwm] / 1024)) MiB;" \
        "digests ${r[$mode,digests]}; others ${r[$mode,others]}"
    rm -rf "$dir"
}

catchup open
! $curve || catchup curve

measure_bound end
for threads in 1 2; do
    bound[$threads]=$(LC_ALL=C awk -v a="${bound[start,$threads]}" -v b="${bound[end,$threads]}" \
        'BEGIN { if (a && b) printf "%.0f", (a + b) / 2; else if (a || b) print a + b }')
done
script_t1=$(date +%s)

# The top of the profile, when there is one.
profile_top () {
    local data="$build/federation-$stamp.$1.perf.data"
    [ -f "$data" ] || return 0
    echo "    perf record -g on B ($1), share of B's samples by library (perf report --no-children):"
    perf report -i "$data" --no-children -g none --sort dso --stdio 2>/dev/null \
        | grep -E '^ +[0-9]' | head -8 | sed 's/^/    /'
    echo "    top symbols outside libsodium (Ed25519 and BLAKE2b; its symbols are stripped):"
    perf report -i "$data" --no-children -g none --sort dso,sym --stdio 2>/dev/null \
        | grep -E '^ +[0-9]' | grep -v libsodium | head -15 | sed 's/ *$//; s/^/    /'
}

# ---------------------------------------------------------------------------
# The report

report () {
    local mode c r2 g
    echo "Liandong federation catch-up benchmark -- $started"
    echo "machine: $cpu_model, $ncpu CPUs; stores on $fs_type ($parent)"
    echo "events: $(num "$events") from $authors authors (notes of 512 bytes, envelope 650 B)," \
         "pre-signed by ld_loader"
    echo "pinning: follower B under taskset -c $follower_cpus, --workers 2; the followed broker A" \
         "and the loader ${client_pin[*]:-unpinned (no cores left)}"
    echo "others: share of all CPUs that processes other than this benchmark's took meanwhile" \
         "(before the run: $others_before)"
    echo
    echo "Ed25519 bound: ld_event_decode + ld_event_verify of the same envelopes, verifies/s," \
         "$(num "$bound_events") events"
    printf '    %-26s %10s %7s %10s %7s %10s %7s\n' "" "start" "others" "end" "others" "mean" "drift"
    for c in 1 2; do
        printf '    %-26s %10s %7s %10s %7s %10s %7s\n' "$c thread(s)" \
            "$(num "${bound[start,$c]}")" \
            "${bound_others[start,$c]}$(disturbed "${bound_others[start,$c]}")" \
            "$(num "${bound[end,$c]}")" \
            "${bound_others[end,$c]}$(disturbed "${bound_others[end,$c]}")" \
            "$(num "${bound[$c]}")" \
            "$(LC_ALL=C awk -v a="${bound[start,$c]}" -v b="${bound[end,$c]}" \
                'BEGIN { if (a && b) printf "%+.0f%%", 100 * (b - a) / a; else print "-" }')"
    done
    for mode in open curve; do
        [ -n "${r[$mode,target]:-}" ] || continue
        echo
        if [ "$mode" = open ]; then
            echo "Catch-up, brokers --open (plain tcp): B started empty, --follow A"
        else
            echo "Catch-up, brokers --trust (CurveZMQ, ZAP, authority checks): the root certified" \
                 "A and B at level broker"
        fi
        printf '    %-44s %12s\n' "A holds (loader's events + A's receipts)" \
            "$(num "${r[$mode,target]}") events, ${r[$mode,a_authors]} feeds, ${r[$mode,a_mib]} MiB"
        printf '    %-44s %12s   %s\n' "catch-up rate, events/s" "$(num "${r[$mode,rate]}")" \
            "B held all after ${r[$mode,seconds]} s (first event at $(value first "${r[$mode,curve]}") s)"
        printf '    %-44s %12s\n' "bound, 2 threads (mean)" "$(num "${bound[2]}")"
        r2=$(ratio "${r[$mode,rate]}" "${bound[2]}")
        g=$(verdict "$r2" ">=" 0.50)
        printf '    %-44s %12s   goal >= 50%%: %s%s\n' "catch-up / bound" \
            "$(percent "${r[$mode,rate]}" "${bound[2]}")" "$g" "$(disturbed "${r[$mode,others]}")"
        printf '    %-44s %12s   (%s s of ingest, %s s with signing; others %s%s; catch-up / fill %s)\n' \
            "reference: node ingest into A (fill), ev/s" "$(num "${r[$mode,fill_rate]}")" \
            "${r[$mode,fill_seconds]}" "${r[$mode,fill_wall]}" "${r[$mode,fill_others]}" \
            "$(disturbed "${r[$mode,fill_others]}")" \
            "$(ratio "${r[$mode,rate]}" "${r[$mode,fill_rate]}")"
        echo "    curve (from B's stored_ms):"
        printf '        %-40s %8s %8s %8s %8s\n' "" "10%" "50%" "90%" "100%"
        printf '        %-40s %8s %8s %8s %8s\n' "seconds until B held this share" \
            "$(value t10 "${r[$mode,curve]}")" "$(value t50 "${r[$mode,curve]}")" \
            "$(value t90 "${r[$mode,curve]}")" "${r[$mode,seconds]}"
        printf '        %-40s %8s %8s %8s %8s\n' "events held at this share of the time" \
            "$(num "$(value e10 "${r[$mode,curve]}")")" "$(num "$(value e50 "${r[$mode,curve]}")")" \
            "$(num "$(value e90 "${r[$mode,curve]}")")" "$(num "${r[$mode,target]}")"
        printf '        %-40s' "events/s over each tenth of the events"
        for c in 1 2 3 4 5 6 7 8 9 10; do
            printf ' %s' "$(LC_ALL=C awk -v x="$(value "d$c" "${r[$mode,curve]}")" \
                'BEGIN { printf "%.1fk", x / 1000 }')"
        done
        echo
        printf '    %-44s %12s\n' "B's commits (distinct stored_ms)" \
            "$(num "$(value commits "${r[$mode,curve]}")"), $(num "$(ratio "${r[$mode,target]}" \
            "$(value commits "${r[$mode,curve]}")")") events each"
        printf '    %-44s %12s\n' "B peak RSS (VmHWM)" "$((r[$mode,hwm] / 1024)) MiB"
        printf '    %-44s %12s   (user %s s, system %s s; %s of %s cores over the catch-up)\n' \
            "B CPU time" "${r[$mode,b_cpu]} s" "${r[$mode,b_user]}" "${r[$mode,b_sys]}" \
            "$(ratio "${r[$mode,b_cpu]}" "${r[$mode,seconds]}")" "${follower_cpus/0-1/2}"
        printf '    %-44s %12s   (%s cores)\n' "A CPU time while B caught up (serving pulls)" \
            "${r[$mode,a_cpu]} s" "$(ratio "${r[$mode,a_cpu]}" "${r[$mode,seconds]}")"
        echo "    B's threads (creation order), CPU s: ${r[$mode,b_threads]}"
        printf '    %-44s %12s\n' "others during the catch-up" "${r[$mode,others]}"
        printf '    %-44s %12s\n' "A and B digests (heads, events)" "${r[$mode,digests]}"
        printf '    %-44s %12s\n' "B's store at the end" "${r[$mode,b_mib]} MiB"
        $profile && profile_top "$mode"
    done
    echo
    echo "polls every $poll s (status --broker: events held, link rate, behind, RSS) saved beside" \
         "the report: federation-$stamp.<mode>.polls"
    echo "* other processes took more than 10% of the CPUs while this figure was measured: it is"
    echo "  disturbed (low); rerun on a quiet machine"
    echo
    echo "run time: $((script_t1 - script_t0)) s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

report | tee "$out"
log "report saved in $out"
