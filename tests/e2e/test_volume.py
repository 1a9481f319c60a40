"""Several GiB each way through a CONNECT tunnel, over the splice path and
the forced copy path: the sink counts what arrived, the client counts what
came back, and the audit record must say the same (issue 5)."""

import os
import socket
import subprocess
import unittest

from harness import Proxy, read_http_response

LOADGEN = os.environ.get("CHOKEPOINT_LOADGEN", "build/bench/loadgen")
GIB = 1 << 30
SIZE = 3 * GIB + 12345  # several GiB, and not a round number


class VolumeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = subprocess.Popen([LOADGEN, "sink", "--listen", "127.0.0.1:0", "--threads", "1"],
                                    stdout=subprocess.PIPE, text=True)
        cls.sink_port = int(cls.sink.stdout.readline())

    @classmethod
    def tearDownClass(cls):
        cls.sink.kill()
        cls.sink.wait()

    def tunnel(self, proxy):
        sock = proxy.connect()
        sock.sendall(b"CONNECT files.trendmicro.com:443 HTTP/1.1\r\n\r\n")
        self.assertEqual(read_http_response(sock)[0], 200)
        return sock

    def both_ways(self, relay):
        proxy = Proxy("--relay", relay, "--connect-to", "::127.0.0.1:%d" % self.sink_port)
        try:
            # Up: 'U', then SIZE bytes, then our FIN; the sink answers with its count.
            sock = self.tunnel(proxy)
            chunk = bytes(range(256)) * 4096
            sock.sendall(b"U")
            left = SIZE
            while left:
                n = sock.send(chunk[:min(left, len(chunk))])
                left -= n
            sock.shutdown(socket.SHUT_WR)
            answer = b""
            while len(answer) < 8:
                part = sock.recv(8 - len(answer))
                if not part:
                    break
                answer += part
            sock.close()
            self.assertEqual(int.from_bytes(answer, "little"), SIZE)
            # Down: 'D' and a count; the sink sends exactly that many bytes and closes.
            sock = self.tunnel(proxy)
            sock.sendall(b"D" + SIZE.to_bytes(8, "little"))
            got = 0
            buffer = bytearray(1 << 20)
            while True:
                n = sock.recv_into(buffer)
                if not n:
                    break
                got += n
            sock.close()
            self.assertEqual(got, SIZE)
            closes = proxy.wait_records(lambda r: r["event"] == "close", 2, timeout=10)
            self.assertEqual(sorted(r["bytes_up"] for r in closes), [9, SIZE + 1])
            self.assertEqual(sorted(r["bytes_down"] for r in closes), [8, SIZE])
            self.assertTrue(all(r["relay"] == relay.replace("auto", "splice") for r in closes))
        finally:
            proxy.stop()

    def test_splice_path(self):
        self.both_ways("auto")

    def test_copy_path(self):
        self.both_ways("copy")


if __name__ == "__main__":
    unittest.main()
