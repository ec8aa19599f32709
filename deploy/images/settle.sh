#!/bin/sh
# `settle <command>` in the app images: Settle's command line (`python -m bot`), as bin/settle is in a checkout.
exec python -m bot "$@"
