//! The AI serving model of a scan, built once in the [`Context`]: every AI
//! workload ([`Unit`]: inference server, notebook, Ray cluster, tracking
//! server, training job), the Services that select its pods, and every path
//! from outside the cluster to it ([`Exposure`]) with what stands in front:
//! authentication, rate limiting, TLS, a request-size limit.
//!
//! Paths understood: `LoadBalancer` (public, as PLS-NET-005 judges it) and
//! `NodePort` Services; Ingress (ingress-nginx auth and limit annotations,
//! Traefik `router.middlewares`); Traefik IngressRoute (`traefik.io` and
//! the legacy `traefik.containo.us`) with Middleware chains resolved;
//! Gateway API HTTPRoute/GRPCRoute to Services or to a Gateway API
//! Inference Extension InferencePool, with Envoy Gateway SecurityPolicy /
//! BackendTrafficPolicy and Kuadrant AuthPolicy / RateLimitPolicy attached
//! to the route or its Gateway; OpenShift Route; KServe's own exposure
//! (Serverless InferenceServices are public unless labelled cluster-local,
//! RawDeployment ones when labelled `networking.kserve.io/visibility:
//! exposed`); KubeRay head services of type LoadBalancer/NodePort and
//! `enableIngress`. Services that a route names but that are not in the
//! scan resolve through the names the operators give them
//! (`<isvc>-predictor`, `<raycluster>-head-svc`, `<rayservice>-serve-svc`).

use crate::context::{Context, index_in};
use crate::rules::network::netpol::{Labels, is_ingress, is_service, pod_labels};
use crate::rules::network::service_public_loadbalancer::{internal_marker, is_open};
use palisade_core::{Node, Path};
use palisade_k8s::ai::{AiWorkload, Cli, Engine, Platform, Role, recognise};
use palisade_k8s::{Object, Workload};
use std::collections::HashMap;

/// One AI pod template.
#[derive(Debug, Clone)]
pub(crate) struct Unit<'a> {
    /// The object holding it.
    pub obj: &'a Object,
    /// Index of the object in the scan.
    pub index: usize,
    /// Index of the pod template among the object's.
    pub template: usize,
    /// What it is.
    pub ai: AiWorkload,
    /// The labels its pods carry.
    pub labels: Labels,
}

/// How a path reaches the workload from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// A public `type: LoadBalancer` Service.
    LoadBalancer,
    /// A `type: NodePort` Service.
    NodePort,
    /// An Ingress.
    Ingress,
    /// A Traefik IngressRoute.
    IngressRoute,
    /// A Gateway API route.
    GatewayRoute,
    /// An OpenShift Route.
    OpenShiftRoute,
    /// KServe's own ingress (Knative/Istio, or a Route in raw mode).
    KServe,
    /// KubeRay's head Service or Ingress.
    RayHead,
}

impl Via {
    /// Whether the path is layer 4: nothing on it can authenticate, limit
    /// or terminate TLS for the server.
    pub(crate) fn is_l4(self) -> bool {
        matches!(self, Via::LoadBalancer | Via::NodePort | Via::RayHead)
    }
}

/// A path from outside the cluster to a unit.
#[derive(Debug, Clone)]
pub(crate) struct Exposure<'a> {
    /// The object that opens the path (the Ingress, the route, the Service).
    pub route: &'a Object,
    /// The field of `route` that does it.
    pub path: Path,
    /// What kind of path.
    pub via: Via,
    /// How messages name it: `Ingress llm/chat (host chat.example.com)`.
    pub describe: String,
    /// What authenticates requests on the path, if anything.
    pub auth: Option<String>,
    /// What limits the request rate or concurrency, if anything.
    pub rate_limit: Option<String>,
    /// Whether the path terminates TLS (`None`: cannot tell from the
    /// manifests).
    pub tls: Option<bool>,
    /// A request-body size limit on the path.
    pub body_limit: Option<String>,
    /// A source-address restriction on the path.
    pub source_limit: Option<String>,
}

/// The AI model of a scan.
#[derive(Debug, Default)]
pub(crate) struct AiModel<'a> {
    /// Every AI pod template.
    pub units: Vec<Unit<'a>>,
    /// Paths from outside, per unit (same index as `units`).
    pub exposures: Vec<Vec<Exposure<'a>>>,
    /// Services that select each unit's pods (same index as `units`).
    pub services: Vec<Vec<&'a Object>>,
    /// Units per object index.
    by_object: HashMap<usize, Vec<usize>>,
    /// Units that run pods, per namespace, in unit order: a Service selects
    /// only in its own namespace, so matching looks at these alone.
    by_namespace: HashMap<&'a str, Vec<usize>>,
}

