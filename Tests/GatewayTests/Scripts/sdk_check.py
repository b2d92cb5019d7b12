"""The official openai and anthropic clients against the Gateway, unchanged but for the base URL.

Usage: sdk_check.py BASE_URL API_KEY. Prints what each call gave and exits non-zero on the first surprise.
"""
import sys

import anthropic
import openai

base, key = sys.argv[1], sys.argv[2]


def check(what, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + what + (f": {detail}" if detail else ""), flush=True)
    if not condition:
        sys.exit(1)


client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
models = [m.id for m in client.models.list()]
check("openai models.list", "local-writer" in models, models)
answer = client.chat.completions.create(
    model="local-writer",
    messages=[{"role": "system", "content": "You write short notes."}, {"role": "user", "content": "A note about bread"}],
)
check("openai chat, whole", bool(answer.choices[0].message.content), answer.choices[0].message.content[:60])
check("openai usage", answer.usage.completion_tokens > 0, answer.usage)
pieces = []
usage = None
for chunk in client.chat.completions.create(
    model="local-writer", messages=[{"role": "user", "content": "A note about cake"}], stream=True,
    stream_options={"include_usage": True},
):
    if chunk.choices and chunk.choices[0].delta.content:
        pieces.append(chunk.choices[0].delta.content)
    if chunk.usage:
        usage = chunk.usage
check("openai chat, streamed in pieces", len(pieces) > 1 and "".join(pieces).strip() != "", len(pieces))
check("openai streamed usage", usage is not None and usage.completion_tokens > 0, usage)
try:
    client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    check("openai unknown model refused", False)
except openai.NotFoundError as error:
    check("openai unknown model refused", "no-such-model" in str(error), error)
try:
    openai.OpenAI(base_url=base + "/v1", api_key="aiwf_wrong", max_retries=0).models.list()
    check("openai wrong key refused", False)
except openai.AuthenticationError:
    check("openai wrong key refused", True)

claude = anthropic.Anthropic(base_url=base, api_key=key, max_retries=0)
message = claude.messages.create(
    model="local-writer", max_tokens=200, system="You write short notes.", messages=[{"role": "user", "content": "A note about rye"}]
)
check("anthropic messages, whole", message.content[0].text != "", message.content[0].text[:60])
check("anthropic usage", message.usage.output_tokens > 0, message.usage)
texts = []
with claude.messages.stream(model="local-writer", max_tokens=200, messages=[{"role": "user", "content": "A note about spelt"}]) as stream:
    for text in stream.text_stream:
        texts.append(text)
    final = stream.get_final_message()
check("anthropic messages, streamed in pieces", len(texts) > 1, len(texts))
check("anthropic final message", final.stop_reason == "end_turn" and final.usage.output_tokens > 0, final.usage)
check("anthropic models.list", "local-writer" in [m.id for m in claude.models.list()])
try:
    claude.messages.create(model="local-writer", max_tokens=0, messages=[{"role": "user", "content": "x"}])
    check("anthropic bad max_tokens refused", False)
except anthropic.BadRequestError:
    check("anthropic bad max_tokens refused", True)
try:
    anthropic.Anthropic(base_url=base, api_key="aiwf_wrong", max_retries=0).messages.create(
        model="local-writer", max_tokens=10, messages=[{"role": "user", "content": "x"}]
    )
    check("anthropic wrong key refused", False)
except anthropic.AuthenticationError:
    check("anthropic wrong key refused", True)
print("all checks passed")
