//! The plugins' logic, generic over the `NetBackend`. Each binary in `src/bin`
//! only picks the Linux backend and hands over to skel.
pub mod host_local;
