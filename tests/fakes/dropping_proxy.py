"""A TCP proxy on the loopback that drops a connection mid-request once, then refuses new
connections until the test lets them through: a real dropped connection and a network
that is down for a while (the browser sees network errors, the server a disconnect), for
as long as the test needs to photograph it. Runs on the event loop it is started in."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading

PUMP_BYTES = 64 * 1024


class DroppingProxy:
    def __init__(self, listen: socket.socket, target_port: int, drop_after_bytes: int) -> None:
        """Forward ``listen``'s connections to 127.0.0.1:``target_port``; the connection
        carrying the byte number ``drop_after_bytes`` (counted over all connections,
        client to server) is cut there."""
        self._listen = listen
        self._target_port = target_port
        self._drop_after = drop_after_bytes
        self._forwarded = 0
        self.dropped = threading.Event()
        self.let_through = threading.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, sock=self._listen)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self.dropped.is_set() and not self.let_through.is_set():
                client_out.transport.abort()  # the network is down until the test says
                return
            server_in, server_out = await asyncio.open_connection("127.0.0.1", self._target_port)
            writers = (client_out, server_out)
            pumps = {
                asyncio.create_task(self._pump(client_in, server_out, writers, counted=True)),
                asyncio.create_task(self._pump(server_in, client_out, writers, counted=False)),
            }
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            for pump in pumps:
                pump.cancel()
            for writer in writers:
                writer.close()
        except OSError:
            client_out.transport.abort()
        finally:
            self._tasks.discard(task)

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        writers: tuple[asyncio.StreamWriter, ...],
        *,
        counted: bool,
    ) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(PUMP_BYTES):
                if self.dropped.is_set() and not self.let_through.is_set():
                    for writer in writers:  # down: open connections fail too
                        writer.transport.abort()
                    return
                if counted and not self.dropped.is_set():
                    room = self._drop_after - self._forwarded
                    if len(data) >= room:
                        sink.write(data[: max(0, room)])
                        await sink.drain()
                        self.dropped.set()
                        for writer in writers:  # both ends see the connection vanish
                            writer.transport.abort()
                        return
                    self._forwarded += len(data)
                sink.write(data)
                await sink.drain()