impl<'a> AiModel<'a> {
    /// Builds the model.
    pub(crate) fn build(cx: &Context<'a>) -> Self {
        let mut m = AiModel::default();
        for (i, ws) in cx.workloads.iter().enumerate() {
            for (t, w) in ws.iter().enumerate() {
                let Some(ai) = recognise(w) else { continue };
                m.by_object.entry(i).or_default().push(m.units.len());
                m.units.push(Unit {
                    obj: &cx.objects[i],
                    index: i,
                    template: t,
                    ai,
                    labels: pod_labels(w),
                });
            }
        }
        // Objects the operators expose by themselves have no pod template
        // (InferenceGraph, Seldon Core 2 Model): nothing to add here.
        m.exposures = vec![Vec::new(); m.units.len()];
        m.services = vec![Vec::new(); m.units.len()];
        if m.units.is_empty() {
            return m;
        }
        for (u, unit) in m.units.iter().enumerate() {
            if !is_template_only(unit.obj) {
                m.by_namespace
                    .entry(unit.obj.effective_namespace())
                    .or_default()
                    .push(u);
            }
        }
        // Each Service's units, computed once (the names and the paths
        // below both need them).
        let selected: Vec<(&'a Object, Vec<usize>)> = cx
            .of_kind("Service")
            .filter(|o| is_service(o))
            .map(|svc| (svc, m.selected_by(svc)))
            .collect();
        let names = m.service_names(cx, &selected);
        for (svc, units) in &selected {
            let svc: &'a Object = svc;
            for &u in units {
                m.services[u].push(svc);
            }
            if let Some(e) = l4_exposure(svc) {
                for &u in units {
                    m.exposures[u].push(e.clone());
                }
            }
        }
        let b = Backends { names: &names };
        for obj in cx.objects {
            if is_ingress(obj) {
                for (u, e) in ingress_exposures(cx, obj, &b) {
                    m.exposures[u].push(e);
                }
            } else if is_ingress_route(obj) {
                for (u, e) in ingress_route_exposures(cx, obj, &b) {
                    m.exposures[u].push(e);
                }
            } else if obj.group() == "gateway.networking.k8s.io"
                && matches!(obj.kind.as_str(), "HTTPRoute" | "GRPCRoute")
            {
                for (u, e) in gateway_route_exposures(cx, obj, &b, &m) {
                    m.exposures[u].push(e);
                }
            } else if obj.is("route.openshift.io", "Route") {
                for (u, e) in openshift_route_exposures(obj, &b) {
                    m.exposures[u].push(e);
                }
            }
        }
        for u in 0..m.units.len() {
            let unit = &m.units[u];
            let extra = own_exposures(cx, unit);
            m.exposures[u].extend(extra);
        }
        m
    }

    /// The unit of a pod template, if it is an AI workload.
    pub(crate) fn unit_of(&self, cx: &Context<'a>, w: &Workload<'_>) -> Option<usize> {
        let i = index_in(cx.objects, w.object);
        self.by_object
            .get(&i)?
            .iter()
            .copied()
            .find(|&u| cx.workloads[i][self.units[u].template].spec_path == w.spec_path)
    }

    /// What `recognise` said of a pod template of this scan, looked up
    /// instead of worked out again (rules ask it of every template).
    pub(crate) fn recognised(&self, cx: &Context<'a>, w: &Workload<'_>) -> Option<&AiWorkload> {
        self.unit_of(cx, w).map(|u| &self.units[u].ai)
    }

    /// The pod template of a unit.
    pub(crate) fn workload<'c>(&self, cx: &'c Context<'a>, u: usize) -> &'c Workload<'a> {
        let unit = &self.units[u];
        &cx.workloads[unit.index][unit.template]
    }

