//! The values the pickle interpreter keeps: compact symbols, not Python
//! objects, with every allocation charged against a per-thread budget.
//!
//! A value is 16 bytes. Strings are kept only up to [`KEEP_STR`] bytes (what
//! `STACK_GLOBAL` needs to resolve a module and a name), containers keep at
//! most [`KEEP_ITEMS`] elements, and everything a scanner has no use for
//! (lists, sets, bytes, floats) is a bare marker. Each kept allocation
//! carries a [`Charge`] that adds its approximate size to a thread-local
//! counter and gives it back when the allocation is freed, so the bytes
//! alive at any moment are known. When an allocation would take the counter
//! past [`LIVE_BUDGET`], the value is not built: the caller gets
//! [`Val::Dropped`] instead and reports the limit once. Imports are judged
//! when their opcode is read, so a dropped value never hides a global; it
//! only makes later uses of that value unknown (a `STACK_GLOBAL` fed by one
//! is reported as unresolvable).
//!
//! Two hazards of reference-counted trees are closed here: values are freed
//! iteratively (a million nested tuples must not overflow the native stack
//! when dropped), and the two mutable containers (dicts, and an object's
//! `BUILD` state) refuse a child that reaches back to them, so no reference
//! cycle, and hence no leak of charged bytes, can be built.

use super::ctx::shown;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

/// Strings longer than this are skipped, not kept.
pub(crate) const KEEP_STR: u64 = 256;
/// Elements kept per tuple or dict.
pub(crate) const KEEP_ITEMS: usize = 64;
/// Bytes of kept values alive at once, per thread.
pub(crate) const LIVE_BUDGET: usize = 16 << 20;
/// Approximate allocator overhead of one allocation.
const OVERHEAD: usize = 32;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

/// Bytes of kept values alive on this thread.
#[cfg(test)]
pub(crate) fn live_bytes() -> usize {
    LIVE.with(Cell::get)
}

/// A share of the budget, given back when dropped.
#[derive(Debug)]
pub(crate) struct Charge(usize);

impl Charge {
    /// Takes `n` bytes of the budget, or `None` when they are not there.
    pub(crate) fn take(n: usize) -> Option<Self> {
        LIVE.with(|l| {
            let now = l.get();
            let after = now.checked_add(n)?;
            if after > LIVE_BUDGET {
                return None;
            }
            l.set(after);
            Some(Self(n))
        })
    }

    /// Takes `n` more bytes into this charge.
    fn grow(&mut self, n: usize) -> bool {
        match Self::take(n) {
            Some(c) => {
                self.0 += c.0;
                std::mem::forget(c);
                true
            }
            None => false,
        }
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        LIVE.with(|l| l.set(l.get().saturating_sub(self.0)));
    }
}

/// Why a value is only a marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opaque {
    Persistent,
    Buffer,
    MissingMemo,
    Memoized,
}

/// One value on the stack or in the memo.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    None,
    Bool,
    Int(i64),
    BigInt,
    TorchMagic,
    Float,
    Str(Rc<KStr>),
    LongStr(u64),
    Bytes,
    Tuple(Rc<Items>),
    List,
    Dict(Rc<Dict>),
    Set,
    Global(Rc<Global>),
    Obj(Rc<Obj>),
    Opaque(Opaque),
    /// A value not kept because the budget was exhausted.
    Dropped,
}

/// A kept string.
#[derive(Debug)]
pub(crate) struct KStr {
    s: Box<str>,
    _charge: Charge,
}

impl std::ops::Deref for KStr {
    type Target = str;
    fn deref(&self) -> &str {
        &self.s
    }
}

/// A tuple's first [`KEEP_ITEMS`] elements.
#[derive(Debug)]
pub(crate) struct Items {
    items: Vec<Val>,
    _charge: Charge,
}

impl Items {
    pub(crate) fn get(&self, i: usize) -> Option<&Val> {
        self.items.get(i)
    }
    pub(crate) fn first(&self) -> Option<&Val> {
        self.items.first()
    }
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Val> {
        self.items.iter()
    }
}

