#!/bin/bash
# Executor contract: helpers/server.sh runs the function server in the foreground.
# It listens on the Unix socket $OPEN_RUNTIMES_SOCKET when set, else on TCP port 3000.
FUNCTION_DIR=/usr/local/server/src/function
PYTHON=python3
# The build's venv: the function's dependencies (pip installs) and its console scripts.
if [ -x "$FUNCTION_DIR/runtime-env/bin/python3" ]; then
    export VIRTUAL_ENV="$FUNCTION_DIR/runtime-env"
    export PATH="$VIRTUAL_ENV/bin:$PATH"
    PYTHON="$VIRTUAL_ENV/bin/python3"
fi
cd /usr/local/server/src
exec "$PYTHON" opr_server.py
