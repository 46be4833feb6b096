"""argparse whose usage errors are `{"error": ...}` on stderr when `--json` was asked, with
argparse's exit code 2 either way."""

from __future__ import annotations

import argparse
import json
import sys
from typing import NoReturn

from adapters.console.exit_codes import EXIT_USAGE


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        if "--json" in sys.argv[1:]:
            print(json.dumps({"error": message}), file=sys.stderr)
            sys.exit(EXIT_USAGE)
        super().error(message)  # usage and the message, exit 2
