//! Budgets, rate limits and concurrency, behind one store trait: in memory
//! for one replica, Redis (atomic Lua scripts) for many.
//!
//! Accounting is by reservation. `admit` checks every limit and, only if all
//! pass, records a reservation of the request's estimated tokens in one
//! atomic step; `settle` replaces the reservation by the tokens really used.
//! A budget check counts what was spent in the window plus what is reserved
//! by requests in flight, so concurrent requests cannot all pass on the same
//! remaining budget: spend never exceeds the budget by more than one
//! request's overshoot of its own reservation.
//!
//! Rate limits are GCRA (the generic cell rate algorithm): one timestamp per
//! limit, the theoretical arrival time, in microseconds.

use crate::config::{Budget, Rate, TenantConfig, Window, WindowKind};
use crate::error::rules;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A boxed future, for the object-safe store trait.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The store could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Redis is unreachable or failed.
    #[error("budget store unavailable: {0}")]
    Unavailable(String),
}

/// The limits of a tenant, as the store needs them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Limits {
    /// Token budgets.
    pub budgets: Vec<Budget>,
    /// Requests per period.
    pub requests: Option<Rate>,
    /// Tokens per period.
    pub tokens: Option<Rate>,
    /// Requests in flight.
    pub max_concurrent: Option<u32>,
}

impl From<&TenantConfig> for Limits {
    fn from(t: &TenantConfig) -> Self {
        Limits {
            budgets: t.budgets.clone(),
            requests: t.requests,
            tokens: t.tokens,
            max_concurrent: t.max_concurrent,
        }
    }
}

/// Tokens held for a request in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// Unique ID.
    pub id: String,
    /// Tokens reserved.
    pub tokens: u64,
}

/// Why a request was not admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The limit's rule ID.
    pub rule: &'static str,
    /// Which limit, in words (no secrets, no prompt text).
    pub message: String,
    /// Seconds until a retry may pass.
    pub retry_after: u64,
}

/// The store's answer to `admit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Admitted with this reservation.
    Admitted(Reservation),
    /// Refused.
    Denied(Denial),
}

/// A request for admission.
#[derive(Debug, Clone, Copy)]
pub struct AdmitRequest<'a> {
    /// Tenant ID.
    pub tenant: &'a str,
    /// Its limits.
    pub limits: &'a Limits,
    /// Tokens to reserve.
    pub tokens: u64,
    /// Now, in microseconds since the Unix epoch.
    pub now_us: u64,
    /// How long the reservation is held if never settled (a crashed replica).
    pub ttl: Duration,
}

/// Shared state of budgets and limits.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Checks all limits and reserves, atomically.
    fn admit<'a>(&'a self, req: AdmitRequest<'a>) -> BoxFuture<'a, Result<Admission, StoreError>>;
    /// Releases a reservation and charges `used` tokens to every budget window.
    fn settle<'a>(
        &'a self,
        tenant: &'a str,
        limits: &'a Limits,
        reservation: &'a Reservation,
        used: u64,
        now_us: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Tokens spent in a budget's current window (settled only).
    fn spent<'a>(
        &'a self,
        tenant: &'a str,
        budget: &'a Budget,
        now_us: u64,
    ) -> BoxFuture<'a, Result<u64, StoreError>>;
    /// Whether the store answers (for `/readyz`).
    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>>;
}

const MINUTE_US: u64 = 60_000_000;
const ROLLING_BUCKETS: u64 = 12;

fn window_len_us(w: Window) -> u64 {
    match w {
        Window::Minute => MINUTE_US,
        Window::Hour => 60 * MINUTE_US,
        Window::Day => 24 * 60 * MINUTE_US,
        Window::Month => 30 * 24 * 60 * MINUTE_US,
    }
}

/// The buckets a budget's window is made of at `now_us`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSpan {
    /// Bucket indexes whose sum is the spend in the window.
    pub buckets: Vec<u64>,
    /// The bucket new spend is charged to.
    pub current: u64,
    /// Microseconds until the oldest counted bucket leaves the window.
    pub retry_after_us: u64,
    /// How long a bucket must be kept.
    pub ttl_us: u64,
}

