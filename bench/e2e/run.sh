#!/usr/bin/env bash
# End-to-end throughput of each door over loopback TCP, as a fraction of
# its bare framework serving the same handler (issue 21, point 9). See
# bench/e2e/README.md; `make bench-e2e` runs it.
#
# Usage:
#   bench/e2e/run.sh                      the benchmark
#   bench/e2e/run.sh profile VARIANT...   a CPU profile of each variant under
#                                         the same load, and its top functions
#
# Each server runs pinned to one core (E2E_SERVER_CPU, default 0) and wrk to
# another (E2E_LOAD_CPU, default 1), so the load generator never takes the
# server's core; Go sizes GOMAXPROCS to the one core the server may use.
# Rounds are interleaved: every variant once, in an order rotated by one
# each round, then the next round; a variant's figure is the median of its
# rounds. Every round starts the server afresh on a free loopback port,
# which first checks its own answers (200 with {"sub":"alice"} and no
# renewal with the token; 401 without it for the variants that check
# tokens), then warms it up for E2E_WARMUP seconds and measures for
# E2E_DURATION. A round in which wrk reports a non-2xx response or a socket
# error fails the run. A measurement in which the server used less than
# E2E_MIN_SERVER_CPU percent of its core (something else ran there: the
# machine is shared) is repeated after a pause, up to E2E_RETRIES repeats
# in all; every attempt stays in rounds.csv, the medians use the last of
# each round's. Before each measurement the run waits for the two cores to
# be quiet, up to E2E_QUIET_BUDGET seconds of waiting in all.
#
# Environment (defaults in brackets): E2E_ROUNDS [10], E2E_DURATION [3]
# and E2E_WARMUP [1] seconds, E2E_CONNECTIONS [32], E2E_THREADS [1],
# E2E_VARIANTS [all], E2E_OUT [bench/e2e/out], E2E_MIN_SERVER_CPU [95],
# E2E_RETRIES [35], E2E_QUIET_BUDGET [150], E2E_PROFILE_DURATION [10],
# E2E_HEAP_MB [0] (megabytes of live data each server holds, as an
# application holds its own: see bench/e2e/README.md),
# GO [go], GOTOOLCHAIN [go1.27.3].
#
# Output: the table on stdout and in OUT/summary.txt; every round in
# OUT/rounds.csv (requests/s, latency percentiles, the server's CPU use);
# wrk's own output in OUT/raw/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

GO=${GO:-go}
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
ROUNDS=${E2E_ROUNDS:-10}
DURATION=${E2E_DURATION:-3}
WARMUP=${E2E_WARMUP:-1}
CONNECTIONS=${E2E_CONNECTIONS:-32}
THREADS=${E2E_THREADS:-1}
SERVER_CPU=${E2E_SERVER_CPU:-0}
LOAD_CPU=${E2E_LOAD_CPU:-1}
PROFILE_DURATION=${E2E_PROFILE_DURATION:-10}
MIN_SERVER_CPU=${E2E_MIN_SERVER_CPU:-95}
RETRIES=${E2E_RETRIES:-35}
QUIET_BUDGET=${E2E_QUIET_BUDGET:-150}
HEAP_MB=${E2E_HEAP_MB:-0}
OUT=${E2E_OUT:-$here/out}
TARGET=0.93

# The doors: name, bare variant, our variant, the directory of the server
# program (relative to bench/e2e; a directory with a go.mod is a module of
# its own and is built in place).
DOORS=(
	"Echo v4|echo4|echo4-ours|server"
	"net/http|nethttp|nethttp-ours|server"
	"Echo v5|echo5|echo5-ours|v5"
	# Gin: a module of its own, as the Gin door is.
	"Gin|gin|gin-ours|gin"
)
# Variants measured beside the doors: name, what it is compared with,
# its program.
EXTRAS=(
	"echo-jwt v4 on Echo v4|echo4|echo4-echojwt|server"
	"Gin door with a *jwt.Token under \"user\"|gin|gin-token|gin"
)

die() {
	echo "bench-e2e: $*" >&2
	exit 1
}

for tool in wrk taskset; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool is not installed (on Debian: apt-get install $([ "$tool" = wrk ] && echo wrk || echo util-linux))"
done
[ "$(nproc --all)" -ge 2 ] || die "needs two cores, one for the server and one for wrk"

