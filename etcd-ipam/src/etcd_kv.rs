//! [`Kv`] on etcd: each call a bounded wait on one current-thread runtime.
//! Every failure to get an answer (no endpoint reachable, no leader, a
//! timeout) is [`KvError::Unavailable`]: the allocator then fails closed.
//!
//! A transaction that times out may still have been applied; the allocator
//! copes (a retried ADD finds its record, a retried DEL finds nothing left).

use crate::config::EtcdSettings;
use cni_core::ipam::cluster::{Compare, Entry, Kv, KvError, Op, Txn};
use etcd_client::{
    Certificate, Client, CompareOp, ConnectOptions, GetOptions, Identity, TlsOptions, TxnOp,
};
use std::future::Future;
use std::time::Duration;
use tokio::runtime::Runtime;

pub struct EtcdKv {
    rt: Runtime,
    settings: EtcdSettings,
    /// The endpoint in use and its client; the next call starts there.
    current: usize,
    client: Option<Client>,
}

/// gRPC codes (by number: etcd-client does not re-export tonic's enum) that
/// mean "no answer now", not "no": cancelled 1, unknown 2 (etcd's "request
/// timed out" while a leader is elected), deadline exceeded 4, resource
/// exhausted 8, aborted 10, unavailable 14 (no leader, no endpoint).
fn unavailable_status(code: i32) -> bool {
    matches!(code, 1 | 2 | 4 | 8 | 10 | 14)
}

fn classify(e: etcd_client::Error, endpoints: &str) -> KvError {
    let text = format!("etcd at {endpoints}: {e}");
    match &e {
        etcd_client::Error::GRpcStatus(s) if !unavailable_status(s.code() as i32) => {
            KvError::Failed(text)
        }
        etcd_client::Error::InvalidArgs(_) | etcd_client::Error::InvalidUri(_) => {
            KvError::Failed(text)
        }
        _ => KvError::Unavailable(text),
    }
}

impl EtcdKv {
    /// Prepares the client; nothing is dialled until the first call.
    pub fn connect(s: &EtcdSettings) -> Result<Self, KvError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| KvError::Failed(format!("starting the etcd client runtime: {e}")))?;
        // Spread concurrent plugin processes over the members.
        let current = std::process::id() as usize % s.endpoints.len().max(1);
        Ok(EtcdKv {
            rt,
            settings: s.clone(),
            current,
            client: None,
        })
    }

    fn options(&self) -> ConnectOptions {
        let s = &self.settings;
        let mut opts = ConnectOptions::new()
            .with_connect_timeout(s.dial_timeout)
            .with_timeout(s.request_timeout)
            // No leader (lost quorum) is an immediate error, not a hang.
            .with_require_leader(true);
        if let Some((user, password)) = &s.credentials {
            opts = opts.with_user(user.clone(), password.clone());
        }
        if let Some(tls) = &s.tls {
            let mut t = TlsOptions::new();
            if let Some(ca) = &tls.ca_pem {
                t = t.ca_certificate(Certificate::from_pem(ca));
            }
            if let Some((cert, key)) = &tls.identity_pem {
                t = t.identity(Identity::from_pem(cert, key));
            }
            opts = opts.with_tls(t);
        }
        opts
    }

    /// Runs `op` on one endpoint after another until one answers. The
    /// client's own balancing sends requests to a dead member and fails
    /// them, so each endpoint gets its own connection here. Retrying a
    /// transaction elsewhere is safe: every one the allocator sends is
    /// guarded by compares, so a second application fails them.
    fn call<T, F, Fut>(&mut self, op: F) -> Result<T, KvError>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        let n = self.settings.endpoints.len();
        let mut errors = Vec::new();
        for _ in 0..n {
            let endpoint = self.settings.endpoints[self.current].clone();
            let client = match self.client.clone() {
                Some(c) => c,
                None => {
                    let dial = Client::connect([endpoint.as_str()], Some(self.options()));
                    match run(&self.rt, self.settings.dial_timeout, &endpoint, dial) {
                        Ok(c) => {
                            self.client = Some(c.clone());
                            c
                        }
                        Err(e) => {
                            errors.push(e);
                            self.next_endpoint();
                            continue;
                        }
                    }
                }
            };
            match run(
                &self.rt,
                self.settings.request_timeout,
                &endpoint,
                op(client),
            ) {
                Err(KvError::Unavailable(m)) => {
                    errors.push(KvError::Unavailable(m));
                    self.next_endpoint();
                }
                other => return other,
            }
        }
        let text = errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        // Any refusal is the answer; otherwise nobody answered.
        match errors.iter().find(|e| matches!(e, KvError::Failed(_))) {
            Some(_) => Err(KvError::Failed(text)),
            None => Err(KvError::Unavailable(format!(
                "no etcd endpoint answered: {text}"
            ))),
        }
    }

    fn next_endpoint(&mut self) {
        self.client = None;
        self.current = (self.current + 1) % self.settings.endpoints.len().max(1);
    }
}

fn run<T>(
    rt: &Runtime,
    timeout: Duration,
    endpoints: &str,
    fut: impl Future<Output = Result<T, etcd_client::Error>>,
) -> Result<T, KvError> {
    rt.block_on(async { tokio::time::timeout(timeout, fut).await })
        .map_err(|_| {
            KvError::Unavailable(format!(
                "etcd at {endpoints}: no answer within {} ms",
                timeout.as_millis()
            ))
        })?
        .map_err(|e| classify(e, endpoints))
}

fn entry(kv: &etcd_client::KeyValue) -> (String, Entry) {
    (
        String::from_utf8_lossy(kv.key()).into_owned(),
        Entry {
            value: kv.value().to_vec(),
            mod_revision: kv.mod_revision(),
        },
    )
}

impl Kv for EtcdKv {
    fn get(&mut self, key: &str) -> Result<Option<Entry>, KvError> {
        let resp = self.call(|mut c| {
            let key = key.to_string();
            async move { c.get(key, None).await }
        })?;
        Ok(resp.kvs().first().map(|kv| entry(kv).1))
    }

    fn range(&mut self, prefix: &str) -> Result<Vec<(String, Entry)>, KvError> {
        let resp = self.call(|mut c| {
            let prefix = prefix.to_string();
            async move { c.get(prefix, Some(GetOptions::new().with_prefix())).await }
        })?;
        Ok(resp.kvs().iter().map(entry).collect())
    }

    fn txn(&mut self, txn: Txn) -> Result<bool, KvError> {
        let when: Vec<etcd_client::Compare> = txn
            .when
            .into_iter()
            .map(|c| match c {
                Compare::Absent(k) => etcd_client::Compare::create_revision(k, CompareOp::Equal, 0),
                Compare::Unchanged(k, rev) => {
                    etcd_client::Compare::mod_revision(k, CompareOp::Equal, rev)
                }
            })
            .collect();
        let then: Vec<TxnOp> = txn
            .then
            .into_iter()
            .map(|op| match op {
                Op::Put(k, v) => TxnOp::put(k, v, None),
                Op::Delete(k) => TxnOp::delete(k, None),
            })
            .collect();
        let t = etcd_client::Txn::new().when(when).and_then(then);
        let resp = self.call(|mut c| {
            let t = t.clone();
            async move { c.txn(t).await }
        })?;
        Ok(resp.succeeded())
    }
}
