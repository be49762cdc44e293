//! The model-scan rules (`PLS-MDL-1xx`; `PLS-MDL-0xx` is left to signing
//! and verification). Each finding names one of these.

use palisade_core::{References, RuleMeta, Severity};

const CATEGORY: &str = "model-supply-chain";

const PICKLE_REFS: References = References {
    owasp_llm: &["LLM03:2025"],
    mitre: &["AML.T0011.000", "AML.T0010.003"],
    links: &[
        "https://docs.python.org/3/library/pickle.html#restricting-globals",
        "https://pytorch.org/docs/stable/generated/torch.load.html",
    ],
    ..References::NONE
};

const FORMAT_REFS: References = References {
    owasp_llm: &["LLM03:2025"],
    mitre: &["AML.T0010.003"],
    ..References::NONE
};

/// A pickle imports a global known to execute code or reach the system.
pub static DANGEROUS_GLOBAL: RuleMeta = RuleMeta {
    id: "PLS-MDL-101",
    title: "Pickle imports a dangerous callable",
    severity: Severity::Critical,
    category: CATEGORY,
    rationale: "Unpickling imports every global the stream names and calls what REDUCE, NEWOBJ, OBJ, INST and BUILD ask for; a global such as os.system, builtins.eval or importlib.import_module runs the file author's code on the machine that loads the model.",
    remediation: "Do not load this file. Obtain the model in safetensors (or GGUF, ONNX) from a trusted publisher, or load pickles only with torch.load(weights_only=True) after verifying the publisher's signature.",
    references: PICKLE_REFS,
};

/// A pickle imports a global outside the allowlist of checkpoint globals.
pub static UNLISTED_GLOBAL: RuleMeta = RuleMeta {
    id: "PLS-MDL-102",
    title: "Pickle imports a global outside the checkpoint allowlist",
    severity: Severity::High,
    category: CATEGORY,
    rationale: "Standard PyTorch and NumPy checkpoints reference only tensor and array rebuild helpers, storages and OrderedDict. Any other global imports a module of the author's choosing, whose import and call can run arbitrary code; deny lists of dangerous names have been bypassed again and again.",
    remediation: "Review the named global. If the model needs it, convert the model to safetensors; otherwise treat the file as untrusted.",
    references: PICKLE_REFS,
};

/// The global's name is computed while loading, so no scanner can know it.
pub static DYNAMIC_GLOBAL: RuleMeta = RuleMeta {
    id: "PLS-MDL-103",
    title: "Pickle global cannot be resolved statically",
    severity: Severity::Critical,
    category: CATEGORY,
    rationale: "STACK_GLOBAL fed by values computed at load time (the result of a call), or an EXT extension code, names a callable that only the loading interpreter knows; this is how scanner allowlists are evaded.",
    remediation: "Do not load this file.",
    references: PICKLE_REFS,
};

/// BUILD sets attributes on an imported module object or class.
pub static STATE_ON_GLOBAL: RuleMeta = RuleMeta {
    id: "PLS-MDL-104",
    title: "Pickle rewrites an imported object's attributes",
    severity: Severity::Critical,
    category: CATEGORY,
    rationale: "BUILD applied to an imported global (not to an instance) sets attributes on a module-level object; it is used to swap in dangerous callables behind allowlisted names.",
    remediation: "Do not load this file.",
    references: PICKLE_REFS,
};

/// The pickle stream is malformed.
pub static MALFORMED_PICKLE: RuleMeta = RuleMeta {
    id: "PLS-MDL-105",
    title: "Malformed pickle stream",
    severity: Severity::Medium,
    category: CATEGORY,
    rationale: "The unpickler executes opcodes as it reads them: a stream that breaks after a payload still runs the payload, and breaking the stream is a known way to make scanners give up. Everything up to the break was scanned.",
    remediation: "Treat the file as untrusted; re-export it from its source.",
    references: PICKLE_REFS,
};

