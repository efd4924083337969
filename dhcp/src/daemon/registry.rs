//! The daemon's attachments by key, and the plugin verbs on them.

use super::attachment::{add_failed, Attachment, ClientTuning, Command, Start, Status};
use super::store::{Record, Store};
use crate::config::DhcpConf;
use crate::protocol::{Request, Verb};
use cni_core::error::code;
use cni_core::spec::config::NetConf;
use cni_core::{CniError, CniResult};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

struct Entry {
    record: Record,
    commands: mpsc::Sender<Command>,
    status: watch::Receiver<Status>,
}

#[derive(Clone)]
pub struct Registry {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    store: Store,
    tuning: ClientTuning,
    host_prefix: String,
}

/// The attachment's identity, as the reference builds its client ID.
pub fn attachment_key(container_id: &str, network: &str, ifname: &str) -> String {
    format!("{container_id}/{network}/{ifname}")
}

impl Registry {
    pub fn new(store: Store, tuning: ClientTuning, host_prefix: String) -> Registry {
        Registry {
            entries: Arc::default(),
            store,
            tuning,
            host_prefix,
        }
    }

    pub async fn handle(&self, request: Request) -> Result<Option<CniResult>, CniError> {
        match request.verb {
            Verb::Add => self.add(&request).await.map(Some),
            Verb::Del => self.del(&request).await.map(|_| None),
            Verb::Check => self.check(&request).map(|_| None),
            Verb::Gc => self.gc(&request).await.map(|_| None),
            Verb::Status => Ok(None),
        }
    }

    /// Resumes the leases of a previous run (in the background: a lease
    /// whose namespace or interface is gone is forgotten by its task).
    pub fn resume(&self) -> std::io::Result<usize> {
        let records = self.store.load_all()?;
        let count = records.len();
        for record in records {
            self.spawn(record, Start::Resume);
        }
        Ok(count)
    }

    async fn add(&self, request: &Request) -> Result<CniResult, CniError> {
        let conf = DhcpConf::parse(request.config.as_bytes(), &request.cni_args)?;
        if request.netns.is_empty() {
            return Err(CniError::invalid_env("dhcp: CNI_NETNS is required for ADD"));
        }
        let key = attachment_key(&request.container_id, &conf.common.name, &request.ifname);
        let mut status = self.existing_or_new(&key, || Record {
            key: key.clone(),
            container_id: request.container_id.clone(),
            network: conf.common.name.clone(),
            ifname: request.ifname.clone(),
            netns: request.netns.clone(),
            hwaddr: [0; 6],
            options: conf.lease.clone(),
            lease4: None,
            lease6: None,
        });
        // The task gives up after the acquire timeout itself; the margin
        // only covers a task that never reports.
        let wait = self.tuning.acquire_timeout + Duration::from_secs(5);
        let outcome = tokio::time::timeout(wait, async {
            loop {
                match status.borrow_and_update().clone() {
                    Status::Bound(result) => return Ok(result),
                    Status::Ended(e) => return Err(add_failed(e, &key)),
                    Status::Acquiring => {}
                }
                if status.changed().await.is_err() {
                    return Err(add_failed(None, &key));
                }
            }
        })
        .await;
        match outcome {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(e)) => {
                // It ended: dropped, so a retried ADD starts afresh.
                let _ = self.existing(&key);
                Err(e)
            }
            Err(_) => {
                self.release(&key).await;
                Err(CniError::try_again_later(format!(
                    "dhcp: no lease for {key} within {wait:?}"
                )))
            }
        }
    }

    async fn del(&self, request: &Request) -> Result<(), CniError> {
        let network = NetConf::parse(request.config.as_bytes())
            .map(|c| c.name)
            .map_err(CniError::from)?;
        let key = attachment_key(&request.container_id, &network, &request.ifname);
        self.release(&key).await;
        // A lease file without a live task (its resume failed) goes too.
        let _ = self.store.remove(&key);
        Ok(())
    }

    fn check(&self, request: &Request) -> Result<(), CniError> {
        let conf = DhcpConf::parse(request.config.as_bytes(), &request.cni_args)?;
        let key = attachment_key(&request.container_id, &conf.common.name, &request.ifname);
        match self.existing(&key).map(|s| s.borrow().clone()) {
            Some(Status::Bound(_)) => Ok(()),
            Some(Status::Acquiring) => Err(CniError::new(
                code::GENERIC,
                format!("dhcp: {key} has no lease yet (acquiring or renewing after a loss)"),
            )),
            _ => Err(CniError::new(
                code::GENERIC,
                format!("dhcp: the daemon holds no lease for {key}"),
            )),
        }
    }

    /// Releases this network's leases whose attachments are not valid any more.
    async fn gc(&self, request: &Request) -> Result<(), CniError> {
        let conf = NetConf::parse(request.config.as_bytes())?;
        let Some(valid) = conf.valid_attachments()? else {
            return Ok(());
        };
        let stale: Vec<String> = {
            let entries = self.lock();
            entries
                .values()
                .filter(|e| e.record.network == conf.name)
                .filter(|e| {
                    !valid.iter().any(|a| {
                        a.container_id == e.record.container_id && a.ifname == e.record.ifname
                    })
                })
                .map(|e| e.record.key.clone())
                .collect()
        };
        for key in stale {
            self.release(&key).await;
        }
        Ok(())
    }

    /// A live attachment's status; an ended one is dropped.
    fn existing(&self, key: &str) -> Option<watch::Receiver<Status>> {
        live(&mut self.lock(), key)
    }

    /// The live attachment under `key`, or a new one acquiring its leases;
    /// under one lock, so two ADDs at once share one attachment.
    fn existing_or_new(
        &self,
        key: &str,
        record: impl FnOnce() -> Record,
    ) -> watch::Receiver<Status> {
        let mut entries = self.lock();
        if let Some(status) = live(&mut entries, key) {
            return status;
        }
        self.spawn_locked(&mut entries, record(), Start::Acquire)
    }

    fn spawn(&self, record: Record, start: Start) -> watch::Receiver<Status> {
        let mut entries = self.lock();
        self.spawn_locked(&mut entries, record, start)
    }

    fn spawn_locked(
        &self,
        entries: &mut HashMap<String, Entry>,
        record: Record,
        start: Start,
    ) -> watch::Receiver<Status> {
        let (status_tx, status_rx) = watch::channel(Status::Acquiring);
        let (commands_tx, commands_rx) = mpsc::channel(4);
        let attachment = Attachment {
            netns_path: format!("{}{}", self.host_prefix, record.netns),
            record: record.clone(),
            tuning: self.tuning,
            store: self.store.clone(),
        };
        entries.insert(
            record.key.clone(),
            Entry {
                record,
                commands: commands_tx,
                status: status_rx.clone(),
            },
        );
        tokio::spawn(attachment.run(start, status_tx, commands_rx));
        status_rx
    }

    /// Ends an attachment's task with a DHCPRELEASE and waits for it.
    async fn release(&self, key: &str) {
        let Some(entry) = self.lock().remove(key) else {
            return;
        };
        let (done_tx, done_rx) = oneshot::channel();
        if entry.commands.send(Command::Release(done_tx)).await.is_ok() {
            let _ = done_rx.await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The status of the attachment under `key` while it runs; one that ended
/// is removed, so the next ADD starts afresh.
fn live(entries: &mut HashMap<String, Entry>, key: &str) -> Option<watch::Receiver<Status>> {
    let status = entries.get(key)?.status.clone();
    if matches!(*status.borrow(), Status::Ended(_)) {
        entries.remove(key);
        return None;
    }
    Some(status)
}
