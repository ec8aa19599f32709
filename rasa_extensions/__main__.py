"""`python -m rasa_extensions <rasa arguments>`: the `rasa` command with Settle's speedups (speedups.py) applied
first. bot/stack.py starts the Rasa server this way; plain `rasa run` still works, only slower."""

from __future__ import annotations

import sys

from rasa_extensions import speedups

if __name__ == "__main__":
    speedups.apply()
    speedups.serving_gc()
    from rasa.__main__ import main

    sys.argv[0] = "rasa"
    sys.exit(main())
