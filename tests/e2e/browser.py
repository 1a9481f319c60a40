"""Debian's headless Chromium, for the tests that load a page as a person
would: a fresh profile, no background traffic, no network but what the page
names (the admin endpoint on loopback, or a file)."""

import os
import shutil
import subprocess
import tempfile

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def chromium(*args, timeout=120):
    if not os.path.exists(CHROMIUM):
        raise AssertionError("chromium is not installed (tests/run-all.sh installs Debian's package)")
    profile = tempfile.mkdtemp(prefix="chokepoint-chromium-")
    try:
        return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                               "--disable-background-networking", "--disable-component-update",
                               "--disable-sync", "--no-first-run", "--hide-scrollbars",
                               "--user-data-dir=" + profile, *args],
                              capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(test, url, name, size="1280,1150"):
    """Takes a PNG of `url`. It goes to $CHOKEPOINT_SCREENSHOTS/`name` when that
    is set (how the README's pictures in docs/ are made), else to a temporary
    file: a test run never writes into the source tree."""
    directory = os.environ.get("CHOKEPOINT_SCREENSHOTS") or tempfile.mkdtemp(prefix="chokepoint-shot-")
    os.makedirs(directory, exist_ok=True)
    shot = os.path.join(directory, name)
    taken = chromium("--screenshot=" + shot, "--window-size=" + size, url)
    test.assertEqual(taken.returncode, 0, taken.stderr[-2000:])
    with open(shot, "rb") as f:
        test.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
    return shot
