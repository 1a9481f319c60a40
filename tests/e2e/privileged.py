"""Runs a test module that needs network namespaces, or exits 77 (CTest's
SKIP_RETURN_CODE) with the reason when this machine cannot make them.
CI runs as root and must not skip: CHOKEPOINT_REQUIRE_PRIVILEGED=1 turns
the skip into a failure."""

import os
import sys
import unittest

import netns

why = netns.available()
if why:
    print("SKIPPED: " + why, flush=True)
    sys.exit(1 if os.environ.get("CHOKEPOINT_REQUIRE_PRIVILEGED") == "1" else 77)
program = unittest.main(module=sys.argv[1], argv=[sys.argv[0], "-v"], exit=False)
sys.exit(0 if program.result.wasSuccessful() else 1)
