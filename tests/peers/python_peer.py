"""The interoperability scenario, played by Python `websockets` (asyncio API).

    python_peer.py client PORT   runs the client's steps against ws://127.0.0.1:PORT/scenario
    python_peer.py server        serves the scenario on 127.0.0.1, a free port

The client prints one JSON line per step, {"step": NAME, "got": SUMMARY}, and exits 0
once every step got what it expected. The server prints {"port": N} first, then one
{"transcript": [...]} line per connection with what it saw (with the number of frames
of each fragmented message), and exits after two connections. tests/websockets/interop/scenario.rs holds the scenario and the checks.
"""

import asyncio
import json
import sys

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

OVERALL_TIMEOUT = 20
STEP_TIMEOUT = 10

HELLO = "Hello, WebSocket! \u2713"
BINARY = bytes(range(256))
LARGE_BINARY = bytes(i % 251 for i in range(1 << 20))
LARGE_TEXT = "\u2713" * 349525 + "x"  # 1 MiB of UTF-8, three-byte characters
FRAGMENTED = "Gr\u00fc\u00dfe, fragmentierte Welt \u2713".encode()
# Three text frames; the cuts fall inside the UTF-8 of "u" umlaut and of the check mark.
FRAGMENTS = [FRAGMENTED[:3], FRAGMENTED[3:29], FRAGMENTED[29:]]


def emit(line):
    print(json.dumps(line, ensure_ascii=False), flush=True)


def summary(message):
    if isinstance(message, str):
        return f"text {len(message.encode())}"
    return f"binary {len(message)}"


def close_summary(code, reason=""):
    return f"close {code} {reason or ''}".strip()


class StepFailed(Exception):
    pass


async def client(port):
    url = f"ws://127.0.0.1:{port}/scenario"
    options = dict(max_size=None, proxy=None, ping_interval=None, open_timeout=STEP_TIMEOUT)
    failed = False

    async def step(name, action, expected):
        nonlocal failed
        try:
            got = await asyncio.wait_for(action(), STEP_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - every failure becomes the report
            got = f"error: {type(error).__name__}: {error}"
        emit({"step": name, "got": got})
        if got != expected:
            failed = True
            raise StepFailed(name)

    async def echo(message):
        await ws.send(message)
        answer = await ws.recv()
        return summary(answer) + (" echoed" if answer == message else " differs")

    async def ask(command):
        await ws.send(command)
        return await ws.recv()

    async def fragmented_to_server():
        await ws.send(FRAGMENTS, text=True)
        answer = await ws.recv()
        same = isinstance(answer, str) and answer.encode() == FRAGMENTED
        return f"text {len(answer.encode())}" + (" echoed" if same else " differs")

    async def fragmented_from_server():
        await ws.send("fragment-me")
        pieces = [piece async for piece in ws.recv_streaming()]
        return f"{''.join(pieces)} ({len(pieces)} frames)"

    async def client_pings():
        pong = await ws.ping(b"client-ping")
        await pong
        return "pong client-ping"

    async def client_closes():
        await ws.close(4000, "bye")
        return close_summary(ws.close_code)

    async def server_closes():
        await ws.send("close-me")
        try:
            message = await ws.recv()
            return f"unexpected {summary(message)}"
        except ConnectionClosed:
            return close_summary(ws.close_code, ws.close_reason)

    try:
        async with connect(url, **options) as ws:
            await step("text", lambda: echo(HELLO), "text 21 echoed")
            await step("binary", lambda: echo(BINARY), "binary 256 echoed")
            await step("binary-1mib", lambda: echo(LARGE_BINARY), "binary 1048576 echoed")
            await step("text-1mib", lambda: echo(LARGE_TEXT), "text 1048576 echoed")
            await step("fragmented-to-server", fragmented_to_server, "text 31 echoed")
            await step("server-pings", lambda: ask("ping-me"), "pong: server-ping")
            await step("client-pings", client_pings, "pong client-ping")
            await step(
                "fragmented-from-server",
                fragmented_from_server,
                FRAGMENTED.decode() + " (3 frames)",
            )
            await step("client-closes", client_closes, "close 4000")
        async with connect(url, **options) as ws:
            await step("server-closes", server_closes, "close 4001 done")
    except StepFailed:
        pass
    return 1 if failed else 0


async def server():
    connections = 0
    done = asyncio.Event()

    async def handler(ws):
        nonlocal connections
        seen = []
        closing = False
        try:
            while True:
                # Frame by frame, to write down how the client cut its messages.
                try:
                    pieces = [piece async for piece in ws.recv_streaming()]
                except ConnectionClosed:
                    break
                message = ("" if isinstance(pieces[0], str) else b"").join(pieces)
                frames = f" in {len(pieces)} frames" if len(pieces) > 1 else ""
                seen.append(summary(message) + frames)
                if message == "ping-me":
                    pong = await ws.ping(b"server-ping")
                    await asyncio.wait_for(pong, STEP_TIMEOUT)
                    seen.append("pong server-ping")
                    await ws.send("pong: server-ping")
                elif message == "fragment-me":
                    await ws.send(FRAGMENTS, text=True)
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
        emit({"transcript": seen})
        connections += 1
        if connections == 2:
            done.set()

    async with serve(handler, "127.0.0.1", 0, max_size=None, ping_interval=None) as running:
        port = next(iter(running.sockets)).getsockname()[1]
        emit({"port": port})
        await done.wait()
    return 0


async def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "client" and len(sys.argv) == 3:
        run = client(int(sys.argv[2]))
    elif mode == "server":
        run = server()
    else:
        print("usage: python_peer.py client PORT | server", file=sys.stderr)
        return 2
    try:
        return await asyncio.wait_for(run, OVERALL_TIMEOUT)
    except asyncio.TimeoutError:
        emit({"error": f"timed out after {OVERALL_TIMEOUT} s"})
        return 3


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