# variant -> program directory; programs present on disk.
declare -A prog_of=()
declare -a variants=()
declare -A skipped=()
for row in "${DOORS[@]}" "${EXTRAS[@]}"; do
	IFS='|' read -r _ bare ours dir <<<"$row"
	for v in "$bare" "$ours"; do
		if [ ! -d "$here/$dir" ]; then
			skipped[$v]="no bench/e2e/$dir yet"
			continue
		fi
		if [ -z "${prog_of[$v]:-}" ]; then
			prog_of[$v]=$dir
			variants+=("$v")
		fi
	done
done
if [ -n "${E2E_VARIANTS:-}" ]; then
	read -r -a variants <<<"$E2E_VARIANTS"
fi

# build compiles every program once into OUT/bin.
build() {
	mkdir -p "$OUT/bin"
	local dir
	for dir in $(printf '%s\n' "${prog_of[@]}" | sort -u); do
		echo "== build bench/e2e/$dir"
		if [ -f "$here/$dir/go.mod" ]; then
			"$GO" -C "$here/$dir" build -o "$OUT/bin/$dir" .
		else
			"$GO" -C "$root" build -o "$OUT/bin/$dir" "./bench/e2e/$dir"
		fi
	done
}

server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT

# start VARIANT LOG [ARGS...] starts the variant's server on core
# SERVER_CPU and waits for its ready line; it sets server_pid, addr, tok.
start() {
	local v=$1 log=$2
	shift 2
	local dir=${prog_of[$v]:-}
	[ -n "$dir" ] || die "unknown variant $v"
	: >"$log"
	taskset -c "$SERVER_CPU" "$OUT/bin/$dir" -variant "$v" -heap-mb "$HEAP_MB" "$@" >>"$log" 2>&1 &
	server_pid=$!
	local i
	for i in $(seq 200); do
		grep -q '^ready ' "$log" && break
		if ! kill -0 "$server_pid" 2>/dev/null; then
			server_pid=""
			cat "$log" >&2
			die "$v: the server exited before it was ready"
		fi
		sleep 0.05
	done
	grep -q '^ready ' "$log" || die "$v: not ready after 10 s (see $log)"
	addr=$(sed -n 's/^ready addr=\([^ ]*\) token=.*/\1/p' "$log")
	tok=$(sed -n 's/^ready addr=[^ ]* token=\(.*\)/\1/p' "$log")
}

# stop ends the server and fails the run when it did not end cleanly.
stop() {
	local v=$1 log=$2 pid=$server_pid
	server_pid=""
	kill -TERM "$pid"
	if ! wait "$pid"; then
		cat "$log" >&2
		die "$v: the server failed (see $log)"
	fi
}

# load SECONDS [wrk flags...] runs wrk on core LOAD_CPU against the server.
load() {
	local seconds=$1
	shift
	taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" "$@" \
		-H "Authorization: Bearer $tok" "http://$addr/api/me"
}

# cpu_ticks PID prints the process's user plus system time in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# cpu_ns PID prints the CPU time of all the process's threads, in
# nanoseconds (from schedstat, finer than the clock ticks of stat).
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ t += $1 } END { printf "%.0f", t }'
}

# cores_busy prints the busy time, in clock ticks, of the two cores the
# benchmark uses (everything but idle and iowait in /proc/stat).
cores_busy() {
	awk -v a="cpu$SERVER_CPU" -v b="cpu$LOAD_CPU" '$1 == a || $1 == b {
		for (i = 2; i <= 9; i++) if (i != 5 && i != 6) t += $i
	} END { print t }' /proc/stat
}

# children_ticks FILE prints the CPU time, in clock ticks, of this shell's
# finished children in FILE, the output of bash's times. (times runs in
# this shell: in a subshell it would count the subshell's children.)
children_ticks() {
	awk -v hz="$tck" 'NR == 2 {
		t = 0
		for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] }
		printf "%.0f", t * hz
	}' "$1"
}

# wrk_errors FILE prints wrk's error lines, if any: non-2xx/3xx responses
# and socket errors.
wrk_errors() {
	grep -E 'Non-2xx or 3xx responses|Socket errors' "$1" || true
}

# to_us converts a wrk duration (980.00us, 1.20ms, 2.00s) to microseconds.
to_us() {
	awk -v d="$1" 'BEGIN {
		if (d ~ /us$/) { sub(/us$/, "", d); printf "%.1f", d }
		else if (d ~ /ms$/) { sub(/ms$/, "", d); printf "%.1f", d * 1000 }
		else if (d ~ /m$/) { sub(/m$/, "", d); printf "%.1f", d * 60e6 }
		else if (d ~ /s$/) { sub(/s$/, "", d); printf "%.1f", d * 1e6 }
		else { printf "%s", d }
	}'
}

