"""Several server processes on one port, each with its own listening socket (``SO_REUSEPORT``).

Why not ``uvicorn --workers``: its processes share one listening socket, and asyncio accepts
every pending connection in one go, so the first idle process took all the keep-alive
connections of a client and the others stayed idle (measured: 0.96 of a core in one worker, 0.00
in the other, so two workers ingested what one did). With a socket per process the kernel
spreads new connections over the processes (by a hash of the client's address and port).

The port is first bound without ``SO_REUSEPORT``, so a port that another server (even another
govledger started by the same user) already listens on is refused with a clear error rather than
silently shared. A worker that dies is started again on its socket; Ctrl-C or SIGTERM stops them
all (each finishes its requests first).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType

__all__ = ["PortInUseError", "check_port_free", "serve_processes"]

log = logging.getLogger("govledger.serve")

_RESTART_PAUSE_S = 1.0
_STOP_TIMEOUT_S = 30.0


class PortInUseError(OSError):
    """The address is taken by another server."""


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_port_free(host: str, port: int) -> None:
    """PortInUseError unless `host:port` can be listened on (bound without SO_REUSEPORT)."""
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a TIME_WAIT leftover is no conflict
        probe.bind((host, port))
    except OSError as exc:
        raise PortInUseError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    finally:
        probe.close()


def _listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def _run_worker(factory: str, sock: socket.socket, log_level: str, access_log: bool) -> None:
    """One worker process: uvicorn on its own socket, the app built by `factory` (an import path)."""
    import uvicorn

    config = uvicorn.Config(factory, factory=True, log_level=log_level, access_log=access_log)
    uvicorn.Server(config).run(sockets=[sock])


def _stop_all(processes: list[BaseProcess]) -> None:
    """SIGTERM (uvicorn's graceful stop; a second SIGINT would force it), then SIGKILL after a while."""
    for process in processes:
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_TIMEOUT_S
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            log.warning("worker %s did not stop in %.0f s; killing it", process.name, _STOP_TIMEOUT_S)
            process.kill()
            process.join()


def serve_processes(
    factory: str,
    *,
    host: str,
    port: int,
    workers: int,
    log_level: str = "info",
    access_log: bool = True,
    backlog: int = 2048,
) -> None:
    """Run `workers` processes serving the app `factory` builds, until interrupted."""
    if not hasattr(socket, "SO_REUSEPORT"):  # pragma: no cover - Linux and the BSDs have it
        raise OSError("this platform has no SO_REUSEPORT: run one process (--workers 1)")
    check_port_free(host, port)
    sockets = [_listening_socket(host, port, backlog) for _ in range(workers)]
    context = multiprocessing.get_context("spawn")
    processes: list[BaseProcess] = []
    stopping = False

    def start(index: int) -> BaseProcess:
        process = context.Process(
            target=_run_worker, args=(factory, sockets[index], log_level, access_log), name=f"govledger-worker-{index}"
        )
        process.start()
        return process

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        processes = [start(i) for i in range(workers)]
        log.info("serving on http://%s:%d with %d processes", host, port, workers)
        while not stopping:
            time.sleep(0.2)
            for index, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    log.warning("worker %d exited with %s; starting it again", index, process.exitcode)
                    time.sleep(_RESTART_PAUSE_S)
                    processes[index] = start(index)
    finally:
        _stop_all(processes)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sock in sockets:
            sock.close()
