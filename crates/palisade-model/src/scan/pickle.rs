//! A pickle abstract interpreter: every opcode of protocols 0 to 5, run the
//! way CPython's C unpickler runs them (object stack plus a separate mark
//! stack with its fence, memo indexed like `memo_len`, `MEMOIZE` at the
//! number of filled slots), but with values replaced by what a scanner needs:
//! strings (short ones kept), numbers, tuples and dicts (a few elements kept),
//! imported globals and the results of calls.
//!
//! Because the stack and memo are modelled, `STACK_GLOBAL` sees exactly the
//! two values CPython would pop, whatever mix of `MEMOIZE`, `PUT`, `BINPUT`,
//! `GET` and `DUP` put them there: there is no "look back a few opcodes"
//! guess to confuse. A `STACK_GLOBAL` fed by computed values is reported as
//! unresolvable.
//!
//! The stream is read forward once; string and bytes payloads beyond a few
//! hundred bytes are skipped with a seek, so a 1 GiB pickle costs its opcodes,
//! not its payloads. The scan is lenient where CPython is strict about a
//! value (a malformed float) and stops only where CPython stops too (an
//! unknown opcode, a stack underflow, the end of the data): it never stops
//! earlier than the unpickler and so never misses an opcode that would run.

use super::ctx::{Ctx, shown};
use super::policy::{Verdict, judge};
use super::rules;
use super::source::Source;
use super::value::{KEEP_STR, LIVE_BUDGET, Obj, Opaque, Val};
use palisade_core::Severity;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::io;

/// `torch.serialization.MAGIC_NUMBER` as LONG1 bytes (little-endian).
const TORCH_MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
/// Memo indices below this are tracked in a bitset (2 MiB at most).
const DENSE_MEMO: u64 = 1 << 24;
/// Memo indices above [`DENSE_MEMO`] tracked one by one.
const MAX_SPARSE_MEMO: usize = 1 << 16;
/// Distinct reported globals remembered, to report each once.
const MAX_SEEN: usize = 1 << 16;

/// Why a pickle stopped.
#[derive(Debug)]
enum Stop {
    /// Malformed at `offset`: CPython would raise here too.
    Malformed(u64, String),
    /// A scanner limit.
    Limit(u64, String),
    /// Reading failed.
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

/// What scanning a stream found.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Outcome {
    /// Pickles parsed to their STOP.
    pub(crate) complete: usize,
    /// Whether any opcode was recognised at all.
    pub(crate) any: bool,
    /// Whether the first pickle is PyTorch's legacy magic number.
    pub(crate) legacy_torch: bool,
}

/// Streams that hold several pickles one after another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// One pickle, then whatever follows is not ours (npy object payloads).
    One,
    /// Pickles until the data ends or stops being a pickle (plain pickle
    /// files, legacy torch files: magic, protocol, sys info, object, keys).
    Many,
}

/// Scans pickles from `src`, reporting into `ctx`.
pub(crate) fn scan<S: Source + ?Sized>(src: &mut S, ctx: &mut Ctx, mode: Mode) -> Outcome {
    scan_inner(src, ctx, mode, false).0
}

/// The value a complete pickle produced, as far as the scan tracks it.
#[derive(Debug)]
pub(crate) struct Value(Val);

impl Value {
    /// A non-negative int.
    pub(crate) fn as_int(&self) -> Option<u64> {
        match self.0 {
            Val::Int(i) => u64::try_from(i).ok(),
            _ => None,
        }
    }