    /// Units whose pods a Service selects (same namespace, non-empty
    /// selector, every selector label equal).
    fn selected_by(&self, svc: &Object) -> Vec<usize> {
        let Some(sel) = svc.spec().get("selector").filter(|s| s.is_map()) else {
            return Vec::new();
        };
        let want: Vec<(&str, &str)> = sel
            .entries()
            .iter()
            .filter_map(|e| Some((e.key.as_str(), e.value.as_str()?)))
            .collect();
        if want.is_empty() {
            return Vec::new();
        }
        let ns = svc.effective_namespace();
        self.by_namespace
            .get(ns)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .copied()
            .filter(|&u| {
                let unit = &self.units[u];
                want.iter()
                    .all(|(k, v)| unit.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// `(namespace, Service name)` → units, from the Service objects in the
    /// scan and the names operators give the Services they create.
    fn service_names(
        &self,
        cx: &Context<'a>,
        selected: &[(&'a Object, Vec<usize>)],
    ) -> HashMap<(String, String), Vec<usize>> {
        let mut names: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (svc, units) in selected {
            names
                .entry((svc.effective_namespace().to_owned(), svc.name.clone()))
                .or_default()
                .extend(units.iter().copied());
        }
        let declared: std::collections::HashSet<(&str, &str)> = selected
            .iter()
            .map(|(svc, _)| (svc.effective_namespace(), svc.name.as_str()))
            .collect();
        for (u, unit) in self.units.iter().enumerate() {
            let o = unit.obj;
            let n = &o.name;
            let implicit: Vec<String> = match (o.group(), o.kind.as_str()) {
                ("serving.kserve.io", "InferenceService") => {
                    let comp = unit.ai_role_component();
                    vec![
                        n.clone(),
                        format!("{n}-{comp}"),
                        format!("{n}-{comp}-default"),
                    ]
                }
                ("serving.kserve.io", "LLMInferenceService") => {
                    vec![format!("{n}-kserve-workload-svc"), n.clone()]
                }
                ("machinelearning.seldon.io", "SeldonDeployment") => o
                    .spec()
                    .list("predictors")
                    .iter()
                    .filter_map(|p| p.get("name").and_then(Node::as_str))
                    .map(|p| format!("{n}-{p}"))
                    .collect(),
                ("ray.io", "RayCluster") if unit.is_ray_head(cx) => {
                    vec![format!("{n}-head-svc")]
                }
                ("ray.io", "RayService") if unit.is_ray_head(cx) => {
                    vec![format!("{n}-head-svc"), format!("{n}-serve-svc")]
                }
                ("kubeflow.org", "Notebook") => vec![n.clone()],
                _ => Vec::new(),
            };
            for name in implicit {
                let key = (o.effective_namespace().to_owned(), name);
                // A Service object of that name in the scan wins.
                if declared.contains(&(key.0.as_str(), key.1.as_str())) {
                    continue;
                }
                names.entry(key).or_default().push(u);
            }
        }
        names
    }
}

impl Unit<'_> {
    /// The KServe component of the template (`predictor`, `transformer`).
    fn ai_role_component(&self) -> &'static str {
        match self.obj.kind.as_str() {
            "InferenceService" => {
                if self.template_role().starts_with("transformer") {
                    "transformer"
                } else if self.template_role().starts_with("explainer") {
                    "explainer"
                } else {
                    "predictor"
                }
            }
            _ => "predictor",
        }
    }

    fn template_role(&self) -> &str {
        self.labels
            .get("component")
            .map_or("predictor", String::as_str)
    }

    fn is_ray_head(&self, _cx: &Context<'_>) -> bool {
        self.labels.get("ray.io/node-type").map(String::as_str) == Some("head")
    }

    /// `Deployment llm/vllm (vLLM)` for messages.
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} {}/{} ({})",
            self.obj.kind,
            self.obj.effective_namespace(),
            self.obj.name,
            self.ai.describe()
        )
    }
}

/// Kinds whose template only describes pods that other objects create.
pub(crate) fn is_template_only(obj: &Object) -> bool {
    crate::rules::network::netpol::is_template_only(obj)
}

/// Whether `obj` is a Traefik IngressRoute (current or legacy API group).
pub(crate) fn is_ingress_route(obj: &Object) -> bool {
    obj.kind == "IngressRoute" && is_traefik(obj)
}

/// Whether `obj` is in one of Traefik's API groups.
pub(crate) fn is_traefik(obj: &Object) -> bool {
    matches!(obj.group(), "traefik.io" | "traefik.containo.us")
}

fn ns_name(o: &Object) -> String {
    format!("{}/{}", o.effective_namespace(), o.name)
}

/// A public LoadBalancer or a NodePort Service as a path.
fn l4_exposure(svc: &Object) -> Option<Exposure<'_>> {
    let ty = svc.spec().get("type").and_then(Node::as_str)?;
    let via = match ty {
        "NodePort" => Via::NodePort,
        "LoadBalancer" if internal_marker(svc).is_none() => {
            let ranges: Vec<&str> = svc
                .spec()
                .list("loadBalancerSourceRanges")
                .iter()
                .filter_map(Node::as_str)
                .collect();
            if !ranges.is_empty() && !ranges.iter().any(|r| is_open(r)) {
                return None;
            }
            Via::LoadBalancer
        }
        _ => return None,
    };
    Some(Exposure {
        route: svc,
        path: Path::keys("spec.type"),
        via,
        describe: format!("{ty} Service {}", ns_name(svc)),
        auth: None,
        rate_limit: None,
        tls: None,
        body_limit: None,
        source_limit: None,
    })
}

struct Backends<'m> {
    names: &'m HashMap<(String, String), Vec<usize>>,
}

impl Backends<'_> {
    fn units(&self, ns: &str, name: &str) -> Vec<usize> {
        self.names
            .get(&(ns.to_owned(), name.to_owned()))
            .cloned()
            .unwrap_or_default()
    }
}

/// What a set of Traefik Middlewares does to a request.
#[derive(Debug, Default, Clone)]
pub(crate) struct Effects {
    pub auth: Option<String>,
    pub rate_limit: Option<String>,
    pub body_limit: Option<String>,
    pub source_limit: Option<String>,
    /// Middlewares named but not in the scan.
    pub missing: Vec<String>,
}

impl Effects {
    fn merge(&mut self, o: Effects) {
        self.auth = self.auth.take().or(o.auth);
        self.rate_limit = self.rate_limit.take().or(o.rate_limit);
        self.body_limit = self.body_limit.take().or(o.body_limit);
        self.source_limit = self.source_limit.take().or(o.source_limit);
        self.missing.extend(o.missing);
    }
}

/// Resolves Traefik Middleware references `(namespace, name)`; chains are
/// followed (depth-limited, cycles stop).
pub(crate) fn traefik_effects(cx: &Context<'_>, refs: &[(String, String)], depth: u8) -> Effects {
    let mut eff = Effects::default();
    if depth > 8 {
        return eff;
    }
    for (ns, name) in refs {
        let Some(mw) = cx
            .of_kind_in("Middleware", ns)
            .find(|m| is_traefik(m) && &m.name == name)
        else {
            eff.missing.push(format!("{ns}/{name}"));
            continue;
        };
        let spec = mw.spec();
        let label = |what: &str| format!("Middleware {ns}/{name} ({what})");
        for k in ["forwardAuth", "basicAuth", "digestAuth"] {
            if spec.get(k).is_some_and(Node::is_map) {
                eff.auth.get_or_insert_with(|| label(k));
            }
        }
        for k in ["rateLimit", "inFlightReq"] {
            if spec.get(k).is_some_and(Node::is_map) {
                eff.rate_limit.get_or_insert_with(|| label(k));
            }
        }
        if spec
            .get("buffering")
            .and_then(|b| b.get("maxRequestBodyBytes"))
            .and_then(Node::as_str)
            .is_some_and(|v| v.trim() != "0")
        {
            eff.body_limit
                .get_or_insert_with(|| label("buffering maxRequestBodyBytes"));
        }
        for k in ["ipAllowList", "ipWhiteList"] {
            if spec.get(k).is_some_and(|n| {
                let ranges: Vec<&str> = n
                    .list("sourceRange")
                    .iter()
                    .filter_map(Node::as_str)
                    .collect();
                !ranges.is_empty() && !ranges.iter().any(|r| is_open(r))
            }) {
                eff.source_limit.get_or_insert_with(|| label(k));
            }
        }
        // Plugins that authenticate (jwt, oidc, oauth, keycloak...).
        for p in spec.get("plugin").map_or(&[][..], Node::entries) {
            let n = p.key.to_ascii_lowercase();
            if ["jwt", "oidc", "oauth", "auth", "keycloak"]
                .iter()
                .any(|w| n.contains(w))
            {
                eff.auth
                    .get_or_insert_with(|| label(&format!("plugin {}", p.key)));
            }
        }
        if let Some(chain) = spec.get("chain") {
            let mut sub = middleware_refs(chain, ns);
            sub.retain(|r| r != &(ns.clone(), name.clone()));
            eff.merge(traefik_effects(cx, &sub, depth + 1));
        }
    }
    eff
}

