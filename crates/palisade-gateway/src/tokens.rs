//! Token estimates for reservations, with tiktoken's offline vocabularies
//! (`o200k_base` for GPT-4o-era and unknown models, `cl100k_base` for
//! GPT-4/3.5). Open models use other tokenizers; the estimate then differs by
//! a few percent, which settlement with the upstream's `usage` corrects.

use crate::openai::ParsedRequest;
use tiktoken_rs::CoreBPE;

/// Tokens OpenAI adds per chat message (role and separators).
const PER_MESSAGE: u64 = 4;
/// Tokens that prime the assistant's reply.
const REPLY_PRIMING: u64 = 3;

/// The vocabulary used for a model.
fn bpe_for(model: &str) -> &'static CoreBPE {
    let m = model.to_ascii_lowercase();
    if m.starts_with("gpt-4-")
        || m == "gpt-4"
        || m.starts_with("gpt-3.5")
        || m.contains("embedding-ada")
        || m.starts_with("text-embedding-3")
    {
        tiktoken_rs::cl100k_base_singleton()
    } else {
        tiktoken_rs::o200k_base_singleton()
    }
}

/// Loads the vocabularies now instead of on the first request.
pub fn warm_up() {
    let _ = tiktoken_rs::o200k_base_singleton();
    let _ = tiktoken_rs::cl100k_base_singleton();
}

/// Counts the tokens of a text.
pub fn count(model: &str, text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    bpe_for(model).encode_ordinary(text).len() as u64
}

/// Estimates the prompt tokens of a request.
pub fn estimate_prompt(req: &ParsedRequest) -> u64 {
    let bpe = bpe_for(&req.model);
    let mut n = req.pretokenized;
    for (_, t) in &req.texts {
        if !t.is_empty() {
            n += bpe.encode_ordinary(t).len() as u64;
        }
    }
    if req.messages > 0 {
        n += req.messages * PER_MESSAGE + REPLY_PRIMING;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::Endpoint;

    #[test]
    fn counts_like_openai() {
        // "hello world" is two tokens in both vocabularies.
        assert_eq!(count("gpt-4o", "hello world"), 2);
        assert_eq!(count("gpt-4-turbo", "hello world"), 2);
        assert_eq!(count("llama", ""), 0);
        let r = ParsedRequest::parse(
            Endpoint::ChatCompletions,
            br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hello world"}]}"#,
        )
        .unwrap();
        assert_eq!(estimate_prompt(&r), 2 + PER_MESSAGE + REPLY_PRIMING);
    }
}
