//! `palisade secrets controller`: rotation and rollouts, continuously.
//!
//! - kube-rs runtime: a metadata-only watcher of Secrets (values never
//!   cross the wire) reflected into a store drives a [`Controller`] that
//!   reconciles one Secret at a time; reflectors of Deployments,
//!   StatefulSets, DaemonSets, CronJobs and Argo Rollouts (when the cluster
//!   serves `argoproj.io/v1alpha1` at the start of a leadership term) feed
//!   the rollout planner and re-trigger the Secrets a changed workload
//!   consumes.
//! - A reconcile rotates the Secret when [`crate::rotation::decide`] says so,
//!   then applies [`crate::rollout::plan_rollouts`] to the workloads that
//!   track it, and requeues at the next due time, debounce end or rate-limit
//!   end (at most `resync` later). Failures requeue with exponential backoff
//!   (1 s doubling to 5 min, per Secret).
//! - Leader election through a Lease ([`super::lease`]): only the leader
//!   runs the controller; it renews every `renew_every` and stops acting as
//!   soon as a renewal fails; on shutdown it releases the Lease so a
//!   follower takes over at once.
//! - `/metrics` (Prometheus text), `/healthz`, `/readyz` (caches synced).

use super::lease::Elector;
use super::{Actor, ApplyError, AuditSink, apply_rollout, apply_rotation, probe_unwritten};
use crate::policy::{PolicySet, VERSION};
use crate::rollout::{
    OBSERVED, RESTARTED_AT, RolloutAction, RolloutPolicy, SecretState, WorkloadInfo, plan_rollouts,
};
use crate::rotation::{Action as RotAction, SecretMeta, decide};
use futures::StreamExt as _;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::Api;
use kube::core::{ApiResource, DynamicObject, PartialObjectMeta};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt as _, reflector, watcher};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration as StdDuration;
use time::OffsetDateTime;

/// The clock (injected so tests can move time).
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// How the controller runs.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    /// This replica's identity (pod name).
    pub identity: String,
    /// Lease namespace.
    pub lease_namespace: String,
    /// Lease name.
    pub lease_name: String,
    /// `leaseDurationSeconds`.
    pub lease_duration_secs: i64,
    /// Renewal (and candidate retry) period.
    pub renew_every: StdDuration,
    /// Rotation policies of palisade.yaml (annotations apply anyway).
    pub policies: PolicySet,
    /// Rollout pacing.
    pub rollout: RolloutPolicy,
    /// Longest wait between two reconciles of a Secret.
    pub resync: StdDuration,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            identity: "palisade-secrets".into(),
            lease_namespace: "palisade".into(),
            lease_name: "palisade-secrets-controller".into(),
            lease_duration_secs: 15,
            renew_every: StdDuration::from_secs(5),
            policies: PolicySet::default(),
            rollout: RolloutPolicy::default(),
            resync: StdDuration::from_secs(300),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabel {
    action: String,
}

/// The controller's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reconciles: Family<ResultLabel, Counter>,
    rotations: Family<ResultLabel, Counter>,
    rollouts: Family<ActionLabel, Counter>,
    leader: Gauge,
    duration: Histogram,
    /// The leader's caches have synced.
    ready: AtomicBool,
    /// A follower whose last election round reached the API server.
    standby: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("palisade_secrets");
        let reconciles = Family::<ResultLabel, Counter>::default();
        let rotations = Family::<ResultLabel, Counter>::default();
        let rollouts = Family::<ActionLabel, Counter>::default();
        let leader = Gauge::default();
        // 100 µs to 30 s, 1-2.5-5 steps: fine enough for p50/p99 from the
        // buckets (bench/secrets/ reads them).
        let duration = Histogram::new([
            0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
            1.0, 2.5, 5.0, 10.0, 30.0,
        ]);
        registry.register(
            "reconciles",
            "Secret reconciles by result",
            reconciles.clone(),
        );
        registry.register("rotations", "Secret rotations by result", rotations.clone());
        registry.register(
            "rollouts",
            "Workload rollout decisions applied, by action",
            rollouts.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica holds the Lease",
            leader.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Time per reconcile",
            duration.clone(),
        );
        Self {
            registry,
            reconciles,
            rotations,
            rollouts,
            leader,
            duration,
            ready: AtomicBool::new(false),
            standby: AtomicBool::new(false),
        }
    }
}

impl Metrics {
    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Whether this replica leads.
    pub fn is_leader(&self) -> bool {
        self.leader.get() == 1
    }