/// A dict's first [`KEEP_ITEMS`] pairs.
#[derive(Debug)]
pub(crate) struct Dict {
    pairs: RefCell<Vec<(Val, Val)>>,
    charge: RefCell<Charge>,
}

impl Dict {
    /// The value under the string key `key`.
    pub(crate) fn get_str(&self, key: &str) -> Option<Val> {
        self.pairs.borrow().iter().find_map(|(k, v)| match k {
            Val::Str(s) if &***s == key => Some(v.clone()),
            _ => None,
        })
    }

    /// Adds a pair; `false` when it was not kept (full, over budget, or it
    /// would make a cycle).
    pub(crate) fn insert(self: &Rc<Self>, k: Val, v: Val) -> bool {
        if self.pairs.borrow().len() >= KEEP_ITEMS {
            return false;
        }
        let me = Rc::as_ptr(self).cast::<()>();
        if reaches(&k, me) || reaches(&v, me) {
            return false;
        }
        if !self.charge.borrow_mut().grow(2 * size_of::<Val>()) {
            return false;
        }
        self.pairs.borrow_mut().push((k, v));
        true
    }
}

/// An imported global.
#[derive(Debug)]
pub(crate) struct Global {
    /// Module, at most [`KEEP_STR`] bytes of it.
    pub(crate) module: Box<str>,
    /// Name, at most [`KEEP_STR`] bytes of it.
    pub(crate) name: Box<str>,
    /// The hit reporting this global, to amend when it is called.
    pub(crate) hit: Option<usize>,
    pub(crate) called: Cell<bool>,
    pub(crate) dynamic: bool,
    _charge: Charge,
}

/// The result of a call (REDUCE, NEWOBJ, OBJ, INST).
#[derive(Debug)]
pub(crate) struct Obj {
    pub(crate) callee: Val,
    pub(crate) args: Val,
    state: RefCell<Option<Val>>,
    _charge: Charge,
}

impl Obj {
    /// The `BUILD` state, when kept.
    pub(crate) fn state(&self) -> Option<Val> {
        self.state.borrow().clone()
    }

