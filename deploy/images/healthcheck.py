"""Every Settle image's HEALTHCHECK: `settle-healthcheck URL [--token-file FILE] [--json-key KEY]`, exit 0 when
URL answers 200 (and, with --json-key, a JSON body whose KEY is set: Rasa's /status names its model_id only once a
model is loaded). The standard library only, so that it runs in every image. --token-file adds Rasa's
`?token=` (its API takes the token only there); the token stays out of the HEALTHCHECK's command line."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
import urllib.request


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--token-file", help="add ?token=<the file's content> to the URL")
    parser.add_argument("--json-key", help="the JSON answer must have this key set")
    args = parser.parse_args()
    url = args.url
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as handle:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"token": handle.read().strip()})
    request = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 (a URL of our own)
            body = response.read()
            if response.status != 200:
                print(f"{args.url}: HTTP {response.status}", file=sys.stderr)
                return 1
    except OSError as exc:
        print(f"{args.url}: {exc}", file=sys.stderr)
        return 1
    if args.json_key and not json.loads(body or b"{}").get(args.json_key):
        print(f"{args.url}: no {args.json_key} yet", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