    /// `/readyz`: the leader once its caches have synced, a follower while
    /// its election rounds reach the API server (it stands by to take over;
    /// a follower reported unready would stall a Deployment's rolling
    /// update, whose new pods start as followers).
    pub fn is_ready(&self) -> bool {
        if self.is_leader() {
            self.ready.load(Ordering::Relaxed)
        } else {
            self.standby.load(Ordering::Relaxed)
        }
    }

    fn count(f: &Family<ResultLabel, Counter>, ok: bool) {
        f.get_or_create(&ResultLabel {
            result: if ok { "ok" } else { "error" }.into(),
        })
        .inc();
    }
}

/// The health and metrics endpoints.
pub fn app(metrics: Arc<Metrics>) -> axum::Router {
    use axum::http::StatusCode;
    use axum::routing::get;
    let m1 = metrics.clone();
    let m2 = metrics;
    axum::Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let m = m1.clone();
                async move {
                    if m.is_ready() {
                        (StatusCode::OK, "ok\n")
                    } else {
                        (
                            StatusCode::SERVICE_UNAVAILABLE,
                            "caches not synced, or the API server is unreachable\n",
                        )
                    }
                }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let m = m2.clone();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        m.encode(),
                    )
                }
            }),
        )
}

type SecretObj = PartialObjectMeta<Secret>;

struct Ctx {
    client: Client,
    cfg: ControllerConfig,
    audit: Arc<AuditSink>,
    actor: Actor,
    clock: Clock,
    metrics: Arc<Metrics>,
    secrets: Store<SecretObj>,
    deployments: Store<Deployment>,
    statefulsets: Store<StatefulSet>,
    daemonsets: Store<DaemonSet>,
    cronjobs: Store<CronJob>,
    /// (ns, name) -> (version string, when it was first seen so).
    seen: Mutex<HashMap<(String, String), (String, OffsetDateTime)>>,
    /// Workload id -> annotations this controller wrote (the stores lag).
    written: Mutex<HashMap<String, (String, Option<String>)>>,
    /// (ns, name) -> consecutive failures.
    failures: Mutex<HashMap<(String, String), u32>>,
    /// (ns, name) -> the resourceVersion a rotation of this controller
    /// replaced: while the store still shows it, the store lags behind our
    /// own write (a workload event re-triggered the Secret first) and a
    /// second rotation would only meet a 409 Conflict.
    rotated_from: Mutex<HashMap<(String, String), String>>,
    /// Workloads as the planner sees them, converted once per resourceVersion.
    workload_cache: Cache<WorkloadInfo>,
    /// Secrets' metadata, converted once per resourceVersion.
    secret_cache: Cache<SecretMeta>,
    /// Reflectors of this term of leadership with their initial list, one
    /// bit each ([`ALL_SYNCED`] when all are).
    synced: Arc<AtomicU8>,
    /// The stores' objects by namespace.
    index: Indexes,
    /// Argo Rollouts, when the cluster serves them.
    rollouts: Option<(Store<DynamicObject>, ApiResource)>,
    /// The bits of `synced` that mean every reflector has its list.
    all_synced: u8,
}

/// One [`NsIndex`] per store.
struct Indexes {
    secrets: Arc<NsIndex>,
    deployments: Arc<NsIndex>,
    statefulsets: Arc<NsIndex>,
    daemonsets: Arc<NsIndex>,
    cronjobs: Arc<NsIndex>,
    rollouts: Arc<NsIndex>,
}

/// Bits of the Secret, Deployment, StatefulSet, DaemonSet and CronJob
/// reflectors.
const ALL_SYNCED: u8 = 0b1_1111;

/// Reconciles in flight at once.
const RECONCILE_CONCURRENCY: u16 = 32;

/// Bit of the Argo Rollouts reflector (when the cluster serves them).
const ROLLOUTS_SYNCED: u8 = 0b10_0000;

/// Sets `bit` in `synced` when a reflector stream delivers its initial list,
/// and marks the replica ready once every bit of `all` is set.
fn mark_synced<K>(
    synced: &Arc<AtomicU8>,
    metrics: &Arc<Metrics>,
    bit: u8,
    all: u8,
) -> impl FnMut(&Result<watcher::Event<K>, watcher::Error>) + use<K> {
    let (synced, metrics) = (synced.clone(), metrics.clone());
    move |e| {
        if matches!(e, Ok(watcher::Event::InitDone))
            && synced.fetch_or(bit, Ordering::AcqRel) | bit == all
        {
            metrics.ready.store(true, Ordering::Relaxed);
        }
    }
}

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// An API action failed.
    #[error("{0}")]
    Apply(#[from] ApplyError),
    /// The reconcile task stopped without an answer (it panicked).
    #[error("reconcile task: {0}")]
    Task(String),
}