# median VARIANT [COLUMN [DECIMALS]] prints the median of a column of the
# variant's rounds in OUT/rounds.csv (default 3, requests/s).
median() {
	awk -F, -v v="$1" -v c="${2:-3}" 'NR > 1 && $2 == v && $11 == 1 { print $c }' "$OUT/rounds.csv" | sort -g |
		awk -v f="%.${3:-0}f" '{ x[NR] = $1 } END {
			if (NR == 0) exit
			if (NR % 2) printf f, x[(NR + 1) / 2]
			else printf f, (x[NR / 2] + x[NR / 2 + 1]) / 2
		}'
}

# spread VARIANT prints the lowest and highest requests/s of its rounds.
spread() {
	awk -F, -v v="$1" 'NR > 1 && $2 == v && $11 == 1 { print $3 }' "$OUT/rounds.csv" | sort -g |
		awk '{ x[NR] = $1 } END { if (NR) printf "%.0f-%.0f", x[1], x[NR] }'
}

# tree_state names the commit measured, and says when the work tree has
# changes beside it.
tree_state() {
	local rev
	rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null) || {
		echo "not a git checkout"
		return
	}
	if [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
		echo "commit $rev with uncommitted changes"
	else
		echo "commit $rev"
	fi
}

# paired OURS BARE prints the median, over the rounds that kept both, of
# OURS's requests/s over BARE's in the same round: the two run one after
# the other, so what slows the machine for a while slows both, and the
# ratio moves less than either figure.
paired() {
	awk -F, -v o="$1" -v b="$2" 'NR > 1 && $11 == 1 && ($2 == o || $2 == b) { r[$1, $2] = $3; n[$1] = 1 }
		END { for (k in n) if ((k, o) in r && (k, b) in r && r[k, b] > 0) print r[k, o] / r[k, b] }' "$OUT/rounds.csv" | sort -g |
		awk '{ x[NR] = $1 } END {
			if (NR == 0) { printf "-"; exit }
			if (NR % 2) printf "%.3f", x[(NR + 1) / 2]
			else printf "%.3f", (x[NR / 2] + x[NR / 2 + 1]) / 2
		}'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.3f", a / b }'
}

