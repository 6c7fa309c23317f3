#!/bin/bash
# Executor contract: helpers/server.sh runs the function server in the foreground.
# It listens on the Unix socket $OPEN_RUNTIMES_SOCKET when set, else on TCP port 3000, and
# starts its worker processes itself (with src/php.ini and Debian's extensions). The server
# needs neither (-n: it starts faster). User code runs with this cwd, as upstream: a relative
# `require 'vendor/autoload.php'` resolves next to the entrypoint.
cd /usr/local/server
exec php -n -d memory_limit=-1 -d display_errors=stderr -d extension=sockets /usr/local/server/src/server.php
