//! An in-memory Linux kernel that implements NetBackend, for tests without root
