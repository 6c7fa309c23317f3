#!/bin/bash
# The one command the platform runs in a git source container (services/git.py), as uid 1000,
# in a container with network "none", a read-only root and a size-capped tmpfs at /tmp. The
# network is the egress proxy (HTTP(S)_PROXY, bridged to 127.0.0.1 by bridges.sh).
#
#   source.sh probe    does GIT_SOURCE_URL answer as a git repository? (git ls-remote)
#   source.sh fetch    fetch GIT_SOURCE_TYPE (branch | commit | tag) GIT_SOURCE_REFERENCE, shallow,
#                      into a bare repository, and pack the folder GIT_SOURCE_ROOT of that commit
#                      (git archive: no checkout, nothing of the repository runs) into
#                      /tmp/out/source.tar.gz; the commit's hash, author name, author email and
#                      message go to /tmp/out/commit, NUL-separated.
#
# Input (the command's environment): GIT_SOURCE_URL, GIT_SOURCE_LABEL (owner/name, for messages),
# GIT_SOURCE_TYPE, GIT_SOURCE_REFERENCE, GIT_SOURCE_ROOT, GIT_SOURCE_LIMIT (bytes of the packed
# folder), GIT_SOURCE_TIMEOUT (seconds of each git command), and the credentials:
# GIT_SOURCE_USERNAME + GIT_SOURCE_TOKEN (HTTPS), GIT_SOURCE_SSH_KEY + GIT_SOURCE_KNOWN_HOSTS (SSH).
# Output: progress and errors as log lines; exit 0 when the source is ready.
set -uo pipefail
umask 077

MODE=${1:-fetch}
URL=${GIT_SOURCE_URL:?}
FALLBACK=${GIT_SOURCE_FALLBACK_URL:-}
LABEL=${GIT_SOURCE_LABEL:-repository}
TYPE=${GIT_SOURCE_TYPE:-branch}
REFERENCE=${GIT_SOURCE_REFERENCE:-}
ROOT=${GIT_SOURCE_ROOT:-}
LIMIT=${GIT_SOURCE_LIMIT:-30000000}
TIMEOUT=${GIT_SOURCE_TIMEOUT:-300}
WORK=/tmp/git-source
OUT=/tmp/out

say() { printf '\033[90m[%s] \033[90m[\033[0mgit\033[90m]\033[32m %s \033[0m\n' "$(date -u +%H:%M:%S)" "$1"; }
fail() { printf '\033[31m%s\033[0m\n' "$1"; exit 1; }

# shellcheck source=bridges.sh
source /usr/local/git-source/helpers/bridges.sh
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

mkdir -p "$WORK" "$OUT" /tmp/git-home
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/tmp/git-home/config GIT_TERMINAL_PROMPT=0
export GIT_ASKPASS=/bin/false SSH_ASKPASS=/bin/false
git config --global safe.directory '*'            # a file:// repository belongs to another uid
git config --global init.defaultBranch main
git config --global advice.detachedHead false
git config --global http.lowSpeedLimit 1000       # a stalled transfer ends after a minute
git config --global http.lowSpeedTime 60

case "$URL" in
    https://*) export GIT_ALLOW_PROTOCOL=https ;;
    http://*) export GIT_ALLOW_PROTOCOL=http ;;
    ssh://*) export GIT_ALLOW_PROTOCOL=ssh ;;
    file://*) export GIT_ALLOW_PROTOCOL=file ;;
    *) fail "Unsupported repository URL scheme." ;;
esac

if [ -n "${GIT_SOURCE_TOKEN:-}" ]; then
    # Asked only when the host challenges (401), only for this URL's host.
    # shellcheck disable=SC2016  # expanded by git's shell, from the command's environment
    git config --global credential.helper \
        '!f() { test "$1" = get && printf "username=%s\npassword=%s\n" "${GIT_SOURCE_USERNAME:-git}" "$GIT_SOURCE_TOKEN"; }; f'
fi

