"""Python `websockets` (asyncio API) over TLS, for ws-tls' interoperability tests.

    python_wss.py client PORT CA_FILE      talks to wss://localhost:PORT/echo, trusting CA_FILE
    python_wss.py server CERT_FILE KEY_FILE  serves wss on 127.0.0.1, a free port

Output is one line per event, "NAME: VALUE". The client prints "tls: VERSION" and one
"STEP: RESULT" line per step, and exits 0 once every step got what it expected. The
server prints "port: N" first, then "tls: VERSION" and "transcript: ..." per connection
with what it saw, and exits after two connections. Both give up after 20 s.
crates/ws-tls/tests/tls/interop.rs runs them and holds the checks.
"""

import asyncio
import ssl
import sys

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

OVERALL_TIMEOUT = 20
STEP_TIMEOUT = 10

HELLO = "Hello over TLS \u2713"
BINARY = bytes(range(256))
LARGE_BINARY = bytes(i % 251 for i in range(1 << 20))
LARGE_TEXT = "\u2713" * 349525 + "x"  # 1 MiB of UTF-8


def emit(name, value):
    print(f"{name}: {value}", flush=True)


def summary(message):
    if isinstance(message, str):
        return f"text {len(message.encode())}"
    return f"binary {len(message)}"


def tls_version(ws):
    return ws.transport.get_extra_info("ssl_object").version()


async def client(port, ca_file):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(ca_file)
    url = f"wss://localhost:{port}/echo"
    options = dict(ssl=context, max_size=None, proxy=None, ping_interval=None, open_timeout=STEP_TIMEOUT)
    failed = False

    async def step(name, action, expected):
        nonlocal failed
        try:
            got = await asyncio.wait_for(action(), STEP_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - every failure becomes the report
            got = f"error: {type(error).__name__}: {error}"
        emit(name, got)
        if got != expected:
            failed = True

    async def echo(message):
        await ws.send(message)
        answer = await ws.recv()
        return summary(answer) + (" echoed" if answer == message else " differs")

    async def client_pings():
        pong = await ws.ping(b"client-ping")
        await pong
        return "pong client-ping"

    async def server_pings():
        # The server pings, waits for our (automatic) pong, then says so.
        await ws.send("ping-me")
        return await ws.recv()

    async def client_closes():
        await ws.close(4000, "bye")
        return f"close {ws.close_code}"

    async def server_closes():
        await ws.send("close-me")
        try:
            return f"unexpected {summary(await ws.recv())}"
        except ConnectionClosed:
            return f"close {ws.close_code} {ws.close_reason}"

    async with connect(url, **options) as ws:
        emit("tls", tls_version(ws))
        await step("text", lambda: echo(HELLO), "text 18 echoed")
        await step("binary", lambda: echo(BINARY), "binary 256 echoed")
        await step("binary-1mib", lambda: echo(LARGE_BINARY), "binary 1048576 echoed")
        await step("text-1mib", lambda: echo(LARGE_TEXT), "text 1048576 echoed")
        await step("client-pings", client_pings, "pong client-ping")
        await step("server-pings", server_pings, "pong: server-ping")
        await step("client-closes", client_closes, "close 4000")
    async with connect(url, **options) as ws:
        await step("server-closes", server_closes, "close 4001 done")
    return 1 if failed else 0


async def server(cert_file, key_file):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    connections = 0
    done = asyncio.Event()

    async def handler(ws):
        nonlocal connections
        emit("tls", tls_version(ws))
        seen = []
        closing = False
        try:
            while True:
                try:
                    message = await ws.recv()
                except ConnectionClosed:
                    break
                seen.append(summary(message))
                if message == "ping-me":
                    pong = await ws.ping(b"server-ping")
                    await asyncio.wait_for(pong, STEP_TIMEOUT)
                    seen.append("pong server-ping")
                    await ws.send("pong: server-ping")
                elif message == "close-me":
                    closing = True
                    await ws.close(4001, "done")
                    break
                else:
                    await ws.send(message)
            await ws.wait_closed()
            if closing:
                seen.append(f"close-echoed {ws.close_code}")
            else:
                seen.append(f"close-received {ws.close_code} {ws.close_reason}".strip())
        except Exception as error:  # noqa: BLE001 - reported in the transcript
            seen.append(f"error: {type(error).__name__}: {error}")
        emit("transcript", ", ".join(seen))
        connections += 1
        if connections == 2:
            done.set()

    async with serve(handler, "127.0.0.1", 0, ssl=context, max_size=None, ping_interval=None) as running:
        emit("port", next(iter(running.sockets)).getsockname()[1])
        await done.wait()
    return 0


async def main():
    if len(sys.argv) == 4 and sys.argv[1] == "client":
        run = client(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "server":
        run = server(sys.argv[2], sys.argv[3])
    else:
        print("usage: python_wss.py client PORT CA_FILE | server CERT_FILE KEY_FILE", file=sys.stderr)
        return 2
    try:
        return await asyncio.wait_for(run, OVERALL_TIMEOUT)
    except asyncio.TimeoutError:
        emit("error", f"timed out after {OVERALL_TIMEOUT} s")
        return 3


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
