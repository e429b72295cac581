"""One server for the in-chat data-rights tests of this package: web chat, Telegram and WeChat against their fake
APIs, a Slack desk against the local Slack recorder, and every log line a default deployment writes in a file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.http_app import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from tests.adapters.telegram_fake import TOKEN, WEBHOOK_SECRET
from tests.adapters.wechat_fake import SAMPLE_APP_ID, SAMPLE_TOKEN
from tests.handoff.slack_api import SIGNING_SECRET, SlackApiRecorder
from tests.privacy.helpers import PUBLIC_URL, SLACK_CHANNEL, LoggedServer


def channel_settings(data_dir: Path, fake_telegram, fake_wechat, slack_api_base_url: str, **extra) -> Settings:
    return Settings(
        data_dir=data_dir,
        telegram_bot_token=TOKEN,
        telegram_webhook_secret=WEBHOOK_SECRET,
        telegram_api_base_url=fake_telegram.url,
        wechat_token=SAMPLE_TOKEN,
        wechat_app_id=SAMPLE_APP_ID,
        wechat_app_secret="app-secret",
        wechat_api_base_url=fake_wechat.url,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SIGNING_SECRET,
        slack_handoff_channel=SLACK_CHANNEL,
        slack_api_base_url=slack_api_base_url,
        public_url=PUBLIC_URL,
        privacy_check_seconds=0.1,
        knowledge_recheck_seconds=0,
        **extra,
    )


@pytest.fixture(scope="package")
def slack_api() -> Iterator[SlackApiRecorder]:
    recorder = SlackApiRecorder().start()
    yield recorder
    recorder.stop()


@pytest.fixture(scope="package")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("privacy-data")


@pytest.fixture(scope="package")
def log_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("privacy-logs") / "server.log"


@pytest.fixture(scope="package")
def runtime(data_dir, fake_telegram, fake_wechat, slack_api) -> Iterator[Runtime]:
    runtime = Runtime.open(channel_settings(data_dir, fake_telegram, fake_wechat, slack_api.base_url))
    yield runtime
    runtime.close()


@pytest.fixture(scope="package")
def server(runtime, log_file) -> Iterator[LoggedServer]:
    server = LoggedServer(create_app(runtime), log_file, runtime.settings.log_level)
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh_fakes(fake_telegram, fake_wechat):
    fake_telegram.reset()
    fake_wechat.reset()
