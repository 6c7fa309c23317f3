#!/bin/bash
# Executor contract: helpers/build.sh '<build commands>'
#
# Source: /mnt/code (files), or the archive /tmp/code.tar.gz when /mnt/code is empty.
# Copies it to /usr/local/build and runs the build commands there with `bash -e`. Then every
# .java file of the build directory is compiled with javac, with the runtime's classes, the
# function's own jars (every .jar of its tree, e.g. libs/*.jar) and Gson on the class path, and
# the class of the entrypoint ($OPEN_RUNTIMES_ENTRYPOINT, e.g. src/Main.java declaring
# `package io.openruntimes.java.src;`) must have `main(RuntimeContext)`: otherwise the build
# fails. All of it runs in one JVM (src/io/openruntimes/java/Builder.java), which writes
# compiled/function.jar, compiled/main-class and compiled/classpath. JAVAC_FLAGS (a build
# variable) adds javac options. Last, .open-runtimes is written and the whole build directory
# is packed into /mnt/code/code.tar.gz (code.tar when OPEN_RUNTIMES_BUILD_COMPRESSION=none).
set -e
shopt -s dotglob nullglob

# Downloads in the build commands leave through the egress proxy (HTTP(S)_PROXY); the bridges
# end with the build.
source /usr/local/server/helpers/bridges.sh
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

SOURCE_DIR=/mnt/code
BUILD_DIR=/usr/local/build
SERVER_DIR=/usr/local/server
SOURCE_ARCHIVE=${OPEN_RUNTIMES_SOURCE_ARCHIVE:-/tmp/code.tar.gz}
SYSTEM_JARS=/usr/share/java/gson.jar

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
mkdir -p "$OUTPUT_DIR"

# 3. Compile and check the function (one JVM: javac through the compiler API, then the check).
say "Compilation started."
if ! java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData -XX:MaxRAMPercentage=50 \
        -XX:SharedArchiveFile="$SERVER_DIR/lib/build.jsa" -Xshare:auto -Dfile.encoding=UTF-8 \
        -Dopr.systemClasspath="$SYSTEM_JARS" -cp "$SERVER_DIR/lib/server.jar" \
        io.openruntimes.java.Builder "$BUILD_DIR" "${OPEN_RUNTIMES_ENTRYPOINT:-src/Main.java}" "$OUTPUT_DIR"; then
    fail "Compilation failed."
fi
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