profile() {
	[ $# -gt 0 ] || die "profile: name at least one variant (${variants[*]})"
	build
	mkdir -p "$OUT/profile"
	local v log prof
	for v in "$@"; do
		log=$OUT/profile/$v.log
		prof=$OUT/profile/$v.cpu.prof
		start "$v" "$log" -cpuprofile "$prof"
		load "$WARMUP" >/dev/null
		load "$PROFILE_DURATION" >"$OUT/profile/$v.wrk.txt"
		stop "$v" "$log"
		[ -z "$(wrk_errors "$OUT/profile/$v.wrk.txt")" ] || die "$v: $(wrk_errors "$OUT/profile/$v.wrk.txt")"
		echo "== $v: $(awk '/^Requests\/sec:/ { print $2 }' "$OUT/profile/$v.wrk.txt") requests/s with the profiler on; $prof"
		"$GO" -C "$root" tool pprof -top -nodecount=30 "$OUT/bin/${prog_of[$v]}" "$prof" 2>/dev/null |
			tee "$OUT/profile/$v.top.txt"
		# The library's own share: its functions by cumulative time (empty
		# for a bare variant).
		echo "== $v: the library's functions, cumulative"
		"$GO" -C "$root" tool pprof -top -cum -nodecount=25 -show='slidingjwt/slidingjwt/' \
			"$OUT/bin/${prog_of[$v]}" "$prof" 2>/dev/null | tee "$OUT/profile/$v.library.txt"
	done
}

if [ "${1:-}" = profile ]; then
	shift
	profile "$@"
	exit 0
fi
[ $# -eq 0 ] || die "usage: $0 [profile VARIANT...]"
[ "$ROUNDS" -ge 1 ] || die "E2E_ROUNDS must be at least 1"

began=$(date +%s)
build
rm -rf "$OUT/raw"
mkdir -p "$OUT/raw"
echo "round,variant,requests_per_s,p50_us,p99_us,server_cpu_pct,wrk_cpu_pct,other_cpu_pct,server_cpu_us_per_request,attempt,kept" >"$OUT/rounds.csv"
tck=$(getconf CLK_TCK)
n=${#variants[@]}
echo "== $ROUNDS rounds of ${n} variants, ${WARMUP}s warm-up + ${DURATION}s each, wrk -t$THREADS -c$CONNECTIONS on core $LOAD_CPU, servers on core $SERVER_CPU"
# quiet waits, within what is left of E2E_QUIET_BUDGET, for a half second
# in which the two cores are less than 15% busy: before a measurement,
# nothing of ours runs, so whatever keeps them busy would share the
# server's core.
quiet() {
	local b0 b1 t=$SECONDS
	while [ "$quiet_left" -gt 0 ]; do
		b0=$(cores_busy)
		sleep 0.5
		b1=$(cores_busy)
		# busy ticks in half a second on two cores, in % of both
		[ $(((b1 - b0) * 100 / tck)) -ge 15 ] || break
		quiet_left=$((quiet_left - 1))
		sleep 0.5
	done
	waited=$((waited + SECONDS - t))
}

# measure R V A runs attempt A of variant V in round R and appends its row
# to rounds.csv, with kept 0; it sets rps and cpu.
measure() {
	local r=$1 v=$2 a=$3 name=$1-$2
	[ "$a" -eq 1 ] || name=$r-$v-attempt$a
	local log=$OUT/raw/$name.server.txt raw=$OUT/raw/$name.wrk.txt warm=$OUT/raw/$name.warmup.txt
	local c0 c1 n0 n1 b0 b1 t0 t1 w0 w1 errs p50 p99 wcpu other reqs usreq
	start "$v" "$log"
	load "$WARMUP" >"$warm"
	c0=$(cpu_ticks "$server_pid")
	n0=$(cpu_ns "$server_pid")
	b0=$(cores_busy)
	t0=$(date +%s.%N)
	times >"$OUT/times0.txt"
	load "$DURATION" --latency >"$raw"
	times >"$OUT/times1.txt"
	t1=$(date +%s.%N)
	b1=$(cores_busy)
	c1=$(cpu_ticks "$server_pid")
	n1=$(cpu_ns "$server_pid")
	stop "$v" "$log"
	errs=$(wrk_errors "$warm")$(wrk_errors "$raw")
	[ -z "$errs" ] || die "round $r, $v: $errs (see $raw)"
	rps=$(awk '/^Requests\/sec:/ { print $2 }' "$raw")
	reqs=$(awk '/ requests in / { print $1 }' "$raw")
	[ -n "$rps" ] && [ -n "$reqs" ] || die "round $r, $v: no Requests/sec in wrk's output (see $raw)"
	p50=$(to_us "$(awk '$1 == "50%" { print $2 }' "$raw")")
	p99=$(to_us "$(awk '$1 == "99%" { print $2 }' "$raw")")
	pct() { awk -v t="$1" -v t0="$t0" -v t1="$t1" -v hz="$tck" 'BEGIN { printf "%.0f", t / hz / (t1 - t0) * 100 }'; }
	w0=$(children_ticks "$OUT/times0.txt")
	w1=$(children_ticks "$OUT/times1.txt")
	cpu=$(pct $((c1 - c0)))
	wcpu=$(pct $((w1 - w0)))
	other=$(pct $((b1 - b0 - (c1 - c0) - (w1 - w0))))
	usreq=$(awk -v n="$((n1 - n0))" -v r="$reqs" 'BEGIN { printf "%.2f", n / 1000 / r }')
	echo "$r,$v,$rps,$p50,$p99,$cpu,$wcpu,$other,$usreq,$a,0" >>"$OUT/rounds.csv"
}

# keep marks the last row of rounds.csv as the one its round keeps.
keep() {
	sed -i '$ s/,0$/,1/' "$OUT/rounds.csv"
}

retries_left=$RETRIES
quiet_left=$QUIET_BUDGET
waited=0
repeated=0
short=0
for ((r = 1; r <= ROUNDS; r++)); do
	line="round $r:"
	for ((k = 0; k < n; k++)); do
		v=${variants[$(((k + r - 1) % n))]}
		a=1
		while :; do
			quiet
			measure "$r" "$v" "$a"
			[ "$cpu" -lt "$MIN_SERVER_CPU" ] || break
			if [ "$retries_left" -le 0 ]; then
				short=$((short + 1))
				break
			fi
			# The server did not have its core: something else ran on it.
			# Measure again, after a pause, from the budget of repeats.
			retries_left=$((retries_left - 1))
			repeated=$((repeated + 1))
			line="$line $v($cpu% cpu, again)"
			a=$((a + 1))
			sleep 2
		done
		keep
		line="$line $v=$(printf '%.0f' "$rps")"
	done
	echo "$line"
done
ended=$(date +%s)

{
	echo "End-to-end throughput over loopback TCP: median of $ROUNDS interleaved rounds of ${DURATION}s (after ${WARMUP}s of warm-up)"
	echo "wrk -t$THREADS -c$CONNECTIONS on core $LOAD_CPU; each server alone on core $SERVER_CPU, holding $HEAP_MB MB of live data; GET /api/me, one valid token not due for renewal"
	echo "$("$GO" version), $(wrk --version 2>&1 | head -1 | awk '{ print $1, $2 }'), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(tree_state)"
	echo
	row_format='%-10s %11s %11s %9s %-8s %7s %9s %9s %9s\n'
	printf "$row_format" door "ours req/s" "bare req/s" ours/bare ">= $TARGET" paired "ours us" "bare us" bare/ours
	for row in "${DOORS[@]}"; do
		IFS='|' read -r name bare ours _ <<<"$row"
		if [ -n "${skipped[$ours]:-}" ]; then
			printf '%-10s %11s %11s %9s %s\n' "$name" - - - "skipped: ${skipped[$ours]}"
			continue
		fi
		o=$(median "$ours")
		b=$(median "$bare")
		q=$(ratio "$o" "$b")
		verdict=$(awk -v q="$q" -v t="$TARGET" 'BEGIN { if (q == "-") print "not run"; else print (q + 0 >= t ? "met" : "below") }')
		ou=$(median "$ours" 9 2)
		bu=$(median "$bare" 9 2)
		printf "$row_format" "$name" "${o:--}" "${b:--}" "$q" "$verdict" "$(paired "$ours" "$bare")" "${ou:--}" "${bu:--}" "$(ratio "$bu" "$ou")"
	done
	echo "(req/s: medians of the rounds; paired: the median of the rounds' own ours/bare, the two measured"
	echo " one after the other; us: the server's CPU time per request in microseconds, median of the"
	echo " rounds, and bare/ours: the throughput fraction that CPU cost alone predicts, which other load"
	echo " on the machine disturbs less than the throughput itself)"
	echo
	for row in "${EXTRAS[@]}"; do
		IFS='|' read -r name bare other _ <<<"$row"
		o=$(median "$other")
		b=$(median "$bare")
		[ -n "$o" ] && [ -n "$b" ] || continue
		echo "$name: $o req/s, $(ratio "$o" "$b")x of bare ($b req/s; paired $(paired "$other" "$bare")); CPU per request $(median "$other" 9 2) us, bare/it $(ratio "$(median "$bare" 9 2)" "$(median "$other" 9 2)")"
	done
	echo
	printf '%-14s %8s %13s %8s %8s %8s %7s %7s %7s\n' variant "req/s" "min-max" "p50 us" "p99 us" "cpu/req" server wrk other
	for v in "${variants[@]}"; do
		printf '%-14s %8s %13s %8s %8s %8s %7s %7s %7s\n' "$v" "$(median "$v")" "$(spread "$v")" \
			"$(median "$v" 4)" "$(median "$v" 5)" "$(median "$v" 9 2)" "$(median "$v" 6)" "$(median "$v" 7)" "$(median "$v" 8)"
	done
	echo "(medians over the rounds; cpu/req: the server's CPU microseconds a request; server, wrk: their"
	echo " CPU use while measured, in % of one core; other: the rest of the two cores' busy time, anything"
	echo " else running on them, in % of one core)"
	other=$(awk -F, 'NR > 1 && $11 == 1 { print $8 }' "$OUT/rounds.csv" | sort -g | awk '{ x[NR] = $1 } END { if (NR) print x[int((NR + 1) / 2)] }')
	echo "waited for other load on the cores to pass: $waited s (of at most about $QUIET_BUDGET)"
	echo "measurements repeated because the server had less than $MIN_SERVER_CPU% of its core: $repeated (of at most $RETRIES)"
	if [ "$short" -gt 0 ]; then
		echo "WARNING: $short rounds kept with the server below $MIN_SERVER_CPU% of its core (no repeats left):"
		echo "         something else ran on its core; rerun on a quiet machine."
	fi
	if [ "${other:-0}" -gt 20 ]; then
		echo "WARNING: other processes kept the benchmark's cores busy (median $other% of a core while measuring):"
		echo "         the servers did not have their core to themselves; rerun on a quiet machine."
	fi
	echo
	echo "run time: $((ended - began)) s"
} | tee "$OUT/summary.txt"
