#!/bin/bash
# Executor contract: helpers/build.sh '<build commands>'
#
# Source: /mnt/code (files), or the archive /tmp/code.tar.gz when /mnt/code is empty.
# Copies it to /usr/local/build, runs the build commands there with `bash -e` (`deno install`
# or `deno cache` fill DENO_DIR, /usr/local/build/deno-cache), caches the entrypoint's imports
# as well, writes .open-runtimes and packs the whole build directory (DENO_DIR included) into
# /mnt/code/code.tar.gz (code.tar when OPEN_RUNTIMES_BUILD_COMPRESSION=none).
set -e
shopt -s dotglob nullglob

# Package installs leave through the egress proxy (HTTP(S)_PROXY); the bridges end with the build.
source /usr/local/server/helpers/bridges.sh
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

# Deno keeps what it downloads (npm packages, JSR and https: modules) in DENO_DIR: here a folder
# of the build output, so it ends up in the artifact and run time needs no download.
export DENO_DIR=/usr/local/build/deno-cache

SOURCE_DIR=/mnt/code
BUILD_DIR=/usr/local/build
SOURCE_ARCHIVE=${OPEN_RUNTIMES_SOURCE_ARCHIVE:-/tmp/code.tar.gz}

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

# 3. The entrypoint's own imports, cached too (quick when the commands did it already); a
# failure is only a warning: the function answers it at run time, as it would without this.
mkdir -p "$DENO_DIR"
case "$OPEN_RUNTIMES_ENTRYPOINT" in
    *.ts|*.tsx|*.mts|*.js|*.jsx|*.mjs)
        if [ -f "$OPEN_RUNTIMES_ENTRYPOINT" ]; then
            say "Caching the imports of $OPEN_RUNTIMES_ENTRYPOINT."
            if ! deno cache "$OPEN_RUNTIMES_ENTRYPOINT"; then
                say "Warning: deno cache $OPEN_RUNTIMES_ENTRYPOINT failed; imports that are not cached fail at run time."
            fi
        fi
        ;;
esac
# Compiled local files are keyed by their build path (/usr/local/build), never used at run time.
rm -rf "$DENO_DIR/gen/file"

# 4. Package
OUTPUT_DIR="$BUILD_DIR"
if [ -n "$OPEN_RUNTIMES_OUTPUT_DIRECTORY" ]; then
    OUTPUT_DIR="$BUILD_DIR/$OPEN_RUNTIMES_OUTPUT_DIRECTORY"
fi
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
