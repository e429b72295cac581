"""`run.py emotion ...`: tag one text, or a JSONL batch, the way the engine tags customer messages."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from adapters.cli.errors import UsageError, plural
from bot.emotion import default_tagger
from bot.emotion.batch import tag_batch
from bot.settings import Settings
from knowledge.embedder import shared_embedder


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("emotion", help="tag the emotion of a text or of a JSONL batch")
    p.add_argument("text", nargs="?")
    p.add_argument("--batch", type=Path, help='JSONL file with a "text" field per line')
    p.add_argument("--out", type=Path, help="where the batch results go (JSONL, same order)")
    p.set_defaults(handler=emotion)


def emotion(settings: Settings, args: argparse.Namespace) -> int:
    if args.batch and not args.out:
        raise UsageError("--batch needs --out")
    if args.batch and not args.batch.is_file():
        raise UsageError(f"no such file: {args.batch}")
    if not args.batch and args.text is None:
        raise UsageError("give a text, or --batch IN.jsonl --out OUT.jsonl")
    shared_embedder(settings.embed_threads)  # the tagger embeds with the process's one model
    tagger = default_tagger()
    if args.batch:
        count = tag_batch(tagger, args.batch, args.out)
        print(f"tagged {plural(count, 'text')} into {args.out}")
        return 0
    tag = tagger.tag(args.text)
    print(
        json.dumps(
            {
                "text": args.text,
                "emotion": tag.label,
                "intensity": round(tag.intensity, 3),
                "signals": list(tag.signals),
            },
            ensure_ascii=False,
        )
    )
    return 0
