# SPDX-License-Identifier: ISC
"""A stand-in for systemd's notification socket: bind a Unix datagram
socket at argv[1] and append each datagram to argv[2] as one line, the
kernel's time of its arrival (SO_TIMESTAMPNS: when the sender's sendto
queued it, whatever this process's scheduling), a tab, and the payload
with its newlines as '|'.  It makes argv[2] exist once it listens."""
import os
import socket
import struct
import sys

# Python's socket module lacks it: linux/asm-generic/socket.h's value (and
# x86's, arm64's), with a struct timespec of two 64-bit fields.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
with open(out, "a", buffering=1) as f:
    while True:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(16))
        ns = None
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", value[:16])
                ns = sec * 1000000000 + nsec
        if ns is None:
            sys.exit("notify-listen: no SO_TIMESTAMPNS on a datagram")
        f.write("%d\t%s\n" % (ns, data.decode().replace("\n", "|")))