fn month_index_and_end(now_us: u64) -> (u64, u64) {
    let secs = i64::try_from(now_us / 1_000_000).unwrap_or(i64::MAX);
    let dt =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (y, m) = (dt.year(), u8::from(dt.month()));
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let next = time::Month::try_from(nm)
        .ok()
        .and_then(|mm| time::Date::from_calendar_date(ny, mm, 1).ok())
        .map_or(secs + 31 * 86_400, |d| {
            d.midnight().assume_utc().unix_timestamp()
        });
    let idx = u64::try_from(i64::from(y) * 12 + i64::from(m) - 1).unwrap_or(0);
    let end_us = u64::try_from(next)
        .unwrap_or(u64::MAX / 2)
        .saturating_mul(1_000_000);
    (idx, end_us)
}

/// Computes the window of a budget at `now_us`.
pub fn window_span(b: &Budget, now_us: u64) -> WindowSpan {
    let len = window_len_us(b.window);
    match (b.kind, b.window) {
        (WindowKind::Calendar, Window::Month) => {
            let (idx, end) = month_index_and_end(now_us);
            WindowSpan {
                buckets: vec![idx],
                current: idx,
                retry_after_us: end.saturating_sub(now_us),
                ttl_us: 32 * 24 * 60 * MINUTE_US,
            }
        }
        (WindowKind::Calendar, _) => {
            let idx = now_us / len;
            WindowSpan {
                buckets: vec![idx],
                current: idx,
                retry_after_us: (idx + 1) * len - now_us,
                ttl_us: len + MINUTE_US,
            }
        }
        (WindowKind::Rolling, _) => {
            let blen = len / ROLLING_BUCKETS;
            let idx = now_us / blen;
            let first = idx.saturating_sub(ROLLING_BUCKETS - 1);
            WindowSpan {
                buckets: (first..=idx).collect(),
                current: idx,
                retry_after_us: (idx + 1) * blen - now_us,
                ttl_us: len + blen,
            }
        }
    }
}

fn kind_name(k: WindowKind) -> &'static str {
    match k {
        WindowKind::Calendar => "calendar",
        WindowKind::Rolling => "rolling",
    }
}

fn secs_ceil(us: u64) -> u64 {
    us.div_ceil(1_000_000).max(1)
}

fn budget_denial(
    tenant: &str,
    b: &Budget,
    spent: u64,
    reserved: u64,
    want: u64,
    retry_us: u64,
) -> Denial {
    Denial {
        rule: rules::BUDGET,
        message: format!(
            "token budget exceeded: tenant {tenant:?} has {} of {} tokens per {} ({}) spent or reserved; this request needs {want}",
            spent + reserved,
            b.tokens,
            b.window.as_str(),
            kind_name(b.kind),
        ),
        retry_after: secs_ceil(retry_us),
    }
}

/// GCRA parameters in microseconds: emission interval per unit and tolerance.
fn gcra_params(r: &Rate) -> (f64, f64) {
    #[allow(clippy::cast_precision_loss)]
    let t = r.period.as_micros() as f64 / r.rate as f64;
    #[allow(clippy::cast_precision_loss)]
    let tau = t * r.burst as f64;
    (t, tau)
}

