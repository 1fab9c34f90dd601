#!/usr/bin/python3
"""splab nobackend: a reverse proxy with no healthy backend (issue 14), stdlib only.

Runs on the lab's server (lab.sh starts it at "up", ports 8081 and 8082). It accepts
every connection, reads the request head (up to the blank line that ends it, at most
4096 bytes or 2 s), answers nothing and then:

  reset  closes with SO_LINGER {on, 0}: the kernel sends a RST|ACK instead of a FIN
         (what HAProxy / Envoy / a load balancer do when no backend is left to
         forward to and they abort the client's connection);
  close  closes normally: a FIN without a byte of answer (a proxy that gives up
         quietly; curl says "Empty reply from server").

The handshake is the server's own stack's, so every packet of the refusal comes from
the server itself (TTL 61 at the client, hop 4): stage "request", refused by the host.

Safety: it refuses to run anywhere but inside the namespace --netns names (ip netns exec
binds it there), it only listens (dual-stack, on one port), serves at most --max
connections one at a time, and stops after --seconds (or on SIGTERM/SIGINT). It prints
"nobackend: ready" once it listens and, at the end, "nobackend: done, N connection(s)".
"""
import argparse
import os
import re
import select
import signal
import socket
import struct
import sys
import time

HEAD_LIMIT = 4096
READ_SECONDS = 2.0


def read_head(conn):
    """Reads until the blank line that ends a request head, 4096 bytes or 2 s."""
    data = b""
    deadline = time.monotonic() + READ_SECONDS
    while b"\r\n\r\n" not in data and len(data) < HEAD_LIMIT:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        conn.settimeout(left)
        try:
            chunk = conn.recv(HEAD_LIMIT - len(data))
        except (socket.timeout, OSError):
            break
        if not chunk:
            break
        data += chunk
    return data


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=("reset", "close"), required=True)
    p.add_argument("--netns", required=True, help="the lab namespace it must run in (splab-server ...)")
    p.add_argument("--seconds", type=int, default=3600, help="lifetime, 1..86400 (default 3600)")
    p.add_argument("--max", type=int, default=1000, help="connections served, 1..10000 (default 1000)")
    a = p.parse_args()
    if not 1 <= a.port <= 65535:
        p.error("--port: 1..65535")
    if not 1 <= a.seconds <= 86400 or not 1 <= a.max <= 10000:
        p.error("--seconds 1..86400, --max 1..10000")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,40}", a.netns):
        p.error("--netns: a plain namespace name")
    mine, lab = os.stat("/proc/self/ns/net"), os.stat(f"/run/netns/{a.netns}")
    if (mine.st_dev, mine.st_ino) != (lab.st_dev, lab.st_ino):
        print(f"nobackend: not running inside the namespace {a.netns}: refusing", file=sys.stderr)
        return 2

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.bind(("::", a.port))
    listener.listen(16)
    print(f"nobackend: ready on port {a.port}, mode {a.mode}, for {a.seconds} s, "
          f"at most {a.max} connections", flush=True)

    served = 0
    deadline = time.monotonic() + a.seconds
    while not stop and served < a.max:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            ready, _, _ = select.select([listener], [], [], min(left, 0.5))
        except InterruptedError:
            continue
        if not ready:
            continue
        conn, peer = listener.accept()
        served += 1
        head = read_head(conn)
        if a.mode == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
        print(f"nobackend: {a.mode} {peer[0]}.{peer[1]} after a {len(head)}-byte request",
              flush=True)
    listener.close()
    print(f"nobackend: done, {served} connection(s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
