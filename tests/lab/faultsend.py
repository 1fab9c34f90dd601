#!/usr/bin/python3
"""splab faultsend: forged answers for the fault tests (check_faults.py), stdlib only.

Runs inside ONE router namespace of the lab (lab.sh exec r1 ...). It watches the
client's SYNs arrive on an interface (AF_PACKET, inbound only) and, for each SYN to one
of --ports, sends at once, through raw IP sockets, packets that must NOT be taken as the
answer to that SYN:

  spoof      a blind spoofer's RST|ACK: the SYN's own 4-tuple (source = the server),
             shaped like the server's stack (seq 0, window 0, DF, IP-ID 0, TTL 61, as
             the server's packets arrive) but with a wrong ack: ISN (one short),
             ISN+2, ISN+1+2^31 and a random one, in that order;
  unrelated  RSTs and ICMP errors for OTHER flows, with the SYN's right ack / quoted
             sequence number: RST|ACK from the server's next port to the client's port;
             RST|ACK from another address of the server's LAN; RST|ACK from the server's
             port to the client's next port; ICMP port-unreachable and admin-prohibited
             from r2's address quoting the client's next port / the server's next port;
             time-exceeded quoting the same ports toward another address.

Safety: it refuses to run anywhere but inside the namespace --netns names, every address it
reads or writes must lie in 198.18.0.0/15 or 2001:db8::/32, it sends at most --max
packets and stops after --seconds (or on SIGTERM/SIGINT). It prints
"faultsend: ready" once it listens and, at the end, "faultsend: sent N for M SYNs".
"""
import argparse
import ipaddress
import os
import random
import re
import select
import signal
import socket
import struct
import sys
import time

LAB_NETS = (ipaddress.ip_network("198.18.0.0/15"), ipaddress.ip_network("2001:db8::/32"))
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def lab_address(text):
    a = ipaddress.ip_address(text)
    if not any(a in n for n in LAB_NETS):
        raise argparse.ArgumentTypeError(f"{text} is not a lab address (198.18.0.0/15, 2001:db8::/32)")
    return a


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def pseudo(src, dst, proto, length):
    if src.version == 4:
        return src.packed + dst.packed + struct.pack("!BBH", 0, proto, length)
    return src.packed + dst.packed + struct.pack("!IxxxB", length, proto)


def ip_packet(src, dst, proto, payload, ttl, ident=0, df=True):
    if src.version == 4:
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000 if df else 0, ttl, proto, 0,
                          src.packed, dst.packed)
        hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
        return hdr + payload
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), proto, ttl, src.packed, dst.packed) + payload


