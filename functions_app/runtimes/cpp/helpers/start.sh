#!/bin/bash
# Executor contract: helpers/start.sh 'bash helpers/server.sh'
#
# The function code is expected in /usr/local/server/src/function: either mounted there
# already extracted (fastest: nothing to do), or extracted here from the build artifact
# /mnt/code/code.tar(.gz) or /tmp/code.tar(.gz) into a writable (tmpfs) mount at that path.
# Then .open-runtimes is sourced and the server command runs in place of this shell.
set -e
shopt -s dotglob nullglob

FUNCTION_DIR=/usr/local/server/src/function
TELEMETRY=/mnt/telemetry/timings.txt

entries=("$FUNCTION_DIR"/*)
if (( ${#entries[@]} == 0 )); then
    archive=""
    for candidate in /mnt/code/code.tar.gz /mnt/code/code.tar /tmp/code.tar.gz /tmp/code.tar; do
        if [ -f "$candidate" ]; then archive=$candidate; break; fi
    done
    if [ -z "$archive" ]; then
        echo "Code archive not found." >&2
        exit 1
    fi
    started=${EPOCHREALTIME/./}
    case "$archive" in
        *.gz) tar -xzf "$archive" -C "$FUNCTION_DIR" ;;
        *) tar -xf "$archive" -C "$FUNCTION_DIR" ;;
    esac
    elapsed=$(( ${EPOCHREALTIME/./} - started ))
    { printf 'extract=%d.%06d\n' $((elapsed / 1000000)) $((elapsed % 1000000)) >> "$TELEMETRY"; } 2>/dev/null || true
fi

if [ -f "$FUNCTION_DIR/.open-runtimes" ]; then
    set -o allexport
    source "$FUNCTION_DIR/.open-runtimes"
    set +o allexport
fi

source /usr/local/server/helpers/bridges.sh
cd /usr/local/server
if [ "$1" = "bash helpers/server.sh" ]; then
    # The usual command runs in this very shell (it ends in exec): two shells fewer to start.
    set +e
    shopt -u dotglob nullglob
    source helpers/server.sh
fi
exec bash -c "$1"
