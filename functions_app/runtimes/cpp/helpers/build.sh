#!/bin/bash
# Executor contract: helpers/build.sh '<build commands>'
#
# Source: /mnt/code (files), or the archive /tmp/code.tar.gz when /mnt/code is empty.
# Copies it to /usr/local/build and runs the build commands there with `bash -e`. Then the
# entrypoint ($OPEN_RUNTIMES_ENTRYPOINT, e.g. src/index.cc) is compiled with the server (its
# object file was compiled when the image was built) into one binary, compiled/cpp_runtime.
# Only the entrypoint is compiled, as upstream: it must define runtime::Handler::main, and
# other files of the function reach the binary through #include. CXXFLAGS, LDFLAGS and LDLIBS
# (build variables) are added to the compile and link commands. Last, .open-runtimes is
# written and the whole build directory is packed into /mnt/code/code.tar.gz (code.tar when
# OPEN_RUNTIMES_BUILD_COMPRESSION=none).
set -e
shopt -s dotglob nullglob

# Package installs leave through the egress proxy (HTTP(S)_PROXY); the bridges end with the build.
source /usr/local/server/helpers/bridges.sh
STAGE=$(mktemp -d /tmp/opr-cpp.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$STAGE"' EXIT

SOURCE_DIR=/mnt/code
BUILD_DIR=/usr/local/build
SERVER_DIR=/usr/local/server
SOURCE_ARCHIVE=${OPEN_RUNTIMES_SOURCE_ARCHIVE:-/tmp/code.tar.gz}
CXX_STD=${OPEN_RUNTIMES_CPP_STD:-c++17}

say() { printf '\033[90m[%s] \033[31m[open-runtimes]\033[97m %s\033[0m\n' "$(date +%H:%M:%S)" "$1"; }
fail() { printf '\033[31m%s\033[0m\n' "$1" >&2; exit 1; }

# 1. Source -> build directory
sources=()
for path in "$SOURCE_DIR"/*; do
    case "$(basename "$path")" in code.tar.gz|code.tar) ;; *) sources+=("$path") ;; esac
done
if (( ${#sources[@]} > 0 )); then
    cp -R "${sources[@]}" "$BUILD_DIR"/
elif [ -f "$SOURCE_ARCHIVE" ]; then
    tar -xzf "$SOURCE_ARCHIVE" -C "$BUILD_DIR"
else
    fail "No source code found. Make sure your deployment contains code."
fi
cd "$BUILD_DIR"

# 2. The user's build commands
if [ -n "$1" ]; then
    say "Build command execution started."
    bash -e -c "$1"
    say "Build command execution finished."
fi

OUTPUT_DIR="$BUILD_DIR"
if [ -n "$OPEN_RUNTIMES_OUTPUT_DIRECTORY" ]; then
    OUTPUT_DIR="$BUILD_DIR/$OPEN_RUNTIMES_OUTPUT_DIRECTORY"
fi

# 3. Compile: the function's files with the runtime's headers beside them (so the templates'
# `#include "../RuntimeContext.h"` from src/index.cc resolves), as upstream lays them out.
ENTRYPOINT=${OPEN_RUNTIMES_ENTRYPOINT#./}
case "$ENTRYPOINT" in
    ""|/*|*'"'*|*'\'*|*$'\n'*|../*|*/../*) fail "Invalid entrypoint: \"$OPEN_RUNTIMES_ENTRYPOINT\"." ;;
esac
if [ ! -f "$BUILD_DIR/$ENTRYPOINT" ]; then
    fail "Failed to load entrypoint, file $ENTRYPOINT does not exist."
fi
say "Compilation started ($(g++ -dumpfullversion), -std=$CXX_STD)."
cp -R "$BUILD_DIR"/. "$STAGE"/
cp "$SERVER_DIR"/src/Runtime*.h "$STAGE"/
cat > "$STAGE/.opr_entry.cc" <<ENTRY
#include "RuntimeContext.h"
#include "$ENTRYPOINT"

namespace runtime {
RuntimeOutput opr_invoke(RuntimeContext &context) { return Handler::main(context); }
}
ENTRY
JSON_CFLAGS=$(pkg-config --cflags jsoncpp)
compile_log="$STAGE/.opr_compile.log"
# shellcheck disable=SC2086  # CXXFLAGS and friends are word lists
if ! (cd "$STAGE" && g++ -std="$CXX_STD" -O2 -pipe -Werror=return-type -I"$STAGE" -I"$SERVER_DIR/src" \
        $JSON_CFLAGS $CXXFLAGS -c .opr_entry.cc -o .opr_entry.o) > "$compile_log" 2>&1; then
    cat "$compile_log" >&2
    if grep -q "Handler" "$compile_log"; then
        fail "Function signature invalid. Did you forget to export a 'main' function? $ENTRYPOINT must define runtime::Handler with 'static RuntimeOutput main(RuntimeContext &context)'."
    fi
    fail "Compilation of $ENTRYPOINT failed."
fi
cat "$compile_log"
mkdir -p "$OUTPUT_DIR/compiled"
# shellcheck disable=SC2086
g++ -o "$OUTPUT_DIR/compiled/cpp_runtime" "$STAGE/.opr_entry.o" "$SERVER_DIR/lib/opr_server.o" \
    $LDFLAGS -pthread -Wl,--as-needed $LDLIBS -ljsoncpp -lcurl -lssl -lcrypto
say "Compilation finished."

# 4. Package
entries=("$OUTPUT_DIR"/*)
if [ ! -d "$OUTPUT_DIR" ] || (( ${#entries[@]} == 0 )); then
    fail "No build output found. Make sure your build command produces files."
fi
printf 'OPEN_RUNTIMES_ENTRYPOINT=%q\n' "$OPEN_RUNTIMES_ENTRYPOINT" > "$OUTPUT_DIR/.open-runtimes"

say "Build packaging started."
if [ "$OPEN_RUNTIMES_BUILD_COMPRESSION" = "none" ]; then
    tar -C "$OUTPUT_DIR" -cf "$SOURCE_DIR/code.tar" .
else
    tar -C "$OUTPUT_DIR" -czf "$SOURCE_DIR/code.tar.gz" .
fi
say "Build packaging finished."
