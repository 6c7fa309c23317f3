#!/bin/bash
# Executor contract: helpers/server.sh runs the function server in the foreground.
# It listens on the Unix socket $OPEN_RUNTIMES_SOCKET when set, else on TCP port 3000.
# The server is the static binary the build compiled (the user's package linked with
# src/server); the working directory of user code is /usr/local/server, as upstream.
BINARY=/usr/local/server/src/function/compiled/go_runtime
if [ ! -x "$BINARY" ]; then
    echo "Compiled function not found ($BINARY). Redeploy the function to build it." >&2
    exit 1
fi
cd /usr/local/server
exec "$BINARY"