/// Checks a GCRA limit for `cost` units. Returns the new TAT, or the
/// microseconds to wait.
fn gcra(tat: f64, now: f64, cost: u64, r: &Rate) -> Result<f64, f64> {
    let (t, tau) = gcra_params(r);
    let tat = tat.max(now);
    #[allow(clippy::cast_precision_loss)]
    let new_tat = tat + t * cost as f64;
    if new_tat - now > tau {
        Err(new_tat - now - tau)
    } else {
        Ok(new_tat)
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn us_f(v: f64) -> u64 {
    if v <= 0.0 { 0 } else { v as u64 }
}

fn rate_denial(rule: &'static str, tenant: &str, r: &Rate, cost: u64, wait_us: f64) -> Denial {
    let what = if rule == rules::REQUEST_RATE {
        "requests"
    } else {
        "tokens"
    };
    let extra = if cost > r.burst {
        format!(
            "; this request needs {cost}, more than the burst of {}",
            r.burst
        )
    } else {
        String::new()
    };
    Denial {
        rule,
        message: format!(
            "rate limit exceeded: tenant {tenant:?} may use {} {what} per {}s (burst {}){extra}",
            r.rate,
            r.period.as_secs(),
            r.burst
        ),
        retry_after: if cost > r.burst {
            r.period.as_secs().max(1)
        } else {
            secs_ceil(us_f(wait_us))
        },
    }
}

fn concurrency_denial(tenant: &str, max: u32) -> Denial {
    Denial {
        rule: rules::CONCURRENCY,
        message: format!(
            "concurrency limit exceeded: tenant {tenant:?} may have {max} requests in flight"
        ),
        retry_after: 1,
    }
}

fn next_id(counter: &AtomicU64, nonce: u64) -> String {
    format!("{nonce:x}-{:x}", counter.fetch_add(1, Ordering::Relaxed))
}

fn boot_nonce() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (t as u64) ^ (u64::from(std::process::id()) << 32)
}

#[derive(Debug, Default)]
struct TenantState {
    /// (window, kind) -> bucket index -> tokens.
    spent: HashMap<(Window, WindowKind), BTreeMap<u64, u64>>,
    /// Reservation ID -> (tokens, expiry µs).
    reservations: HashMap<String, (u64, u64)>,
    req_tat: f64,
    tok_tat: f64,
}

impl TenantState {
    fn prune(&mut self, now_us: u64) {
        self.reservations.retain(|_, (_, exp)| *exp > now_us);
    }

    fn spent_in(&self, b: &Budget, span: &WindowSpan) -> u64 {
        self.spent.get(&(b.window, b.kind)).map_or(0, |m| {
            span.buckets
                .iter()
                .map(|i| m.get(i).copied().unwrap_or(0))
                .sum()
        })
    }
}

/// Budgets and limits in this process.
#[derive(Debug)]
pub struct MemoryStore {
    tenants: Mutex<HashMap<String, TenantState>>,
    counter: AtomicU64,
    nonce: u64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            tenants: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(0),
            nonce: boot_nonce(),
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn admit_now(&self, req: &AdmitRequest<'_>) -> Admission {
        let mut map = self
            .tenants
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let st = map.entry(req.tenant.to_owned()).or_default();
        st.prune(req.now_us);
        let l = req.limits;
        if let Some(max) = l.max_concurrent
            && st.reservations.len() >= max as usize
        {
            return Admission::Denied(concurrency_denial(req.tenant, max));
        }
        #[allow(clippy::cast_precision_loss)]
        let now = req.now_us as f64;
        let mut new_req_tat = None;
        if let Some(r) = &l.requests {
            match gcra(st.req_tat, now, 1, r) {
                Ok(t) => new_req_tat = Some(t),
                Err(w) => {
                    return Admission::Denied(rate_denial(
                        rules::REQUEST_RATE,
                        req.tenant,
                        r,
                        1,
                        w,
                    ));
                }
            }
        }
        let mut new_tok_tat = None;
        if let Some(r) = &l.tokens {
            match gcra(st.tok_tat, now, req.tokens, r) {
                Ok(t) => new_tok_tat = Some(t),
                Err(w) => {
                    return Admission::Denied(rate_denial(
                        rules::TOKEN_RATE,
                        req.tenant,
                        r,
                        req.tokens,
                        w,
                    ));
                }
            }
        }
        let reserved: u64 = st.reservations.values().map(|(t, _)| t).sum();
        for b in &l.budgets {
            let span = window_span(b, req.now_us);
            let spent = st.spent_in(b, &span);
            if spent + reserved + req.tokens > b.tokens {
                let retry = if req.tokens > b.tokens {
                    window_len_us(b.window)
                } else {
                    span.retry_after_us
                };
                return Admission::Denied(budget_denial(
                    req.tenant, b, spent, reserved, req.tokens, retry,
                ));
            }
        }
        if let Some(t) = new_req_tat {
            st.req_tat = t;
        }
        if let Some(t) = new_tok_tat {
            st.tok_tat = t;
        }
        let id = next_id(&self.counter, self.nonce);
        let ttl = u64::try_from(req.ttl.as_micros()).unwrap_or(u64::MAX / 4);
        st.reservations
            .insert(id.clone(), (req.tokens, req.now_us.saturating_add(ttl)));
        Admission::Admitted(Reservation {
            id,
            tokens: req.tokens,
        })
    }

    fn settle_now(&self, tenant: &str, limits: &Limits, res: &Reservation, used: u64, now_us: u64) {
        let mut map = self
            .tenants
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let st = map.entry(tenant.to_owned()).or_default();
        st.reservations.remove(&res.id);
        let mut done: Vec<(Window, WindowKind)> = Vec::new();
        for b in &limits.budgets {
            if done.contains(&(b.window, b.kind)) {
                continue;
            }
            done.push((b.window, b.kind));
            let span = window_span(b, now_us);
            let m = st.spent.entry((b.window, b.kind)).or_default();
            *m.entry(span.current).or_default() += used;
            // Forget buckets that left the window.
            let first = span.buckets.first().copied().unwrap_or(span.current);
            m.retain(|i, _| *i >= first);
        }
        if let Some(r) = &limits.tokens
            && used < res.tokens
        {
            let (t, _) = gcra_params(r);
            #[allow(clippy::cast_precision_loss)]
            let refund = t * (res.tokens - used) as f64;
            st.tok_tat = (st.tok_tat - refund).max(0.0);
        }
    }
}

impl Store for MemoryStore {
    fn admit<'a>(&'a self, req: AdmitRequest<'a>) -> BoxFuture<'a, Result<Admission, StoreError>> {
        Box::pin(async move { Ok(self.admit_now(&req)) })
    }

    fn settle<'a>(
        &'a self,
        tenant: &'a str,
        limits: &'a Limits,
        reservation: &'a Reservation,
        used: u64,
        now_us: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.settle_now(tenant, limits, reservation, used, now_us);
            Ok(())
        })
    }

    fn spent<'a>(
        &'a self,
        tenant: &'a str,
        budget: &'a Budget,
        now_us: u64,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let map = self
                .tenants
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Ok(map
                .get(tenant)
                .map_or(0, |st| st.spent_in(budget, &window_span(budget, now_us))))
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
}