fn to_object<K: serde::Serialize>(o: &K, ar: &ApiResource) -> Option<palisade_k8s::Object> {
    let text = serde_json::to_string(o).ok()?;
    palisade_k8s::cluster::object_from_json(&text, ar, true, "controller")
        .ok()
        .flatten()
}

fn secret_ar() -> ApiResource {
    ApiResource::erase::<Secret>(&())
}

/// The names of a reflector store's objects by namespace, kept from the
/// reflector's own events: a reconcile reads the objects of its namespace
/// instead of copying the whole store (`Store::state`) and filtering it,
/// which made a pass quadratic (10,000 Secrets: most of the controller's
/// CPU time went to copying and comparing namespaces).
struct NsIndex(Mutex<HashMap<String, BTreeSet<String>>>);

impl NsIndex {
    fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(HashMap::new())))
    }

    /// Follows one event of a stream already applied to the store
    /// (`.reflect(writer)` before this).
    fn observe<K>(&self, store: &Store<K>, e: &watcher::Event<K>)
    where
        K: kube::Resource + Clone + 'static,
        K::DynamicType: Eq + std::hash::Hash + Clone,
    {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match e {
            watcher::Event::Apply(o) | watcher::Event::InitApply(o) => Self::insert(&mut map, o),
            watcher::Event::Delete(o) => {
                let m = o.meta();
                if let (Some(ns), Some(name)) = (m.namespace.as_deref(), m.name.as_deref())
                    && let Some(names) = map.get_mut(ns)
                {
                    names.remove(name);
                }
            }
            // A re-list swapped the store in: objects deleted while the watch
            // was down sent no Delete.
            watcher::Event::InitDone => {
                map.clear();
                for o in store.state() {
                    Self::insert(&mut map, &*o);
                }
            }
            watcher::Event::Init => {}
        }
    }

    fn insert<K: kube::Resource>(map: &mut HashMap<String, BTreeSet<String>>, o: &K) {
        let m = o.meta();
        if let (Some(ns), Some(name)) = (m.namespace.as_deref(), m.name.as_deref()) {
            map.entry(ns.to_owned())
                .or_default()
                .insert(name.to_owned());
        }
    }

    /// The stored objects of namespace `ns`, by name.
    fn objects<K>(&self, store: &Store<K>, ns: &str, dt: &K::DynamicType) -> Vec<Arc<K>>
    where
        K: kube::Resource + Clone + 'static,
        K::DynamicType: Eq + std::hash::Hash + Clone,
    {
        let names: Vec<String> = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(ns)
            .map(|n| n.iter().cloned().collect())
            .unwrap_or_default();
        names
            .into_iter()
            .filter_map(|n| store.get(&ObjectRef::new_with(&n, dt.clone()).within(ns)))
            .collect()
    }
}

/// Follows a reflector stream's events into `index`.
fn index_into<K>(
    index: &Arc<NsIndex>,
    store: &Store<K>,
) -> impl FnMut(&Result<watcher::Event<K>, watcher::Error>) + use<K>
where
    K: kube::Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    let (index, store) = (index.clone(), store.clone());
    move |e| {
        if let Ok(e) = e {
            index.observe(&store, e);
        }
    }
}

/// Conversions of stored objects keyed by uid, valid for one
/// resourceVersion: a reconcile converts (a JSON round trip through
/// [`palisade_k8s::Object`]) only the objects that changed since an earlier
/// reconcile converted them, instead of every object of the namespace.
struct Cache<T> {
    /// uid -> (resourceVersion, conversion).
    map: Mutex<HashMap<String, Cached<T>>>,
}

type Cached<T> = (String, Option<Arc<T>>);

impl<T> Default for Cache<T> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> Cache<T> {
    /// The conversion of the object with `meta`, from the cache when its
    /// resourceVersion is the one converted.
    fn get(
        &self,
        meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
        convert: impl FnOnce() -> Option<T>,
    ) -> Option<Arc<T>> {
        let (Some(uid), Some(rv)) = (meta.uid.as_deref(), meta.resource_version.as_deref()) else {
            return convert().map(Arc::new);
        };
        if let Some((v, t)) = self
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(uid)
            && v == rv
        {
            return t.clone();
        }
        let t = convert().map(Arc::new);
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(uid.to_owned(), (rv.to_owned(), t.clone()));
        t
    }

    /// Whether the cache holds more than twice the `stored` objects (the
    /// entries of deleted objects are then due for [`Self::prune`]).
    fn len_over(&self, stored: usize) -> bool {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
            > 2 * stored + 64
    }

