//! Keras models: the `config.json` of a `.keras` zip (and the `model_config`
//! JSON attribute of a legacy HDF5 `.h5` file). Lambda layers carry
//! marshalled Python bytecode; `module`, `class_name` and `registered_name`
//! make the loader import modules and build custom objects.

use super::ctx::{Ctx, shown};
use super::policy::{Verdict, judge};
use super::rules;
use super::source::Source;
use serde_json::Value;

/// Top-level packages whose objects Keras itself provides.
const KERAS_ROOTS: &[&str] = &["keras", "tf_keras", "tensorflow"];

/// Scans a JSON document; only Keras configs (objects with `class_name`)
/// give findings.
pub(crate) fn scan_json<S: Source + ?Sized>(src: &mut S, ctx: &mut Ctx) {
    let cap = ctx.limits.max_json;
    let len = src.remaining().unwrap_or(cap);
    if len > cap {
        return;
    }
    let mut buf = Vec::new();
    while let Ok(Some(b)) = src.read_byte() {
        buf.push(b);
        if buf.len() as u64 > cap {
            return;
        }
    }
    check_config(&buf, ctx);
}

fn check_config(buf: &[u8], ctx: &mut Ctx) {
    let Ok(v) = serde_json::from_slice::<Value>(buf) else {
        return;
    };
    let mut found = false;
    walk(&v, "", ctx, &mut found, 0);
    if found {
        ctx.saw("keras");
    }
}

fn walk(v: &Value, path: &str, ctx: &mut Ctx, found: &mut bool, depth: usize) {
    if depth > 256 {
        return;
    }
    match v {
        Value::Object(m) => {
            if let Some(Value::String(cls)) = m.get("class_name") {
                *found = true;
                let module = m.get("module").and_then(Value::as_str);
                let at = ctx.at_field(if path.is_empty() { "$" } else { path });
                if cls == "Lambda" || cls == "__lambda__" {
                    ctx.report(
                        &rules::KERAS_LAMBDA,
                        at.clone(),
                        format!("{} holds serialized Python code that runs when the model is loaded without safe_mode", if cls == "Lambda" { "a Lambda layer" } else { "a __lambda__ function" }),
                        cls,
                    );
                } else if let Some(module) = module {
                    let root = module.split('.').next().unwrap_or(module);
                    let name = match (cls.as_str(), m.get("config")) {
                        ("function", Some(Value::String(f))) => f.as_str(),
                        _ => cls.as_str(),
                    };
                    match judge(module, name) {
                        Verdict::Dangerous(why) => ctx.report_as(
                            &rules::KERAS_MODULE,
                            palisade_core::Severity::Critical,
                            at.clone(),
                            format!(
                                "config names {}.{}, which {why}",
                                shown(module, 100),
                                shown(name, 100)
                            ),
                            module,
                        ),
                        _ if !KERAS_ROOTS.contains(&root) => ctx.report(
                            &rules::KERAS_MODULE,
                            at.clone(),
                            format!(
                                "config imports module {} for {}",
                                shown(module, 100),
                                shown(name, 100)
                            ),
                            module,
                        ),
                        _ => {}
                    }
                }
                if let Some(Value::String(reg)) = m.get("registered_name")
                    && reg.contains('>')
                    && module
                        .is_none_or(|md| !KERAS_ROOTS.contains(&md.split('.').next().unwrap_or(md)))
                {
                    ctx.report(
                        &rules::KERAS_MODULE,
                        at,
                        format!(
                            "config uses the custom registered object {}",
                            shown(reg, 100)
                        ),
                        reg,
                    );
                }
            }
            for (k, child) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(child, &p, ctx, found, depth + 1);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                walk(child, &format!("{path}[{i}]"), ctx, found, depth + 1);
            }
        }
        _ => {}
    }
}

/// Legacy Keras HDF5: finds the `model_config` JSON among the file's
/// attributes (it starts with `{"class_name"`) and checks it.
pub(crate) fn scan_hdf5<S: Source + ?Sized>(src: &mut S, ctx: &mut Ctx) {
    const NEEDLE: &[u8] = b"{\"class_name\"";
    ctx.saw("hdf5");
    let cap = usize::try_from(ctx.limits.max_json.min(64 << 20)).unwrap_or(64 << 20);
    let mut window: Vec<u8> = Vec::new();
    let mut configs = 0;
    loop {
        let Ok(Some(b)) = src.read_byte() else { return };
        window.push(b);
        if window.len() > NEEDLE.len() {
            window.remove(0);
        }
        if window != NEEDLE {
            continue;
        }
        // Collect one balanced JSON object.
        let mut obj = NEEDLE.to_vec();
        // NEEDLE ends just after `"class_name"`: outside a string, depth 1.
        let (mut depth, mut in_str, mut esc) = (1i32, false, false);
        while depth > 0 && obj.len() < cap {
            let Ok(Some(c)) = src.read_byte() else { return };
            obj.push(c);
            if in_str {
                if esc {
                    esc = false;
                } else if c == b'\\' {
                    esc = true;
                } else if c == b'"' {
                    in_str = false;
                }
            } else if c == b'"' {
                in_str = true;
            } else if c == b'{' {
                depth += 1;
            } else if c == b'}' {
                depth -= 1;
            }
        }
        configs += 1;
        ctx.within("model_config", |ctx| check_config(&obj, ctx));
        window.clear();
        if configs > 16 {
            return;
        }
    }
}
