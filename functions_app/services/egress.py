"""What a container gets to reach the egress proxy (``egress_proxy``): the proxy's socket folder
mounted read-only, the address of the loopback bridge that the runtime's helpers start
(``127.0.0.1:3128``), the standard proxy variables that common clients honour, and a token that
names the container, so the proxy knows whose traffic it carries and which policy applies."""

from django.conf import settings

from . import keys
from .containers import Bind

EGRESS_DIR = "/var/run/opr-egress"
EGRESS_PORT = 3128
NO_PROXY = "localhost,127.0.0.1,::1"
EXECUTION_TOKEN_AGE = 10 * 365 * 24 * 3600  # a warm container may live long
# A build container lives at most the build timeout (plus the hand-over grace): so does its
# token, so one copied into the build output (for function code to use with the builds'
# policy) expires with the build.
BUILD_TOKEN_GRACE = 60


def mode(use):
    return settings.EGRESS_EXECUTIONS if use == "execution" else settings.EGRESS_BUILDS


def for_container(use, deployment, name):
    """(binds, environment) for a container of ``use`` (``execution`` or ``build``); nothing at
    all when egress is off for that use."""
    age = (
        settings.COMPUTE_BUILD_TIMEOUT + BUILD_TOKEN_GRACE
        if use == "build"
        else EXECUTION_TOKEN_AGE
    )
    identity = (deployment.project_id, deployment.function.uid, deployment.uid)
    return for_identity(use, identity, name, age)


def for_identity(use, identity, name, age):
    """The same for a container named by ``identity`` = (project, function, deployment IDs),
    whose token lives ``age`` seconds (a git repository check serves no deployment yet)."""
    if mode(use) == "off":
        return [], {}
    folder = settings.EGRESS_SOCKET.parent
    folder.mkdir(parents=True, exist_ok=True)
    token = keys.mint_egress_token_for(use, *identity, name, age)
    url = f"http://egress:{token}@127.0.0.1:{EGRESS_PORT}"
    env = {
        "OPEN_RUNTIMES_EGRESS_SOCKET": f"{EGRESS_DIR}/{settings.EGRESS_SOCKET.name}",
        "OPEN_RUNTIMES_EGRESS_PORT": str(EGRESS_PORT),
    }
    for name_ in ("HTTP_PROXY", "HTTPS_PROXY"):
        env[name_] = env[name_.lower()] = url
    env["NO_PROXY"] = env["no_proxy"] = NO_PROXY
    return [Bind(str(folder), EGRESS_DIR)], env


def describe(identity):
    """Who a proxy connection belongs to, for log lines."""
    if not identity:
        return "unidentified client"
    return (
        f"project {identity.get('projectId')} function {identity.get('functionId')} "
        f"deployment {identity.get('deploymentId')} ({identity.get('use')}, "
        f"container {identity.get('container')})"
    )