    /// Keeps only the entries of `live` uids.
    fn prune<'a>(&self, live: impl Iterator<Item = &'a str>, _stored: usize) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        let live: std::collections::HashSet<&str> = live.collect();
        map.retain(|uid, _| live.contains(uid.as_str()));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

fn workload_info<K: serde::Serialize + kube::Resource<DynamicType = ()>>(
    o: &K,
) -> Option<WorkloadInfo> {
    workload_info_with(o, &ApiResource::erase::<K>(&()))
}

fn workload_info_with<K: serde::Serialize>(o: &K, ar: &ApiResource) -> Option<WorkloadInfo> {
    let obj = to_object(o, ar)?;
    WorkloadInfo::from_objects(std::slice::from_ref(&obj))
        .into_iter()
        .next()
}

fn secret_meta(s: &SecretObj) -> Option<SecretMeta> {
    to_object(s, &secret_ar()).map(|o| SecretMeta::from_object(&o))
}

impl Ctx {
    fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    fn workloads_in(&self, ns: &str) -> Vec<WorkloadInfo> {
        let mut ws = Vec::new();
        let mut stored = 0usize;
        macro_rules! from {
            ($store:expr, $index:expr) => {
                stored += $store.len();
                for o in $index.objects(&$store, ns, &()) {
                    if let Some(w) = self.workload_cache.get(&o.metadata, || workload_info(&*o)) {
                        ws.push((*w).clone());
                    }
                }
            };
        }
        from!(self.deployments, self.index.deployments);
        from!(self.statefulsets, self.index.statefulsets);
        from!(self.daemonsets, self.index.daemonsets);
        from!(self.cronjobs, self.index.cronjobs);
        if let Some((store, ar)) = &self.rollouts {
            stored += store.len();
            for o in self.index.rollouts.objects(store, ns, ar) {
                if let Some(w) = self
                    .workload_cache
                    .get(&o.metadata, || workload_info_with(&*o, ar))
                {
                    ws.push((*w).clone());
                }
            }
        }
        if self.workload_cache.len_over(stored) {
            let (d, s, ds, c) = (
                self.deployments.state(),
                self.statefulsets.state(),
                self.daemonsets.state(),
                self.cronjobs.state(),
            );
            let r = self
                .rollouts
                .as_ref()
                .map(|(store, _)| store.state())
                .unwrap_or_default();
            let live = d
                .iter()
                .filter_map(|o| o.metadata.uid.as_deref())
                .chain(s.iter().filter_map(|o| o.metadata.uid.as_deref()))
                .chain(ds.iter().filter_map(|o| o.metadata.uid.as_deref()))
                .chain(c.iter().filter_map(|o| o.metadata.uid.as_deref()))
                .chain(r.iter().filter_map(|o| o.metadata.uid.as_deref()));
            self.workload_cache.prune(live, stored);
        }
        let written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        for w in &mut ws {
            if let Some((observed, restarted)) = written.get(&w.id()) {
                w.annotations.insert(OBSERVED.into(), observed.clone());
                if let Some(r) = restarted {
                    w.template_annotations
                        .insert(RESTARTED_AT.into(), r.clone());
                }
            }
        }
        ws
    }

    /// The states of the namespace's other Secrets.
    fn other_states(&self, ns: &str, name: &str, now: OffsetDateTime) -> Vec<SecretState> {
        let mut out = Vec::new();
        for s in self.index.secrets.objects(&self.secrets, ns, &()) {
            if s.metadata.name.as_deref() == Some(name) {
                continue;
            }
            if let Some(m) = self.secret_cache.get(&s.metadata, || secret_meta(&s)) {
                out.push(self.state_of(&m, now));
            }
        }
        let stored = self.secrets.len();
        if self.secret_cache.len_over(stored) {
            let all = self.secrets.state();
            self.secret_cache
                .prune(all.iter().filter_map(|o| o.metadata.uid.as_deref()), stored);
        }
        out
    }

    /// Applies a Roll or Baseline and remembers what was written.
    async fn apply(
        &self,
        d: &crate::rollout::RolloutDecision,
        now: OffsetDateTime,
    ) -> Result<(), ApplyError> {
        apply_rollout(&self.client, d, &self.audit, &self.actor, now).await?;
        let observed = d
            .patch
            .as_ref()
            .and_then(|p| p["metadata"]["annotations"][OBSERVED].as_str())
            .unwrap_or_default()
            .to_owned();
        let rolled = matches!(d.action, RolloutAction::Roll { .. });
        {
            let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
            let restarted = if rolled {
                Some(crate::rotation::rfc3339(now))
            } else {
                written.get(&d.id()).and_then(|(_, r)| r.clone())
            };
            written.insert(d.id(), (observed, restarted));
        }
        let label = if rolled { "roll" } else { "baseline" };
        self.metrics
            .rollouts
            .get_or_create(&ActionLabel {
                action: label.into(),
            })
            .inc();
        tracing::info!(workload = %d.id(), action = label, "rollout applied");
        Ok(())
    }