/// The admission script. All checks first, then all writes: either every
/// limit passes and the reservation is recorded, or nothing changes.
///
/// KEYS: 1 reservations hash, 2 reservation expiry zset, 3 request TAT,
/// 4 token TAT, then the bucket keys of every budget.
/// ARGV: now, tokens, id, expiry, maxConcurrent, reqT, reqTau, tokT,
/// tokTau, nBudgets, then per budget: limit, nKeys.
const ADMIT_LUA: &str = r"
local now = tonumber(ARGV[1])
local want = tonumber(ARGV[2])
local id = ARGV[3]
local expiry = tonumber(ARGV[4])
local maxc = tonumber(ARGV[5])
local reqT, reqTau = tonumber(ARGV[6]), tonumber(ARGV[7])
local tokT, tokTau = tonumber(ARGV[8]), tonumber(ARGV[9])
local nb = tonumber(ARGV[10])
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, g in ipairs(gone) do
  redis.call('HDEL', KEYS[1], g)
end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
local inflight = redis.call('HLEN', KEYS[1])
if maxc > 0 and inflight >= maxc then
  return {'concurrency', 0, 0}
end
local newReq, newTok = nil, nil
if reqT > 0 then
  local tat = math.max(tonumber(redis.call('GET', KEYS[3]) or '0'), now)
  local n = tat + reqT
  if n - now > reqTau then return {'requests', tostring(n - now - reqTau), 0} end
  newReq = n
