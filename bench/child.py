"""Entry of every measured process: `python -m bench.child KIND PARAMS.json OUT.json`.

KIND is `ours`, `naive` or `holds`. The result is written to OUT.json.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from adapters.app import process

KINDS = {"ours": "bench.ours", "naive": "bench.naive", "holds": "bench.holds"}


def main(argv: list[str]) -> None:
    kind, params_path, out_path = argv
    params: dict[str, Any] = json.loads(Path(params_path).read_text())
    run = importlib.import_module(KINDS[kind]).run
    # Ours on the loop `ltxbot` runs on; the baseline as its quick-start would: asyncio's.
    result = asyncio.run(run(params)) if kind == "naive" else process.run(run(params))
    Path(out_path).write_text(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
