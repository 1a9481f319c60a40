"""A syslog receiver the tests start: UDP (one message per datagram), TCP
and TLS with RFC 6587 octet-counted framing. It keeps every message it
gets, as text, in arrival order."""

import os
import socket
import ssl
import threading

from harness import PKI, wait_until


class SyslogReceiver:
    def __init__(self, transport, port=0):
        self.transport = transport
        self.messages = []
        self.framing_errors = []
        self.connections = 0
        self._lock = threading.Lock()
        kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
        self.sock = socket.socket(socket.AF_INET, kind)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        self._tls = None
        if transport == "tls":
            self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls.load_cert_chain(os.path.join(PKI, "server.pem"), os.path.join(PKI, "server.key"))
        if transport != "udp":
            self.sock.listen(8)
        self._open = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self, fmt):
        host = "localhost" if self.transport == "tls" else "127.0.0.1"
        return "%s://%s:%d/%s" % (self.transport, host, self.port, fmt)

    def _keep(self, message):
        with self._lock:
            self.messages.append(message.decode("utf-8"))

    def _serve(self):
        while True:
            try:
                if self.transport == "udp":
                    data, _ = self.sock.recvfrom(65536)
                    self._keep(data)
                    continue
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._stream, args=(conn,), daemon=True).start()

    def _stream(self, conn):
        try:
            if self._tls:
                conn = self._tls.wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError):
            conn.close()
            return
        with self._lock:
            self.connections += 1
            self._open.append(conn)
        buffer = b""
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                # "LENGTH SP MESSAGE", LENGTH in bytes (RFC 6587 3.4.1).
                while b" " in buffer:
                    length_text, _, rest = buffer.partition(b" ")
                    if not length_text.isdigit():
                        self.framing_errors.append(buffer[:64])
                        return
                    length = int(length_text)
                    if len(rest) < length:
                        break
                    self._keep(rest[:length])
                    buffer = rest[length:]

    def wait_messages(self, count, timeout=10.0):
        wait_until(lambda: len(self.messages) >= count, timeout)
        with self._lock:
            return list(self.messages)

    def drop_connections(self):
        """Closes every accepted connection: the SIEM went away."""
        with self._lock:
            for conn in self._open:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._open = []

    def stop(self):
        self.drop_connections()
        # close() alone leaves a listener that a thread blocks in accept() on
        # still accepting; shutdown() wakes that thread and closes the port.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