end
if tokT > 0 then
  local tat = math.max(tonumber(redis.call('GET', KEYS[4]) or '0'), now)
  local n = tat + tokT * want
  if n - now > tokTau then return {'tokens', tostring(n - now - tokTau), 0} end
  newTok = n
end
local reserved = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do reserved = reserved + tonumber(v) end
local k = 5
local a = 11
for b = 1, nb do
  local limit = tonumber(ARGV[a])
  local nk = tonumber(ARGV[a + 1])
  a = a + 2
  local spent = 0
  for i = 1, nk do
    spent = spent + tonumber(redis.call('GET', KEYS[k]) or '0')
    k = k + 1
  end
  if spent + reserved + want > limit then
    return {'budget', tostring(b), tostring(spent), tostring(reserved)}
  end
end
if newReq then redis.call('SET', KEYS[3], string.format('%.0f', math.floor(newReq)), 'PX', math.ceil((newReq - now) / 1000) + 1000) end
if newTok then redis.call('SET', KEYS[4], string.format('%.0f', math.floor(newTok)), 'PX', math.ceil((newTok - now) / 1000) + 1000) end
redis.call('HSET', KEYS[1], id, want)
redis.call('ZADD', KEYS[2], expiry, id)
redis.call('PEXPIRE', KEYS[1], math.ceil((expiry - now) / 1000) + 1000)
redis.call('PEXPIRE', KEYS[2], math.ceil((expiry - now) / 1000) + 1000)
return {'ok', 0, 0}
";

/// The settlement script. KEYS: 1 reservations, 2 expiry zset, 3 token TAT,
/// then one bucket key per charged window. ARGV: id, used, refund µs, then
/// per bucket key its TTL in ms.
const SETTLE_LUA: &str = r"
local id = ARGV[1]
local used = tonumber(ARGV[2])
local refund = tonumber(ARGV[3])
redis.call('HDEL', KEYS[1], id)
redis.call('ZREM', KEYS[2], id)
if refund > 0 then
  local tat = tonumber(redis.call('GET', KEYS[3]) or '0')
  if tat > 0 then
    local ttl = redis.call('PTTL', KEYS[3])
    if ttl < 0 then ttl = 1000 end
    redis.call('SET', KEYS[3], string.format('%.0f', math.floor(math.max(tat - refund, 0))), 'PX', ttl)
  end
end
for i = 4, #KEYS do
  redis.call('INCRBY', KEYS[i], used)
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[i]))
end
return 1
";