def tcp_segment(src, dst, sport, dport, seq, ack, flags, window=0):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, window, 0, 0)
    c = checksum(pseudo(src, dst, 6, len(seg)) + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def quoted_syn(src, dst, sport, dport, isn, ttl):
    """The SYN as a router quotes it: IP header + TCP header (no options)."""
    seg = tcp_segment(src, dst, sport, dport, isn, 0, 0x02, 64240)
    return ip_packet(src, dst, 6, seg, ttl, ident=0x1234)


def icmp_error(src, dst, kind, code, quote):
    """ICMP / ICMPv6 error; kind "unreach" or "exceeded"."""
    if src.version == 4:
        t = 3 if kind == "unreach" else 11
        body = struct.pack("!BBHI", t, code, 0, 0) + quote[:28 + 40]
        body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
        return ip_packet(src, dst, 1, body, 64, ident=random.randint(1, 0xFFFF), df=False)
    t = 1 if kind == "unreach" else 3
    body = struct.pack("!BBHI", t, code, 0, 0) + quote
    body = body[:2] + struct.pack("!H", checksum(pseudo(src, dst, 58, len(body)) + body)) + body[4:]
    return ip_packet(src, dst, 58, body, 64)


def parse_syn(frame):
    """(src, dst, sport, dport, isn, ttl) of an Ethernet frame holding a bare SYN, else None."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if ethertype == 0x0800 and len(ip) >= 20 and ip[9] == 6:
        ihl = (ip[0] & 0x0F) * 4
        src, dst, ttl, tcp = ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20]), ip[8], ip[ihl:]
    elif ethertype == 0x86DD and len(ip) >= 40 and ip[6] == 6:
        src, dst, ttl, tcp = ipaddress.ip_address(ip[8:24]), ipaddress.ip_address(ip[24:40]), ip[7], ip[40:]
    else:
        return None
    if len(tcp) < 20 or tcp[13] != 0x02:
        return None
    sport, dport, isn = struct.unpack("!HHI", tcp[:8])
    return src, dst, sport, dport, isn, ttl


def packets_for(mode, syn, other4, other6, icmp4, icmp6, rng):
    client, server, cport, sport, isn, ttl = syn  # client -> server, as the SYN went
    other = other4 if server.version == 4 else other6
    icmp_src = icmp4 if server.version == 4 else icmp6
    nxt = lambda p: p + 1 if p < 65535 else p - 1  # noqa: E731 (the next port: another flow)
    out = []
    if mode == "spoof":
        for ack in (isn, isn + 2, isn + 1 + 0x80000000, isn + 1 + rng.randint(2, 0x7FFFFFFF)):
            seg = tcp_segment(server, client, sport, cport, 0, ack, 0x14)
            out.append(("rst-wrong-ack", ip_packet(server, client, 6, seg, 61)))
        return out
    seg = tcp_segment(server, client, nxt(sport), cport, 0, isn + 1, 0x14)
    out.append(("rst-other-server-port", ip_packet(server, client, 6, seg, 61)))
    seg = tcp_segment(other, client, sport, cport, 0, isn + 1, 0x14)
    out.append(("rst-other-server-address", ip_packet(other, client, 6, seg, 61)))
    seg = tcp_segment(server, client, sport, nxt(cport), 0, isn + 1, 0x14)
    out.append(("rst-other-client-port", ip_packet(server, client, 6, seg, 61)))
    prohibited = 13 if server.version == 4 else 1
    out.append(("icmp-other-client-port",
                icmp_error(icmp_src, client, "unreach", 3 if server.version == 4 else 4,
                           quoted_syn(client, server, nxt(cport), sport, isn, 62))))
    out.append(("icmp-other-server-port",
                icmp_error(icmp_src, client, "unreach", prohibited, quoted_syn(client, server, cport, nxt(sport), isn, 62))))
    out.append(("exceeded-other-address",
                icmp_error(icmp_src, client, "exceeded", 0, quoted_syn(client, other, cport, sport, isn, 1))))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["spoof", "unrelated"])
    p.add_argument("--netns", required=True, help="the lab namespace it must run in (splab-r1 ...)")
    p.add_argument("--iface", required=True, help="where the client's SYNs arrive (r1: l1)")
    p.add_argument("--client", type=lab_address, action="append", required=True)
    p.add_argument("--server", type=lab_address, action="append", required=True)
    p.add_argument("--ports", required=True, help="server ports whose SYNs draw forged packets")
    p.add_argument("--other4", type=lab_address, default=lab_address("198.18.4.99"))
    p.add_argument("--other6", type=lab_address, default=lab_address("2001:db8:4::99"))
    p.add_argument("--icmp4", type=lab_address, default=lab_address("198.18.2.2"))
    p.add_argument("--icmp6", type=lab_address, default=lab_address("2001:db8:2::2"))
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--max", type=int, default=2000, help="packets to send at most")
    a = p.parse_args()
    if not (1 <= a.seconds <= 600 and 1 <= a.max <= 20000):
        p.error("--seconds 1..600, --max 1..20000")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,40}", a.netns):
        p.error("--netns: a plain namespace name")
    # Only inside the lab namespace named by --netns (ip netns exec binds it there).
    mine, lab = os.stat("/proc/self/ns/net"), os.stat(f"/run/netns/{a.netns}")
    if (mine.st_dev, mine.st_ino) != (lab.st_dev, lab.st_ino):
        print(f"faultsend: not running inside the namespace {a.netns}: refusing", file=sys.stderr)
        return 2
    ports = {int(x) for x in a.ports.split(",")}
    clients, servers = set(a.client), set(a.server)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sniff.bind((a.iface, 0))
    raw4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    rng = random.Random()
    sent, syns, kinds = 0, 0, {}
    print(f"faultsend: ready ({a.mode} on {a.iface}, ports {sorted(ports)})", flush=True)
    end = time.monotonic() + a.seconds
    while not stop and time.monotonic() < end and sent < a.max:
        try:
            ready, _, _ = select.select([sniff], [], [], 0.2)
        except InterruptedError:
            continue
        if not ready:
            continue
        frame, addr = sniff.recvfrom(65536)
        if addr[2] == PACKET_OUTGOING:
            continue
        syn = parse_syn(frame)
        if not syn or syn[0] not in clients or syn[1] not in servers or syn[3] not in ports:
            continue
        syns += 1
        for kind, pkt in packets_for(a.mode, syn, a.other4, a.other6, a.icmp4, a.icmp6, rng):
            if sent >= a.max:
                break
            dst = syn[0]
            assert any(dst in n for n in LAB_NETS)
            if dst.version == 4:
                raw4.sendto(pkt, (str(dst), 0))
            else:
                raw6.sendto(pkt, (str(dst), 0))
            sent += 1
            kinds[kind] = kinds.get(kind, 0) + 1
    print(f"faultsend: sent {sent} for {syns} SYNs: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
