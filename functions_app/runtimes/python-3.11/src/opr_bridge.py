"""Loopback bridge to the platform's API.

Execution containers have no network, but they do have a loopback interface. When
``OPEN_RUNTIMES_API_SOCKET`` names the API's Unix socket (bind-mounted in), this listens on
``127.0.0.1:OPEN_RUNTIMES_API_PORT`` and pipes each connection to it, so that
``APPWRITE_FUNCTION_API_ENDPOINT`` works from function code, and nothing else is reachable."""

import asyncio
import contextlib

CHUNK = 65536


async def _pipe(reader, writer):
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def _handler(socket_path):
    async def forward(client_reader, client_writer):
        try:
            api_reader, api_writer = await asyncio.open_unix_connection(socket_path)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, api_writer), _pipe(api_reader, client_writer))

    return forward


async def start(env):
    socket_path = env.get("OPEN_RUNTIMES_API_SOCKET", "")
    if not socket_path:
        return None
    port = int(env.get("OPEN_RUNTIMES_API_PORT") or 3080)
    return await asyncio.start_server(_handler(socket_path), "127.0.0.1", port)