if [ "$GIT_ALLOW_PROTOCOL" = ssh ]; then
    mkdir -p /tmp/ssh
    strict=accept-new
    : > /tmp/ssh/known_hosts
    if [ -n "${GIT_SOURCE_KNOWN_HOSTS:-}" ]; then
        printf '%s\n' "$GIT_SOURCE_KNOWN_HOSTS" > /tmp/ssh/known_hosts
        strict=yes
    fi
    ssh_command="ssh -F /dev/null -o BatchMode=yes -o UserKnownHostsFile=/tmp/ssh/known_hosts -o StrictHostKeyChecking=$strict -o ConnectTimeout=20"
    if [ -n "${GIT_SOURCE_SSH_KEY:-}" ]; then
        printf '%s\n' "$GIT_SOURCE_SSH_KEY" > /tmp/ssh/key
        ssh_command+=" -i /tmp/ssh/key -o IdentitiesOnly=yes"
    fi
    # SSH leaves through the egress proxy too: a CONNECT tunnel, authenticated by this
    # container's proxy token (the password in HTTPS_PROXY).
    proxy=${HTTPS_PROXY:-}
    if [ -n "$proxy" ]; then
        credentials=${proxy#*://}
        credentials=${credentials%@*}
        ssh_command+=" -o 'ProxyCommand=socat - PROXY:127.0.0.1:%h:%p,proxyport=${OPEN_RUNTIMES_EGRESS_PORT:-3128},proxyauth=$credentials'"
    fi
    export GIT_SSH_COMMAND="$ssh_command"
fi

# Why a git command failed, in words, from its error output ($1) and what was asked ($2).
explain() {
    local errors=$1 what=$2
    case "$errors" in
        *"couldn't find remote ref"*|*"not our ref"*|*"no such remote ref"*|*"unadvertised object"*)
            echo "$what was not found in $LABEL." ;;
        *"Authentication failed"*|*"could not read Username"*|*"could not read Password"*|*"terminal prompts disabled"*|*"Permission denied (publickey"*|*"HTTP Basic: Access denied"*|*"requested URL returned error: 401"*|*"requested URL returned error: 403"*)
            echo "Authentication to the git host failed: check the connection's credentials." ;;
        *"from proxy after CONNECT"*|*"requested URL returned error: 407"*|*"Egress proxy:"*|*"E CONNECT "*": Forbidden"*|*"E CONNECT "*": Proxy Authentication Required"*|*"E CONNECT "*": Too Many Requests"*)
            echo "The egress proxy refused the connection to the git host (the builds' outbound network policy, EGRESS_BUILDS and EGRESS_PORTS)." ;;
        *"Host key verification failed"*|*"REMOTE HOST IDENTIFICATION HAS CHANGED"*)
            echo "The git host's SSH key does not match the connection's known hosts." ;;
        *"Repository not found"*|*"does not appear to be a git repository"*|*"requested URL returned error: 404"*|*"not a git repository"*|*"repository '"*"' not found"*)
            echo "Repository $LABEL was not found." ;;
        *"Could not resolve"*|*"Failed to connect"*|*"Connection refused"*|*"Connection timed out"*|*"timed out"*|*"Could not read from remote"*|*"Connection closed"*|*"requested URL returned error: 502"*|*"No route to host"*)
            echo "The git host could not be reached." ;;
        *"No space left on device"*|*"Disk quota exceeded"*)
            echo "Repository $LABEL is larger than the space a git fetch may use." ;;
        *) echo "git failed while fetching $what from $LABEL." ;;
    esac
}

# Run git with the per-command timeout; its output goes to GIT_OUTPUT. On failure show that
# output and a reason, and stop.
# When the URL is not a repository and the other spelling (with or without .git) is left to
# try, switch to it and run the command again.
run_git() {
    local what=$1
    shift
    local errors status
    errors=$(timeout --kill-after=5 "$TIMEOUT" git "$@" 2>&1)
    status=$?
    if [ "$status" -ne 0 ] && [ -n "$FALLBACK" ] && [[ "$(explain "$errors" "$what")" == "Repository "* ]]; then
        git remote set-url origin "$FALLBACK"
        FALLBACK=
        errors=$(timeout --kill-after=5 "$TIMEOUT" git "$@" 2>&1)
        status=$?
    fi
    if [ "$status" -ne 0 ]; then
        [ -n "$errors" ] && printf '%s\n' "$errors" | tail -n 20
        if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
            fail "git timed out after ${TIMEOUT}s while fetching $what from $LABEL."
        fi
        fail "$(explain "$errors" "$what")"
    fi
    GIT_OUTPUT=$errors
    return 0
}