/// Budgets and limits in Redis, shared by every replica. Keys of one tenant
/// share a hash tag, so a Redis Cluster keeps them on one slot.
pub struct RedisStore {
    client: redis::Client,
    conn: tokio::sync::Mutex<Option<redis::aio::ConnectionManager>>,
    prefix: String,
    admit: redis::Script,
    settle: redis::Script,
    counter: AtomicU64,
    nonce: u64,
    timeout: Duration,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn unavailable(e: &redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl RedisStore {
    /// A store for `url`. Does not connect yet: the first request does, and
    /// an unreachable Redis is an error for that request, not for startup.
    pub fn new(url: &str, prefix: &str, timeout: Duration) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(url).map_err(|e| unavailable(&e))?;
        Ok(RedisStore {
            client,
            conn: tokio::sync::Mutex::new(None),
            prefix: prefix.to_owned(),
            admit: redis::Script::new(ADMIT_LUA),
            settle: redis::Script::new(SETTLE_LUA),
            counter: AtomicU64::new(0),
            nonce: boot_nonce(),
            timeout,
        })
    }

    async fn connection(&self) -> Result<redis::aio::ConnectionManager, StoreError> {
        let mut g = self.conn.lock().await;
        if let Some(c) = g.as_ref() {
            return Ok(c.clone());
        }
        let cfg = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let c = tokio::time::timeout(
            self.timeout * 2,
            redis::aio::ConnectionManager::new_with_config(self.client.clone(), cfg),
        )
        .await
        .map_err(|_| StoreError::Unavailable("connect timed out".into()))?
        .map_err(|e| unavailable(&e))?;
        *g = Some(c.clone());
        Ok(c)
    }

    fn key(&self, tenant: &str, what: &str) -> String {
        format!("{}{{{tenant}}}:{what}", self.prefix)
    }

    fn bucket_key(&self, tenant: &str, b: &Budget, idx: u64) -> String {
        self.key(
            tenant,
            &format!("b:{}:{}:{idx}", b.window.as_str(), kind_name(b.kind)),
        )
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        inv: redis::ScriptInvocation<'_>,
    ) -> Result<T, StoreError> {
        let mut c = self.connection().await?;
        tokio::time::timeout(self.timeout * 2, inv.invoke_async(&mut c))
            .await
            .map_err(|_| StoreError::Unavailable("Redis did not answer in time".into()))?
            .map_err(|e| unavailable(&e))
    }

    async fn admit_impl(&self, req: AdmitRequest<'_>) -> Result<Admission, StoreError> {
        let l = req.limits;
        let t = req.tenant;
        let id = next_id(&self.counter, self.nonce);
        let ttl = u64::try_from(req.ttl.as_micros()).unwrap_or(u64::MAX / 4);
        let mut inv = self.admit.prepare_invoke();
        inv.key(self.key(t, "r"))
            .key(self.key(t, "e"))
            .key(self.key(t, "rq"))
            .key(self.key(t, "tk"));
        let (req_t, req_tau) = l.requests.as_ref().map_or((0.0, 0.0), gcra_params);
        let (tok_t, tok_tau) = l.tokens.as_ref().map_or((0.0, 0.0), gcra_params);
        inv.arg(req.now_us)
            .arg(req.tokens)
            .arg(&id)
            .arg(req.now_us.saturating_add(ttl))
            .arg(l.max_concurrent.unwrap_or(0))
            .arg(req_t)
            .arg(req_tau)
            .arg(tok_t)
            .arg(tok_tau)
            .arg(l.budgets.len());
        let mut spans = Vec::new();
        for b in &l.budgets {
            let span = window_span(b, req.now_us);
            for i in &span.buckets {
                inv.key(self.bucket_key(t, b, *i));
            }
            inv.arg(b.tokens).arg(span.buckets.len());
            spans.push(span);
        }
        let out: Vec<String> = self.run(inv).await?;
        let num = |i: usize| {
            out.get(i)
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        Ok(match out.first().map(String::as_str) {
            Some("ok") => Admission::Admitted(Reservation {
                id,
                tokens: req.tokens,
            }),
            Some("concurrency") => {
                Admission::Denied(concurrency_denial(t, l.max_concurrent.unwrap_or(0)))
            }
            Some("requests") => match &l.requests {
                Some(r) => Admission::Denied(rate_denial(rules::REQUEST_RATE, t, r, 1, num(1))),
                None => return Err(StoreError::Unavailable("inconsistent script answer".into())),
            },
            Some("tokens") => match &l.tokens {
                Some(r) => {
                    Admission::Denied(rate_denial(rules::TOKEN_RATE, t, r, req.tokens, num(1)))
                }
                None => return Err(StoreError::Unavailable("inconsistent script answer".into())),
            },
            Some("budget") => {
                let i = us_f(num(1)).saturating_sub(1) as usize;
                let (Some(b), Some(span)) = (l.budgets.get(i), spans.get(i)) else {
                    return Err(StoreError::Unavailable("inconsistent script answer".into()));
                };
                let retry = if req.tokens > b.tokens {
                    window_len_us(b.window)
                } else {
                    span.retry_after_us
                };
                Admission::Denied(budget_denial(
                    t,
                    b,
                    us_f(num(2)),
                    us_f(num(3)),
                    req.tokens,
                    retry,
                ))
            }
            _ => return Err(StoreError::Unavailable("unexpected script answer".into())),
        })
    }

    async fn settle_impl(
        &self,
        t: &str,
        l: &Limits,
        res: &Reservation,
        used: u64,
        now_us: u64,
    ) -> Result<(), StoreError> {
        let mut inv = self.settle.prepare_invoke();
        inv.key(self.key(t, "r"))
            .key(self.key(t, "e"))
            .key(self.key(t, "tk"));
        let refund = match &l.tokens {
            Some(r) if used < res.tokens => {
                let (tt, _) = gcra_params(r);
                #[allow(clippy::cast_precision_loss)]
                let v = tt * (res.tokens - used) as f64;
                v
            }
            _ => 0.0,
        };
        inv.arg(&res.id).arg(used).arg(refund);
        let mut done: Vec<(Window, WindowKind)> = Vec::new();
        for b in &l.budgets {
            if done.contains(&(b.window, b.kind)) {
                continue;
            }
            done.push((b.window, b.kind));
            let span = window_span(b, now_us);
            inv.key(self.bucket_key(t, b, span.current));
            inv.arg(span.ttl_us / 1000);
        }
        let _: i64 = self.run(inv).await?;
        Ok(())
    }
}

impl Store for RedisStore {
    fn admit<'a>(&'a self, req: AdmitRequest<'a>) -> BoxFuture<'a, Result<Admission, StoreError>> {
        Box::pin(self.admit_impl(req))
    }

    fn settle<'a>(
        &'a self,
        tenant: &'a str,
        limits: &'a Limits,
        reservation: &'a Reservation,
        used: u64,
        now_us: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.settle_impl(tenant, limits, reservation, used, now_us))
    }

