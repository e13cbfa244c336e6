"""One llama.cpp measurement for crates/llm/benches/generate.rs, in a process of its own.

Usage: python llm_llama_cpp.py MODEL.gguf SPEC.json, with llama-cpp-python (scripts/bench.sh llm
builds it). SPEC holds the prompt as our chat template rendered it, our ids for it, the text
that follows the first answer in the follow-up conversation, the number of tokens to generate
and the thread count. Loads the model, warms up with a short generation, then:
- cold: the context reset, the prompt evaluated, `tokens` generated greedily (temperature 0,
  top-k 1, no repetition penalty), ending early only at the end of the turn;
- follow-up: the prompt, this answer and the follow-up text, generated with the context kept,
  so llama.cpp reuses the longest common prefix of its tokens; timed to the first token.
Prints one line `RESULT {json}`: prompt and decode tokens/s from llama.cpp's own counters
(the first generated token's time is the prompt's: n_eval counts the tokens after it), the times
to the first token, and the peak RSS of this process.
"""

import json
import resource
import sys
import time

import llama_cpp
from llama_cpp import Llama


def generate(llm, tokens, limit):
    """Greedy generation: (the tokens, seconds to the first one). Ends at the end of turn."""
    started = time.perf_counter()
    first = None
    out = []
    for token in llm.generate(tokens, temp=0.0, top_k=1, repeat_penalty=1.0, reset=True):
        if first is None:
            first = time.perf_counter() - started
        if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
            break
        out.append(token)
        if len(out) >= limit:
            break
    return out, first


def main():
    gguf, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    threads = spec["threads"]
    llm = Llama(
        model_path=gguf,
        n_ctx=2048,
        n_batch=512,
        n_threads=threads,
        n_threads_batch=threads,
        seed=0,
        verbose=False,
    )
    ids = llm.tokenize(spec["prompt"].encode(), add_bos=False, special=True)

    generate(llm, ids, 8)
    llm.reset()
    llama_cpp.llama_perf_context_reset(llm.ctx)
    answer, ttft_cold = generate(llm, ids, spec["tokens"])
    perf = llama_cpp.llama_perf_context(llm.ctx)
    text = llm.detokenize(answer).decode("utf-8", errors="replace")

    follow = llm.tokenize((spec["prompt"] + text + spec["followup_suffix"]).encode(), add_bos=False, special=True)
    llama_cpp.llama_perf_context_reset(llm.ctx)
    _, ttft_followup = generate(llm, follow, 1)
    follow_perf = llama_cpp.llama_perf_context(llm.ctx)

    result = {
        "same_ids": ids == spec["ids"],
        "prompt_tokens": len(ids),
        "generated": len(answer),
        "prompt_tps": perf.n_p_eval / (perf.t_p_eval_ms / 1e3),
        "decode_tps": perf.n_eval / (perf.t_eval_ms / 1e3) if perf.n_eval else float("nan"),
        "ttft_cold_ms": ttft_cold * 1e3,
        "followup_prompt_tokens": len(follow),
        "followup_evaluated": follow_perf.n_p_eval,
        "ttft_followup_ms": ttft_followup * 1e3,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "answer": text,
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
