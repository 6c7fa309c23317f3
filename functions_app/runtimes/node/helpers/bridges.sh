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
    # Polled with builtins only (it is on every cold start): the listening socket's line in
    # /proc/net/tcp, then 2 ms of `read -t` on a pipe nobody writes, for up to 2 s.
    local listening table pause
    printf -v listening '0100007F:%04X 00000000:0000 0A' "$port"
    exec {pause}<> <(:)
    for _ in {1..1000}; do
        read -r -d '' table </proc/net/tcp || true
        [[ $table == *"$listening"* ]] && break
        read -r -t 0.002 -u "$pause" _ || true
    done
    exec {pause}<&-
}
bridge "${OPEN_RUNTIMES_API_PORT:-}" "${OPEN_RUNTIMES_API_SOCKET:-}"
bridge "${OPEN_RUNTIMES_EGRESS_PORT:-}" "${OPEN_RUNTIMES_EGRESS_SOCKET:-}"
