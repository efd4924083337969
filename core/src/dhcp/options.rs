//! What the caller tells a client machine at creation.

use std::time::Duration;

/// Per-attachment settings of a DHCPv4 or DHCPv6 client machine.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Stable per attachment (the daemon derives it from container ID + network
    /// name + ifname). v4: option 61 value; v6: the DUID is derived from it
    /// (DUID-UUID, RFC 6355, from a hash of it) and so is the IAID.
    pub client_id: Vec<u8>,
    pub hwaddr: [u8; 6],
    /// v4 option codes for the parameter request list (the caller has already
    /// merged defaults).
    pub request: Vec<u8>,
    /// v4 options sent verbatim in DISCOVER/REQUEST (e.g. 12 host name). v6
    /// ignores them. Codes the machine itself manages (0, 50, 53, 54, 55, 57,
    /// 61, 255) are skipped: the protocol must stay consistent.
    pub provide: Vec<(u8, Vec<u8>)>,
    /// v4: set the BROADCAST flag (always true from the daemon today, keep
    /// configurable).
    pub broadcast: bool,
    /// Cap of the exponential retransmission backoff (the reference daemon's
    /// -resendmax, default 62 s). v6: lowers every RFC 8415 maximum
    /// retransmission time (SOL_MAX_RT, REQ_MAX_RT, REN/REB_MAX_RT) to it.
    pub resend_max: Duration,
    /// How long an initial acquisition may take before the machine gives up
    /// (reference -timeout, default 10 s). Zero: never give up. Only the
    /// acquisition `start` begins has this deadline; after a lease is lost the
    /// machine keeps trying.
    pub acquire_timeout: Duration,
    /// Seed of the machine's own small PRNG (xid, transaction ids, ±1 s
    /// jitter) so tests are deterministic.
    pub seed: u64,
}

/// The reference daemon's default `-resendmax`.
pub const DEFAULT_RESEND_MAX: Duration = Duration::from_secs(62);
/// The reference daemon's default `-timeout`.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// A parameter request list asking for every option `v4::Lease` has a field
/// for: subnet mask, router, DNS servers, domain name, static routes, interface
/// MTU, lease time, T1, T2, domain search, classless static routes. (The
/// reference daemon's own default is only subnet mask and router; the daemon
/// merges the network configuration's list itself.)
pub const DEFAULT_REQUEST: &[u8] = &[1, 3, 6, 15, 26, 33, 51, 58, 59, 119, 121];

impl ClientOptions {
    /// Options with the reference daemon's defaults: the default request list,
    /// nothing provided, the BROADCAST flag set, `DEFAULT_RESEND_MAX`,
    /// `DEFAULT_ACQUIRE_TIMEOUT`, seed 0 (the daemon should give a random one).
    pub fn new(client_id: Vec<u8>, hwaddr: [u8; 6]) -> Self {
        ClientOptions {
            client_id,
            hwaddr,
            request: DEFAULT_REQUEST.to_vec(),
            provide: Vec::new(),
            broadcast: true,
            resend_max: DEFAULT_RESEND_MAX,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            seed: 0,
        }
    }
}