/// A scanner limit was reached; the rest of the stream was not analysed.
pub static LIMIT_EXCEEDED: RuleMeta = RuleMeta {
    id: "PLS-MDL-106",
    title: "Model scan limit exceeded",
    severity: Severity::High,
    category: CATEGORY,
    rationale: "Stack, memo, nesting and size limits keep the scan bounded on hostile input. When one is reached the scan fails closed: what follows is not analysed.",
    remediation: "Inspect the file by other means or convert it to safetensors.",
    references: PICKLE_REFS,
};

/// The file uses a format that can execute code when loaded.
pub static PICKLE_FORMAT: RuleMeta = RuleMeta {
    id: "PLS-MDL-107",
    title: "Model uses a pickle-based format",
    severity: Severity::Info,
    category: CATEGORY,
    rationale: "Pickle-based formats (PyTorch .pt/.bin, joblib, NumPy object arrays) can run code when loaded; this one references only allowlisted globals.",
    remediation: "Prefer safetensors; load with torch.load(weights_only=True).",
    references: PICKLE_REFS,
};

/// Archive structure that loaders tolerate but tools disagree about.
pub static ARCHIVE_ANOMALY: RuleMeta = RuleMeta {
    id: "PLS-MDL-121",
    title: "Archive structure anomaly",
    severity: Severity::Medium,
    category: CATEGORY,
    rationale: "Bad CRCs, encryption and patch flag bits, names that differ between the local and central headers and entries outside the file make Python's zipfile (and scanners built on it) fail while PyTorch's reader loads the archive anyway.",
    remediation: "Re-create the archive with the framework's own writer; treat an archive crafted this way as hostile.",
    references: FORMAT_REFS,
};

/// A container this scanner cannot open.
pub static UNSCANNED_CONTAINER: RuleMeta = RuleMeta {
    id: "PLS-MDL-122",
    title: "Compressed container not scanned",
    severity: Severity::Medium,
    category: CATEGORY,
    rationale: "The file is compressed with a method this scanner does not decode (xz, bz2, lz4, 7z) and may hold a pickle.",
    remediation: "Decompress it and scan the result.",
    references: FORMAT_REFS,
};

/// A NumPy array of dtype object: loading it unpickles.
pub static NUMPY_OBJECT: RuleMeta = RuleMeta {
    id: "PLS-MDL-131",
    title: "NumPy array with object dtype",
    severity: Severity::Medium,
    category: CATEGORY,
    rationale: "An object array is stored as a pickle and needs numpy.load(allow_pickle=True), which runs any code the pickle names. The pickle itself is scanned and reported separately.",
    remediation: "Store numeric arrays; load with allow_pickle=False.",
    references: PICKLE_REFS,
};

/// A malformed .npy header or body.
pub static NUMPY_MALFORMED: RuleMeta = RuleMeta {
    id: "PLS-MDL-132",
    title: "Malformed NumPy array file",
    severity: Severity::Medium,
    category: CATEGORY,
    rationale: "The .npy header does not parse or does not match the data that follows.",
    remediation: "Re-export the array with numpy.save.",
    references: FORMAT_REFS,
};

/// A Keras Lambda layer or serialized Python function.
pub static KERAS_LAMBDA: RuleMeta = RuleMeta {
    id: "PLS-MDL-141",
    title: "Keras model contains a Lambda layer or Python function",
    severity: Severity::Critical,
    category: CATEGORY,
    rationale: "A Lambda layer stores marshalled Python bytecode in config.json; loading with safe_mode=False (or an older Keras, CVE-2024-3660) executes it.",
    remediation: "Replace Lambda layers with built-in or registered layers; never load with safe_mode=False.",
    references: FORMAT_REFS,
};

/// A Keras config naming modules outside Keras.
pub static KERAS_MODULE: RuleMeta = RuleMeta {
    id: "PLS-MDL-142",
    title: "Keras model imports a module outside Keras",
    severity: Severity::High,
    category: CATEGORY,
    rationale: "config.json's module and registered_name fields make the loader import modules and instantiate custom objects; a module outside keras runs its code on load (CVE-2025-1550).",
    remediation: "Use only built-in Keras objects, or review and pin the package that provides the custom objects.",
    references: FORMAT_REFS,
};

