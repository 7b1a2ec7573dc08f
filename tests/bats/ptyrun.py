#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""ptyrun.py [--cols N] [--out FILE] CMD [ARG...]: run CMD with its
standard output and error on a pseudo-terminal of N columns (default 80),
as a user at a terminal sees it; print what it wrote (CR LF as LF) and exit
with its exit status.  --out FILE: also append the output to FILE as it
comes, for a test that waits for something to appear."""
import fcntl
import os
import pty
import struct
import sys
import termios


def main():
    args = sys.argv[1:]
    cols, out = 80, None
    while args and args[0].startswith("--"):
        if args[0] == "--cols":
            cols = int(args[1])
        elif args[0] == "--out":
            out = open(args[1], "ab", buffering=0)
        else:
            sys.exit("ptyrun.py: unknown option " + args[0])
        args = args[2:]
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
        attrs = termios.tcgetattr(0)
        attrs[1] &= ~termios.ONLCR      # LF as written, no CR added
        termios.tcsetattr(0, termios.TCSANOW, attrs)
        os.execvp(args[0], args)
    got = b""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:         # EIO: the child closed the terminal
            break
        if not data:
            break
        got += data
        if out:
            out.write(data)
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(got)
    sys.exit(os.waitstatus_to_exitcode(status))


main()
