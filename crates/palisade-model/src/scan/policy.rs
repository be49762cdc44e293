//! Which pickle globals are allowed: allowlist first.
//!
//! A global is what `pickle`'s `find_class(module, name)` imports: the module
//! is imported (running its top-level code) and `name` is looked up in it,
//! split at dots for protocol 4 and later. Everything a checkpoint needs to
//! rebuild tensors and arrays is on a short allowlist; everything else is at
//! least high severity, because importing it runs code that the file chooses.
//! Globals known to execute commands, evaluate code, import other modules,
//! touch files or the network are critical, and so is every submodule of a
//! dangerous module (`os.path`, `importlib.util`, `torch._inductor.codecache`).

/// The verdict on one global.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// On the allowlist of globals that standard checkpoints use.
    Safe,
    /// Not on the allowlist: the file imports code of its choosing.
    Unknown,
    /// Known to execute code or reach the system.
    Dangerous(&'static str),
}

/// `(module, names)`: the globals a standard PyTorch, NumPy, joblib or
/// scikit-learn-free checkpoint references. `torch.load(weights_only=True)`
/// allows a similar set.
const SAFE: &[(&str, &[&str])] = &[
    (
        "torch._utils",
        &[
            "_rebuild_tensor",
            "_rebuild_tensor_v2",
            "_rebuild_tensor_v3",
            "_rebuild_parameter",
            "_rebuild_parameter_with_state",
            "_rebuild_qtensor",
            "_rebuild_sparse_tensor",
            "_rebuild_nested_tensor",
            "_rebuild_device_tensor_from_numpy",
            "_rebuild_device_tensor_from_cpu_tensor",
            "_rebuild_meta_tensor_no_storage",
            "_rebuild_wrapper_subclass",
        ],
    ),
    ("torch._tensor", &["_rebuild_from_type_v2"]),
    ("torch.nn.parameter", &["Parameter"]),
    (
        "torch",
        &[
            "FloatStorage",
            "DoubleStorage",
            "HalfStorage",
            "BFloat16Storage",
            "LongStorage",
            "IntStorage",
            "ShortStorage",
            "CharStorage",
            "ByteStorage",
            "BoolStorage",
            "ComplexFloatStorage",
            "ComplexDoubleStorage",
            "QUInt8Storage",
            "QInt8Storage",
            "QInt32Storage",
            "QUInt4x2Storage",
            "QUInt2x4Storage",
            "Size",
            "device",
            "dtype",
            "float32",
            "float64",
            "float16",
            "bfloat16",
            "complex64",
            "complex128",
            "int8",
            "int16",
            "int32",
            "int64",
            "uint8",
            "bool",
            "strided",
            "sparse_coo",
            "per_tensor_affine",
            "per_channel_affine",
        ],
    ),
    ("torch.storage", &["UntypedStorage", "TypedStorage"]),
    ("torch.serialization", &["_get_layout"]),
    ("collections", &["OrderedDict"]),
    ("_codecs", &["encode"]),
    (
        "builtins",
        &[
            "set",
            "frozenset",
            "slice",
            "complex",
            "bytearray",
            "range",
            "dict",
            "list",
            "tuple",
            "int",
            "float",
            "str",
            "bytes",
            "bool",
        ],
    ),
    ("numpy", &["dtype", "ndarray"]),
    ("numpy.core.multiarray", &["_reconstruct", "scalar"]),
    ("numpy.core.numeric", &["_frombuffer"]),
    ("numpy._core.numeric", &["_frombuffer"]),
    ("numpy._core.multiarray", &["_reconstruct", "scalar"]),
    (
        "numpy.random._pickle",
        &[
            "__randomstate_ctor",
            "__bit_generator_ctor",
            "__generator_ctor",
        ],
    ),
    ("joblib.numpy_pickle", &["NumpyArrayWrapper"]),
];

