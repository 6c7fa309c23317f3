#!/bin/bash
# Executor contract: helpers/server.sh runs the function server in the foreground.
# It listens on the Unix socket $OPEN_RUNTIMES_SOCKET when set, else on TCP port 3000.
# The class path: the server (lib/server.jar, whose class-data-sharing archive lib/server.jsa
# the image build made), the function as the build compiled it (compiled/function.jar), the
# function's own jars (compiled/classpath), then Gson. The heap may use
# OPEN_RUNTIMES_JAVA_HEAP_PERCENT (default 60) of the container's memory; JAVA_OPTS (a
# function variable) adds JVM options. The working directory of user code is /usr/local/server,
# as upstream.
FUNCTION_DIR=/usr/local/server/src/function
SERVER_DIR=/usr/local/server
COMPILED=$FUNCTION_DIR/compiled
if [ ! -f "$COMPILED/function.jar" ] || [ ! -f "$COMPILED/main-class" ]; then
    echo "Compiled function not found ($COMPILED/function.jar). Redeploy the function to build it." >&2
    exit 1
fi
classpath="$SERVER_DIR/lib/server.jar:$COMPILED/function.jar"
if [ -f "$COMPILED/classpath" ]; then
    while IFS= read -r jar || [ -n "$jar" ]; do
        [ -n "$jar" ] && classpath+=":$FUNCTION_DIR/$jar"
    done < "$COMPILED/classpath"
fi
classpath+=":/usr/share/java/gson.jar"
read -r class < "$COMPILED/main-class"

cd /usr/local/server
# shellcheck disable=SC2086  # JAVA_OPTS is a list of options
exec java -XX:+UseSerialGC -XX:MaxRAMPercentage="${OPEN_RUNTIMES_JAVA_HEAP_PERCENT:-60}" \
    -XX:-UsePerfData -XX:SharedArchiveFile="$SERVER_DIR/lib/server.jsa" -Xshare:auto \
    -Dfile.encoding=UTF-8 $JAVA_OPTS -cp "$classpath" io.openruntimes.java.Server "$class"