    fn state_of(&self, m: &SecretMeta, now: OffsetDateTime) -> SecretState {
        let mut s = SecretState::from_meta(m, None);
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (m.namespace.clone(), m.name.clone());
        match seen.get(&key) {
            Some((v, at)) if *v == s.version => s.changed_at = Some(*at),
            Some(_) => {
                seen.insert(key, (s.version.clone(), now));
                s.changed_at = Some(now);
            }
            // First sight (controller start): no change known.
            None => {
                seen.insert(key, (s.version.clone(), OffsetDateTime::UNIX_EPOCH));
            }
        }
        s
    }
}

async fn reconcile(obj: Arc<SecretObj>, ctx: Arc<Ctx>) -> Result<Action, ReconcileError> {
    // Until every reflector has its initial list, a workload that consumes
    // this Secret may be missing from the stores: it would then be baselined
    // after a rotation and never roll for it. Wait for the lists (not
    // counted as a reconcile).
    if ctx.synced.load(Ordering::Acquire) != ctx.all_synced {
        return Ok(Action::requeue(StdDuration::from_millis(100)));
    }
    let started = std::time::Instant::now();
    // The Controller polls every reconcile inside its one runner task: the
    // planning work then ran on a single thread. Spawned, it runs on any
    // worker thread; aborted when the Controller drops it (a replica that
    // lost the Lease stops acting, as it did when the future was polled
    // in place).
    let r = {
        let (obj, ctx) = (obj.clone(), ctx.clone());
        let mut task = AbortOnDrop(tokio::spawn(
            async move { reconcile_inner(&obj, &ctx).await },
        ));
        (&mut task.0)
            .await
            .unwrap_or_else(|e| Err(ReconcileError::Task(e.to_string())))
    };
    ctx.metrics
        .duration
        .observe(started.elapsed().as_secs_f64());
    Metrics::count(&ctx.metrics.reconciles, r.is_ok());
    let key = (
        obj.metadata.namespace.clone().unwrap_or_default(),
        obj.metadata.name.clone().unwrap_or_default(),
    );
    if r.is_ok() {
        ctx.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&key);
    }
    r
}

async fn reconcile_inner(obj: &SecretObj, ctx: &Ctx) -> Result<Action, ReconcileError> {
    let now = ctx.now();
    let Some(meta) = ctx.secret_cache.get(&obj.metadata, || secret_meta(obj)) else {
        return Ok(Action::await_change());
    };
    let mut meta = (*meta).clone();
    let ns = meta.namespace.clone();
    let name = meta.name.clone();
    {
        let mut rotated = ctx
            .rotated_from
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let key = (ns.clone(), name.clone());
        match rotated.get(&key) {
            // The watch has not delivered our rotation yet: it will trigger
            // this Secret again when it does.
            Some(rv) if *rv == meta.resource_version => {
                return Ok(Action::requeue(StdDuration::from_secs(1)));
            }
            Some(_) => {
                rotated.remove(&key);
            }
            None => {}
        }
    }
    let mut next: Vec<OffsetDateTime> =
        vec![now + time::Duration::try_from(ctx.cfg.resync).unwrap_or(time::Duration::minutes(5))];
    // 0. Workloads seen for the first time are baselined at the versions
    // before any rotation, so that they roll for it.
    let others = ctx.other_states(&ns, &name, now);
    {
        let mut states = others.clone();
        states.push(ctx.state_of(&meta, now));
        let workloads = ctx.workloads_in(&ns);
        for d in plan_rollouts(&states, &workloads, &ctx.cfg.rollout, now) {
            if d.action == RolloutAction::Baseline && d.secrets.contains(&name) {
                ctx.apply(&d, now).await?;
            }
        }
    }
    // 1. Rotation.
    let errors = probe_unwritten(
        &ctx.client,
        std::slice::from_mut(&mut meta),
        &ctx.cfg.policies,
    )
    .await;
    if let Some(e) = errors.into_iter().next() {
        tracing::warn!(secret = %format!("{ns}/{name}"), error = %e, "probing keys failed");
    }
    if let Some(d) = decide(&meta, &ctx.cfg.policies, now) {
        match &d.action {
            RotAction::Rotate { .. } | RotAction::ExpirePrevious { .. } => {
                let r = apply_rotation(&ctx.client, &d, &meta, &ctx.audit, &ctx.actor, now).await;
                Metrics::count(&ctx.metrics.rotations, r.is_ok());
                r?;
                ctx.rotated_from
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert((ns.clone(), name.clone()), meta.resource_version.clone());
                if let RotAction::Rotate { version, .. } = &d.action {
                    meta.annotations.insert(VERSION.into(), version.to_string());
                }
                tracing::info!(secret = %format!("{ns}/{name}"), action = ?d.action, "rotation applied");
            }
            RotAction::Invalid { message } => {
                tracing::warn!(secret = %format!("{ns}/{name}"), %message, "rotation policy invalid");
            }
            RotAction::Wait => {}
        }
        if let Some(t) = d.next_check {
            next.push(t);
        }
    }
    // 2. Rollouts of the workloads that track this Secret.
    let mut states = others;
    states.push(ctx.state_of(&meta, now));
    let workloads = ctx.workloads_in(&ns);
    for d in plan_rollouts(&states, &workloads, &ctx.cfg.rollout, now) {
        if !d.secrets.contains(&name) {
            continue;
        }
        match &d.action {
            RolloutAction::Roll { .. } | RolloutAction::Baseline => ctx.apply(&d, now).await?,
            RolloutAction::Deferred { .. } => {
                ctx.metrics
                    .rollouts
                    .get_or_create(&ActionLabel {
                        action: "deferred".into(),
                    })
                    .inc();
                if let Some(t) = d.requeue_at {
                    next.push(t);
                }
            }
            _ => {}
        }
    }
    let at = next.into_iter().min().unwrap_or(now);
    let wait = (at - now).max(time::Duration::seconds(1));
    Ok(Action::requeue(
        StdDuration::try_from(wait).unwrap_or(ctx.cfg.resync),
    ))
}

