"""Warmdesk command line: `python run.py --help` lists everything."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from adapters.cli import care as care_commands
from adapters.cli import customer as customer_commands
from adapters.cli import emotion as emotion_commands
from adapters.cli import insights as insights_commands
from adapters.cli import kb as kb_commands
from adapters.cli import llm as llm_commands
from adapters.cli import outbox as outbox_commands
from adapters.cli import segments as segment_commands
from adapters.cli import staff as staff_commands
from bot.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = Settings(**({"data_dir": args.data_dir} if args.data_dir is not None else {}))
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if logging.getLogger().level > logging.DEBUG:  # Alembic says which dialect it uses on every single command
        logging.getLogger("alembic").setLevel(logging.WARNING)
        _quiet_jieba()
    from adapters.cli.errors import UsageError
    from bot.business import BusinessFileError
    from bot.emotion.batch import BatchInputError
    from bot.runtime import DataDirError
    from knowledge.io import UnsupportedFormat
    from storage.db import DatabaseUnavailable

    try:
        status = args.handler(settings, args)
        sys.stdout.flush()  # inside the try: a closed pipe shows up on this flush
        return status
    except (BusinessFileError, UsageError, UnsupportedFormat) as error:  # a mistake the user can fix
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BatchInputError as error:
        for number, problem in error.problems:
            print(f"{args.batch}:{number}: {problem}", file=sys.stderr)
        print(f"error: nothing tagged: {len(error.problems)} line(s) without a text", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as error:
        print(f"error: {error.strerror.lower()}: {error.filename}", file=sys.stderr)
        return 2
    except (DataDirError, DatabaseUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as the Python docs advise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _quiet_jieba() -> None:
    """jieba prints "Building prefix dict..." at DEBUG on stderr through its own handler, whatever the root says."""
    try:
        import jieba
    except ImportError:
        return
    jieba.setLogLevel(logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run.py", description="Warmdesk: a bilingual customer-service assistant.")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder for the SQLite file and the Chroma index (default ./data, env WARMDESK_DATA_DIR)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="start the web server (web chat on / , GET /healthz)")
    serve.add_argument("--host", help="default 127.0.0.1 (env WARMDESK_HOST)")
    serve.add_argument("--port", type=int, help="default 8000 (env WARMDESK_PORT)")
    serve.add_argument(
        "--telegram-polling",
        action="store_true",
        help="fetch Telegram updates by long polling instead of the webhook (development; needs TELEGRAM_BOT_TOKEN)",
    )
    serve.set_defaults(handler=serve_command)

    chat = commands.add_parser("chat", help="chat with the bot in this terminal as a customer")
    chat.add_argument("--customer", default="console-user", help="who you are (default console-user)")
    chat.set_defaults(handler=chat_command)

    kb_commands.register(commands)
    emotion_commands.register(commands)
    customer_commands.register(commands)
    outbox_commands.register(commands)
    staff_commands.register(commands)
    care_commands.register(commands)
    segment_commands.register(commands)
    insights_commands.register(commands)
    llm_commands.register(commands)
    _accept_data_dir_after_commands(parser)
    return parser


def _accept_data_dir_after_commands(parser: argparse.ArgumentParser) -> None:
    """`run.py kb list --data-dir X` works as well as `run.py --data-dir X kb list`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                command.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
                _accept_data_dir_after_commands(command)


def serve_command(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from adapters.http_app import create_app
    from bot.runtime import Runtime

    runtime = Runtime.open(settings)
    host = args.host or settings.host
    port = args.port or settings.port
    logging.getLogger("warmdesk").info("web chat on http://%s:%d/", host, port)
    try:
        app = create_app(runtime, telegram_polling=args.telegram_polling)
        uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower())
    finally:
        runtime.close()
    return 0


def chat_command(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.console import PLATFORM, chat_in_terminal
    from adapters.webchat_mailbox import WebChatMailbox
    from bot.runtime import Runtime

    runtime = Runtime.open(settings)
    mailbox = WebChatMailbox(runtime.db, PLATFORM)
    runtime.outbox.add_sender(PLATFORM, mailbox.sender)
    try:
        asyncio.run(chat_in_terminal(runtime.engine, args.customer, mailbox=mailbox))
    finally:
        runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
