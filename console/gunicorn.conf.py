"""gunicorn settings used by bin/run: the API socket must be connectable by the unprivileged
user of execution containers."""

import os


def when_ready(server):
    for listener in server.LISTENERS:
        address = listener.cfg_addr
        if isinstance(address, str) and os.path.exists(address):
            os.chmod(address, 0o666)
