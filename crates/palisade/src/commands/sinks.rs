//! `--sink` for every command that produces findings (`scan`, `model scan`,
//! `detect`): SIEM delivery, at least once, through a disk-backed spool
//! (`palisade_audit::sink`).

use anyhow::Result;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub(crate) struct SinkOptions {
    /// Also deliver to this SIEM sink, at least once, through the spool
    /// (repeatable): file:PATH[?format=ocsf], syslog+tcp://HOST:PORT,
    /// syslog+tls://HOST:PORT[?ca=FILE], splunk-hec+https://HOST:8088[?token-env=VAR&index=I],
    /// webhook+https://HOST/PATH[?format=ocsf&ca=FILE&token-env=VAR],
    /// tlog:DIR[?format=ocsf] (the tamper-evident log of `palisade audit`).
    #[arg(long, value_name = "ADDRESS")]
    sink: Vec<String>,
    /// Folder of the disk-backed delivery spool (one subfolder per sink).
    #[arg(
        long,
        value_name = "DIR",
        default_value = "palisade-spool",
        env = "PALISADE_SPOOL"
    )]
    spool: PathBuf,
    /// How long to wait at the end for the sinks to take everything (the rest stays spooled).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    sink_timeout: u64,
}

/// The forwarders of `--sink`, one spool folder each.
pub(crate) struct Sinks {
    forwarders: Vec<(palisade_audit::sink::Forwarder, u64)>,
    pub(crate) events: bool,
    timeout: u64,
}

impl SinkOptions {
    /// Delivers a report's findings to every `--sink` (nothing when none is
    /// given) and waits up to `--sink-timeout` for them to be taken.
    pub(crate) fn deliver(&self, findings: &[palisade_core::Finding]) -> Result<()> {
        if self.sink.is_empty() {
            return Ok(());
        }
        let mut sinks = self.open(false)?;
        for f in findings {
            sinks.finding(serde_json::to_value(f)?)?;
        }
        sinks.finish();
        Ok(())
    }

    pub(crate) fn open(&self, events: bool) -> Result<Sinks> {
        let mut forwarders = Vec::new();
        for addr in &self.sink {
            let sink = palisade_audit::sink::open(addr)
                .map_err(|e| anyhow::anyhow!("--sink {addr}: {e}"))?;
            // One spool per destination, named by a hash of its address.
            let dir = palisade_audit::sink::spool_dir(&self.spool, addr);
            let f = palisade_audit::sink::Forwarder::start(
                &dir,
                sink,
                palisade_audit::sink::ForwarderOptions::default(),
            )
            .map_err(|e| anyhow::anyhow!("--sink {addr}: {e}"))?;
            forwarders.push((f, 0));
        }
        Ok(Sinks {
            forwarders,
            events,
            timeout: self.sink_timeout,
        })
    }
}

impl Sinks {
    pub(crate) fn finding(&mut self, v: serde_json::Value) -> Result<()> {
        let rec = palisade_audit::sink::SinkRecord::Finding(v);
        for (f, n) in &mut self.forwarders {
            *n = f
                .send(&rec)
                .map_err(|e| anyhow::anyhow!("spool for {}: {e}", f.describe()))?
                + 1;
        }
        Ok(())
    }

    pub(crate) fn event(&mut self, v: serde_json::Value) -> Result<()> {
        if !self.events {
            return Ok(());
        }
        let rec = palisade_audit::sink::SinkRecord::AuditEvent(v);
        for (f, n) in &mut self.forwarders {
            *n = f
                .send(&rec)
                .map_err(|e| anyhow::anyhow!("spool for {}: {e}", f.describe()))?
                + 1;
        }
        Ok(())
    }

    /// Moves the forwarders out, leaving sinks that deliver nowhere.
    pub(crate) fn take(&mut self) -> Sinks {
        Sinks {
            forwarders: std::mem::take(&mut self.forwarders),
            events: self.events,
            timeout: self.timeout,
        }
    }

    /// Waits for delivery; reports what stays spooled.
    pub(crate) fn finish(self) {
        for (f, n) in self.forwarders {
            if !f.flush(std::time::Duration::from_secs(self.timeout), n) {
                let (_, err) = f.failures();
                eprintln!(
                    "palisade: {}: {} records not delivered yet ({}); they stay in the spool for the next run",
                    f.describe(),
                    n.saturating_sub(f.delivered()),
                    err.unwrap_or_default()
                );
            }
            f.stop();
        }
    }
}