/// The `middlewares` list of an IngressRoute route or a `chain`, as
/// `(namespace, name)`; a reference without a namespace is in `ns`.
pub(crate) fn middleware_refs(n: &Node, ns: &str) -> Vec<(String, String)> {
    n.list("middlewares")
        .iter()
        .filter_map(|m| {
            let name = m.get("name").and_then(Node::as_str)?;
            let mns = m.get("namespace").and_then(Node::as_str).unwrap_or(ns);
            Some((mns.to_owned(), name.to_owned()))
        })
        .collect()
}

/// Reports a finding about path `e` to `unit` on the object that opens the
/// path, keyed by the unit and the path so several paths in one object stay
/// apart.
pub(crate) fn report_exposure(
    out: &mut crate::rule::Emitter<'_>,
    unit: &Unit<'_>,
    e: &Exposure<'_>,
    message: String,
) {
    out.report_keyed(
        e.route,
        e.path.clone(),
        &format!("{}:{}", crate::rules::ai::key_of(unit.obj), e.path),
        message,
    );
}

/// `router.middlewares` annotation entries (`<ns>-<name>@kubernetescrd`)
/// resolved to `(namespace, name)` against the Middlewares in the scan; an
/// entry that matches none is split at its first dash.
pub(crate) fn annotation_middlewares(cx: &Context<'_>, value: &str) -> Vec<(String, String)> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter_map(|entry| {
            let (id, provider) = entry.split_once('@').unwrap_or((entry, "kubernetescrd"));
            if provider != "kubernetescrd" {
                return None;
            }
            let mut first = None;
            for (i, _) in id.match_indices('-') {
                let (ns, name) = (&id[..i], &id[i + 1..]);
                first.get_or_insert((ns.to_owned(), name.to_owned()));
                if cx
                    .of_kind_in("Middleware", ns)
                    .any(|m| is_traefik(m) && m.name == name)
                {
                    return Some((ns.to_owned(), name.to_owned()));
                }
            }
            first
        })
        .collect()
}

fn ingress_exposures<'a>(
    cx: &Context<'a>,
    ing: &'a Object,
    b: &Backends<'_>,
) -> Vec<(usize, Exposure<'a>)> {
    let ns = ing.effective_namespace();
    let ann = |k: &str| ing.annotation(k).map(str::trim).filter(|v| !v.is_empty());
    let nginx = |k: &str| ann(&format!("nginx.ingress.kubernetes.io/{k}"));
    let mut eff = Effects::default();
    if let Some(v) = ann("traefik.ingress.kubernetes.io/router.middlewares") {
        eff = traefik_effects(cx, &annotation_middlewares(cx, v), 0);
    }
    if let Some(k) = ["auth-url", "auth-signin"]
        .iter()
        .find(|k| nginx(k).is_some())
    {
        eff.auth = Some(format!("ingress-nginx {k} annotation"));
    } else if nginx("auth-type").is_some() && nginx("auth-secret").is_some() {
        eff.auth = Some("ingress-nginx auth-type annotation".to_owned());
    } else if nginx("auth-tls-verify-client")
        .is_some_and(|v| v.eq_ignore_ascii_case("on") || v.eq_ignore_ascii_case("true"))
    {
        eff.auth = Some("ingress-nginx client certificates (auth-tls-verify-client)".to_owned());
    }
    if let Some(k) = ["limit-rps", "limit-rpm", "limit-connections"]
        .iter()
        .find(|k| nginx(k).is_some_and(|v| v != "0"))
    {
        eff.rate_limit = Some(format!("ingress-nginx {k} annotation"));
    }
    if let Some(v) = nginx("whitelist-source-range").or_else(|| nginx("allowlist-source-range")) {
        if !v.split(',').any(is_open) {
            eff.source_limit = Some("ingress-nginx allowlist-source-range annotation".to_owned());
        }
    }
    // ingress-nginx limits bodies to 1m unless told otherwise.
    let nginx_class = ing
        .spec()
        .get("ingressClassName")
        .and_then(Node::as_str)
        .or_else(|| ing.annotation("kubernetes.io/ingress.class"))
        .is_some_and(|c| c.contains("nginx"));
    eff.body_limit = match nginx("proxy-body-size") {
        Some("0") => None,
        Some(v) => Some(format!("ingress-nginx proxy-body-size {v}")),
        None if nginx_class => Some("ingress-nginx default proxy-body-size 1m".to_owned()),
        None => eff.body_limit,
    };
    let tls = !ing.spec().list("tls").is_empty()
        || [
            "alb.ingress.kubernetes.io/certificate-arn",
            "ingress.gcp.kubernetes.io/pre-shared-cert",
            "networking.gke.io/managed-certificates",
        ]
        .iter()
        .any(|k| ann(k).is_some())
        || ann("traefik.ingress.kubernetes.io/router.tls") == Some("true");
    let mut out = Vec::new();
    let mut backend = |name: &str, path: Path, host: Option<&str>| {
        for u in b.units(ns, name) {
            let host = host.map_or(String::new(), |h| format!(" host {h}"));
            out.push((
                u,
                Exposure {
                    route: ing,
                    path: path.clone(),
                    via: Via::Ingress,
                    describe: format!("Ingress {}{host}", ns_name(ing)),
                    auth: eff.auth.clone(),
                    rate_limit: eff.rate_limit.clone(),
                    tls: Some(tls),
                    body_limit: eff.body_limit.clone(),
                    source_limit: eff.source_limit.clone(),
                },
            ));
        }
    };
    let spec = ing.spec();
    for key in ["defaultBackend", "backend"] {
        if let Some(name) = backend_name(spec.get(key)) {
            backend(name, Path::keys("spec").key(key), None);
        }
    }
    for (i, r) in spec.list("rules").iter().enumerate() {
        let host = r.get("host").and_then(Node::as_str);
        let paths = r.get("http").map_or(&[][..], |h| h.list("paths"));
        for (j, p) in paths.iter().enumerate() {
            if let Some(name) = backend_name(p.get("backend")) {
                let path = Path::keys("spec.rules")
                    .index(i)
                    .keys_from(&["http", "paths"])
                    .index(j)
                    .key("backend");
                backend(name, path, host);
            }
        }
    }
    out
}

