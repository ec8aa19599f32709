"""`python -m rasa_extensions <rasa arguments>`: the `rasa` command with Settle's speedups (speedups.py) and the
action-call retry (action_retry.py) applied first. bot/stack.py starts the Rasa server this way; plain `rasa run`
still works, only slower and without the retry.

The API token comes from RASA_TOKEN or RASA_TOKEN_FILE (auth.py) and is added to `run`'s arguments here, in the
process, so that it is not on the command line other local users can read."""

from __future__ import annotations

import sys

from rasa_extensions import action_retry, auth, speedups

if __name__ == "__main__":
    speedups.apply()
    speedups.serving_gc()
    action_retry.apply()  # a lost action call is sent again (the action journal dedupes it)
    from rasa.__main__ import main

    sys.argv[0] = "rasa"
    sys.argv = auth.with_token(sys.argv, auth.api_token())
    sys.exit(main())