    /// The `module.name` of the global at index `i` of a tuple.
    pub(crate) fn tuple_global_name(&self, i: usize) -> Option<String> {
        match &self.0 {
            Val::Tuple(t) => match t.get(i) {
                Some(Val::Global(g)) => Some(format!("{}.{}", g.module, g.name)),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Scans exactly one pickle and returns its value when it completes.
pub(crate) fn scan_value<S: Source + ?Sized>(src: &mut S, ctx: &mut Ctx) -> Option<Value> {
    let (out, v) = scan_inner(src, ctx, Mode::One, false);
    if out.complete == 1 {
        ctx.pickles += 1;
    }
    v.map(Value)
}

/// Scans what may be a pickle: when `tentative` (the data does not start
/// with PROTO), a first stream that breaks without importing anything is
/// taken for other data, not reported as malformed.
pub(crate) fn scan_guess<S: Source + ?Sized>(
    src: &mut S,
    ctx: &mut Ctx,
    tentative: bool,
) -> Outcome {
    scan_inner(src, ctx, Mode::Many, tentative).0
}

fn scan_inner<S: Source + ?Sized>(
    src: &mut S,
    ctx: &mut Ctx,
    mode: Mode,
    tentative: bool,
) -> (Outcome, Option<Val>) {
    let mut out = Outcome::default();
    let mut last = None;
    let mut seen = Seen::default();
    loop {
        let start = src.pos();
        let mut m = Machine::new(ctx, &mut seen);
        let res = m.run(src);
        let opcodes = m.opcodes;
        let globals = m.globals;
        match res {
            Ok(v) => {
                out.any = true;
                out.complete += 1;
                if out.complete == 1 && matches!(v, Val::TorchMagic) {
                    out.legacy_torch = true;
                }
                last = Some(v);
            }
            Err(stop) => {
                // A first pickle that breaks is malformed; a later "pickle"
                // that breaks without importing anything is trailing data
                // (legacy torch storages, joblib arrays) that no loader reads
                // as a pickle.
                let first = out.complete == 0;
                if opcodes > 0 {
                    out.any = true;
                }
                let report = (first && opcodes > 1 && !tentative)
                    || globals > 0
                    || matches!(stop, Stop::Limit(..));
                if report {
                    match stop {
                        Stop::Malformed(off, why) => ctx.report(
                            &rules::MALFORMED_PICKLE,
                            ctx.at_offset(off),
                            format!("pickle stream breaks at offset {off}: {why}; every opcode before it was scanned and would run on load"),
                            "",
                        ),
                        Stop::Limit(off, why) => ctx.report(
                            &rules::LIMIT_EXCEEDED,
                            ctx.at_offset(off),
                            format!("pickle scan stopped at offset {off}: {why}; the rest of the stream was not analysed"),
                            "",
                        ),
                        Stop::Io(e) => ctx.report(
                            &rules::MALFORMED_PICKLE,
                            ctx.at_offset(src.pos()),
                            format!("pickle stream cannot be read after offset {}: {e}", src.pos()),
                            "",
                        ),
                    }
                }
                return (out, last);
            }
        }
        if mode == Mode::One {
            return (out, last);
        }
        if out.legacy_torch && out.complete == 5 {
            // Raw storage bytes follow the storage keys.
            return (out, last);
        }
        if out.complete >= ctx.limits.max_pickles {
            ctx.report(
                &rules::LIMIT_EXCEEDED,
                ctx.at_offset(src.pos()),
                format!(
                    "more than {} pickles in one stream; the rest was not analysed",
                    ctx.limits.max_pickles
                ),
                "",
            );
            return (out, last);
        }
        if src.remaining() == Some(0) || src.pos() == start {
            return (out, last);
        }
    }
}

/// Globals already reported in this stream, by a keyed hash of the name
/// (a fixed memory cost however long the names are).
#[derive(Default)]
struct Seen {
    keys: HashSet<u64>,
    hasher: RandomState,
}

impl Seen {
    fn key(&self, module: &str, name: &str) -> u64 {
        self.hasher.hash_one((module, name))
    }
}

/// The memo, bounded: which slots are filled (a bitset, exact for the
/// indices picklers write), and the values worth keeping for at most
/// `max_kept` of them. Other filled slots give back an opaque marker, or
/// [`Val::Dropped`] once a value worth keeping had to be left out.
struct Memo {
    dense: Vec<u64>,
    sparse: HashSet<u64>,
    /// Filled slots, as CPython's `memo_len` counts them.
    len: u64,
    kept: HashMap<u64, Val>,
    max_kept: usize,
    /// A value worth keeping was left out.
    overflowed: bool,
}

impl Memo {
    fn new(max_kept: usize) -> Self {
        Self {
            dense: Vec::new(),
            sparse: HashSet::new(),
            len: 0,
            kept: HashMap::new(),
            max_kept,
            overflowed: false,
        }
    }

    fn filled(&self, idx: u64) -> bool {
        if idx < DENSE_MEMO {
            let w = usize::try_from(idx / 64).unwrap_or(usize::MAX);
            self.dense
                .get(w)
                .is_some_and(|b| b & (1 << (idx % 64)) != 0)
        } else {
            self.sparse.contains(&idx) || self.sparse.len() >= MAX_SPARSE_MEMO
        }
    }

    fn put(&mut self, idx: u64, v: Val) {
        if idx < DENSE_MEMO {
            let w = usize::try_from(idx / 64).unwrap_or(usize::MAX);
            if w >= self.dense.len() {
                self.dense.resize(w + 1, 0);
            }
            let bit = 1u64 << (idx % 64);
            if self.dense[w] & bit == 0 {
                self.dense[w] |= bit;
                self.len += 1;
            }
        } else if self.sparse.len() < MAX_SPARSE_MEMO {
            if self.sparse.insert(idx) {
                self.len += 1;
            }
        } else {
            // Untracked: count it as new, as most such writes are.
            self.len += 1;
        }
        if v.worth_keeping() {
            if self.kept.len() < self.max_kept || self.kept.contains_key(&idx) {
                self.kept.insert(idx, v);
                return;
            }
            self.overflowed = true;
        }
        self.kept.remove(&idx);
    }

    fn get(&self, idx: u64) -> Option<Val> {
        if let Some(v) = self.kept.get(&idx) {
            return Some(v.clone());
        }
        if !self.filled(idx) {
            return None;
        }
        Some(if self.overflowed {
            Val::Dropped
        } else {
            Val::Opaque(Opaque::Memoized)
        })
    }
}

struct Machine<'c, 's> {
    ctx: &'c mut Ctx,
    seen: &'s mut Seen,
    stack: Vec<Val>,
    marks: Vec<usize>,
    memo: Memo,
    opcodes: u64,
    globals: usize,
    malformed_reported: bool,
    dropped_reported: bool,
}

impl<'c, 's> Machine<'c, 's> {
    fn new(ctx: &'c mut Ctx, seen: &'s mut Seen) -> Self {
        let max_kept = ctx.limits.max_memo;
        Self {
            ctx,
            seen,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: Memo::new(max_kept),
            opcodes: 0,
            globals: 0,
            malformed_reported: false,
            dropped_reported: false,
        }
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self, at: u64) -> Result<Val, Stop> {
        if self.stack.len() <= self.fence() {
            return Err(Stop::Malformed(at, "unpickling stack underflow".into()));
        }
        Ok(self.stack.pop().unwrap_or(Val::None))
    }

    fn top(&self, at: u64) -> Result<&Val, Stop> {
        if self.stack.len() <= self.fence() {
            return Err(Stop::Malformed(at, "unpickling stack underflow".into()));
        }
        self.stack
            .last()
            .ok_or_else(|| Stop::Malformed(at, "unpickling stack underflow".into()))
    }

    /// Pops everything above the top mark, and the mark.
    fn pop_mark(&mut self, at: u64) -> Result<Vec<Val>, Stop> {
        let Some(mark) = self.marks.pop() else {
            return Err(Stop::Malformed(at, "could not find MARK".into()));
        };
        let mark = mark.min(self.stack.len());
        Ok(self.stack.split_off(mark))
    }

    fn push(&mut self, v: Val, at: u64) -> Result<(), Stop> {
        if self.stack.len() >= self.ctx.limits.max_stack {
            return Err(Stop::Limit(
                at,
                format!(
                    "more than {} values on the stack",
                    self.ctx.limits.max_stack
                ),
            ));
        }
        if matches!(v, Val::Dropped) && !self.dropped_reported {
            self.dropped_reported = true;
            let why = if self.memo.overflowed {
                format!(
                    "more than {} memo entries worth keeping",
                    self.ctx.limits.max_memo
                )
            } else {
                format!("more than {} MiB of values alive", LIVE_BUDGET >> 20)
            };
            self.ctx.report(
                &rules::LIMIT_EXCEEDED,
                self.ctx.at_offset(at),
                format!(
                    "pickle scan kept no value at offset {at}: {why}; such values are tracked as unknown from here on, while every import is still judged"
                ),
                "budget",
            );
        }
        self.stack.push(v);
        Ok(())
    }

    /// A value-level problem CPython would raise on: reported once, and the
    /// scan goes on (scanning past where CPython stops can only add findings).
    fn lenient(&mut self, at: u64, why: &str) {
        if !self.malformed_reported {
            self.malformed_reported = true;
            self.ctx.report(
                &rules::MALFORMED_PICKLE,
                self.ctx.at_offset(at),
                format!(
                    "pickle opcode at offset {at} is malformed: {why}; the scan continued past it"
                ),
                "",
            );
        }
    }

    fn memo_put(&mut self, idx: u64, at: u64) -> Result<(), Stop> {
        let v = self.top(at)?.clone();
        self.memo.put(idx, v);
        Ok(())
    }

    fn memo_get(&mut self, idx: u64, at: u64) -> Result<(), Stop> {
        let v = match self.memo.get(idx) {
            Some(v) => v,
            None => {
                self.lenient(at, &format!("memo entry {idx} was never stored"));
                Val::Opaque(Opaque::MissingMemo)
            }
        };
        self.push(v, at)
    }

    /// Records an imported global and judges it.
    fn global(&mut self, module: &str, name: &str, at: u64, how: &str) -> Val {
        self.globals += 1;
        let verdict = judge(module, name);
        let mut hit = None;
        let key = self.seen.key(module, name);
        if !matches!(verdict, Verdict::Safe) && !self.seen.keys.contains(&key) {
            let shown_name = format!("{}.{}", shown(module, 120), shown(name, 120));
            let (rule, message) = match verdict {
                Verdict::Dangerous(why) => (
                    &rules::DANGEROUS_GLOBAL,
                    format!("imports {shown_name} ({how} at offset {at}), which {why}"),
                ),
                _ => (
                    &rules::UNLISTED_GLOBAL,
                    format!(
                        "imports {shown_name} ({how} at offset {at}), which is not on the allowlist of checkpoint globals"
                    ),
                ),
            };
            hit = Some(self.ctx.hits.len());
            self.ctx
                .report(rule, self.ctx.at_offset(at), message, &shown_name);
            if self.seen.keys.len() < MAX_SEEN {
                self.seen.keys.insert(key);
            }
        }
        Val::global(module, name, hit, false)
    }

    /// Notes that `callee` is called by `how`, amending its finding.
    fn call(&mut self, callee: &Val, how: &str) {
        if let Val::Global(g) = callee
            && !g.called.replace(true)
            && let Some(h) = g.hit.and_then(|i| self.ctx.hits.get_mut(i))
        {
            h.message.push_str(" and calls it (");
            h.message.push_str(how);
            h.message.push(')');
        }
    }

    fn read_line<S: Source + ?Sized>(src: &mut S, at: u64) -> Result<Vec<u8>, Stop> {
        match src.read_line(KEEP_STR as usize * 8)? {
            Some((line, _)) => Ok(line),
            None => Err(Stop::Malformed(
                at,
                "pickle data was truncated (no end of line)".into(),
            )),
        }
    }

    fn read_n<S: Source + ?Sized, const N: usize>(src: &mut S, at: u64) -> Result<[u8; N], Stop> {
        let mut b = [0u8; N];
        src.read_exact(&mut b).map_err(|e| truncated(e, at))?;
        Ok(b)
    }

    /// A counted string or bytes payload: checked against what is left,
    /// kept when short, skipped when long.
    fn payload<S: Source + ?Sized>(
        src: &mut S,
        len: u64,
        at: u64,
    ) -> Result<Option<Vec<u8>>, Stop> {
        if let Some(left) = src.remaining()
            && len > left
        {
            return Err(Stop::Malformed(
                at,
                format!(
                    "a {len}-byte payload but only {left} bytes remain (pickle data was truncated)"
                ),
            ));
        }
        if len <= KEEP_STR {
            let mut buf = vec![0u8; len as usize];
            src.read_exact(&mut buf).map_err(|e| truncated(e, at))?;
            Ok(Some(buf))
        } else {
            src.skip(len).map_err(|e| truncated(e, at))?;
            Ok(None)
        }
    }

    fn text<S: Source + ?Sized>(src: &mut S, len: u64, at: u64) -> Result<Val, Stop> {
        Ok(match Self::payload(src, len, at)? {
            Some(b) => Val::str(&String::from_utf8_lossy(&b)),
            None => Val::LongStr(len),
        })
    }

    fn bytes<S: Source + ?Sized>(src: &mut S, len: u64, at: u64) -> Result<Val, Stop> {
        Self::payload(src, len, at)?;
        Ok(Val::Bytes)
    }

    fn run<S: Source + ?Sized>(&mut self, src: &mut S) -> Result<Val, Stop> {
        loop {
            let at = src.pos();
            let Some(op) = src.read_byte()? else {
                return Err(Stop::Malformed(
                    at,
                    "pickle data was truncated (no STOP opcode)".into(),
                ));
            };
            self.opcodes += 1;
            match op {
                b'(' => {
                    if self.marks.len() >= self.ctx.limits.max_marks {
                        return Err(Stop::Limit(
                            at,
                            format!("more than {} nested MARKs", self.ctx.limits.max_marks),
                        ));
                    }
                    self.marks.push(self.stack.len());
                }
                b'.' => return self.pop(at),
                b'0' => {
                    if self.marks.last() == Some(&self.stack.len()) {
                        self.marks.pop();
                    } else {
                        self.pop(at)?;
                    }
                }
                b'1' => {
                    self.pop_mark(at)?;
                }
                b'2' => {
                    let v = self.top(at)?.clone();
                    self.push(v, at)?;
                }
                b'N' => self.push(Val::None, at)?,
                0x88 | 0x89 => self.push(Val::Bool, at)?,
                b'I' => {
                    let line = Self::read_line(src, at)?;
                    let v = match line.as_slice() {
                        b"00" | b"01" => Val::Bool,
                        l => parse_int(l).unwrap_or_else(|| {
                            self.lenient(at, "INT argument is not a number");
                            Val::BigInt
                        }),
                    };
                    self.push(v, at)?;
                }
                b'L' => {
                    let mut line = Self::read_line(src, at)?;
                    if line.last() == Some(&b'L') {
                        line.pop();
                    }
                    let v = parse_int(&line).unwrap_or_else(|| {
                        self.lenient(at, "LONG argument is not a number");
                        Val::BigInt
                    });
                    self.push(v, at)?;
                }
                b'J' => {
                    let b = Self::read_n::<S, 4>(src, at)?;
                    self.push(Val::Int(i64::from(i32::from_le_bytes(b))), at)?;
                }
                b'K' => {
                    let b = Self::read_n::<S, 1>(src, at)?;
                    self.push(Val::Int(i64::from(b[0])), at)?;
                }
                b'M' => {
                    let b = Self::read_n::<S, 2>(src, at)?;
                    self.push(Val::Int(i64::from(u16::from_le_bytes(b))), at)?;
                }
                0x8a => {
                    let n = Self::read_n::<S, 1>(src, at)?[0];
                    let bytes = Self::payload(src, u64::from(n), at)?.unwrap_or_default();
                    let v = if bytes == TORCH_MAGIC {
                        Val::TorchMagic
                    } else if bytes.len() <= 8 {
                        Val::Int(le_signed(&bytes))
                    } else {
                        Val::BigInt
                    };
                    self.push(v, at)?;
                }
                0x8b => {
                    let n = i32::from_le_bytes(Self::read_n::<S, 4>(src, at)?);
                    let Ok(n) = u64::try_from(n) else {
                        return Err(Stop::Malformed(
                            at,
                            "LONG pickle has negative byte count".into(),
                        ));
                    };
                    Self::payload(src, n, at)?;
                    self.push(Val::BigInt, at)?;
                }
                b'F' => {
                    Self::read_line(src, at)?;
                    self.push(Val::Float, at)?;
                }
                b'G' => {
                    Self::read_n::<S, 8>(src, at)?;
                    self.push(Val::Float, at)?;
                }
                b'S' => {
                    let line = Self::read_line(src, at)?;
                    let quoted = line.len() >= 2
                        && (line[0] == b'\'' || line[0] == b'"')
                        && line[line.len() - 1] == line[0];
                    let body = if quoted {
                        &line[1..line.len() - 1]
                    } else {
                        self.lenient(at, "the STRING opcode argument must be quoted");
                        &line[..]
                    };
                    let decoded = unescape_bytes(body);
                    self.push(Val::str(&String::from_utf8_lossy(&decoded)), at)?;
                }
                b'T' => {
                    let n = i32::from_le_bytes(Self::read_n::<S, 4>(src, at)?);
                    let Ok(n) = u64::try_from(n) else {
                        return Err(Stop::Malformed(
                            at,
                            "BINSTRING pickle has negative byte count".into(),
                        ));
                    };
                    let v = Self::text(src, n, at)?;
                    self.push(v, at)?;
                }
                b'U' | 0x8c => {
                    let n = Self::read_n::<S, 1>(src, at)?[0];
                    let v = Self::text(src, u64::from(n), at)?;
                    self.push(v, at)?;
                }
                b'V' => {
                    let line = Self::read_line(src, at)?;
                    self.push(Val::str(&raw_unicode_escape(&line)), at)?;
                }
                b'X' => {
                    let n = u32::from_le_bytes(Self::read_n::<S, 4>(src, at)?);
                    let v = Self::text(src, u64::from(n), at)?;
                    self.push(v, at)?;
                }
                0x8d => {
                    let n = u64::from_le_bytes(Self::read_n::<S, 8>(src, at)?);
                    let v = Self::text(src, n, at)?;
                    self.push(v, at)?;
                }
                b'B' => {
                    let n = u32::from_le_bytes(Self::read_n::<S, 4>(src, at)?);
                    let v = Self::bytes(src, u64::from(n), at)?;
                    self.push(v, at)?;
                }
                b'C' => {
                    let n = Self::read_n::<S, 1>(src, at)?[0];
                    let v = Self::bytes(src, u64::from(n), at)?;
                    self.push(v, at)?;
                }
                0x8e | 0x96 => {
                    let n = u64::from_le_bytes(Self::read_n::<S, 8>(src, at)?);
                    let v = Self::bytes(src, n, at)?;
                    self.push(v, at)?;
                }
                0x97 => self.push(Val::Opaque(Opaque::Buffer), at)?,
                0x98 => {
                    self.top(at)?;
                }
                b')' => self.push(Val::tuple(Vec::new()), at)?,
                b't' => {
                    let items = self.pop_mark(at)?;
                    self.push(Val::tuple(items), at)?;
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    if self.stack.len() < self.fence() + n {
                        return Err(Stop::Malformed(at, "unpickling stack underflow".into()));
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.push(Val::tuple(items), at)?;
                }
                b']' => self.push(Val::List, at)?,
                b'l' => {
                    self.pop_mark(at)?;
                    self.push(Val::List, at)?;
                }
                b'}' => self.push(Val::dict(), at)?,
                b'd' => {
                    let items = self.pop_mark(at)?;
                    if items.len() % 2 != 0 {
                        self.lenient(at, "odd number of items for DICT");
                    }
                    let d = Val::dict();
                    if let Val::Dict(dr) = &d {
                        let mut it = items.into_iter();
                        while let (Some(k), Some(v)) = (it.next(), it.next()) {
                            if !dr.insert(k, v) {
                                break;
                            }
                        }
                    }
                    self.push(d, at)?;
                }
                0x8f => self.push(Val::Set, at)?,
                0x91 => {
                    self.pop_mark(at)?;
                    self.push(Val::Set, at)?;
                }
                b'a' => {
                    self.pop(at)?;
                    self.top(at)?;
                }
                b'e' | 0x90 => {
                    self.pop_to_target(at)?;
                }
                b's' => {
                    let value = self.pop(at)?;
                    let key = self.pop(at)?;
                    if let Val::Dict(d) = self.top(at)? {
                        d.insert(key, value);
                    }
                }
                b'u' => {
                    let items = self.pop_to_target(at)?;
                    if items.len() % 2 != 0 {
                        self.lenient(at, "odd number of items for SETITEMS");
                    }
                    if let Some(Val::Dict(d)) = self.stack.last() {
                        let mut it = items.into_iter();
                        while let (Some(k), Some(v)) = (it.next(), it.next()) {
                            if !d.insert(k, v) {
                                break;
                            }
                        }
                    }
                }
                b'b' => {
                    let state = self.pop(at)?;
                    let inst = self.top(at)?.clone();
                    self.build(&inst, state, at);
                    if let Some(skip) = joblib_array(&inst) {
                        self.joblib_payload(src, skip, at)?;
                    }
                }
                b'c' => {
                    let module = Self::read_line(src, at)?;
                    let name = Self::read_line(src, at)?;
                    let g = self.global(&lossy(module), &lossy(name), at, "GLOBAL");
                    self.push(g, at)?;
                }
                b'i' => {
                    let module = Self::read_line(src, at)?;
                    let name = Self::read_line(src, at)?;
                    let g = self.global(&lossy(module), &lossy(name), at, "INST");
                    let args = self.pop_mark(at)?;
                    self.call(&g, "INST");
                    let args = Val::tuple(args);
                    self.push(Val::obj(g, args), at)?;
                }
                0x93 => {
                    let name = self.pop(at)?;
                    let module = self.pop(at)?;
                    let g = self.stack_global(&module, &name, at)?;
                    self.push(g, at)?;
                }
                b'o' => {
                    let mut items = self.pop_mark(at)?;
                    if items.is_empty() {
                        return Err(Stop::Malformed(at, "OBJ without a class".into()));
                    }
                    let cls = items.remove(0);
                    self.call(&cls, "OBJ");
                    let args = Val::tuple(items);
                    self.push(Val::obj(cls, args), at)?;
                }
                b'R' => {
                    let args = self.pop(at)?;
                    let f = self.pop(at)?;
                    self.call(&f, "REDUCE");
                    self.push(Val::obj(f, args), at)?;
                }
                0x81 => {
                    let args = self.pop(at)?;
                    let cls = self.pop(at)?;
                    self.call(&cls, "NEWOBJ");
                    self.push(Val::obj(cls, args), at)?;
                }
                0x92 => {
                    self.pop(at)?;
                    let args = self.pop(at)?;
                    let cls = self.pop(at)?;
                    self.call(&cls, "NEWOBJ_EX");
                    self.push(Val::obj(cls, args), at)?;
                }
                b'P' => {
                    Self::read_line(src, at)?;
                    self.push(Val::Opaque(Opaque::Persistent), at)?;
                }
                b'Q' => {
                    self.pop(at)?;
                    self.push(Val::Opaque(Opaque::Persistent), at)?;
                }
                0x82..=0x84 => {
                    let code: i64 = match op {
                        0x82 => i64::from(Self::read_n::<S, 1>(src, at)?[0]),
                        0x83 => i64::from(u16::from_le_bytes(Self::read_n::<S, 2>(src, at)?)),
                        _ => i64::from(i32::from_le_bytes(Self::read_n::<S, 4>(src, at)?)),
                    };
                    if code <= 0 {
                        return Err(Stop::Malformed(at, "EXT specifies code <= 0".into()));
                    }
                    self.globals += 1;
                    let name = format!("<extension code {code}>");
                    let hit = self.ctx.hits.len();
                    self.ctx.report_as(
                        &rules::DYNAMIC_GLOBAL,
                        Severity::High,
                        self.ctx.at_offset(at),
                        format!("imports the global registered as copyreg extension code {code} (EXT at offset {at}); which callable that is depends on the loading process"),
                        &name,
                    );
                    self.push(Val::global("", &name, Some(hit), true), at)?;
                }
                b'g' => {
                    let line = Self::read_line(src, at)?;
                    let idx = parse_index(&line);
                    match idx {
                        Some(i) => self.memo_get(i, at)?,
                        None => {
                            self.lenient(at, "GET argument is not a number");
                            self.push(Val::Opaque(Opaque::MissingMemo), at)?;
                        }
                    }
                }
                b'h' => {
                    let i = Self::read_n::<S, 1>(src, at)?[0];
                    self.memo_get(u64::from(i), at)?;
                }
                b'j' => {
                    let i = u32::from_le_bytes(Self::read_n::<S, 4>(src, at)?);
                    self.memo_get(u64::from(i), at)?;
                }
                b'p' => {
                    let line = Self::read_line(src, at)?;
                    match parse_index(&line) {
                        Some(i) => self.memo_put(i, at)?,
                        None => {
                            return Err(Stop::Malformed(
                                at,
                                "PUT argument is not a non-negative number".into(),
                            ));
                        }
                    }
                }
                b'q' => {
                    let i = Self::read_n::<S, 1>(src, at)?[0];
                    self.memo_put(u64::from(i), at)?;
                }
                b'r' => {
                    let i = u32::from_le_bytes(Self::read_n::<S, 4>(src, at)?);
                    self.memo_put(u64::from(i), at)?;
                }
                0x94 => {
                    let idx = self.memo.len;
                    self.memo_put(idx, at)?;
                }
                0x80 => {
                    let p = Self::read_n::<S, 1>(src, at)?[0];
                    if p > 5 {
                        return Err(Stop::Malformed(
                            at,
                            format!("unsupported pickle protocol: {p}"),
                        ));
                    }
                }
                0x95 => {
                    let n = u64::from_le_bytes(Self::read_n::<S, 8>(src, at)?);
                    if let Some(left) = src.remaining()
                        && n > left
                    {
                        return Err(Stop::Malformed(
                            at,
                            format!(
                                "a {n}-byte frame but only {left} bytes remain (pickle data was truncated)"
                            ),
                        ));
                    }
                }
                other => {
                    return Err(Stop::Malformed(
                        at,
                        format!("invalid load key 0x{other:02x}"),
                    ));
                }
            }
        }
    }

    /// APPENDS, SETITEMS, ADDITEMS: the items above the mark, applied to the
    /// object just below it.
    fn pop_to_target(&mut self, at: u64) -> Result<Vec<Val>, Stop> {
        let Some(mark) = self.marks.pop() else {
            return Err(Stop::Malformed(at, "could not find MARK".into()));
        };
        if mark == 0 || mark <= self.fence() || mark > self.stack.len() {
            return Err(Stop::Malformed(at, "unpickling stack underflow".into()));
        }
        Ok(self.stack.split_off(mark))
    }

    fn stack_global(&mut self, module: &Val, name: &Val, at: u64) -> Result<Val, Stop> {
        match (module, name) {
            (Val::Str(m), Val::Str(n)) => Ok(self.global(m, n, at, "STACK_GLOBAL")),
            _ => {
                let computed = Val::computed;
                if !computed(module) && !computed(name) && !matches!(module, Val::Str(_)) {
                    return Err(Stop::Malformed(at, "STACK_GLOBAL requires str".into()));
                }
                if !computed(module) && !computed(name) && !matches!(name, Val::Str(_)) {
                    return Err(Stop::Malformed(at, "STACK_GLOBAL requires str".into()));
                }
                self.globals += 1;
                let label = format!("{module}.{name}");
                let hit = self.ctx.hits.len();
                self.ctx.report(
                    &rules::DYNAMIC_GLOBAL,
                    self.ctx.at_offset(at),
                    format!("STACK_GLOBAL at offset {at} imports a name computed while loading: module is {module}, name is {name}"),
                    &label,
                );
                Ok(Val::global("", &label, Some(hit), true))
            }
        }
    }

    fn build(&mut self, inst: &Val, state: Val, at: u64) {
        match inst {
            Val::Global(g) if !g.dynamic => {
                let label = format!("{}.{}", shown(&g.module, 120), shown(&g.name, 120));
                self.ctx.report(
                    &rules::STATE_ON_GLOBAL,
                    self.ctx.at_offset(at),
                    format!("BUILD at offset {at} sets attributes on the imported object {label} itself, not on an instance of it"),
                    &label,
                );
            }
            Val::Obj(o) => o.set_state(state),
            _ => {}
        }
    }

    /// joblib writes each array's bytes right after the BUILD of its
    /// `NumpyArrayWrapper`; object arrays are a nested pickle instead.
    fn joblib_payload<S: Source + ?Sized>(
        &mut self,
        src: &mut S,
        arr: JoblibArray,
        at: u64,
    ) -> Result<(), Stop> {
        if arr.object {
            if self.ctx.depth() >= self.ctx.limits.max_depth * 4 {
                return Err(Stop::Limit(
                    at,
                    "joblib object arrays nested too deep".into(),
                ));
            }
            let ctx = &mut *self.ctx;
            let out = scan(src, ctx, Mode::One);
            if out.complete == 0 {
                return Err(Stop::Malformed(
                    at,
                    "joblib object array payload is not a complete pickle".into(),
                ));
            }
            return Ok(());
        }
        if arr.aligned {
            let pad = Self::read_n::<S, 1>(src, at)?[0];
            src.skip(u64::from(pad)).map_err(|e| truncated(e, at))?;
        }
        let Some(bytes) = arr.bytes else {
            return Err(Stop::Malformed(at, "joblib array size overflows".into()));
        };
        if let Some(left) = src.remaining()
            && bytes > left
        {
            return Err(Stop::Malformed(
                at,
                format!("joblib array of {bytes} bytes but only {left} bytes remain"),
            ));
        }
        src.skip(bytes).map_err(|e| truncated(e, at))?;
        Ok(())
    }
}

fn truncated(e: io::Error, at: u64) -> Stop {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        Stop::Malformed(at, "pickle data was truncated".into())
    } else {
        Stop::Io(e)
    }
}

fn lossy(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn le_signed(b: &[u8]) -> i64 {
    if b.is_empty() {
        return 0;
    }
    let mut buf = if b[b.len() - 1] & 0x80 != 0 {
        [0xffu8; 8]
    } else {
        [0u8; 8]
    };
    buf[..b.len()].copy_from_slice(b);
    i64::from_le_bytes(buf)
}

fn parse_int(line: &[u8]) -> Option<Val> {
    let s = std::str::from_utf8(line).ok()?.trim();
    let s = s.replace('_', "");
    if let Ok(i) = s.parse::<i64>() {
        return Some(Val::Int(i));
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(&s);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(Val::BigInt)
}

fn parse_index(line: &[u8]) -> Option<u64> {
    std::str::from_utf8(line).ok()?.trim().parse::<u64>().ok()
}

/// Python's bytes escape decoding (`codecs.escape_decode`), as the STRING
/// opcode applies it.
fn unescape_bytes(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' || i >= s.len() {
            out.push(c);
            continue;
        }
        let e = s[i];
        i += 1;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let hex = s
                    .get(i..i + 2)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.extend_from_slice(b"\\x"),
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    out
}

/// Python's `raw-unicode-escape` decoding: latin-1 bytes with `\uXXXX` and
/// `\UXXXXXXXX` escapes.
fn raw_unicode_escape(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && i + 1 < s.len() && (s[i + 1] == b'u' || s[i + 1] == b'U') {
            let n = if s[i + 1] == b'u' { 4 } else { 8 };
            let ch = s
                .get(i + 2..i + 2 + n)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32);
            if let Some(c) = ch {
                out.push(c);
                i += 2 + n;
                continue;
            }
        }
        out.push(char::from(s[i]));
        i += 1;
    }
    out
}

/// A joblib array whose bytes follow in the stream.
#[derive(Debug, Clone, Copy)]
struct JoblibArray {
    object: bool,
    aligned: bool,
    bytes: Option<u64>,
}

/// When `inst` is a joblib `NumpyArrayWrapper` with its state, what follows.
fn joblib_array(inst: &Val) -> Option<JoblibArray> {
    let Val::Obj(o) = inst else { return None };
    let Val::Global(g) = &o.callee else {
        return None;
    };
    if &*g.module != "joblib.numpy_pickle" || &*g.name != "NumpyArrayWrapper" {
        return None;
    }
    let Some(Val::Dict(d)) = o.state() else {
        return None;
    };
    let (itemsize, object) = match d.get_str("dtype")? {
        Val::Obj(dt) => dtype_of(&dt)?,
        _ => return None,
    };
    let count = match d.get_str("shape")? {
        Val::Tuple(t) => t.iter().try_fold(1u64, |acc, v| match v {
            Val::Int(i) => u64::try_from(*i).ok().and_then(|i| acc.checked_mul(i)),
            _ => None,
        }),
        _ => None,
    };
    Some(JoblibArray {
        object,
        aligned: d.get_str("numpy_array_alignment_bytes").is_some(),
        bytes: count.and_then(|c| c.checked_mul(itemsize)),
    })
}

/// `numpy.dtype(descr, align, copy)` with its BUILD state: (itemsize, has objects).
fn dtype_of(dt: &Obj) -> Option<(u64, bool)> {
    let Val::Global(g) = &dt.callee else {
        return None;
    };
    if &*g.name != "dtype" {
        return None;
    }
    let Val::Tuple(args) = &dt.args else {
        return None;
    };
    let Some(Val::Str(descr)) = args.first() else {
        return None;
    };
    let (mut size, mut object) = super::numpy::descr_size(descr)?;
    // State: (version, byteorder, subarray, names, fields, elsize, alignment, flags).
    if let Some(Val::Tuple(st)) = dt.state() {
        if let Some(Val::Int(elsize)) = st.get(5)
            && *elsize > 0
        {
            size = u64::try_from(*elsize).ok()?;
        }
        if let Some(Val::Int(flags)) = st.get(7) {
            object |= flags & 1 != 0;
        }
    }
    Some((size, object))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::ctx::Limits;
    use crate::scan::source::mem;

    fn run(data: &[u8]) -> Ctx {
        let mut ctx = Ctx::new(Limits::default());
        scan(&mut mem(data), &mut ctx, Mode::Many);
        ctx
    }

    #[test]
    fn escapes_decode_like_python() {
        assert_eq!(unescape_bytes(br"o\x73\n\\\'"), b"os\n\\'");
        assert_eq!(unescape_bytes(br"\157s"), b"os");
        assert_eq!(raw_unicode_escape(br"\u006fs"), "os");
    }

    #[test]
    fn plain_data_gives_nothing() {
        // pickle.dumps({'a': [1, 2.0, 'x']}, protocol=2)
        let p = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02(K\x01G@\x00\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00xq\x03es.";
        let ctx = run(p);
        assert!(ctx.hits.is_empty(), "{:?}", ctx.hits);
    }

    fn ids(ctx: &Ctx) -> Vec<&'static str> {
        ctx.hits.iter().map(|h| h.rule.id).collect()
    }

    /// `n` memoized one-character strings, each popped again.
    fn flood(p: &mut Vec<u8>, n: usize) {
        for _ in 0..n {
            p.extend_from_slice(b"\x8c\x01x\x940");
        }
    }

    #[test]
    fn names_memoized_before_a_flood_still_resolve() {
        let mut p = b"\x80\x04\x8c\x02os\x940\x8c\x06system\x940".to_vec();
        flood(&mut p, 300_000);
        p.extend_from_slice(b"j\x00\x00\x00\x00j\x01\x00\x00\x00\x93N\x85R.");
        let ctx = run(&p);
        let h = ctx.hits.iter().find(|h| h.rule.id == "PLS-MDL-101");
        assert!(
            h.is_some_and(|h| h.message.contains("os.system") && h.message.contains("calls it")),
            "{:?}",
            ctx.hits
        );
        assert!(!ids(&ctx).contains(&"PLS-MDL-106"), "{:?}", ctx.hits);
    }

    #[test]
    fn names_memoized_after_a_flood_are_unresolvable_not_missed() {
        let mut p = b"\x80\x04".to_vec();
        flood(&mut p, 300_000);
        // MEMOIZE puts "os" at 300000 and "system" at 300001.
        p.extend_from_slice(b"\x8c\x02os\x940\x8c\x06system\x940");
        p.extend_from_slice(b"j\xe0\x93\x04\x00j\xe1\x93\x04\x00\x93N\x85R.");
        let ctx = run(&p);
        let ids = ids(&ctx);
        assert!(ids.contains(&"PLS-MDL-103"), "{:?}", ctx.hits);
        assert!(ids.contains(&"PLS-MDL-106"), "{:?}", ctx.hits);
        assert!(ctx.hits.iter().all(|h| h.severity >= Severity::Medium));
    }

    #[test]
    fn a_huge_memo_does_not_stop_the_scan() {
        // 3 million memo entries of plain data, then a dangerous global.
        let mut p = b"\x80\x02".to_vec();
        for _ in 0..3_000_000 {
            p.extend_from_slice(b"K\x01\x940");
        }
        p.extend_from_slice(b"cposix\nsystem\n.");
        let ctx = run(&p);
        assert_eq!(ids(&ctx), ["PLS-MDL-101"], "{:?}", ctx.hits);
    }

    #[test]
    fn a_dict_holding_itself_leaks_nothing() {
        let before = crate::scan::value::live_bytes();
        // d = {}; memo[0] = d; d["k"] = d; d[d] = d
        let ctx = run(b"\x80\x02}q\x00X\x01\x00\x00\x00kh\x00sh\x00h\x00s(h\x00h\x00u.");
        assert!(ctx.hits.is_empty(), "{:?}", ctx.hits);
        assert_eq!(crate::scan::value::live_bytes(), before);
    }

    #[test]
    fn deeply_nested_tuples_are_freed_without_recursion() {
        let before = crate::scan::value::live_bytes();
        let mut p = b"\x80\x02)".to_vec();
        p.extend(std::iter::repeat_n(0x85u8, 1_000_000));
        p.push(b'.');
        let ctx = run(&p);
        // The budget runs out on the way: reported, and nothing leaks.
        assert_eq!(ids(&ctx), ["PLS-MDL-106"], "{:?}", ctx.hits);
        assert_eq!(crate::scan::value::live_bytes(), before);
    }

    #[test]
    fn findings_per_file_are_capped() {
        let mut p = b"\x80\x02".to_vec();
        for i in 0..20_000 {
            p.extend_from_slice(format!("cmod{i}\nf\n0").as_bytes());
        }
        p.extend_from_slice(b"N.");
        let scan = crate::scan::scan_bytes(&p, &crate::scan::Options::default());
        assert_eq!(scan.hits.len(), 10_001);
        let last = scan
            .hits
            .last()
            .map(|h| h.message.clone())
            .unwrap_or_default();
        assert!(last.starts_with("10000 more findings"), "{last}");
    }

    #[test]
    fn underflow_stops_and_reports() {
        let ctx = run(b"\x80\x02K\x01R.");
        assert!(ctx.hits.iter().any(|h| h.rule.id == "PLS-MDL-105"));
    }
}