    fn spent<'a>(
        &'a self,
        tenant: &'a str,
        budget: &'a Budget,
        now_us: u64,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let span = window_span(budget, now_us);
            let keys: Vec<String> = span
                .buckets
                .iter()
                .map(|i| self.bucket_key(tenant, budget, *i))
                .collect();
            let mut c = self.connection().await?;
            let vals: Vec<Option<u64>> = tokio::time::timeout(
                self.timeout * 2,
                redis::cmd("MGET").arg(&keys).query_async(&mut c),
            )
            .await
            .map_err(|_| StoreError::Unavailable("Redis did not answer in time".into()))?
            .map_err(|e| unavailable(&e))?;
            Ok(vals.into_iter().flatten().sum())
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let mut c = self.connection().await?;
            let _: String =
                tokio::time::timeout(self.timeout * 2, redis::cmd("PING").query_async(&mut c))
                    .await
                    .map_err(|_| StoreError::Unavailable("Redis did not answer in time".into()))?
                    .map_err(|e| unavailable(&e))?;
            Ok(())
        })
    }
}

/// Now in microseconds since the Unix epoch.
pub fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            budgets: vec![Budget {
                window: Window::Day,
                kind: WindowKind::Calendar,
                tokens: 100,
            }],
            ..Limits::default()
        }
    }

    fn admit(s: &MemoryStore, l: &Limits, tokens: u64, now: u64) -> Admission {
        s.admit_now(&AdmitRequest {
            tenant: "t",
            limits: l,
            tokens,
            now_us: now,
            ttl: Duration::from_secs(60),
        })
    }

    #[test]
    fn budget_counts_reservations_in_flight() {
        let s = MemoryStore::new();
        let l = limits();
        let now = 1_700_000_000_000_000;
        let Admission::Admitted(a) = admit(&s, &l, 60, now) else {
            panic!()
        };
        // 60 reserved: a second 60 would overrun, even though nothing is spent yet.
        let Admission::Denied(d) = admit(&s, &l, 60, now) else {
            panic!()
        };
        assert_eq!(d.rule, rules::BUDGET);
        assert!(d.message.contains("per day"), "{}", d.message);
        assert!(d.retry_after > 0);
        s.settle_now("t", &l, &a, 20, now);
        assert!(matches!(admit(&s, &l, 60, now), Admission::Admitted(_)));
    }

    #[test]
    fn expired_reservations_are_released() {
        let s = MemoryStore::new();
        let l = Limits {
            max_concurrent: Some(1),
            ..Limits::default()
        };
        let now = 1_000_000_000;
        assert!(matches!(admit(&s, &l, 1, now), Admission::Admitted(_)));
        assert!(
            matches!(admit(&s, &l, 1, now), Admission::Denied(d) if d.rule == rules::CONCURRENCY)
        );
        assert!(matches!(
            admit(&s, &l, 1, now + 61_000_000),
            Admission::Admitted(_)
        ));
    }

    #[test]
    fn gcra_allows_burst_then_rate() {
        let s = MemoryStore::new();
        let l = Limits {
            requests: Some(Rate {
                rate: 2,
                period: Duration::from_secs(1),
                burst: 2,
            }),
            ..Limits::default()
        };
        let now = 10_000_000;
        assert!(matches!(admit(&s, &l, 0, now), Admission::Admitted(_)));
        assert!(matches!(admit(&s, &l, 0, now), Admission::Admitted(_)));
        let Admission::Denied(d) = admit(&s, &l, 0, now) else {
            panic!()
        };
        assert_eq!(d.rule, rules::REQUEST_RATE);
        assert_eq!(d.retry_after, 1);
        // After half a second one more request fits.
        assert!(matches!(
            admit(&s, &l, 0, now + 500_000),
            Admission::Admitted(_)
        ));
        assert!(matches!(
            admit(&s, &l, 0, now + 500_000),
            Admission::Denied(_)
        ));
    }

    #[test]
    fn token_rate_refuses_requests_larger_than_the_burst() {
        let s = MemoryStore::new();
        let l = Limits {
            tokens: Some(Rate {
                rate: 100,
                period: Duration::from_secs(60),
                burst: 100,
            }),
            ..Limits::default()
        };
        let Admission::Denied(d) = admit(&s, &l, 101, 5_000_000) else {
            panic!()
        };
        assert_eq!(d.rule, rules::TOKEN_RATE);
        assert!(d.message.contains("burst"));
    }

    #[test]
    fn windows() {
        // 2026-12-01T07:30:00Z
        let now = 1_796_110_200_000_000;
        let b = Budget {
            window: Window::Month,
            kind: WindowKind::Calendar,
            tokens: 1,
        };
        let s = window_span(&b, now);
        assert_eq!(s.current, 2026 * 12 + 11);
        // 30 days, 16.5 hours to January.
        assert_eq!(s.retry_after_us / 1_000_000, 30 * 86_400 + 16 * 3600 + 1800);
        let r = Budget {
            window: Window::Hour,
            kind: WindowKind::Rolling,
            tokens: 1,
        };
        let s = window_span(&r, now);
        assert_eq!(s.buckets.len(), 12);
        assert_eq!(*s.buckets.last().unwrap(), s.current);
        let d = Budget {
            window: Window::Day,
            kind: WindowKind::Calendar,
            tokens: 1,
        };
        assert_eq!(
            window_span(&d, now).retry_after_us / 1_000_000,
            16 * 3600 + 1800
        );
    }

    #[test]
    fn rolling_window_forgets_old_spend() {
        let s = MemoryStore::new();
        let l = Limits {
            budgets: vec![Budget {
                window: Window::Hour,
                kind: WindowKind::Rolling,
                tokens: 100,
            }],
            ..Limits::default()
        };
        let now = 3_600_000_000 * 1000;
        let Admission::Admitted(a) = admit(&s, &l, 100, now) else {
            panic!()
        };
        s.settle_now("t", &l, &a, 100, now);
        assert!(matches!(
            admit(&s, &l, 1, now + 1_800_000_000),
            Admission::Denied(_)
        ));
        assert!(matches!(
            admit(&s, &l, 1, now + 3_600_000_000),
            Admission::Admitted(_)
        ));
    }
}