#[allow(clippy::needless_pass_by_value)] // the signature kube-runtime calls
fn error_policy(obj: Arc<SecretObj>, err: &ReconcileError, ctx: Arc<Ctx>) -> Action {
    let key = (
        obj.metadata.namespace.clone().unwrap_or_default(),
        obj.metadata.name.clone().unwrap_or_default(),
    );
    let mut f = ctx.failures.lock().unwrap_or_else(PoisonError::into_inner);
    let n = f.entry(key.clone()).or_insert(0);
    *n = n.saturating_add(1);
    let secs = 1u64 << (*n - 1).min(8);
    tracing::warn!(secret = %format!("{}/{}", key.0, key.1), error = %err, retry_in = secs.min(300), "reconcile failed");
    Action::requeue(StdDuration::from_secs(secs.min(300)))
}

/// The Secrets (in the workload's namespace) a workload's pod template
/// consumes or names for reload.
fn secrets_of<K: serde::Serialize + kube::Resource<DynamicType = ()>>(
    w: &K,
) -> Vec<ObjectRef<SecretObj>> {
    secrets_of_with(w, &ApiResource::erase::<K>(&()))
}

fn secrets_of_with<K: serde::Serialize>(w: &K, ar: &ApiResource) -> Vec<ObjectRef<SecretObj>> {
    let Some(o) = to_object(w, ar) else {
        return Vec::new();
    };
    let ns = o.effective_namespace().to_owned();
    WorkloadInfo::from_objects(std::slice::from_ref(&o))
        .into_iter()
        .flat_map(|wi| {
            let mut names: Vec<String> = wi.consumed.into_iter().collect();
            for k in [
                crate::rollout::RELOAD,
                "secret.reloader.stakater.com/reload",
            ] {
                if let Some(v) = wi.annotations.get(k) {
                    names.extend(
                        v.split(',')
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty()),
                    );
                }
            }
            names
        })
        .map(|n| ObjectRef::new(&n).within(&ns))
        .collect()
}

/// The Argo Rollouts resource (`argoproj.io/v1alpha1` `Rollout`) when the
/// cluster serves it: its workloads roll like Deployments (Argo Rollouts
/// starts a new revision when the pod template changes), as stakater
/// Reloader does for them.
async fn argo_rollouts(client: &Client) -> Option<ApiResource> {
    let gvk = kube::core::GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout");
    match kube::discovery::pinned_kind(client, &gvk).await {
        Ok((ar, _)) => Some(ar),
        Err(kube::Error::Api(s)) if s.code == 404 => None,
        Err(kube::Error::Discovery(_)) => None,
        Err(e) => {
            tracing::warn!(error = %e, "cannot discover Argo Rollouts; not watching them");
            None
        }
    }
}

