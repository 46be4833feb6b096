"""Make the README's two pictures from `pictures/`: the composed sheet and a frame of its video.

Run from the project's root, after `./scripts/try` has installed the bot:
`.venv/bin/python examples/make_readme_pictures.py`. It runs `ltxbot sheet` and `ltxbot
generate` exactly as the README shows them, on a throw-away data directory, through the
simulated fal (no FAL_KEY: nothing is charged), then saves the middle frame of the video.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import av

HERE = Path(__file__).parent
NAMES = ("chef", "copper-pan", "basil", "kitchen")
PICTURES = [HERE / "pictures" / f"{name}.png" for name in NAMES]
LABELS = ["a chef in a white jacket", "a copper pan", "fresh basil", "a bright studio kitchen"]
KINDS = ["character", "prop", "prop", "location"]
PROMPT = "the chef tosses pasta in the copper pan, steam rising, cinematic food commercial"
LTXBOT = Path(sys.executable).with_name("ltxbot")


def sheet_args() -> list[str]:
    args: list[str] = []
    for picture, label, kind in zip(PICTURES, LABELS, KINDS, strict=True):
        args += ["--sheet", str(picture), "--label", label, "--kind", kind]
    return args


def main() -> None:
    with tempfile.TemporaryDirectory() as data:
        env = {k: v for k, v in os.environ.items() if k not in {"FAL_KEY", "LTXBOT_FAL_KEY"}}
        env.update(LTXBOT_DATA_DIR=data, LTXBOT_BACKEND="simulated")
        sheet = HERE / "composed-sheet.png"
        pictures = [str(p) for p in PICTURES]
        labels = [a for label in LABELS for a in ("--label", label)]
        kinds = [a for kind in KINDS for a in ("--kind", kind)]
        run = [str(LTXBOT), "sheet", *pictures, *labels, *kinds, "--out", str(sheet), "--force"]
        subprocess.run(run, env=env, check=True)
        video = Path(data) / "example.mp4"
        generate = [str(LTXBOT), "generate", *sheet_args(), "--prompt", PROMPT, "--out", str(video)]
        subprocess.run(generate, env=env, check=True, stdout=subprocess.DEVNULL)
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            middle = (stream.frames or 121) // 2
            for number, frame in enumerate(container.decode(stream)):
                if number == middle:
                    frame.to_image().save(HERE / "composed-frame.jpg", quality=82)
                    break
    print(f"wrote {sheet} and {HERE / 'composed-frame.jpg'}")


if __name__ == "__main__":
    main()
