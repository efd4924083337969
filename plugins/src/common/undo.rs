//! Undo on failure: each ADD step pushes how to take itself back; if ADD fails,
//! the steps are taken back in reverse order. Undo steps are best effort: a
//! failure while undoing is logged, and the original error is what the runtime
//! sees.

use cni_core::net::NetError;
use cni_core::CniError;

/// Why an undo step failed: the kernel refused, the IPAM plugin did, or a
/// file of the plugin's own state could not be removed.
#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(transparent)]
    Ipam(#[from] CniError),
    #[error(transparent)]
    File(#[from] std::io::Error),
}

/// An undo step that failed, named by what it was taking back.
#[derive(Debug, thiserror::Error)]
#[error("undo {step} failed: {cause}")]
pub struct UndoFailed {
    pub step: String,
    pub cause: UndoError,
}

type Step<'a> = Box<dyn FnOnce() -> Result<(), UndoError> + 'a>;

pub struct Undo<'a> {
    steps: Vec<(String, Step<'a>)>,
}

impl<'a> Undo<'a> {
    pub fn new() -> Self {
        Undo { steps: Vec::new() }
    }

    pub fn push<E: Into<UndoError>>(
        &mut self,
        what: impl Into<String>,
        step: impl FnOnce() -> Result<(), E> + 'a,
    ) {
        self.steps
            .push((what.into(), Box::new(move || step().map_err(Into::into))));
    }

    /// ADD succeeded: keep everything.
    pub fn commit(mut self) {
        self.steps.clear();
    }

    /// Takes every step back, newest first, and reports the ones that failed.
    fn roll_back(&mut self) -> Vec<UndoFailed> {
        let mut failed = Vec::new();
        while let Some((step, undo)) = self.steps.pop() {
            // Every step is logged, so an operator's log shows what a failed
            // ADD took back, not only what it could not.
            match undo() {
                Ok(()) => tracing::info!("failed ADD: undid {step}"),
                Err(cause) => {
                    let failure = UndoFailed { step, cause };
                    tracing::warn!("{failure}");
                    failed.push(failure);
                }
            }
        }
        failed
    }
}

impl Default for Undo<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        // Each step was logged as it ran.
        self.roll_back();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cni_core::net::NetErrorKind;
    use std::cell::RefCell;

    #[test]
    fn uncommitted_steps_run_in_reverse_and_committed_ones_never() {
        let log = RefCell::new(Vec::new());
        {
            let mut u = Undo::new();
            u.push("a", || {
                log.borrow_mut().push("a");
                Ok::<(), NetError>(())
            });
            u.push("b", || {
                log.borrow_mut().push("b");
                Err(NetError::new(NetErrorKind::Other, "ignored"))
            });
        }
        assert_eq!(*log.borrow(), vec!["b", "a"]);
        {
            let mut u = Undo::new();
            u.push("c", || {
                log.borrow_mut().push("c");
                Ok::<(), NetError>(())
            });
            u.commit();
        }
        assert_eq!(*log.borrow(), vec!["b", "a"]);
    }

    #[test]
    fn a_failed_step_is_reported_by_name_with_its_cause() {
        let mut u = Undo::new();
        u.push("veth veth1", || {
            Err(NetError::new(NetErrorKind::Busy, "device busy"))
        });
        u.push("IPAM allocation", || Err(CniError::io("plugin gone")));
        u.push("sysctl x", || Ok::<(), NetError>(()));
        let failed: Vec<String> = u.roll_back().iter().map(ToString::to_string).collect();
        assert_eq!(
            failed,
            [
                "undo IPAM allocation failed: plugin gone",
                "undo veth veth1 failed: device busy"
            ]
        );
        u.commit();
    }
}