/// Stops the renewal task when the leading future is dropped (a replica
/// that dies must stop renewing, or the Lease never expires).
struct AbortOnDrop<T = ()>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs the controller while this replica leads, until `shutdown` turns
/// true. Returns after releasing the Lease.
pub async fn run(
    client: Client,
    cfg: ControllerConfig,
    audit: Arc<AuditSink>,
    clock: Clock,
    metrics: Arc<Metrics>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), ApplyError> {
    let elector = Elector {
        client: client.clone(),
        namespace: cfg.lease_namespace.clone(),
        name: cfg.lease_name.clone(),
        identity: cfg.identity.clone(),
        duration_secs: cfg.lease_duration_secs,
    };
    loop {
        // Campaign.
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            match elector.try_lead(clock()).await {
                Ok(true) => break,
                Ok(false) => metrics.standby.store(true, Ordering::Relaxed),
                Err(e) => {
                    metrics.standby.store(false, Ordering::Relaxed);
                    tracing::warn!(error = %e, "leader election round failed");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(cfg.renew_every) => {}
                _ = shutdown.changed() => {}
            }
        }
        metrics.standby.store(false, Ordering::Relaxed);
        metrics.leader.set(1);
        tracing::info!(identity = %cfg.identity, "leading");
        let stop_flag = Arc::new(AtomicBool::new(false));
        let renewer = AbortOnDrop({
            let elector = elector.clone();
            let clock = clock.clone();
            let every = cfg.renew_every;
            let flag = stop_flag.clone();
            let mut sd = shutdown.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        () = tokio::time::sleep(every) => {}
                        _ = sd.changed() => {}
                    }
                    if *sd.borrow() {
                        flag.store(true, Ordering::Relaxed);
                        return;
                    }
                    if !matches!(elector.try_lead(clock()).await, Ok(true)) {
                        flag.store(true, Ordering::Relaxed);
                        return;
                    }
                }
            })
        });
        let flag = stop_flag.clone();
        let stop = async move {
            while !flag.load(Ordering::Relaxed) {
                tokio::time::sleep(StdDuration::from_millis(50)).await;
            }
        };
        lead(&client, &cfg, &audit, &clock, &metrics, stop).await;
        drop(renewer);
        metrics.leader.set(0);
        metrics.ready.store(false, Ordering::Relaxed);
        if *shutdown.borrow() {
            let _ = elector.release(clock()).await;
            tracing::info!(identity = %cfg.identity, "released the Lease");
            return Ok(());
        }
        tracing::warn!(identity = %cfg.identity, "lost the Lease; following");
    }
}

