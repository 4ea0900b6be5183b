# Runs the golden cases (tests/golden/cases.sh) and writes each run's
# outputs without their timing into $NORM/NAME: trace.csv without the
# seconds column, params.npy, aux.npy, regularity.csv, summary.json
# without "versions", "train_seconds" and "replay_seconds"; for a sweep,
# each point's folder and sweep.csv without its seconds column. Sourced by
# tests/test_golden.sh (compare with tests/golden/ref) and
# scripts/make-golden (write tests/golden/ref). Needs N, T, SRC (cli_lib.sh)
# and NORM; runs in the current folder.

# normalise RUN_DIR OUT_DIR
normalise() {
  local in=$1 out=$2 f
  mkdir -p "$out"
  if [ -f "$in/points.txt" ]; then
    while read -r p; do [ -n "$p" ] && normalise "$in/$p" "$out/$p"; done < <(cut -f1 "$in/points.txt")
    # seconds is the second-last column (…,seconds,stop); the first, a
    # point's name, may hold quoted commas
    sed -E 's/,[^,]*,([^,]*)$/,\1/' "$in/sweep.csv" >"$out/sweep.csv"
    return
  fi
  cut -d, -f1,2,4- "$in/trace.csv" >"$out/trace.csv"
  for f in params.npy aux.npy regularity.csv; do [ -f "$in/$f" ] && cp "$in/$f" "$out/$f"; done
  grep -v -e '^  "versions": ' -e '^  "train_seconds": ' "$in/summary.json" |
    sed -E 's/"replay_seconds": [-+0-9.eE]+/"replay_seconds": T/' >"$out/summary.json"
}

golden() {
  local name=$1
  shift
  if "$N" "$@" --out "runs/$name" --quiet --force >"$name.log" 2>&1; then
    normalise "runs/$name" "$NORM/$name"
  else
    echo "golden case $name failed: ncopt $* (log: $(tail -1 "$name.log"))" >&2
    GOLDEN_FAILED+=("$name")
  fi
}

golden_resume() {
  local name=$1
  shift
  if "$N" resume "runs/$name" --quiet "$@" >"$name.resume.log" 2>&1; then
    rm -rf "${NORM:?}/$name"
    normalise "runs/$name" "$NORM/$name"
  else
    echo "golden case $name (resume) failed: $(tail -1 "$name.resume.log")" >&2
    GOLDEN_FAILED+=("$name")
  fi
}

# the OpenBLAS build and kernel the outputs depend on (the run's summary)
golden_kernel() { "$T" json "runs/$1/summary.json" versions.openblas; }
