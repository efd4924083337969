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
    client: Client,
    timeout: Duration,
    endpoints: String,
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
    /// Connects (lazily: an endpoint that does not answer shows at the first
    /// call, within the timeout).
    pub fn connect(s: &EtcdSettings) -> Result<Self, KvError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| KvError::Failed(format!("starting the etcd client runtime: {e}")))?;
        let endpoints = s.endpoints.join(",");
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
        let timeout = s.dial_timeout + s.request_timeout;
        let connect = Client::connect(s.endpoints.clone(), Some(opts));
        let client = run(&rt, timeout, &endpoints, connect)?;
        Ok(EtcdKv {
            rt,
            client,
            timeout: s.request_timeout,
            endpoints,
        })
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
        let resp = run(
            &self.rt,
            self.timeout,
            &self.endpoints,
            self.client.get(key, None),
        )?;
        Ok(resp.kvs().first().map(|kv| entry(kv).1))
    }

    fn range(&mut self, prefix: &str) -> Result<Vec<(String, Entry)>, KvError> {
        let resp = run(
            &self.rt,
            self.timeout,
            &self.endpoints,
            self.client
                .get(prefix, Some(GetOptions::new().with_prefix())),
        )?;
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
        let resp = run(&self.rt, self.timeout, &self.endpoints, self.client.txn(t))?;
        Ok(resp.succeeded())
    }
}
