//! Regression tests for every published scanner bypass we know of, and for
//! standard checkpoints staying clean. The fixtures and `expect.json` are
//! written by `fixtures/generate.py`; `cpython_globals` in it are the globals
//! CPython's own unpickler resolved from each file (recorded with an inert
//! `find_class`), so every test is also a differential test against the real
//! unpickler: each of those globals must appear in a finding.

#![allow(clippy::unwrap_used, clippy::panic)] // test helpers

use palisade_core::Severity;
use palisade_model::scan::{Options, scan_file};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn expectations() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(fixtures().join("expect.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_object()
        .unwrap()
        .clone()
}

fn check(rel: &str) {
    let all = expectations();
    let e = all
        .get(rel)
        .unwrap_or_else(|| panic!("{rel} is not in expect.json"));
    let scan = scan_file(&fixtures().join(rel), &Options::default()).unwrap();
    let worst = scan.hits.iter().map(|h| h.severity).max();
    let listing: Vec<String> = scan
        .hits
        .iter()
        .map(|h| format!("{} {} {}: {}", h.severity, h.rule.id, h.path, h.message))
        .collect();
    let want = e["severity"].as_str().unwrap();
    let rule = e["rule"].as_str().unwrap();
    if rel.starts_with("benign/") {
        assert!(
            worst.is_none_or(|w| w <= Severity::Low),
            "{rel} is a standard file but got {listing:#?}"
        );
    } else {
        let want: Severity = want.parse().unwrap();
        assert!(
            worst.is_some_and(|w| w >= want),
            "{rel}: expected at least {want}, got {listing:#?}"
        );
    }
    if !rule.is_empty() {
        assert!(
            scan.hits.iter().any(|h| h.rule.id == rule),
            "{rel}: expected {rule}, got {listing:#?}"
        );
    }
    for g in e["cpython_globals"].as_array().unwrap() {
        let g = g.as_str().unwrap();
        let allowlisted = matches!(
            g,
            "collections.OrderedDict"
                | "numpy.ndarray"
                | "numpy.dtype"
                | "joblib.numpy_pickle.NumpyArrayWrapper"
                | "torch._utils._rebuild_tensor_v2"
                | "torch.FloatStorage"
        ) || g.starts_with("numpy._core.")
            || g.starts_with("numpy.core.");
        if rel.starts_with("malicious/") && !allowlisted {
            assert!(
                scan.hits.iter().any(|h| h.message.contains(g)),
                "{rel}: CPython's unpickler imports {g} but no finding names it: {listing:#?}"
            );
        }
    }
}

macro_rules! cases {
    ($($name:ident => $rel:literal,)*) => {
        $(#[test] fn $name() { check($rel); })*
        const ALL: &[&str] = &[$($rel),*];
    };
}

cases! {
    // numpy.save
    benign_array_npy => "benign/array.npy",
    // numpy.savez
    benign_arrays_npz => "benign/arrays.npz",
    // numpy.savez_compressed
    benign_arrays_compressed_npz => "benign/arrays_compressed.npz",
    // gguf.GGUFWriter
    benign_model_gguf => "benign/model.gguf",
    // joblib.dump compress=0
    benign_model_joblib => "benign/model.joblib",
    // Keras 3 .keras layout
    benign_model_keras => "benign/model.keras",
    // safetensors.numpy.save
    benign_model_safetensors => "benign/model.safetensors",
    // joblib.dump compress=('gzip', 3)
    benign_model_gzip_joblib => "benign/model_gzip.joblib",
    // joblib.dump compress=3
    benign_model_zlib_joblib => "benign/model_zlib.joblib",
    // numpy array pickled with protocol 2
    benign_numpy_array_p2_pkl => "benign/numpy_array_p2.pkl",
    // numpy array pickled with protocol 4
    benign_numpy_array_p4_pkl => "benign/numpy_array_p4.pkl",
    // numpy array pickled with protocol 5
    benign_numpy_array_p5_pkl => "benign/numpy_array_p5.pkl",
    // numpy scalars
    benign_numpy_scalar_dict_p2_pkl => "benign/numpy_scalar_dict_p2.pkl",
    // onnx.save_model external data
    benign_onnx_external_model_onnx => "benign/onnx_external/model.onnx",
    // protocol 0 data
    benign_plain_list_p0_pkl => "benign/plain_list_p0.pkl",
    // torch legacy raw format: magic, protocol, sys_info, object, storage keys, raw storages
    benign_torch_legacy_pt => "benign/torch_legacy.pt",
    // torch.save layout (zip, protocol 2, persistent storages)
    benign_torch_state_dict_pt => "benign/torch_state_dict.pt",
    // BUILD rewrites an allowlisted class
    malicious_build_on_global_pkl => "malicious/build_on_global.pkl",
    // Python 2 __builtin__.eval (protocol 0, mapped by fix_imports)
    malicious_builtin_eval_p0_pkl => "malicious/builtin_eval_p0.pkl",
    // attribute walk through __globals__ from an allowlisted class
    malicious_dunder_globals_pkl => "malicious/dunder_globals.pkl",
    // module name built by str.join at load time (modelscan issue 331)
    malicious_dynamic_stack_global_pkl => "malicious/dynamic_stack_global.pkl",
    // EXT1 extension code instead of a named global
    malicious_ext_code_pkl => "malicious/ext_code.pkl",
    // FRAME whose length does not match its opcodes
    malicious_frame_lies_pkl => "malicious/frame_lies.pkl",
    // builtins.getattr(__import__('os'), 'system')
    malicious_getattr_chain_pkl => "malicious/getattr_chain.pkl",
    // metadata count far larger than the file (llama.cpp heap overflow class)
    malicious_gguf_huge_kv_count_gguf => "malicious/gguf_huge_kv_count.gguf",
    // key length past the end of the file
    malicious_gguf_huge_string_gguf => "malicious/gguf_huge_string.gguf",
    // Jinja SSTI in tokenizer.chat_template (CVE-2024-34359)
    malicious_gguf_ssti_0_gguf => "malicious/gguf_ssti_0.gguf",
    // Jinja SSTI in tokenizer.chat_template (CVE-2024-34359)
    malicious_gguf_ssti_1_gguf => "malicious/gguf_ssti_1.gguf",
    // Jinja SSTI in tokenizer.chat_template (CVE-2024-34359)
    malicious_gguf_ssti_2_gguf => "malicious/gguf_ssti_2.gguf",
    // Jinja SSTI in tokenizer.chat_template (CVE-2024-34359)
    malicious_gguf_ssti_3_gguf => "malicious/gguf_ssti_3.gguf",
    // _io.FileIO (CVE-2025-10155 family)
    malicious_globals_io_fileio_pkl => "malicious/globals/_io__FileIO.pkl",
    // _operator.methodcaller
    malicious_globals_operator_methodcaller_pkl => "malicious/globals/_operator__methodcaller.pkl",
    // asyncio subprocess transport (CVE-2025-10157)
    malicious_globals_asyncio_unix_events_unixsubprocesstransport_pkl => "malicious/globals/asyncio_unix_events___UnixSubprocessTransport.pkl",
    // bdb
    malicious_globals_bdb_bdb_run_pkl => "malicious/globals/bdb__Bdb_run.pkl",
    // builtins.__import__
    malicious_globals_builtins_import_pkl => "malicious/globals/builtins____import__.pkl",
    // builtins.breakpoint
    malicious_globals_builtins_breakpoint_pkl => "malicious/globals/builtins__breakpoint.pkl",
    // builtins.compile
    malicious_globals_builtins_compile_pkl => "malicious/globals/builtins__compile.pkl",
    // builtins.exec
    malicious_globals_builtins_exec_pkl => "malicious/globals/builtins__exec.pkl",
    // builtins.open
    malicious_globals_builtins_open_pkl => "malicious/globals/builtins__open.pkl",
    // cProfile.run
    malicious_globals_cprofile_run_pkl => "malicious/globals/cProfile__run.pkl",
    // code.InteractiveInterpreter.runcode
    malicious_globals_code_interactiveinterpreter_runcode_pkl => "malicious/globals/code__InteractiveInterpreter_runcode.pkl",
    // copyreg.add_extension rewiring EXT
    malicious_globals_copyreg_add_extension_pkl => "malicious/globals/copyreg__add_extension.pkl",
    // ctypes.CDLL
    malicious_globals_ctypes_cdll_pkl => "malicious/globals/ctypes__CDLL.pkl",
    // distutils.file_util.write_file
    malicious_globals_distutils_file_util_write_file_pkl => "malicious/globals/distutils_file_util__write_file.pkl",
    // doctest.debug_script
    malicious_globals_doctest_debug_script_pkl => "malicious/globals/doctest__debug_script.pkl",
    // ensurepip._run_pip (GHSA-xp4f-hrf8-rxw7)
    malicious_globals_ensurepip_run_pip_pkl => "malicious/globals/ensurepip___run_pip.pkl",
    // functools.partial wrapper
    malicious_globals_functools_partial_pkl => "malicious/globals/functools__partial.pkl",
    // idlelib
    malicious_globals_idlelib_pyshell_modifiedinterpreter_runcode_pkl => "malicious/globals/idlelib_pyshell__ModifiedInterpreter_runcode.pkl",
    // importlib.import_module
    malicious_globals_importlib_import_module_pkl => "malicious/globals/importlib__import_module.pkl",
    // io.open
    malicious_globals_io_open_pkl => "malicious/globals/io__open.pkl",
    // lib2to3 pickled grammar
    malicious_globals_lib2to3_pgen2_grammar_grammar_loads_pkl => "malicious/globals/lib2to3_pgen2_grammar__Grammar_loads.pkl",
    // logging.config.listen
    malicious_globals_logging_config_listen_pkl => "malicious/globals/logging_config__listen.pkl",
    // marshal.loads
    malicious_globals_marshal_loads_pkl => "malicious/globals/marshal__loads.pkl",
    // mlflow entry point (modelscan issue 338)
    malicious_globals_mlflow_projects_backend_local_run_entry_point_pkl => "malicious/globals/mlflow_projects_backend_local___run_entry_point.pkl",
    // multiprocessing.util.spawnv_passfds (modelscan issue 338)
    malicious_globals_multiprocessing_util_spawnv_passfds_pkl => "malicious/globals/multiprocessing_util__spawnv_passfds.pkl",
    // numpy.load of another file
    malicious_globals_numpy_load_pkl => "malicious/globals/numpy__load.pkl",
    // numpy.f2py eval
    malicious_globals_numpy_f2py_crackfortran_eval_length_pkl => "malicious/globals/numpy_f2py_crackfortran___eval_length.pkl",
    // numpy.lib chain
    malicious_globals_numpy_lib_npyio_load_pkl => "malicious/globals/numpy_lib_npyio__load.pkl",
    // numpy.testing runstring
    malicious_globals_numpy_testing_private_utils_runstring_pkl => "malicious/globals/numpy_testing__private_utils__runstring.pkl",
    // operator.attrgetter (GHSA-m273-6v24-x4m4)
    malicious_globals_operator_attrgetter_pkl => "malicious/globals/operator__attrgetter.pkl",
    // pandas read_csv exfiltration (modelscan issue 338)
    malicious_globals_pandas_io_parsers_readers_read_csv_pkl => "malicious/globals/pandas_io_parsers_readers__read_csv.pkl",
    // pdb.run
    malicious_globals_pdb_run_pkl => "malicious/globals/pdb__run.pkl",
    // nested pickle.loads (GHSA-84r2-jw7c-4r5q)
    malicious_globals_pickle_loads_pkl => "malicious/globals/pickle__loads.pkl",
    // pip.main (CVE-2025-1716)
    malicious_globals_pip_main_pkl => "malicious/globals/pip__main.pkl",
    // pkgutil.resolve_name (GHSA-vvpj-8cmc-gx39)
    malicious_globals_pkgutil_resolve_name_pkl => "malicious/globals/pkgutil__resolve_name.pkl",
    // profile.run
    malicious_globals_profile_run_pkl => "malicious/globals/profile__run.pkl",
    // pydoc.locate
    malicious_globals_pydoc_locate_pkl => "malicious/globals/pydoc__locate.pkl",
    // runpy._run_code
    malicious_globals_runpy_run_code_pkl => "malicious/globals/runpy___run_code.pkl",
    // shutil.rmtree
    malicious_globals_shutil_rmtree_pkl => "malicious/globals/shutil__rmtree.pkl",
    // socket
    malicious_globals_socket_create_connection_pkl => "malicious/globals/socket__create_connection.pkl",
    // sys.modules override (picklescan sys_module_override_sploit)
    malicious_globals_sys_modules_pkl => "malicious/globals/sys__modules.pkl",
    // timeit.timeit
    malicious_globals_timeit_timeit_pkl => "malicious/globals/timeit__timeit.pkl",
    // torch._inductor.codecache.compile_file
    malicious_globals_torch_inductor_codecache_compile_file_pkl => "malicious/globals/torch__inductor_codecache__compile_file.pkl",
    // torch.hub.load
    malicious_globals_torch_hub_load_pkl => "malicious/globals/torch_hub__load.pkl",
    // torch.jit execWrapper
    malicious_globals_torch_jit_unsupported_tensor_ops_execwrapper_pkl => "malicious/globals/torch_jit_unsupported_tensor_ops__execWrapper.pkl",
    // torch.serialization.load nested
    malicious_globals_torch_serialization_load_pkl => "malicious/globals/torch_serialization__load.pkl",
    // torch.storage._load_from_bytes nested load
    malicious_globals_torch_storage_load_from_bytes_pkl => "malicious/globals/torch_storage___load_from_bytes.pkl",
    // torch.utils.collect_env.run (modelscan issue 338)
    malicious_globals_torch_utils_collect_env_run_pkl => "malicious/globals/torch_utils_collect_env__run.pkl",
    // trace.Trace.run
    malicious_globals_trace_trace_run_pkl => "malicious/globals/trace__Trace_run.pkl",
    // types.CodeType
    malicious_globals_types_codetype_pkl => "malicious/globals/types__CodeType.pkl",
    // types.FunctionType
    malicious_globals_types_functiontype_pkl => "malicious/globals/types__FunctionType.pkl",
    // venv.create
    malicious_globals_venv_create_pkl => "malicious/globals/venv__create.pkl",
    // webbrowser.open
    malicious_globals_webbrowser_open_pkl => "malicious/globals/webbrowser__open.pkl",
    // gzip-compressed pickle (joblib compress)
    malicious_gzip_joblib => "malicious/gzip.joblib",
    // INST opcode call (fickling / picklescan INST parsing)
    malicious_inst_opcode_pkl => "malicious/inst_opcode.pkl",
    // OBJ opcode calling pty.spawn (fickling PR 108)
    malicious_inst_pty_spawn_pkl => "malicious/inst_pty_spawn.pkl",
    // joblib file whose pickle resumes after raw array bytes
    malicious_joblib_after_array_joblib => "malicious/joblib_after_array.joblib",
    // custom registered object from another package
    malicious_keras_custom_object_keras => "malicious/keras_custom_object.keras",
    // Keras Lambda layer (CVE-2024-3660)
    malicious_keras_lambda_keras => "malicious/keras_lambda.keras",
    // config.json importing os (CVE-2025-1550)
    malicious_keras_module_os_keras => "malicious/keras_module_os.keras",
    // custom class from __main__
    malicious_main_module_class_pkl => "malicious/main_module_class.pkl",
    // memo confusion with BINPUT vs MEMOIZE (picklescan issue 14)
    malicious_memo_confusion_pkl => "malicious/memo_confusion.pkl",
    // torch zip inside a zip
    malicious_nested_zip_zip => "malicious/nested_zip.zip",
    // NEWOBJ_EX on subprocess.Popen
    malicious_newobj_ex_popen_pkl => "malicious/newobj_ex_popen.pkl",
    // NEWOBJ on subprocess.Popen
    malicious_newobj_popen_pkl => "malicious/newobj_popen.pkl",
    // protocol 0 pickle without extension
    malicious_no_extension => "malicious/no_extension",
    // non-ASCII look-alike module name
    malicious_non_ascii_module_pkl => "malicious/non_ascii_module.pkl",
    // nt alias of os
    malicious_nt_system_pkl => "malicious/nt_system.pkl",
    // numpy.__builtins__ through BUILD on numpy.size (modelscan issue 330)
    malicious_numpy_builtins_build_pkl => "malicious/numpy_builtins_build.pkl",
    // npy object array (picklescan object_array.npy)
    malicious_object_array_npy => "malicious/object_array.npy",
    // npz holding an object array
    malicious_object_array_npz => "malicious/object_array.npz",
    // ONNX external data path traversal (CVE-2022-25882, CVE-2024-27318)
    malicious_onnx_absolute_model_onnx => "malicious/onnx_absolute/model.onnx",
    // ONNX external data path traversal (CVE-2022-25882, CVE-2024-27318)
    malicious_onnx_traversal_model_onnx => "malicious/onnx_traversal/model.onnx",
    // submodule of a dangerous module
    malicious_os_path_submodule_pkl => "malicious/os_path_submodule.pkl",
    // classic os.system REDUCE (picklescan malicious1)
    malicious_os_system_p0_pkl => "malicious/os_system_p0.pkl",
    // classic os.system REDUCE (picklescan malicious1)
    malicious_os_system_p2_pkl => "malicious/os_system_p2.pkl",
    // classic os.system REDUCE (picklescan malicious1)
    malicious_os_system_p4_pkl => "malicious/os_system_p4.pkl",
    // payload then a broken stream (scanners that give up on errors)
    malicious_payload_then_garbage_pkl => "malicious/payload_then_garbage.pkl",
    // pickle with a zip appended
    malicious_polyglot_pickle_zip_pkl => "malicious/polyglot_pickle_zip.pkl",
    // call whose result is POPped (fickling AST bypass)
    malicious_popped_call_pkl => "malicious/popped_call.pkl",
    // posix alias of os
    malicious_posix_system_pkl => "malicious/posix_system.pkl",
    // os.path vs posixpath submodule trick, dotted name
    malicious_posixpath_os_system_pkl => "malicious/posixpath_os_system.pkl",
    // duplicate tensor names
    malicious_safetensors_duplicate_key_safetensors => "malicious/safetensors_duplicate_key.safetensors",
    // overlapping tensors
    malicious_safetensors_overlap_safetensors => "malicious/safetensors_overlap.safetensors",
    // malicious second pickle after a benign one
    malicious_second_pickle_pkl => "malicious/second_pickle.pkl",
    // STACK_GLOBAL operands behind DUP/POP
    malicious_stack_global_dup_pop_pkl => "malicious/stack_global_dup_pop.pkl",
    // STACK_GLOBAL lookback through memo (picklescan issue 22, imaginaryctf)
    malicious_stack_global_memo_lookback_pkl => "malicious/stack_global_memo_lookback.pkl",
    // decoy safe strings discarded by POP_MARK before STACK_GLOBAL
    malicious_stack_global_pop_mark_pkl => "malicious/stack_global_pop_mark.pkl",
    // STACK_GLOBAL operands from text PUT/GET memo
    malicious_stack_global_text_put_pkl => "malicious/stack_global_text_put.pkl",
    // module name spelled with STRING escapes
    malicious_string_escape_module_pkl => "malicious/string_escape_module.pkl",
    // legacy raw format with a malicious object pickle
    malicious_torch_legacy_raw_pt => "malicious/torch_legacy_raw.pt",
    // legacy tar with a payload in the second storage header
    malicious_torch_legacy_tar_pt => "malicious/torch_legacy_tar.pt",
    // deflated entries
    malicious_torch_zip_deflated_pt => "malicious/torch_zip_deflated.pt",
    // pickle hidden in a storage entry (modelaudit hidden member)
    malicious_torch_zip_in_data_pt => "malicious/torch_zip_in_data.pt",
    // torch zip with any archive prefix
    malicious_torch_zip_odd_prefix_pt => "malicious/torch_zip_odd_prefix.pt",
    // torch zip with malicious data.pkl
    malicious_torch_zip_os_system_pt => "malicious/torch_zip_os_system.pt",
    // pickle in a zip entry with a non-pickle name (GHSA-769v-p64c-89pr)
    malicious_torch_zip_renamed_pickle_bin => "malicious/torch_zip_renamed_pickle.bin",
    // module name spelled with raw-unicode-escape
    malicious_unicode_escape_module_pkl => "malicious/unicode_escape_module.pkl",
    // a global outside the allowlist (allowlist first)
    malicious_unlisted_global_pkl => "malicious/unlisted_global.pkl",
    // pickle named .safetensors (extension-based skipping)
    malicious_wrong_extension_safetensors => "malicious/wrong_extension.safetensors",
    // bad CRC crashes zipfile, not torch (CVE-2025-10156)
    malicious_zip_bad_crc_pt => "malicious/zip_bad_crc.pt",
    // zip general-purpose flag 0x1 (GHSA-w8jq-xcqf-f792)
    malicious_zip_flag_0x1_pt => "malicious/zip_flag_0x1.pt",
    // zip general-purpose flag 0x20 (GHSA-w8jq-xcqf-f792)
    malicious_zip_flag_0x20_pt => "malicious/zip_flag_0x20.pt",
    // zip general-purpose flag 0x40 (GHSA-w8jq-xcqf-f792)
    malicious_zip_flag_0x40_pt => "malicious/zip_flag_0x40.pt",
    // local header name differs from central directory (GHSA-7q5r-7gvp-wc82)
    malicious_zip_name_mismatch_pt => "malicious/zip_name_mismatch.pt",
    // zlib-compressed pickle (joblib compress)
    malicious_zlib_joblib => "malicious/zlib.joblib",
}

#[test]
fn every_fixture_has_a_named_test() {
    let mut missing: Vec<String> = expectations()
        .keys()
        .filter(|k| !ALL.contains(&k.as_str()))
        .cloned()
        .collect();
    missing.sort();
    assert!(missing.is_empty(), "fixtures without a test: {missing:?}");
}

#[test]
fn joblib_payload_after_array_bytes_is_found() {
    let scan = scan_file(
        &fixtures().join("malicious/joblib_after_array.joblib"),
        &Options::default(),
    )
    .unwrap();
    assert!(
        scan.hits.iter().any(|h| h.message.contains("os.system")),
        "{:?}",
        scan.hits
    );
}