/// `backend.service.name` (v1) or `backend.serviceName` (v1beta1).
fn backend_name(b: Option<&Node>) -> Option<&str> {
    let b = b?;
    b.get("service")
        .and_then(|s| s.get("name"))
        .or_else(|| b.get("serviceName"))
        .and_then(Node::as_str)
}

fn ingress_route_exposures<'a>(
    cx: &Context<'a>,
    ir: &'a Object,
    b: &Backends<'_>,
) -> Vec<(usize, Exposure<'a>)> {
    let ns = ir.effective_namespace();
    let spec = ir.spec();
    let eps: Vec<&str> = spec
        .list("entryPoints")
        .iter()
        .filter_map(Node::as_str)
        .collect();
    let tls = spec.get("tls").is_some_and(|t| !t.is_null())
        || (!eps.is_empty() && eps.iter().all(|e| *e == "websecure"));
    let mut out = Vec::new();
    for (i, r) in spec.list("routes").iter().enumerate() {
        let eff = traefik_effects(cx, &middleware_refs(r, ns), 0);
        let matcher = r.get("match").and_then(Node::as_str).unwrap_or("");
        for (j, s) in r.list("services").iter().enumerate() {
            let kind = s.get("kind").and_then(Node::as_str).unwrap_or("Service");
            let sns = s.get("namespace").and_then(Node::as_str).unwrap_or(ns);
            let Some(name) = s.get("name").and_then(Node::as_str) else {
                continue;
            };
            let names: Vec<(String, String)> = if kind == "TraefikService" {
                traefik_service_backends(cx, sns, name)
            } else {
                vec![(sns.to_owned(), name.to_owned())]
            };
            for (bns, bname) in names {
                for u in b.units(&bns, &bname) {
                    out.push((
                        u,
                        Exposure {
                            route: ir,
                            path: Path::keys("spec.routes").index(i),
                            via: Via::IngressRoute,
                            describe: format!(
                                "IngressRoute {} (routes[{i}] {matcher}, services[{j}])",
                                ns_name(ir)
                            ),
                            auth: eff.auth.clone(),
                            rate_limit: eff.rate_limit.clone(),
                            tls: Some(tls),
                            body_limit: eff.body_limit.clone(),
                            source_limit: eff.source_limit.clone(),
                        },
                    ));
                }
            }
        }
    }
    out
}

/// The Services behind a TraefikService (weighted and mirroring), one level.
fn traefik_service_backends(cx: &Context<'_>, ns: &str, name: &str) -> Vec<(String, String)> {
    let Some(ts) = cx
        .of_kind_in("TraefikService", ns)
        .find(|t| is_traefik(t) && t.name == name)
    else {
        return Vec::new();
    };
    let spec = ts.spec();
    let mut out = Vec::new();
    let mut add = |n: &Node| {
        if n.get("kind").and_then(Node::as_str).unwrap_or("Service") == "Service" {
            if let Some(sn) = n.get("name").and_then(Node::as_str) {
                let sns = n.get("namespace").and_then(Node::as_str).unwrap_or(ns);
                out.push((sns.to_owned(), sn.to_owned()));
            }
        }
    };
    if let Some(w) = spec.get("weighted") {
        for s in w.list("services") {
            add(s);
        }
    }
    if let Some(m) = spec.get("mirroring") {
        add(m);
        for s in m.list("mirrors") {
            add(s);
        }
    }
    out
}