cd "$WORK" || exit 1
git init -q --bare repo.git && cd repo.git || fail "Could not create a git repository in /tmp."
git remote add origin "$URL" || fail "Invalid repository URL."

if [ "$MODE" = probe ]; then
    run_git "the branch list" ls-remote --heads origin
    say "Repository $LABEL answers."
    exit 0
fi

case "$TYPE" in
    branch)
        what="Branch \"$REFERENCE\""
        say "Fetching branch $REFERENCE of $LABEL."
        run_git "$what" fetch --depth 1 --no-tags origin "+refs/heads/$REFERENCE:refs/heads/$REFERENCE"
        ;;
    tag)
        tag=$REFERENCE
        if [[ "$tag" == *[\*\?\[]* ]]; then
            # A version pattern (0.2.*): the newest matching tag, as Appwrite resolves templates.
            run_git "Tag \"$REFERENCE\"" ls-remote --tags --refs origin "$tag"
            tag=$(printf '%s\n' "$GIT_OUTPUT" | awk '{print $2}' | sed -n 's#^refs/tags/##p' | sort -V | tail -n 1)
            [ -n "$tag" ] || fail "No tag matching \"$REFERENCE\" was found in $LABEL."
        fi
        what="Tag \"$tag\""
        say "Fetching tag $tag of $LABEL."
        run_git "$what" fetch --depth 1 --no-tags origin "+refs/tags/$tag:refs/tags/$tag"
        ;;
    commit)
        what="Commit \"$REFERENCE\""
        say "Fetching commit $REFERENCE of $LABEL."
        if [[ "$REFERENCE" =~ ^[0-9a-f]{40}([0-9a-f]{24})?$ ]]; then
            run_git "$what" fetch --depth 1 --no-tags origin "$REFERENCE"
        else
            # An abbreviated hash cannot be asked for: fetch the branches, then look it up.
            run_git "$what" fetch --no-tags origin "+refs/heads/*:refs/remotes/origin/*"
        fi
        ;;
    *) fail "Unknown reference type \"$TYPE\"." ;;
esac

if [ "$TYPE" = commit ]; then
    commit=$(git rev-parse --verify --quiet "$REFERENCE^{commit}") || fail "$what was not found in $LABEL."
else
    commit=$(git rev-parse --verify --quiet "FETCH_HEAD^{commit}") || fail "$what is not a commit."
fi

tree="$commit"
if [ -n "$ROOT" ]; then
    tree="$commit:$ROOT"
    if [ "$(git cat-file -t "$tree" 2>/dev/null)" != tree ]; then
        fail "Root directory \"$ROOT\" was not found in $LABEL at ${commit:0:12}."
    fi
fi

git log -1 --format='%H%x00%an%x00%ae%x00%B' "$commit" > "$OUT/commit" || fail "Could not read commit $commit."
say "Packing ${ROOT:-the repository root} at commit ${commit:0:12}: $(git log -1 --format=%s "$commit" | cut -c1-100)"
if ! git archive --format=tar "$tree" | gzip -6 > "$OUT/source.tar.gz"; then
    fail "Could not pack ${ROOT:-the repository root} of $LABEL."
fi
size=$(stat -c %s "$OUT/source.tar.gz")
if [ "$size" -gt "$LIMIT" ]; then
    rm -f "$OUT/source.tar.gz"
    fail "The packed source of $LABEL is $size bytes, over the deployment size limit of $LIMIT bytes."
fi
say "Source ready: $size bytes."
