#!/bin/bash
# Executor contract: helpers/server.sh runs the function server in the foreground.
# It listens on the Unix socket $OPEN_RUNTIMES_SOCKET when set, else on TCP port 3000.
# --no-install: packages come from the build's node_modules; Bun never downloads at run time.
cd /usr/local/server
exec bun --no-install src/server.js