/// Modules dangerous as a whole, with every submodule. The reason is shown
/// in the finding.
const DANGEROUS_MODULES: &[(&str, &str)] = &[
    (
        "os",
        "runs commands and touches files (os.system, os.popen, os.exec*)",
    ),
    ("posix", "is the os module under another name"),
    ("nt", "is the os module under another name"),
    ("posixpath", "re-exports the os module (posixpath.os)"),
    ("ntpath", "re-exports the os module (ntpath.os)"),
    ("genericpath", "re-exports the os module (genericpath.os)"),
    ("subprocess", "runs commands"),
    ("_posixsubprocess", "runs commands"),
    ("commands", "runs commands (Python 2 subprocess)"),
    ("pty", "spawns a shell (pty.spawn)"),
    ("socket", "opens network connections"),
    ("ssl", "opens network connections"),
    ("http", "opens network connections"),
    ("httplib", "opens network connections"),
    ("urllib", "opens network connections"),
    ("urllib2", "opens network connections"),
    ("requests", "opens network connections"),
    ("aiohttp", "opens network connections"),
    ("ftplib", "opens network connections"),
    ("smtplib", "opens network connections"),
    ("telnetlib", "opens network connections"),
    ("xmlrpc", "opens network connections"),
    ("webbrowser", "opens URLs and runs the browser"),
    ("shutil", "copies, moves and deletes files"),
    ("tempfile", "creates files"),
    ("glob", "lists files"),
    ("fileinput", "reads files"),
    ("mmap", "maps memory"),
    ("sys", "reaches the interpreter's state (sys.modules)"),
    ("importlib", "imports any module by name"),
    ("imp", "imports any module by name"),
    ("zipimport", "imports code from archives"),
    (
        "pkgutil",
        "resolves any name to an object (pkgutil.resolve_name)",
    ),
    (
        "pydoc",
        "resolves any name to an object (pydoc.locate) and runs pagers",
    ),
    ("inspect", "reaches frames and globals"),
    ("runpy", "runs modules and code"),
    ("code", "runs code (InteractiveInterpreter)"),
    ("codeop", "compiles code"),
    ("timeit", "runs code strings (timeit.timeit)"),
    ("cProfile", "runs code strings (cProfile.run)"),
    ("profile", "runs code strings (profile.run)"),
    ("trace", "runs code strings"),
    ("pdb", "runs code strings"),
    ("bdb", "runs code strings"),
    ("doctest", "runs code strings"),
    ("idlelib", "runs code strings"),
    ("lib2to3", "loads pickled grammars"),
    ("marshal", "loads code objects (marshal.loads)"),
    (
        "types",
        "builds code and function objects (types.CodeType, types.FunctionType)",
    ),
    (
        "functools",
        "wraps any callable (functools.partial, functools.reduce)",
    ),
    (
        "operator",
        "calls methods and reads attributes by name (attrgetter, methodcaller)",
    ),
    (
        "_operator",
        "calls methods and reads attributes by name (attrgetter, methodcaller)",
    ),
    ("ctypes", "calls native code"),
    ("_ctypes", "calls native code"),
    ("io", "opens files (io.open, io.FileIO)"),
    ("_io", "opens files (_io.FileIO)"),
    ("pickle", "loads a nested pickle that this scan cannot see"),
    ("_pickle", "loads a nested pickle that this scan cannot see"),
    ("cPickle", "loads a nested pickle that this scan cannot see"),
    ("dill", "loads a nested pickle that this scan cannot see"),
    ("shelve", "loads pickles from files"),
    (
        "copyreg",
        "rewires the pickle extension registry (copyreg.add_extension)",
    ),
    ("copy_reg", "rewires the pickle extension registry"),
    ("pip", "installs packages (pip.main)"),
    ("ensurepip", "installs packages"),
    ("venv", "creates environments and runs pip"),
    ("setuptools", "builds and installs packages"),
    ("distutils", "writes files and runs compilers"),
    ("site", "changes the import path"),
    (
        "asyncio",
        "runs subprocesses (asyncio.create_subprocess_exec)",
    ),
    (
        "multiprocessing",
        "starts processes (multiprocessing.util.spawnv_passfds)",
    ),
    ("threading", "runs callables in threads"),
    ("_thread", "runs callables in threads"),
    ("signal", "installs signal handlers"),
    (
        "logging.config",
        "evaluates configuration (logging.config.listen)",
    ),
    ("unittest.mock", "calls anything"),
    ("numpy.f2py", "evaluates strings"),
    (
        "numpy.testing",
        "runs code strings (numpy.testing._private.utils.runstring)",
    ),
    ("numpy.distutils", "runs compilers"),
    ("numpy.ctypeslib", "loads native libraries"),
    (
        "numpy.lib",
        "loads files and pickles (numpy.lib.npyio, numpy.lib.format)",
    ),
    (
        "torch._inductor",
        "compiles and runs code (torch._inductor.codecache.compile_file)",
    ),
    ("torch.hub", "downloads and runs code"),
    ("torch.jit", "compiles and runs code"),
    ("torch.package", "imports code from archives"),
    ("torch._dynamo", "evaluates guard code"),
    ("torch.fx", "evaluates expressions"),
    ("torch.utils.collect_env", "runs commands (collect_env.run)"),
    ("torch.utils.bottleneck", "runs code under a profiler"),
    ("torch.utils._config_module", "loads a nested pickle"),
    ("torch.utils.data.datapipes", "loads nested pickles"),
    ("torch.testing", "runs code"),
    ("torch.distributed", "runs remote calls"),
    ("torch.cuda._sanitizer", "installs hooks"),
    ("mlflow", "runs commands (mlflow.projects)"),
    (
        "pandas.io",
        "reads files and URLs (pandas.read_csv, read_pickle)",
    ),
    ("fickling", "tampers with pickle scanners"),
    ("picklescan", "tampers with pickle scanners"),
    ("modelscan", "tampers with pickle scanners"),
];

