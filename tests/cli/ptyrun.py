#!/usr/bin/env python3
"""ptyrun.py - run one command on a real pseudo-terminal, keep its bytes.

Usage: ptyrun.py [--log FILE] [--stdout FILE] [--cols N] [--pidfile FILE]
                 [--timeout SECS] -- CMD [ARG]...

Starts CMD as the leader of a new session whose controlling terminal is
the slave side of a fresh pty (COLS columns, 24 rows): its standard input,
output and error are the terminal, but with --stdout its standard output
goes to FILE instead.  Everything the terminal received is written, byte
for byte (escape sequences and carriage returns kept), to --log.  With
--pidfile, CMD's PID is written there as soon as it runs.  CMD is killed
(by PID) if it has not ended after --timeout seconds (default 60).  Exit
status: CMD's, or 128+N if a signal killed it.
"""
import fcntl
import os
import select
import struct
import sys
import termios
import time

import ptyspawn


def main():
    args = sys.argv[1:]
    log = stdout = pidfile = None
    cols = 100
    timeout = 60.0
    while args and args[0] != "--":
        opt = args.pop(0)
        if opt == "--log":
            log = args.pop(0)
        elif opt == "--stdout":
            stdout = args.pop(0)
        elif opt == "--cols":
            cols = int(args.pop(0))
        elif opt == "--pidfile":
            pidfile = args.pop(0)
        elif opt == "--timeout":
            timeout = float(args.pop(0))
        else:
            sys.exit("ptyrun: unknown option " + opt)
    if not args or len(args) < 2:
        sys.exit("ptyrun: usage: ptyrun.py [OPTIONS] -- CMD [ARG]...")
    cmd = args[1:]

    def winsize(slave):
        fcntl.ioctl(slave, termios.TIOCSWINSZ,
                    struct.pack("HHHH", 24, cols, 0, 0))

    out = open(stdout, "wb") if stdout else None
    proc, master = ptyspawn.spawn(cmd, setup=winsize, stdout=out)
    if out:
        out.close()
    if pidfile:
        with open(pidfile + ".tmp", "w") as f:
            f.write("%d\n" % proc.pid)
        os.rename(pidfile + ".tmp", pidfile)

    seen = bytearray()
    end = time.monotonic() + timeout
    while True:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""  # EIO: every slave descriptor is closed
            if not data:
                break
            seen.extend(data)
        elif proc.poll() is not None:
            # Ended, and nothing more came for a moment: what a child
            # that kept the terminal open may still write is not waited
            # for.
            break
        if time.monotonic() > end:
            proc.kill()
            break
    rc = proc.wait()
    os.close(master)
    if log:
        with open(log, "wb") as f:
            f.write(bytes(seen))
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(main())
