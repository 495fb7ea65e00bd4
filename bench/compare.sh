#!/usr/bin/env bash
# Whole-command benchmark for `make bench`: fusemax eval --backend llvm
# against the NumPy 3-pass script (bench/attention_numpy.py) on the same
# inputs, in the same run, one BLAS thread. For each N (M = P = N, E = F =
# 64, M0 = 64) it reports the NumPy compute and whole-script times, fusemax's
# whole command with a cold build cache (an empty FUSEMAX_CACHE), with a warm
# one, and warm with --threads 2, the peak RSS of the warm command and of
# the NumPy script (GNU time's %M: the largest process of the command; the
# cold command's is opt's or llc's), the size of the inputs and output,
# and the largest difference between the two AV results. Times are wall
# seconds, then user+system CPU seconds in parentheses: on a shared machine
# the wall time includes waiting for a core, the CPU time does not.
#
# usage: bench/compare.sh [N ...]   (default: 4096 16384 65536; BENCH_N too)
# Needs python3 with NumPy (PYTHON if set, else the one on PATH, else
# /usr/bin/python3); without it the NumPy columns are skipped with a note
# (PYTHON=none skips them on purpose). Needs GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || read -r -a sizes <<<"${BENCH_N:-4096 16384 65536}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fusemax-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/fusemax" ./cmd/fusemax
command -v /usr/bin/time >/dev/null 2>&1 || { echo "bench/compare.sh: needs GNU time as /usr/bin/time (apt-get install time)" >&2; exit 1; }
py=""
candidates=(python3 /usr/bin/python3)
[ -z "${PYTHON:-}" ] || candidates=("$PYTHON")
for p in "${candidates[@]}"; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import numpy' 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || echo "note: no python3 with NumPy found (apt-get install python3-numpy); NumPy columns skipped, inputs from fusemax eval"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
timed() { # timed OUTFILE CMD...: runs CMD, appends "wall_s rss_kib" to OUTFILE
  local out=$1; shift
  /usr/bin/time -f "%e %M %U %S" -o "$out" "$@" >"$out.log" 2>&1 || { cat "$out.log" >&2; return 1; }
}
w() { printf "%s(%s)" "$1" "$(awk "BEGIN {printf \"%.2f\", $3 + $4}")"; } # wall(cpu) from a timed file's fields
fmt="%-6s | %-10s %-13s %-9s | %-13s %-13s %-13s %-9s | %-6s %-8s\n"
printf "$fmt" N np-comp-s np-whole-s np-RSS-MB fm-cold-s fm-warm-s fm-warm-2t-s fm-RSS-MB io-MB max-dAV
for n in "${sizes[@]}"; do
  d="$tmp/$n"; mkdir -p "$d/in"
  shape="E=64,F=64,M=$n,M0=64,P=$n"
  if [ -n "$py" ]; then
    "$py" -c "
import numpy as np, sys
r = np.random.default_rng(1)
for name, shape in (('Q', (64, $n)), ('K', (64, $n)), ('V', (64, $n))):
    np.save('$d/in/' + name + '.npy', r.uniform(-1, 1, shape).astype(np.float32))"
  else
    "$tmp/fusemax" eval attention_1pass --shape "$shape" --backend llvm --dtype f32 --out "$d/in" >/dev/null
  fi
  args=(eval attention_1pass --shape "$shape" --backend llvm --dtype f32 --input "Q=$d/in/Q.npy" --input "K=$d/in/K.npy" --input "V=$d/in/V.npy")
  export FUSEMAX_CACHE="$d/cache"
  timed "$d/cold" "$tmp/fusemax" "${args[@]}" --out "$d/fm"
  timed "$d/warm" "$tmp/fusemax" "${args[@]}" --out "$d/fm"
  timed "$d/cold2" "$tmp/fusemax" "${args[@]}" --threads 2 --out "$d/fm2" # builds the 2-thread kernel
  timed "$d/warm2" "$tmp/fusemax" "${args[@]}" --threads 2 --out "$d/fm2"
  cmp -s "$d/fm/AV.npy" "$d/fm2/AV.npy" || echo "note: AV differs between 1 and 2 threads at N=$n"
  np_comp=- np_whole=- np_rss=- dav=-
  if [ -n "$py" ]; then
    timed "$d/np.t" "$py" bench/attention_numpy.py "$d/in" "$d/npout"
    np_comp=$(awk '/compute_s/ {print $2}' "$d/np.t.log")
    read -r a b c e <"$d/np.t"; np_whole=$(w "$a" "$b" "$c" "$e"); np_rss=$((b / 1024))
    dav=$("$py" -c "import numpy as np; print('%.1e' % np.abs(np.load('$d/fm/AV.npy') - np.load('$d/npout/AV.npy')).max())")
  fi
  read -r a b c e <"$d/cold"; cold=$(w "$a" "$b" "$c" "$e")
  read -r a rss c e <"$d/warm"; warm=$(w "$a" "$rss" "$c" "$e")
  read -r a b c e <"$d/warm2"; warm2=$(w "$a" "$b" "$c" "$e")
  io=$((4 * 64 * n * 4 / 1048576))
  printf "$fmt" "$n" "$np_comp" "$np_whole" "$np_rss" "$cold" "$warm" "$warm2" $((rss / 1024)) "$io" "$dav"
  rm -rf "$d"
done
