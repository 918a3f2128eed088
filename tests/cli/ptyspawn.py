"""ptyspawn.py - start a command on a fresh pseudo-terminal (for ptyrun.py
and ptydrive.py).

spawn(cmd, setup=None, env=None, stdout=None) opens a pty, lets SETUP(fd)
adjust the slave (its size, its modes), and starts CMD as the leader of a
new session whose controlling terminal is that slave: standard input,
output and error are the terminal, except standard output when STDOUT (a
file object) is given.  Returns (the Popen, the master's descriptor); the
slave is closed here, so the master reads EIO once every process of the
session has let go of the terminal.
"""
import fcntl
import os
import subprocess
import termios


def spawn(cmd, setup=None, env=None, stdout=None):
    master, slave = os.openpty()
    if setup:
        setup(slave)

    def child_setup():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(cmd, stdin=slave,
                            stdout=stdout if stdout else slave,
                            stderr=slave, env=env, preexec_fn=child_setup,
                            close_fds=True)
    os.close(slave)
    return proc, master