/// Policies (Envoy Gateway, Kuadrant) attached to a target.
fn policy_targets(p: &Object) -> Vec<(String, String)> {
    let spec = p.spec();
    let mut refs: Vec<&Node> = spec.list("targetRefs").iter().collect();
    if let Some(r) = spec.get("targetRef").filter(|r| r.is_map()) {
        refs.push(r);
    }
    refs.iter()
        .filter_map(|r| {
            Some((
                r.get("kind").and_then(Node::as_str)?.to_owned(),
                r.get("name").and_then(Node::as_str)?.to_owned(),
            ))
        })
        .collect()
}

/// An authenticating or rate-limiting policy attached to `(kind, name)` in
/// namespace `ns`.
fn gateway_policies(
    cx: &Context<'_>,
    ns: &str,
    kind: &str,
    name: &str,
) -> (Option<String>, Option<String>) {
    let mut auth = None;
    let mut rate = None;
    let targets = |p: &Object| {
        policy_targets(p)
            .iter()
            .any(|(k, n)| k == kind && n == name)
    };
    for p in cx.of_kind_in("SecurityPolicy", ns) {
        if p.group() == "gateway.envoyproxy.io" && targets(p) {
            if let Some(k) = ["jwt", "oidc", "basicAuth", "apiKeyAuth", "extAuth"]
                .iter()
                .find(|k| p.spec().get(k).is_some_and(Node::is_map))
            {
                auth.get_or_insert_with(|| format!("SecurityPolicy {ns}/{} ({k})", p.name));
            }
        }
    }
    for p in cx.of_kind_in("AuthPolicy", ns) {
        if p.group() == "kuadrant.io" && targets(p) {
            auth.get_or_insert_with(|| format!("AuthPolicy {ns}/{}", p.name));
        }
    }
    for p in cx.of_kind_in("BackendTrafficPolicy", ns) {
        if p.group() == "gateway.envoyproxy.io"
            && targets(p)
            && p.spec().get("rateLimit").is_some_and(Node::is_map)
        {
            rate.get_or_insert_with(|| format!("BackendTrafficPolicy {ns}/{} (rateLimit)", p.name));
        }
    }
    for k in ["RateLimitPolicy", "TokenRateLimitPolicy"] {
        for p in cx.of_kind_in(k, ns) {
            if p.group() == "kuadrant.io" && targets(p) {
                rate.get_or_insert_with(|| format!("{k} {ns}/{}", p.name));
            }
        }
    }
    (auth, rate)
}

fn gateway_route_exposures<'a>(
    cx: &Context<'a>,
    route: &'a Object,
    b: &Backends<'_>,
    m: &AiModel<'a>,
) -> Vec<(usize, Exposure<'a>)> {
    let ns = route.effective_namespace();
    let spec = route.spec();
    let (mut auth, mut rate) = gateway_policies(cx, ns, &route.kind, &route.name);
    // Parents: policies on the Gateway apply too; TLS is the listeners'.
    let mut tls: Option<bool> = None;
    for p in spec.list("parentRefs") {
        let Some(gname) = p.get("name").and_then(Node::as_str) else {
            continue;
        };
        if p.get("kind")
            .and_then(Node::as_str)
            .is_some_and(|k| k != "Gateway")
        {
            continue;
        }
        let gns = p.get("namespace").and_then(Node::as_str).unwrap_or(ns);
        let (a, r) = gateway_policies(cx, gns, "Gateway", gname);
        auth = auth.or(a);
        rate = rate.or(r);
        if let Some(g) = cx
            .of_kind_in("Gateway", gns)
            .find(|g| g.group() == "gateway.networking.k8s.io" && g.name == gname)
        {
            let section = p.get("sectionName").and_then(Node::as_str);
            let secure = g
                .spec()
                .list("listeners")
                .iter()
                .filter(|l| section.is_none_or(|s| l.get("name").and_then(Node::as_str) == Some(s)))
                .all(|l| {
                    matches!(
                        l.get("protocol").and_then(Node::as_str),
                        Some("HTTPS" | "TLS")
                    )
                });
            tls = Some(tls.unwrap_or(true) && secure);
        }
    }
    let mut out = Vec::new();
    for (i, r) in spec.list("rules").iter().enumerate() {
        for (j, br) in r.list("backendRefs").iter().enumerate() {
            let Some(name) = br.get("name").and_then(Node::as_str) else {
                continue;
            };
            let bns = br.get("namespace").and_then(Node::as_str).unwrap_or(ns);
            let kind = br.get("kind").and_then(Node::as_str).unwrap_or("Service");
            let units: Vec<usize> = if kind == "InferencePool" {
                inference_pool_units(cx, m, bns, name)
            } else if kind == "Service" {
                b.units(bns, name)
            } else {
                Vec::new()
            };
            for u in units {
                out.push((
                    u,
                    Exposure {
                        route,
                        path: Path::keys("spec.rules")
                            .index(i)
                            .key("backendRefs")
                            .index(j),
                        via: Via::GatewayRoute,
                        describe: format!(
                            "{} {} (rules[{i}] to {kind} {name})",
                            route.kind,
                            ns_name(route)
                        ),
                        auth: auth.clone(),
                        rate_limit: rate.clone(),
                        tls,
                        body_limit: None,
                        source_limit: None,
                    },
                ));
            }
        }
    }
    out
}

