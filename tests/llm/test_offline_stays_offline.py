"""With no LLM configured nothing changes: the LLM code is not even imported."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys, tempfile
from bot.messages import InboundMessage
from bot.runtime import Runtime
from bot.settings import Settings
from knowledge.entry import FaqEntry

settings = Settings(data_dir=tempfile.mkdtemp(), seed_demo_kb=False, knowledge_recheck_seconds=0)
runtime = Runtime.open(settings)
runtime.faqs.save_many([FaqEntry("hours", ["When are you open?"], answer="Every day, 9:00 to 18:00.")], author="t")
reply = runtime.engine.handle_sync(InboundMessage("test", "u1", "When are you open?", chat_id="u1"))
assert reply.decision == "answer" and runtime.llm is None and runtime.engine.composer is None, reply
llm_roots = ("langchain", "langchain_core", "langchain_openai", "openai")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in llm_roots or m.startswith("bot.llm"))
print("LOADED:" + ",".join(loaded))
"""


def test_without_llm_settings_answering_never_imports_langchain_openai_or_bot_llm(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # no LLM_* or EMBEDDINGS_* from the caller's environment
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "LOADED:"
