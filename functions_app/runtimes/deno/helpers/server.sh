#!/bin/bash
# Executor contract: helpers/server.sh runs the function server in the foreground.
# It listens on the Unix socket $OPEN_RUNTIMES_SOCKET when set, else on TCP port 3000.
#
# DENO_DIR is the build's cache inside the (read-only) artifact, so the function's npm, JSR and
# https: imports load without a download; without one, a scratch folder in /tmp. Deno looks for
# deno.json next to the main module (this server), so the function's own deno.json (import
# map, compiler options, lock file) is named; without one, a node_modules folder of the
# function (npm install, or deno install with a package.json) resolves bare imports.
# Permissions as open-runtimes gives them: net, env, read, write, run.
FUNCTION_DIR=/usr/local/server/src/function
cd /usr/local/server

if [ -d "$FUNCTION_DIR/deno-cache" ]; then
    export DENO_DIR="$FUNCTION_DIR/deno-cache"
else
    export DENO_DIR=/tmp/deno-dir
fi

flags=(--allow-net --allow-env --allow-read --allow-write --allow-run --no-prompt)
config=""
for name in deno.json deno.jsonc; do
    if [ -f "$FUNCTION_DIR/$name" ]; then
        config="$FUNCTION_DIR/$name"
        break
    fi
done
if [ -n "$config" ]; then
    flags+=(--config "$config")
elif [ -d "$FUNCTION_DIR/node_modules" ]; then
    flags+=(--node-modules-dir=manual)
fi

exec deno run "${flags[@]}" src/server.js
