use std::fmt;

/// What went wrong, by kind, so plugin logic treats EEXIST/ENOENT alike on
/// every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetErrorKind {
    /// EEXIST
    Exists,
    /// ENOENT, ENODEV, ESRCH (route), EADDRNOTAVAIL (address)
    NotFound,
    /// ENETUNREACH
    Unreachable,
    /// EBUSY
    Busy,
    /// EINVAL, ERANGE, a name too long, a path that is not a netns
    Invalid,
    /// EPERM, EACCES
    Permission,
    /// EOPNOTSUPP: e.g. a link kind whose driver the kernel does not have
    Unsupported,
    Other,
}

/// A backend error: its kind and a message naming the operation and object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetError {
    pub kind: NetErrorKind,
    pub msg: String,
}

impl NetError {
    pub fn new(kind: NetErrorKind, msg: impl Into<String>) -> Self {
        NetError {
            kind,
            msg: msg.into(),
        }
    }
    pub fn exists(msg: impl Into<String>) -> Self {
        Self::new(NetErrorKind::Exists, msg)
    }
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::new(NetErrorKind::NotFound, msg)
    }
    pub fn unreachable(msg: impl Into<String>) -> Self {
        Self::new(NetErrorKind::Unreachable, msg)
    }
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::new(NetErrorKind::Invalid, msg)
    }
    pub fn other(msg: impl Into<String>) -> Self {
        Self::new(NetErrorKind::Other, msg)
    }
    pub fn is_not_found(&self) -> bool {
        self.kind == NetErrorKind::NotFound
    }
    pub fn is_exists(&self) -> bool {
        self.kind == NetErrorKind::Exists
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for NetError {}

pub type NetResult<T> = Result<T, NetError>;
