# Installing for C users: `cmake --install` into a fresh prefix, then
# pkg-config finds ncopt there; every installed header compiles on its own
# and is included by ncopt.h; examples/quickstart.c compiles and links with
# nothing but pkg-config's flags, against the shared library (rpath, and
# LD_LIBRARY_PATH) and against libncopt.a with `pkg-config --static`, and
# prints what the build tree's quickstart prints.
# Environment from ctest: NCO_BUILD_DIR, NCO_SOURCE_DIR (and NCO_BIN,
# NCO_TOOL for cli_lib.sh).
. "$(dirname "$0")/cli_lib.sh" || exit 1
: "${NCO_BUILD_DIR:?set NCO_BUILD_DIR to the build directory}"
B=$NCO_BUILD_DIR
cache() { sed -n "s/^$1:[A-Z]*=//p" "$B/CMakeCache.txt" | head -1; }
CMAKE=$(cache CMAKE_COMMAND)
CC=$(cache CMAKE_C_COMPILER)
LIBDIR=$(cache CMAKE_INSTALL_LIBDIR)
SANITIZE=$(cache NCO_SANITIZE)
OMPFLAGS=$(cache OpenMP_C_FLAGS)
: "${CMAKE:=cmake}" "${CC:=cc}" "${LIBDIR:=lib}"
P=$TMP/prefix
cd "$TMP" || exit 1

if ! "$CMAKE" --install "$B" --prefix "$P" >install.log 2>&1; then
  bad "cmake --install $B --prefix $P failed:"
  tail -20 install.log >&2
  finish
fi
case $LIBDIR in /*) PCDIR=$LIBDIR/pkgconfig ;; *) PCDIR=$P/$LIBDIR/pkgconfig ;; esac
check "ncopt.pc installed in $PCDIR" test -f "$PCDIR/ncopt.pc"
check "version.h installed" test -f "$P/include/ncopt/version.h"
check "libncopt.a installed" test -f "$P/$LIBDIR/libncopt.a"
check "libncopt.so installed" test -e "$P/$LIBDIR/libncopt.so"
export PKG_CONFIG_PATH=$PCDIR${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
pc() { pkg-config "$@" ncopt; }

check "pkg-config --exists ncopt" pc --exists
ver=$(sed -n 's/^#define NCO_VERSION_STRING "\(.*\)"$/\1/p' "$P/include/ncopt/version.h")
expect_eq "$ver" "$(pc --modversion)" "pkg-config --modversion vs version.h"
proj=$(sed -n 's/^project(ncopt VERSION \([0-9.]*\).*/\1/p' "$NCO_SOURCE_DIR/CMakeLists.txt")
expect_eq "$proj" "$ver" "version.h vs project(VERSION)"
expect_eq "$P" "$(pc --variable=prefix)" "prefix in ncopt.pc"
CFLAGS_PC=$(pc --cflags)
LIBS_PC=$(pc --libs)
LIBS_ST=$(pc --static --libs)
check "--cflags has -I$P/include: $CFLAGS_PC" contains <(echo "$CFLAGS_PC") "-I$P/include"
check "--libs has -lncopt: $LIBS_PC" contains <(echo "$LIBS_PC") "-lncopt"
for dep in -lopenblas -linih -lplplot -lz -lm $OMPFLAGS; do
  check "--static --libs has $dep: $LIBS_ST" grep -qE -- "(^| )$dep( |$)" <(echo "$LIBS_ST")
done
if [ "$SANITIZE" = ON ]; then
  check "sanitizer build: --libs carries -fsanitize: $LIBS_PC" contains <(echo "$LIBS_PC") "-fsanitize=address,undefined"
else
  check "--libs has no -fsanitize: $LIBS_PC" bash -c "! grep -q -- -fsanitize <<<'$LIBS_PC'"
fi

# every installed header: included by ncopt.h, and self-contained
for h in "$P"/include/ncopt/*.h; do
  n=$(basename "$h")
  [ "$n" = ncopt.h ] && continue
  check "ncopt.h includes ncopt/$n" grep -q "^#include \"ncopt/$n\"" "$P/include/ncopt/ncopt.h"
  printf '#include <ncopt/%s>\nint main(void) { return 0; }\n' "$n" >hdr.c
  # shellcheck disable=SC2086
  check "<ncopt/$n> compiles alone (C11, -Wall -Wextra -Werror)" \
    "$CC" -std=c11 -Wall -Wextra -Werror $CFLAGS_PC -c hdr.c -o hdr.o
done

# quickstart as the README compiles it, against the installed library only
"$B/quickstart" >want.out 2>want.err
expect_rc 0 $? "build-tree quickstart"
check "quickstart prints its result line" grep -qE '^after 1000 GD steps: lifted loss [0-9.e+-]+, non-regularised loss [0-9.e+-]+$' want.out
QS=$NCO_SOURCE_DIR/examples/quickstart.c
needed() { readelf -d "$1" | grep -c "NEEDED.*libncopt\.so"; }
# shellcheck disable=SC2086
if "$CC" -o qs_rpath "$QS" $CFLAGS_PC $LIBS_PC -Wl,-rpath,"$P/$LIBDIR" 2>cc1.err; then
  ok
  expect_eq 1 "$(needed qs_rpath)" "shared link: libncopt.so is NEEDED"
  ./qs_rpath >got1.out 2>got1.err
  expect_rc 0 $? "quickstart (shared, rpath)"
  check "quickstart (shared, rpath) prints the build tree's result" cmp -s want.out got1.out
else
  bad "cc quickstart.c \$(pkg-config --cflags --libs ncopt): $(cat cc1.err)"
fi
# shellcheck disable=SC2086
if "$CC" -o qs_ldpath "$QS" $CFLAGS_PC $LIBS_PC 2>cc2.err; then
  ok
  LD_LIBRARY_PATH=$P/$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ./qs_ldpath >got2.out 2>got2.err
  expect_rc 0 $? "quickstart (shared, LD_LIBRARY_PATH)"
  check "quickstart (shared, LD_LIBRARY_PATH) prints the build tree's result" cmp -s want.out got2.out
else
  bad "cc quickstart.c \$(pkg-config --cflags --libs ncopt) (no rpath): $(cat cc2.err)"
fi
# static libncopt: the linker prefers libncopt.so next to libncopt.a, so
# -lncopt is spelled -l:libncopt.a; the private dependencies come from
# --static (they stay shared: Debian ships no libplplot.a)
LIBS_A=$(sed -E 's/(^| )-lncopt( |$)/\1-l:libncopt.a\2/' <<<"$LIBS_ST")
# shellcheck disable=SC2086
if "$CC" -o qs_static "$QS" $CFLAGS_PC $LIBS_A 2>cc3.err; then
  ok
  expect_eq 0 "$(needed qs_static)" "static link: libncopt.so is not NEEDED"
  env -u LD_LIBRARY_PATH ./qs_static >got3.out 2>got3.err
  expect_rc 0 $? "quickstart (static libncopt)"
  check "quickstart (static libncopt) prints the build tree's result" cmp -s want.out got3.out
else
  bad "cc quickstart.c \$(pkg-config --cflags ncopt) $LIBS_A: $(cat cc3.err)"
fi
for f in want got1 got2 got3; do [ -s $f.err ] && { echo "--- $f.err:" >&2; head -20 $f.err >&2; }; done
finish
