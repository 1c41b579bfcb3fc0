"""Bounded I/O on a child's pipes: a write or a line read that gives up after a
deadline (a child that stops reading or answering must not hang the test)."""
import os
import select
import time


class PipeTimeout(Exception):
    pass


class PipeClosed(Exception):
    pass


def write_all(fd, data, timeout):
    """Writes all of data to the pipe fd within timeout seconds."""
    os.set_blocking(fd, False)
    deadline = time.monotonic() + timeout
    view = memoryview(data)
    while view:
        left = deadline - time.monotonic()
        if left <= 0:
            raise PipeTimeout("%d bytes still unwritten after %.0f s" % (len(view), timeout))
        _, w, _ = select.select([], [fd], [], left)
        if w:
            try:
                view = view[os.write(fd, view):]
            except BlockingIOError:
                pass
            except BrokenPipeError:
                raise PipeClosed("the reader closed the pipe")


class LineReader:
    """Lines from the pipe fd, each within a timeout."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = b""

    def readline(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PipeTimeout("no line within %.0f s (got %r)" % (timeout, self.buf[-200:]))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                data = os.read(self.fd, 65536)
                if not data:
                    raise PipeClosed("end of file (got %r)" % self.buf[-200:])
                self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode("utf-8", "replace")
