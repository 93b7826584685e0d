#!/usr/bin/env python3
"""Small SMTP load generator for bench/run.sh: what smtp-source does not measure.

  loadgen.py latency HOST PORT SESSIONS MESSAGES SIZE
      SESSIONS concurrent connections send MESSAGES messages of SIZE body bytes in total (one
      EHLO per connection, then MAIL/RCPT/DATA per message, no pipelining). Prints one JSON line:
      messages, seconds, msg_per_s, and p50_ms/p99_ms of the time from writing the final
      "\\r\\n.\\r\\n" to reading the 250 reply.

  loadgen.py idle HOST PORT COUNT READY_FILE
      Opens COUNT connections, reads each banner and EHLO reply, writes READY_FILE (with the count
      that succeeded) and holds them open until stdin closes or the process is killed.

Python's event loop costs CPU of its own, so throughput is measured with smtp-source; this tool
runs a separate, shorter pass for the latency distribution, and the idle-connection test.
"""
import asyncio
import json
import sys
import time


async def read_reply(reader):
    """Reads one (possibly multi-line) SMTP reply; returns its code."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("server closed the connection")
        if len(line) < 4 or line[3:4] != b"-":
            return int(line[:3])


async def expect(reader, code, what):
    got = await read_reply(reader)
    if got != code:
        raise RuntimeError(f"{what}: expected {code}, got {got}")


def make_body(size):
    # Lines of 78 characters plus CRLF, like ordinary mail; no line starts with a dot.
    header = b"From: bench@client.test\r\nTo: rcpt@remote.test\r\nSubject: bench\r\n\r\n"
    line = b"x" * 78 + b"\r\n"
    body = bytearray(header)
    while len(body) < size:
        body += line
    return bytes(body[:size]).rstrip(b"\r\n") + b"\r\n"


async def session(host, port, counter, body, latencies, errors):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        await expect(reader, 220, "banner")
        writer.write(b"EHLO loadgen.test\r\n")
        await expect(reader, 250, "EHLO")
        while counter[0] > 0:
            counter[0] -= 1
            writer.write(b"MAIL FROM:<bench@client.test>\r\n")
            await expect(reader, 250, "MAIL")
            writer.write(b"RCPT TO:<rcpt@remote.test>\r\n")
            await expect(reader, 250, "RCPT")
            writer.write(b"DATA\r\n")
            await expect(reader, 354, "DATA")
            writer.write(body)
            writer.write(b".\r\n")
            start = time.perf_counter()
            code = await read_reply(reader)
            if code == 250:
                latencies.append(time.perf_counter() - start)
            else:
                errors[0] += 1
        writer.write(b"QUIT\r\n")
        await read_reply(reader)
    finally:
        writer.close()


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, int(round(p / 100.0 * (len(sorted_values) - 1))))
    return sorted_values[k]


async def latency(host, port, sessions, messages, size):
    body = make_body(size)
    counter, latencies, errors = [messages], [], [0]
    start = time.perf_counter()
    results = await asyncio.gather(
        *(session(host, port, counter, body, latencies, errors) for _ in range(sessions)),
        return_exceptions=True)
    seconds = time.perf_counter() - start
    failed = [r for r in results if isinstance(r, Exception)]
    latencies.sort()
    print(json.dumps({
        "messages": len(latencies), "errors": errors[0] + len(failed),
        "seconds": round(seconds, 3), "msg_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "first_error": repr(failed[0]) if failed else None,
    }))


async def idle_one(host, port):
    reader, writer = await asyncio.open_connection(host, port)
    await expect(reader, 220, "banner")
    writer.write(b"EHLO loadgen.test\r\n")
    await expect(reader, 250, "EHLO")
    return writer


async def idle(host, port, count, ready_file):
    writers, failures = [], 0
    # Open in batches so the listen backlog is not overrun.
    for i in range(0, count, 500):
        batch = await asyncio.gather(*(idle_one(host, port) for _ in range(min(500, count - i))),
                                     return_exceptions=True)
        for w in batch:
            if isinstance(w, Exception):
                failures += 1
            else:
                writers.append(w)
    with open(ready_file, "w") as f:
        f.write(f"{len(writers)} {failures}\n")
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    for w in writers:
        w.close()


def main():
    mode = sys.argv[1]
    if mode == "latency":
        host, port, sessions, messages, size = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
        asyncio.run(latency(host, port, sessions, messages, size))
    elif mode == "idle":
        asyncio.run(idle(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