async fn lead(
    client: &Client,
    cfg: &ControllerConfig,
    audit: &Arc<AuditSink>,
    clock: &Clock,
    metrics: &Arc<Metrics>,
    stop: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let wc = watcher::Config::default();
    // Which reflectors have their initial list (one bit each). Tracked from
    // the streams themselves: `Store::wait_until_ready` keeps a single
    // waker, so a second waiter beside the Controller's is never woken.
    let synced = Arc::new(AtomicU8::new(0));
    let index = Indexes {
        secrets: NsIndex::new(),
        deployments: NsIndex::new(),
        statefulsets: NsIndex::new(),
        daemonsets: NsIndex::new(),
        cronjobs: NsIndex::new(),
        rollouts: NsIndex::new(),
    };
    let rollouts_ar = argo_rollouts(client).await;
    let all = if rollouts_ar.is_some() {
        ALL_SYNCED | ROLLOUTS_SYNCED
    } else {
        ALL_SYNCED
    };
    let (sreader, swriter) = reflector::store::<SecretObj>();
    // Metadata only: Secret values never cross the wire.
    let secrets = watcher(Api::<SecretObj>::all(client.clone()), wc.clone())
        .default_backoff()
        .reflect(swriter)
        .inspect(index_into(&index.secrets, &sreader))
        .inspect(mark_synced(&synced, metrics, 1, all))
        .applied_objects();
    macro_rules! reflect {
        ($t:ty, $bit:expr, $index:expr) => {{
            let (reader, writer) = reflector::store::<$t>();
            let stream = watcher(Api::<$t>::all(client.clone()), wc.clone())
                .default_backoff()
                .reflect(writer)
                .inspect(index_into(&$index, &reader))
                .inspect(mark_synced(&synced, metrics, $bit, all))
                .applied_objects();
            (reader, stream)
        }};
    }
    let (deployments, deploy_stream) = reflect!(Deployment, 2, index.deployments);
    let (statefulsets, sts_stream) = reflect!(StatefulSet, 4, index.statefulsets);
    let (daemonsets, ds_stream) = reflect!(DaemonSet, 8, index.daemonsets);
    let (cronjobs, cron_stream) = reflect!(CronJob, 16, index.cronjobs);
    let rollouts = rollouts_ar.map(|ar| {
        let writer = reflector::store::Writer::<DynamicObject>::new(ar.clone());
        let reader = writer.as_reader();
        let stream = watcher(
            Api::<DynamicObject>::all_with(client.clone(), &ar),
            wc.clone(),
        )
        .default_backoff()
        .reflect(writer)
        .inspect(index_into(&index.rollouts, &reader))
        .inspect(mark_synced(&synced, metrics, ROLLOUTS_SYNCED, all))
        .applied_objects();
        (reader, ar, stream)
    });
    let (rollout_store, rollout_stream) = match rollouts {
        Some((reader, ar, stream)) => (Some((reader, ar.clone())), Some((ar, stream))),
        None => (None, None),
    };
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        cfg: cfg.clone(),
        audit: audit.clone(),
        actor: Actor {
            identity: cfg.identity.clone(),
        },
        clock: clock.clone(),
        metrics: metrics.clone(),
        secrets: sreader.clone(),
        deployments: deployments.clone(),
        statefulsets: statefulsets.clone(),
        daemonsets: daemonsets.clone(),
        cronjobs: cronjobs.clone(),
        seen: Mutex::new(HashMap::new()),
        written: Mutex::new(HashMap::new()),
        failures: Mutex::new(HashMap::new()),
        rotated_from: Mutex::new(HashMap::new()),
        workload_cache: Cache::default(),
        secret_cache: Cache::default(),
        synced,
        index,
        rollouts: rollout_store,
        all_synced: all,
    });
    let mut controller = Controller::for_stream(secrets, sreader)
        .watches_stream(deploy_stream, |w: Deployment| secrets_of(&w))
        .watches_stream(sts_stream, |w: StatefulSet| secrets_of(&w))
        .watches_stream(ds_stream, |w: DaemonSet| secrets_of(&w))
        .watches_stream(cron_stream, |w: CronJob| secrets_of(&w));
    if let Some((ar, stream)) = rollout_stream {
        // A Rollout's resource type is known at run time only: its changes
        // re-trigger the Secrets it consumes through `reconcile_on`.
        controller = controller.reconcile_on(stream.flat_map(move |r| {
            futures::stream::iter(match r {
                Ok(o) => secrets_of_with(&o, &ar),
                Err(_) => Vec::new(),
            })
        }));
    }
    controller
        // At most this many Secrets are reconciled at once: a bounded queue
        // of API calls instead of thousands in flight (each reconcile's
        // latency was mostly waiting behind the others).
        .with_config(
            kube::runtime::controller::Config::default().concurrency(RECONCILE_CONCURRENCY),
        )
        .graceful_shutdown_on(stop)
        .run(reconcile, error_policy, ctx)
        .for_each(|_| std::future::ready(()))
        .await;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use std::cell::Cell;

    fn meta(uid: &str, rv: &str) -> ObjectMeta {
        ObjectMeta {
            uid: Some(uid.into()),
            resource_version: Some(rv.into()),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn cache_converts_once_per_resource_version() {
        let c = Cache::<String>::default();
        let calls = Cell::new(0);
        let conv = |v: &str| {
            calls.set(calls.get() + 1);
            Some(v.to_owned())
        };
        assert_eq!(*c.get(&meta("a", "1"), || conv("a1")).unwrap(), "a1");
        assert_eq!(*c.get(&meta("a", "1"), || conv("other")).unwrap(), "a1");
        assert_eq!(calls.get(), 1);
        // A new resourceVersion is converted again.
        assert_eq!(*c.get(&meta("a", "2"), || conv("a2")).unwrap(), "a2");
        assert_eq!(calls.get(), 2);
        // Objects that convert to nothing are remembered as such.
        assert!(c.get(&meta("b", "1"), || None).is_none());
        assert!(c.get(&meta("b", "1"), || conv("b1")).is_none());
        assert_eq!(calls.get(), 2);
        // Without uid or resourceVersion nothing is cached.
        let bare = ObjectMeta::default();
        assert_eq!(*c.get(&bare, || conv("x")).unwrap(), "x");
        assert_eq!(*c.get(&bare, || conv("y")).unwrap(), "y");
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn cache_prunes_deleted_objects() {
        let c = Cache::<String>::default();
        for i in 0..200 {
            c.get(&meta(&format!("u{i}"), "1"), || Some(i.to_string()));
        }
        // 200 entries for 10 stored objects: over the threshold.
        assert!(c.len_over(10));
        assert!(!c.len_over(100));
        c.prune(["u1", "u2"].into_iter(), 2);
        assert_eq!(c.len(), 2);
        assert_eq!(*c.get(&meta("u1", "1"), || None).unwrap(), "1");
    }
}
