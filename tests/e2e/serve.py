"""Starts upstream servers for the namespace tests (run inside a namespace
with `ip netns exec`): serve.py [tls|plain|echo ADDR PORT NAME]... Prints
"ready" once every server listens, then serves until killed."""

import sys
import time

from harness import EchoUpstream, HttpUpstream

servers = []
args = sys.argv[1:]
while args:
    kind, address, port, name = args[:4]
    args = args[4:]
    if kind == "echo":
        servers.append(EchoUpstream())
    else:
        servers.append(HttpUpstream(tls=(kind == "tls"), address=(address, int(port)), name=name))
print("ready", flush=True)
while True:
    time.sleep(3600)
