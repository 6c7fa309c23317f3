#!/bin/bash
# Executor contract: helpers/server.sh runs the function server in the foreground.
# It listens on the Unix socket $OPEN_RUNTIMES_SOCKET when set, else on TCP port 3000.
# The function's gems (vendor/bundle from the build, Gemfile via bundler) are set up by the
# server itself before it loads anything else (src/server.rb). User code runs with this cwd.
cd /usr/local/server
exec ruby /usr/local/server/src/server.rb
