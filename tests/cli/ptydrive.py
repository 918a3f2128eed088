#!/usr/bin/env python3
"""ptydrive.py - drive an interactive shell on a real pseudo-terminal.

Usage: ptydrive.py [--mark MARK] [--log FILE] [--shell CMD] STEP...

Starts CMD (default: bash --norc --noprofile -i) as the leader of a new
session whose controlling terminal is the slave side of a fresh pty, so the
shell does job control exactly as in a terminal emulator.  Then runs the
steps, in order:

  send TEXT     write TEXT to the master, as if typed; \\r, \\n, \\t, \\\\
                and \\xHH (\\x03 is Ctrl+C) are understood
  expect RE     wait (up to --timeout s, default 15) until the output since
                the last match contains RE (a Python regex); fail if not
  until RE      send the last TEXT again every second until the output
                since the last match contains RE (up to --timeout s): for
                a key a program may miss while it starts to read, as
                python3 misses a Ctrl+C between its prompt and its select
  sleep SECS    wait
  sh CMD        run CMD with /bin/sh outside the terminal; fail unless it
                exits 0

Everything the terminal showed goes to --log (and to stderr on failure).
With --mark, the shell's environment carries CR_TEST_MARK=MARK, so that the
tests' helpers find (and clean up) every process started on the terminal.
At the end the shell is hung up and then killed, by PID.  Exit status: 0 if
every step passed, 1 otherwise.
"""
import os
import re
import select
import signal
import subprocess
import sys
import termios
import time

import ptyspawn


ESCAPES = {"r": "\r", "n": "\n", "t": "\t", "\\": "\\"}


def unescape(text):
    """TEXT as bytes, with \\r, \\n, \\t, \\\\ and \\xHH understood; any
    other backslash stays as it is (a shell's \\$ is typed as such)."""
    def one(m):
        if m.group(1):
            return chr(int(m.group(1), 16))
        return ESCAPES.get(m.group(2), m.group(0))
    return re.sub(r"\\(?:x([0-9a-fA-F]{2})|(.))", one, text).encode(
        "latin-1")


def main():
    args = sys.argv[1:]
    mark = None
    log = None
    timeout = 15.0
    shell = ["bash", "--norc", "--noprofile", "-i"]
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--mark":
            mark = args.pop(0)
        elif opt == "--log":
            log = args.pop(0)
        elif opt == "--timeout":
            timeout = float(args.pop(0))
        elif opt == "--shell":
            shell = ["sh", "-c", args.pop(0)]
        else:
            sys.exit("ptydrive: unknown option " + opt)
    if len(args) % 2:
        sys.exit("ptydrive: steps come in pairs: OP ARG")
    steps = list(zip(args[0::2], args[1::2]))

    def modes(slave):
        # Sane modes, as an emulator gives.
        attrs = termios.tcgetattr(slave)
        attrs[3] |= termios.ECHO | termios.ICANON | termios.ISIG
        termios.tcsetattr(slave, termios.TCSANOW, attrs)

    env = dict(os.environ)
    env["PS1"] = "PROMPT$ "
    env["TERM"] = "dumb"
    env.pop("PROMPT_COMMAND", None)
    if mark is not None:
        env["CR_TEST_MARK"] = mark
    proc, master = ptyspawn.spawn(shell, setup=modes, env=env)

    seen = bytearray()  # everything
    pos = 0             # where the next expect starts looking

    def pump(wait):
        r, _, _ = select.select([master], [], [], wait)
        if not r:
            return
        try:
            data = os.read(master, 4096)
        except OSError:
            data = b""
        seen.extend(data)

    ok = True
    failed = ""
    last = b""
    for op, arg in steps:
        if op == "send":
            last = unescape(arg)
            os.write(master, last)
            pump(0.05)
        elif op in ("expect", "until"):
            rx = re.compile(arg.encode())
            end = time.monotonic() + timeout
            again = time.monotonic() + 1
            while True:
                m = rx.search(seen, pos)
                if m:
                    pos = m.end()
                    break
                if op == "until" and time.monotonic() >= again:
                    os.write(master, last)
                    again = time.monotonic() + 1
                left = end - time.monotonic()
                if left <= 0 or proc.poll() is not None:
                    pump(0.2)
                    m = rx.search(seen, pos)
                    if m:
                        pos = m.end()
                        break
                    ok = False
                    failed = "expected %r, not seen" % arg
                    break
                pump(max(0, min(left, 0.2)))
        elif op == "sleep":
            end = time.monotonic() + float(arg)
            while time.monotonic() < end:
                pump(max(0, min(0.1, end - time.monotonic())))
        elif op == "sh":
            pump(0)
            rc = subprocess.call(["/bin/sh", "-c", arg], env=env)
            if rc != 0:
                ok = False
                failed = "sh step exited %d: %s" % (rc, arg)
        else:
            sys.exit("ptydrive: unknown step " + op)
        if not ok:
            break

    # Hang up: the shell and its jobs get HUP as at a closed terminal
    # emulator; whatever is left is the test's teardown's.
    pump(0.1)
    try:
        proc.send_signal(signal.SIGHUP)
    except ProcessLookupError:
        pass
    os.close(master)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    text = seen.decode("utf-8", "replace")
    if log is not None:
        with open(log, "w") as f:
            f.write(text)
    if not ok:
        sys.stderr.write("ptydrive: %s\n--- terminal:\n%s\n---\n" %
                         (failed, text))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