/// Units an InferencePool selects (`spec.selector.matchLabels` in `v1`,
/// `spec.selector` as a plain map in `v1alpha2`).
fn inference_pool_units(cx: &Context<'_>, m: &AiModel<'_>, ns: &str, name: &str) -> Vec<usize> {
    let Some(pool) = cx.of_kind_in("InferencePool", ns).find(|p| {
        matches!(
            p.group(),
            "inference.networking.k8s.io" | "inference.networking.x-k8s.io"
        ) && p.name == name
    }) else {
        return Vec::new();
    };
    let sel = pool.spec().get("selector");
    let labels = sel
        .and_then(|s| s.get("matchLabels"))
        .filter(|l| l.is_map())
        .or(sel);
    let want: Vec<(&str, &str)> = labels
        .map_or(&[][..], Node::entries)
        .iter()
        .filter_map(|e| Some((e.key.as_str(), e.value.as_str()?)))
        .collect();
    if want.is_empty() {
        return Vec::new();
    }
    (0..m.units.len())
        .filter(|&u| {
            let unit = &m.units[u];
            unit.obj.effective_namespace() == ns
                && want
                    .iter()
                    .all(|(k, v)| unit.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect()
}

fn openshift_route_exposures<'a>(
    route: &'a Object,
    b: &Backends<'_>,
) -> Vec<(usize, Exposure<'a>)> {
    let ns = route.effective_namespace();
    let spec = route.spec();
    let tls = spec
        .get("tls")
        .and_then(|t| t.get("termination"))
        .and_then(Node::as_str)
        .is_some();
    let mut targets: Vec<(Path, &str)> = Vec::new();
    if let Some(n) = spec
        .get("to")
        .and_then(|t| t.get("name"))
        .and_then(Node::as_str)
    {
        targets.push((Path::keys("spec.to"), n));
    }
    for (i, a) in spec.list("alternateBackends").iter().enumerate() {
        if let Some(n) = a.get("name").and_then(Node::as_str) {
            targets.push((Path::keys("spec.alternateBackends").index(i), n));
        }
    }
    let mut out = Vec::new();
    for (path, name) in targets {
        for u in b.units(ns, name) {
            out.push((
                u,
                Exposure {
                    route,
                    path: path.clone(),
                    via: Via::OpenShiftRoute,
                    describe: format!("Route {}", ns_name(route)),
                    auth: None,
                    rate_limit: None,
                    tls: Some(tls),
                    body_limit: None,
                    source_limit: None,
                },
            ));
        }
    }
    out
}

/// Paths the operator opens by itself: KServe's ingress, KubeRay's head
/// Service and Ingress.
fn own_exposures<'a>(cx: &Context<'a>, unit: &Unit<'a>) -> Vec<Exposure<'a>> {
    let o = unit.obj;
    let mut out = Vec::new();
    match unit.ai.platform {
        Platform::KServe
            if unit.labels.get("component").map(String::as_str) != Some("explainer") =>
        {
            let label = |k: &str| o.label(k).map(str::trim);
            let mode = o
                .annotation("serving.kserve.io/deploymentMode")
                .unwrap_or("Serverless");
            let cluster_local = label("networking.kserve.io/visibility") == Some("cluster-local")
                || label("networking.knative.dev/visibility") == Some("cluster-local")
                || label("serving.knative.dev/visibility") == Some("cluster-local");
            let exposed = match mode {
                "RawDeployment" | "Standard" => {
                    label("networking.kserve.io/visibility") == Some("exposed")
                }
                "ModelMesh" => false,
                _ => !cluster_local,
            };
            // Only the predictor or, when there is one, the transformer
            // receives external traffic; report once, on the predictor.
            if exposed && unit.labels.get("component").map(String::as_str) == Some("predictor") {
                let auth = kserve_auth(o);
                out.push(Exposure {
                    route: o,
                    path: Path::keys("metadata.labels"),
                    via: Via::KServe,
                    describe: format!(
                        "KServe's external URL for {mode} InferenceService {} ({})",
                        ns_name(o),
                        if matches!(mode, "RawDeployment" | "Standard") {
                            "labelled networking.kserve.io/visibility: exposed"
                        } else {
                            "not labelled cluster-local"
                        }
                    ),
                    auth,
                    rate_limit: None,
                    tls: None,
                    body_limit: None,
                    source_limit: None,
                });
            }
        }
        Platform::KubeRay
            if unit.labels.get("ray.io/node-type").map(String::as_str) == Some("head") =>
        {
            let base = match o.kind.as_str() {
                "RayService" => Path::keys("spec.rayClusterConfig"),
                "RayJob" => Path::keys("spec.rayClusterSpec"),
                _ => Path::keys("spec"),
            };
            let head_path = base.key("headGroupSpec");
            let head = o.root.at_path(&head_path);
            let ty = head
                .and_then(|h| h.get("serviceType"))
                .and_then(Node::as_str);
            if let Some(ty @ ("LoadBalancer" | "NodePort")) = ty {
                out.push(Exposure {
                    route: o,
                    path: head_path.key("serviceType"),
                    via: Via::RayHead,
                    describe: format!("{ty} head Service of {} {}", o.kind, ns_name(o)),
                    auth: None,
                    rate_limit: None,
                    tls: None,
                    body_limit: None,
                    source_limit: None,
                });
            }
            if head
                .and_then(|h| h.get("enableIngress"))
                .and_then(Node::as_bool)
                == Some(true)
            {
                out.push(Exposure {
                    route: o,
                    path: head_path.key("enableIngress"),
                    via: Via::RayHead,
                    describe: format!("KubeRay-created Ingress of {} {}", o.kind, ns_name(o)),
                    auth: None,
                    rate_limit: None,
                    tls: None,
                    body_limit: None,
                    source_limit: None,
                });
            }
        }
        _ => {}
    }
    let _ = cx;
    out
}

/// KServe authentication switched on by annotation or label.
pub(crate) fn kserve_auth(o: &Object) -> Option<String> {
    let on = |v: Option<&str>| v.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if on(o.annotation("security.opendatahub.io/enable-auth")) {
        return Some("annotation security.opendatahub.io/enable-auth: \"true\"".to_owned());
    }
    if on(o.label("security.openshift.io/enable-authentication")) {
        return Some("label security.openshift.io/enable-authentication: \"true\"".to_owned());
    }
    if o.kind == "LLMInferenceService"
        && !o
            .annotation("security.opendatahub.io/enable-auth")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
    {
        return Some(
            "LLMInferenceService authentication (on unless enable-auth is \"false\")".to_owned(),
        );
    }
    None
}

/// Images of authenticating proxies that sit in the pod in front of the
/// server.
const AUTH_PROXIES: &[&str] = &[
    "oauth2-proxy",
    "kube-rbac-proxy",
    "oauth-proxy",
    "origin-oauth-proxy",
    "palisade",
];

/// What authenticates requests inside the pod itself: the server's API key
/// (flag or environment), KServe auth, or an authenticating proxy sidecar.
pub(crate) fn server_auth(w: &Workload<'_>, unit: &Unit<'_>) -> Option<String> {
    if let Some(a) = kserve_auth(unit.obj) {
        return Some(a);
    }
    for c in w
        .containers
        .iter()
        .filter(|c| c.kind == palisade_k8s::ContainerKind::Regular)
    {
        let repo = palisade_k8s::ai::image_repository(c.image().unwrap_or(""));
        let last = repo.rsplit('/').next().unwrap_or("");
        if AUTH_PROXIES
            .iter()
            .any(|p| last == *p || last.starts_with(&format!("{p}-")))
        {
            return Some(format!(
                "authenticating proxy container {:?} ({last})",
                c.name
            ));
        }
    }
    let s = unit.ai.server.map(|i| &w.containers[i])?;
    let cli = Cli::of(s);
    match unit.ai.engine? {
        e if e.takes_api_key() => {
            if cli
                .flag(&["--api-key", "--api_key"])
                .is_some_and(|(v, _)| !v.is_empty())
            {
                return Some(format!("{} --api-key", e.name()));
            }
            let env = match e {
                Engine::Vllm | Engine::LlmD => "VLLM_API_KEY",
                Engine::LlamaCpp => "LLAMA_API_KEY",
                Engine::Tgi => "API_KEY",
                _ => "",
            };
            if !env.is_empty() && cli.env_set(env) {
                return Some(format!("{} {env}", e.name()));
            }
            if e == Engine::LlamaCpp
                && (cli.flag(&["--api-key-file"]).is_some()
                    || cli.env_set("LLAMA_ARG_API_KEY_FILE"))
            {
                return Some("llama.cpp --api-key-file".to_owned());
            }
            None
        }
        Engine::Mlflow => {
            let app = cli.flag(&["--app-name"]).map(|(v, _)| v);
            (app.as_deref() == Some("basic-auth"))
                .then(|| "MLflow --app-name basic-auth".to_owned())
        }
        Engine::Ray => (cli.env("RAY_AUTH_MODE").and_then(|(v, _)| v) == Some("token"))
            .then(|| "Ray token authentication (RAY_AUTH_MODE=token)".to_owned()),
        _ => None,
    }
}

/// Whether the unit serves a model (inference role, not a template).
pub(crate) fn is_serving(unit: &Unit<'_>) -> bool {
    unit.ai.role == Role::Inference && !is_template_only(unit.obj)
}

/// The model servers of the scan for the report: one per serving object
/// (its pod templates merged), with the objects on its paths and a short
/// name for each path from outside.
pub(crate) fn inference_services(cx: &Context<'_>) -> Vec<palisade_core::InferenceService> {
    let ai = cx.ai();
    let mut out: Vec<palisade_core::InferenceService> = Vec::new();
    let mut index: HashMap<usize, usize> = HashMap::new();
    for (u, unit) in ai.units.iter().enumerate() {
        if !is_serving(unit) {
            continue;
        }
        let i = *index.entry(unit.index).or_insert_with(|| {
            out.push(palisade_core::InferenceService {
                name: ns_name(unit.obj),
                engine: unit.ai.describe(),
                resource: unit.obj.resource_ref(),
                related: Vec::new(),
                exposed_by: Vec::new(),
            });
            out.len() - 1
        });
        let s = &mut out[i];
        let mut add = |o: &Object| {
            let r = o.resource_ref();
            if r != s.resource && !s.related.contains(&r) {
                s.related.push(r);
            }
        };
        for svc in &ai.services[u] {
            add(svc);
        }
        for e in &ai.exposures[u] {
            add(e.route);
            let short = match e.via {
                Via::LoadBalancer => format!("LoadBalancer Service {}", ns_name(e.route)),
                Via::NodePort => format!("NodePort Service {}", ns_name(e.route)),
                Via::KServe => "KServe's ingress gateway".to_owned(),
                Via::RayHead => format!("the head Service of {}", ns_name(e.route)),
                _ => format!("{} {}", e.route.kind, ns_name(e.route)),
            };
            if !s.exposed_by.contains(&short) {
                s.exposed_by.push(short);
            }
        }
    }
    out
}