/// A safetensors file that a strict reader rejects.
pub static SAFETENSORS_MALFORMED: RuleMeta = RuleMeta {
    id: "PLS-MDL-151",
    title: "Malformed safetensors file",
    severity: Severity::High,
    category: CATEGORY,
    rationale: "Readers differ on duplicate keys, overlapping or gapped offsets, overflowing shapes and trailing bytes; such a file makes two loaders see different weights, or crashes lenient ones.",
    remediation: "Re-export the weights with the safetensors library.",
    references: FORMAT_REFS,
};

/// A GGUF file that fails bounds checks.
pub static GGUF_MALFORMED: RuleMeta = RuleMeta {
    id: "PLS-MDL-161",
    title: "Malformed GGUF file",
    severity: Severity::High,
    category: CATEGORY,
    rationale: "Lengths and counts larger than the file drove heap overflows in GGUF loaders (CVE-2024-21825, CVE-2024-21836 and others in llama.cpp's gguf parser).",
    remediation: "Re-convert the model with a current llama.cpp; treat a file crafted this way as hostile.",
    references: FORMAT_REFS,
};

/// A chat template with server-side template injection.
pub static GGUF_TEMPLATE: RuleMeta = RuleMeta {
    id: "PLS-MDL-162",
    title: "Chat template contains Jinja template injection",
    severity: Severity::Critical,
    category: CATEGORY,
    rationale: "tokenizer.chat_template is rendered with Jinja2 by servers such as llama-cpp-python; attribute walks like cycler.__init__.__globals__.os.popen escape the template into Python (CVE-2024-34359).",
    remediation: "Replace the template with the publisher's original; render templates in a sandboxed environment.",
    references: FORMAT_REFS,
};

/// An ONNX external-data location outside the model folder.
pub static ONNX_EXTERNAL: RuleMeta = RuleMeta {
    id: "PLS-MDL-171",
    title: "ONNX external data escapes the model folder",
    severity: Severity::Critical,
    category: CATEGORY,
    rationale: "TensorProto.external_data names a file that the runtime reads into the tensor; an absolute path, `..` or a symlink out of the model folder reads arbitrary files (CVE-2022-25882, CVE-2024-27318).",
    remediation: "Keep external data files next to the model with plain relative names.",
    references: FORMAT_REFS,
};

/// An ONNX model that does not parse, or external data that is missing.
pub static ONNX_MALFORMED: RuleMeta = RuleMeta {
    id: "PLS-MDL-172",
    title: "Malformed ONNX model or missing external data",
    severity: Severity::Medium,
    category: CATEGORY,
    rationale: "The protobuf does not parse, or external data is missing or shorter than the offset and length it claims.",
    remediation: "Re-export the model with onnx.save_model.",
    references: FORMAT_REFS,
};

/// Every model-scan rule, for SARIF and the docs.
pub static ALL: &[&RuleMeta] = &[
    &DANGEROUS_GLOBAL,
    &UNLISTED_GLOBAL,
    &DYNAMIC_GLOBAL,
    &STATE_ON_GLOBAL,
    &MALFORMED_PICKLE,
    &LIMIT_EXCEEDED,
    &PICKLE_FORMAT,
    &ARCHIVE_ANOMALY,
    &UNSCANNED_CONTAINER,
    &NUMPY_OBJECT,
    &NUMPY_MALFORMED,
    &KERAS_LAMBDA,
    &KERAS_MODULE,
    &SAFETENSORS_MALFORMED,
    &GGUF_MALFORMED,
    &GGUF_TEMPLATE,
    &ONNX_EXTERNAL,
    &ONNX_MALFORMED,
];

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_unique_and_prefixed() {
        let mut ids: Vec<_> = super::ALL.iter().map(|r| r.id).collect();
        assert!(ids.iter().all(|id| id.starts_with("PLS-MDL-1")));
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }
}