/// Single dangerous names in otherwise ordinary modules: `(module, name, why)`.
const DANGEROUS_NAMES: &[(&str, &str, &str)] = &[
    ("builtins", "eval", "evaluates code"),
    ("builtins", "exec", "executes code"),
    ("builtins", "execfile", "executes code"),
    ("builtins", "compile", "compiles code"),
    ("builtins", "open", "opens files"),
    ("builtins", "file", "opens files"),
    ("builtins", "input", "reads standard input"),
    (
        "builtins",
        "getattr",
        "reads any attribute (getattr(module, 'system'))",
    ),
    ("builtins", "setattr", "rewrites any attribute"),
    ("builtins", "delattr", "deletes any attribute"),
    ("builtins", "__import__", "imports any module"),
    ("builtins", "breakpoint", "starts a debugger"),
    ("builtins", "globals", "reaches the interpreter's globals"),
    ("builtins", "locals", "reaches the interpreter's locals"),
    ("builtins", "vars", "reaches objects' namespaces"),
    ("builtins", "apply", "calls anything"),
    ("builtins", "reload", "reloads modules"),
    ("builtins", "memoryview", "reaches raw memory"),
    ("builtins", "help", "runs the pager"),
    ("builtins", "exit", "stops the process"),
    ("builtins", "quit", "stops the process"),
    ("numpy", "load", "loads another file, with pickles"),
    ("numpy", "loadtxt", "reads files"),
    ("numpy", "fromfile", "reads files"),
    ("numpy", "save", "writes files"),
    ("numpy", "savez", "writes files"),
    ("numpy", "memmap", "maps files"),
    ("torch", "load", "loads another file, with pickles"),
    ("torch", "save", "writes files"),
    ("torch", "compile", "compiles and runs code"),
    (
        "torch.serialization",
        "load",
        "loads another file, with pickles",
    ),
    (
        "torch.storage",
        "_load_from_bytes",
        "loads a nested torch pickle from bytes",
    ),
    ("joblib", "load", "loads another file, with pickles"),
    ("pandas", "read_pickle", "loads another file, with pickles"),
    ("pandas", "read_csv", "reads files and URLs"),
];

/// Names whose presence as a path component means the lookup walks out of
/// the module into the interpreter (`numpy.__builtins__`,
/// `OrderedDict.__init__.__globals__`), or into a dangerous module
/// re-exported by a harmless one (`posixpath.os.system`).
const ESCAPE_COMPONENTS: &[&str] = &[
    "os",
    "sys",
    "subprocess",
    "builtins",
    "importlib",
    "posix",
    "nt",
    "eval",
    "exec",
    "system",
    "popen",
];

/// Python 2 module names that `pickle` maps to Python 3 ones for protocols
/// 0 to 2 (`_compat_pickle.IMPORT_MAPPING`), the ones that matter here.
fn python3_module(module: &str) -> &str {
    match module {
        "__builtin__" | "exceptions" => "builtins",
        "copy_reg" => "copyreg",
        "cPickle" => "pickle",
        "commands" => "subprocess",
        "thread" => "_thread",
        "httplib" => "http.client",
        "urllib2" => "urllib.request",
        "SocketServer" => "socketserver",
        "Queue" => "queue",
        "UserDict" | "UserList" | "UserString" => "collections",
        other => other,
    }
}

