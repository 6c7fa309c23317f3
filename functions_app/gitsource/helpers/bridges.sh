# Loopback bridges, sourced by start.sh and build.sh. Containers have no network interface but
# `lo`; the platform mounts Unix sockets instead, and these make them TCP addresses on loopback:
#   127.0.0.1:$OPEN_RUNTIMES_API_PORT     -> $OPEN_RUNTIMES_API_SOCKET     (this platform's API)
#   127.0.0.1:$OPEN_RUNTIMES_EGRESS_PORT  -> $OPEN_RUNTIMES_EGRESS_SOCKET  (the egress proxy, which
#                                            HTTP_PROXY / HTTPS_PROXY point at)
# Each is a socat listener in the background (stdio detached, so a build's output stream still
# ends with build.sh); it returns once the port accepts.
bridge() {
    local port=$1 socket=$2
    [ -n "$port" ] && [ -n "$socket" ] || return 0
    socat TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork,max-children=64 \
        UNIX-CONNECT:"$socket" </dev/null >/dev/null 2>&1 &
    local hex
    hex=$(printf ':%04X ' "$port")
    for _ in $(seq 200); do
        grep -q "0100007F$hex.* 0A " /proc/net/tcp 2>/dev/null && return 0
        sleep 0.01
    done
}
bridge "${OPEN_RUNTIMES_API_PORT:-}" "${OPEN_RUNTIMES_API_SOCKET:-}"
bridge "${OPEN_RUNTIMES_EGRESS_PORT:-}" "${OPEN_RUNTIMES_EGRESS_SOCKET:-}"
