#!/usr/bin/python3
"""fake_dns.py - a minimal UDP DNS server for tests: answers every A query with 127.0.0.1
and every other query with an empty NOERROR answer, like Docker's embedded DNS answers
service names. usage: fake_dns.py ADDR PORT (prints "ready" once listening)."""
import socket
import struct
import sys

addr, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, port))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(512)
    if len(q) < 12:
        continue
    qid, flags, qd = struct.unpack(">HHH", q[:6])
    i = 12
    while i < len(q) and q[i]:
        i += q[i] + 1
    qend = i + 5
    if qend > len(q):
        continue
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    question = q[12:qend]
    ans = b""
    if qtype == 1:  # A
        ans = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 5, 4) + socket.inet_aton("127.0.0.1")
    hdr = struct.pack(">HHHHHH", qid, 0x8180 | (flags & 0x0100), 1, 1 if ans else 0, 0, 0)
    s.sendto(hdr + question + ans, peer)
