"""The optional LLM mode (README "LLM mode"). Nothing here is imported unless an LLM or an embeddings endpoint is
configured: the runtime imports `bot.llm.wiring` only then, so the offline path never loads langchain or openai."""
