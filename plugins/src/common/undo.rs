//! Undo on failure: each ADD step pushes how to take itself back; if ADD fails,
//! the steps are taken back in reverse order. Undo steps are best effort: a
//! failure while undoing is logged, and the original error is what the runtime
//! sees.

type Step<'a> = Box<dyn FnOnce() -> Result<(), String> + 'a>;

pub struct Undo<'a> {
    steps: Vec<(String, Step<'a>)>,
}

impl<'a> Undo<'a> {
    pub fn new() -> Self {
        Undo { steps: Vec::new() }
    }

    pub fn push(
        &mut self,
        what: impl Into<String>,
        step: impl FnOnce() -> Result<(), String> + 'a,
    ) {
        self.steps.push((what.into(), Box::new(step)));
    }

    /// ADD succeeded: keep everything.
    pub fn commit(mut self) {
        self.steps.clear();
    }
}

impl Default for Undo<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        while let Some((what, step)) = self.steps.pop() {
            if let Err(e) = step() {
                tracing::warn!("undo {what} failed: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn uncommitted_steps_run_in_reverse_and_committed_ones_never() {
        let log = RefCell::new(Vec::new());
        {
            let mut u = Undo::new();
            u.push("a", || {
                log.borrow_mut().push("a");
                Ok(())
            });
            u.push("b", || {
                log.borrow_mut().push("b");
                Err("ignored".into())
            });
        }
        assert_eq!(*log.borrow(), vec!["b", "a"]);
        {
            let mut u = Undo::new();
            u.push("c", || {
                log.borrow_mut().push("c");
                Ok(())
            });
            u.commit();
        }
        assert_eq!(*log.borrow(), vec!["b", "a"]);
    }
}
