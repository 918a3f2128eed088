#!/usr/bin/env python3
"""notifylisten.py - a stand-in for systemd's notification socket.

Usage: notifylisten.py ADDRESS LOG [READYFILE [MARK]]

Binds an AF_UNIX datagram socket at ADDRESS (a path, or @name for the
abstract namespace), writes READYFILE (if given) once bound, and appends
each datagram it receives to LOG as one line: the sender's PID (from
SCM_CREDENTIALS, as systemd reads it), a tab, and the message with its
newlines shown as '|'.  MARK is not used: it marks the process for the
tests, which kill it by PID.  It runs until killed.
"""
import os
import socket
import struct
import sys


def main():
    addr, log = sys.argv[1], sys.argv[2]
    bind = "\0" + addr[1:] if addr.startswith("@") else addr
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    s.bind(bind)
    if len(sys.argv) > 3:
        with open(sys.argv[3], "w") as f:
            f.write("%d\n" % os.getpid())
    creds = struct.calcsize("3i")
    with open(log, "a") as out:
        while True:
            msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(creds))
            pid = 0
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and \
                        kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", data[:creds])[0]
            text = msg.decode("utf-8", "replace").rstrip("\n")
            out.write("%d\t%s\n" % (pid, text.replace("\n", "|")))
            out.flush()


if __name__ == "__main__":
    main()