    /// Sets the `BUILD` state unless that would make a cycle.
    pub(crate) fn set_state(self: &Rc<Self>, state: Val) {
        let me = Rc::as_ptr(self).cast::<()>();
        let kept = if reaches(&state, me) {
            Val::Dropped
        } else {
            state
        };
        self.state.replace(Some(kept));
    }
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl Val {
    /// A kept string, or `LongStr` when longer than [`KEEP_STR`], or
    /// `Dropped` over budget.
    pub(crate) fn str(s: &str) -> Val {
        if s.len() as u64 > KEEP_STR {
            return Val::LongStr(s.chars().count() as u64);
        }
        match Charge::take(s.len() + size_of::<KStr>() + 2 * OVERHEAD) {
            Some(c) => Val::Str(Rc::new(KStr {
                s: s.into(),
                _charge: c,
            })),
            None => Val::Dropped,
        }
    }

    /// A tuple of the first [`KEEP_ITEMS`] of `items` (all of them or none:
    /// a longer tuple keeps no elements).
    pub(crate) fn tuple(mut items: Vec<Val>) -> Val {
        if items.len() > KEEP_ITEMS {
            items = Vec::new();
        }
        items.shrink_to_fit();
        match Charge::take(items.len() * size_of::<Val>() + size_of::<Items>() + 2 * OVERHEAD) {
            Some(c) => Val::Tuple(Rc::new(Items { items, _charge: c })),
            None => Val::Dropped,
        }
    }

    /// An empty dict.
    pub(crate) fn dict() -> Val {
        match Charge::take(size_of::<Dict>() + 2 * OVERHEAD) {
            Some(c) => Val::Dict(Rc::new(Dict {
                pairs: RefCell::new(Vec::new()),
                charge: RefCell::new(c),
            })),
            None => Val::Dropped,
        }
    }

    /// An imported global; names are cut to [`KEEP_STR`] bytes.
    pub(crate) fn global(module: &str, name: &str, hit: Option<usize>, dynamic: bool) -> Val {
        let module = cut(module, KEEP_STR as usize);
        let name = cut(name, KEEP_STR as usize);
        match Charge::take(module.len() + name.len() + size_of::<Global>() + 3 * OVERHEAD) {
            Some(c) => Val::Global(Rc::new(Global {
                module: module.into(),
                name: name.into(),
                hit,
                called: Cell::new(false),
                dynamic,
                _charge: c,
            })),
            None => Val::Dropped,
        }
    }

    /// The result of calling `callee` with `args`.
    pub(crate) fn obj(callee: Val, args: Val) -> Val {
        match Charge::take(size_of::<Obj>() + OVERHEAD) {
            Some(c) => Val::Obj(Rc::new(Obj {
                callee,
                args,
                state: RefCell::new(None),
                _charge: c,
            })),
            None => Val::Dropped,
        }
    }

    /// Whether the value stands for something computed while loading (or
    /// not known to the scanner), not a literal.
    pub(crate) fn computed(&self) -> bool {
        matches!(
            self,
            Val::Obj(_) | Val::Opaque(_) | Val::Global(_) | Val::LongStr(_) | Val::Dropped
        )
    }

    /// Whether keeping this value in the memo can matter: strings (for
    /// `STACK_GLOBAL`), globals and call results (calls, `BUILD`, joblib
    /// arrays), and tuples or dicts holding those. Numbers, lists and other
    /// plain data come back from the memo as an opaque marker.
    pub(crate) fn worth_keeping(&self) -> bool {
        let rich = |v: &Val| matches!(v, Val::Str(_) | Val::Global(_) | Val::Obj(_));
        match self {
            Val::Str(_) | Val::Global(_) | Val::Obj(_) | Val::TorchMagic => true,
            Val::Tuple(t) => t.items.iter().any(rich),
            Val::Dict(d) => d.pairs.borrow().iter().any(|(k, v)| rich(k) || rich(v)),
            _ => false,
        }
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        match self {
            Val::None => f.write_str("None"),
            Val::Bool => f.write_str("a bool"),
            Val::Int(i) => write!(f, "{i}"),
            Val::BigInt | Val::TorchMagic => f.write_str("an int"),
            Val::Float => f.write_str("a float"),
            Val::Str(s) => write!(f, "{:?}", shown(s, 60)),
            Val::LongStr(n) => write!(f, "a {n}-character string"),
            Val::Bytes => f.write_str("bytes"),
            Val::Tuple(_) => f.write_str("a tuple"),
            Val::List => f.write_str("a list"),
            Val::Dict(_) => f.write_str("a dict"),
            Val::Set => f.write_str("a set"),
            Val::Global(g) => write!(f, "{}.{}", shown(&g.module, 80), shown(&g.name, 80)),
            Val::Obj(o) if depth < 3 => {
                f.write_str("the result of calling ")?;
                o.callee.describe(f, depth + 1)
            }
            Val::Obj(_) => f.write_str("the result of a call"),
            Val::Opaque(Opaque::Persistent) => f.write_str("a persistent object"),
            Val::Opaque(Opaque::Buffer) => f.write_str("an out-of-band buffer"),
            Val::Opaque(Opaque::MissingMemo) => f.write_str("a missing memo entry"),
            Val::Opaque(Opaque::Memoized) => f.write_str("a value fetched from the memo"),
            Val::Dropped => f.write_str("a value the scanner did not keep (memory budget)"),
        }
    }
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.describe(f, 0)
    }
}

/// Whether `from` reaches the allocation at `target` (or might: the search
/// gives up, answering yes, after a bounded number of containers).
fn reaches(from: &Val, target: *const ()) -> bool {
    let mut todo: Vec<Val> = vec![from.clone()];
    let mut budget = 256usize;
    while let Some(v) = todo.pop() {
        let ptr = match &v {
            Val::Tuple(t) => Rc::as_ptr(t).cast::<()>(),
            Val::Dict(d) => Rc::as_ptr(d).cast::<()>(),
            Val::Obj(o) => Rc::as_ptr(o).cast::<()>(),
            _ => continue,
        };
        if ptr == target {
            return true;
        }
        if budget == 0 {
            return true;
        }
        budget -= 1;
        match &v {
            Val::Tuple(t) => todo.extend(t.items.iter().filter(|c| c.container()).cloned()),
            Val::Dict(d) => {
                for (k, x) in d.pairs.borrow().iter() {
                    if k.container() {
                        todo.push(k.clone());
                    }
                    if x.container() {
                        todo.push(x.clone());
                    }
                }
            }
            Val::Obj(o) => {
                for c in [&o.callee, &o.args] {
                    if c.container() {
                        todo.push(c.clone());
                    }
                }
                if let Some(s) = &*o.state.borrow()
                    && s.container()
                {
                    todo.push(s.clone());
                }
            }
            _ => {}
        }
    }
    false
}

