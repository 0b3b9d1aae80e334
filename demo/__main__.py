"""`python -m demo`: the same as `ephemera demo` (make demo)."""

from __future__ import annotations

import sys

from commands import main

if __name__ == "__main__":
    raise SystemExit(main(["demo", *sys.argv[1:]]))