/// Whether `module` is `root` or one of its submodules.
fn within(module: &str, root: &str) -> bool {
    module == root
        || (module.len() > root.len()
            && module.starts_with(root)
            && module.as_bytes()[root.len()] == b'.')
}

/// Judges `module`.`name` as `find_class` would resolve it.
pub(crate) fn judge(module: &str, name: &str) -> Verdict {
    if !module.is_ascii() || !name.is_ascii() {
        return Verdict::Dangerous(
            "uses non-ASCII characters in its name, a known scanner evasion",
        );
    }
    if module.is_empty() || name.is_empty() {
        return Verdict::Dangerous("has an empty module or name");
    }
    let py3 = python3_module(module);
    for m in [module, py3] {
        for (root, why) in DANGEROUS_MODULES {
            if within(m, root) {
                return Verdict::Dangerous(why);
            }
        }
    }
    let first = name.split('.').next().unwrap_or(name);
    for m in [module, py3] {
        for (dm, dn, why) in DANGEROUS_NAMES {
            if m == *dm && (first == *dn || name == *dn) {
                return Verdict::Dangerous(why);
            }
        }
    }
    let mut components = py3.split('.').chain(name.split('.'));
    if components
        .any(|c| c.len() > 4 && c.starts_with("__") && c.ends_with("__") && c != "__main__")
    {
        return Verdict::Dangerous(
            "walks a dunder attribute (__builtins__, __globals__, __subclasses__...) out of the module",
        );
    }
    if name.contains('.') && name.split('.').any(|c| ESCAPE_COMPONENTS.contains(&c)) {
        return Verdict::Dangerous("reaches a dangerous module through an attribute path");
    }
    if name.split('.').any(str::is_empty) || name.contains("<locals>") {
        return Verdict::Unknown;
    }
    for (m, names) in SAFE {
        if (*m == module || *m == py3) && names.contains(&name) {
            return Verdict::Safe;
        }
    }
    Verdict::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_covers_checkpoint_globals() {
        for (m, n) in [
            ("torch._utils", "_rebuild_tensor_v2"),
            ("torch", "FloatStorage"),
            ("collections", "OrderedDict"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy", "dtype"),
            ("_codecs", "encode"),
            ("__builtin__", "set"),
        ] {
            assert_eq!(judge(m, n), Verdict::Safe, "{m}.{n}");
        }
    }

    #[test]
    fn dangerous_modules_include_submodules() {
        for (m, n) in [
            ("os", "system"),
            ("os.path", "join"),
            ("posix", "system"),
            ("importlib.util", "find_spec"),
            ("torch._inductor.codecache", "compile_file"),
            ("__builtin__", "eval"),
            ("builtins", "getattr"),
            ("functools", "partial"),
            ("_operator", "attrgetter"),
            ("pkgutil", "resolve_name"),
            ("pydoc", "locate"),
            ("numpy.lib.npyio", "load"),
            ("numpy", "load"),
            ("commands", "getoutput"),
        ] {
            assert!(matches!(judge(m, n), Verdict::Dangerous(_)), "{m}.{n}");
        }
    }

    #[test]
    fn attribute_paths_and_lookalikes() {
        assert!(matches!(
            judge("numpy", "__builtins__"),
            Verdict::Dangerous(_)
        ));
        assert!(matches!(
            judge("collections", "OrderedDict.__init__.__globals__"),
            Verdict::Dangerous(_)
        ));
        assert!(matches!(judge("torch", "os.system"), Verdict::Dangerous(_)));
        assert!(matches!(
            judge("o\u{73}\u{200b}", "system"),
            Verdict::Dangerous(_)
        ));
        // Not a submodule of os: a different module that starts with "os".
        assert_eq!(judge("osmium", "thing"), Verdict::Unknown);
        assert_eq!(judge("__main__", "Model"), Verdict::Unknown);
        assert_eq!(
            judge("torch._utils", "_rebuild_tensor_v2.x"),
            Verdict::Unknown
        );
    }
}