impl Val {
    fn container(&self) -> bool {
        matches!(self, Val::Tuple(_) | Val::Dict(_) | Val::Obj(_))
    }
}

/// Frees the children of a value being freed without recursion: a child
/// whose last reference this was is emptied onto a work list before it is
/// freed itself, so its own `Drop` finds nothing to descend into.
fn drain(kids: Vec<Val>) {
    let mut todo: Vec<Val> = kids.into_iter().filter(Val::container).collect();
    while let Some(v) = todo.pop() {
        match v {
            Val::Tuple(t) => {
                if let Some(mut t) = Rc::into_inner(t) {
                    todo.extend(
                        std::mem::take(&mut t.items)
                            .into_iter()
                            .filter(Val::container),
                    );
                }
            }
            Val::Dict(d) => {
                if let Some(mut d) = Rc::into_inner(d) {
                    for (k, x) in std::mem::take(d.pairs.get_mut()) {
                        todo.extend([k, x].into_iter().filter(Val::container));
                    }
                }
            }
            Val::Obj(o) => {
                if let Some(mut o) = Rc::into_inner(o) {
                    todo.extend(o.take_children().into_iter().filter(Val::container));
                }
            }
            _ => {}
        }
    }
}

impl Obj {
    fn take_children(&mut self) -> Vec<Val> {
        let mut kids = vec![
            std::mem::replace(&mut self.callee, Val::None),
            std::mem::replace(&mut self.args, Val::None),
        ];
        kids.extend(self.state.get_mut().take());
        kids
    }
}

impl Drop for Items {
    fn drop(&mut self) {
        drain(std::mem::take(&mut self.items));
    }
}

impl Drop for Dict {
    fn drop(&mut self) {
        let pairs = std::mem::take(self.pairs.get_mut());
        drain(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect());
    }
}

impl Drop for Obj {
    fn drop(&mut self) {
        drain(self.take_children());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_come_back() {
        let before = live_bytes();
        {
            let s = Val::str("os");
            let t = Val::tuple(vec![s.clone(), Val::Int(1)]);
            let d = Val::dict();
            if let Val::Dict(d) = &d {
                assert!(d.insert(s, t));
            }
            assert!(live_bytes() > before);
            drop(d);
        }
        assert_eq!(live_bytes(), before);
    }

    #[test]
    fn deep_nesting_drops_without_recursion() {
        let before = live_bytes();
        let mut v = Val::tuple(Vec::new());
        for _ in 0..200_000 {
            v = Val::tuple(vec![v]);
        }
        drop(v);
        assert_eq!(live_bytes(), before);
    }

    #[test]
    fn a_dict_cannot_hold_itself() {
        let d = Val::dict();
        let Val::Dict(dr) = &d else { panic!() };
        let t = Val::tuple(vec![d.clone()]);
        assert!(!dr.insert(Val::str("k"), t));
        assert!(!dr.insert(Val::str("k"), d.clone()));
        assert!(dr.insert(Val::str("k"), Val::Int(1)));
    }

    #[test]
    fn the_budget_is_enforced() {
        let mut kept = Vec::new();
        let mut dropped = false;
        for _ in 0..(LIVE_BUDGET / 64 + 10) {
            let v = Val::str("a string that is kept");
            if matches!(v, Val::Dropped) {
                dropped = true;
                break;
            }
            kept.push(v);
        }
        assert!(dropped);
        assert!(live_bytes() <= LIVE_BUDGET);
        drop(kept);
        assert!(matches!(Val::str("x"), Val::Str(_)));
    }
}
