//! The ingress redirect `bandwidth` installs: the ingress qdisc and one u32
//! filter that matches every packet and hands it to another link's egress
//! (mirred), as `tc filter add dev X parent ffff: protocol all prio 1 u32
//! match u32 0 0 flowid 1:1 action mirred egress redirect dev IFB` does.

use super::qdisc::INGRESS_HANDLE;
use super::Rtnl;
use cni_core::net::NetResult;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::tc::{
    TcAction, TcActionAttribute, TcActionMirrorOption, TcActionOption, TcActionType, TcAttribute,
    TcFilterU32Option, TcHandle, TcMessage, TcMirror, TcMirrorActionType, TcOption, TcU32Key,
    TcU32Selector, TcU32SelectorFlags,
};
use netlink_packet_route::RouteNetlinkMessage;

const PRIORITY: u32 = 1;
/// ETH_P_ALL, in network byte order as `tcm_info` carries it.
const PROTOCOL_ALL: u16 = 0x0003;
const CLASS_ID: TcHandle = TcHandle { major: 1, minor: 1 };

fn redirect_action(to: u32) -> TcAction {
    let mut mirror = TcMirror::default();
    mirror.eaction = TcMirrorActionType::EgressRedir;
    mirror.ifindex = to;
    // Stolen: the packet goes to `to` only (what tc's `redirect` means).
    mirror.generic.action = TcActionType::Stolen;
    let mut action = TcAction::default();
    action.tab = 1;
    action.attributes = vec![
        TcActionAttribute::Kind("mirred".to_string()),
        TcActionAttribute::Options(vec![TcActionOption::Mirror(TcActionMirrorOption::Parms(
            mirror,
        ))]),
    ];
    action
}

fn match_all() -> TcU32Selector {
    let mut selector = TcU32Selector::default();
    selector.flags = TcU32SelectorFlags::Terminal;
    selector.nkeys = 1;
    selector.keys = vec![TcU32Key::default()];
    selector
}

fn redirect_filter(index: u32, to: u32) -> TcMessage {
    let mut msg = TcMessage::with_index(index as i32);
    msg.header.parent = INGRESS_HANDLE;
    msg.header.info = (PRIORITY << 16) | u32::from(PROTOCOL_ALL.to_be());
    msg.attributes = vec![
        TcAttribute::Kind("u32".to_string()),
        TcAttribute::Options(vec![
            TcOption::U32(TcFilterU32Option::Selector(match_all())),
            TcOption::U32(TcFilterU32Option::ClassId(CLASS_ID)),
            TcOption::U32(TcFilterU32Option::Action(vec![redirect_action(to)])),
        ]),
    ];
    msg
}

/// Where a filter's mirred actions send packets.
fn mirred_targets(msg: &TcMessage) -> impl Iterator<Item = u32> + '_ {
    let u32_options = msg.attributes.iter().flat_map(|a| match a {
        TcAttribute::Options(o) => o.as_slice(),
        _ => &[],
    });
    let actions = u32_options.flat_map(|o| match o {
        TcOption::U32(TcFilterU32Option::Action(actions)) => actions.as_slice(),
        _ => &[],
    });
    let action_options = actions
        .flat_map(|a| a.attributes.iter())
        .flat_map(|a| match a {
            TcActionAttribute::Options(o) => o.as_slice(),
            _ => &[],
        });
    action_options.filter_map(|o| match o {
        TcActionOption::Mirror(TcActionMirrorOption::Parms(m)) => Some(m.ifindex),
        _ => None,
    })
}

impl Rtnl {
    /// Both or neither: a filter the kernel refuses takes the new ingress
    /// qdisc back with it.
    pub fn ingress_redirect_add(&self, index: u32, to: u32) -> NetResult<()> {
        self.ingress_qdisc_add(index)?;
        let added = self.sock.request(
            RouteNetlinkMessage::NewTrafficFilter(redirect_filter(index, to)),
            NLM_F_CREATE | NLM_F_EXCL,
            || {
                format!(
                    "add redirect filter from link #{index} to link #{to} in {}",
                    self.ns
                )
            },
        );
        if added.is_err() {
            if let Err(e) = self.ingress_qdisc_del(index) {
                tracing::warn!("removing the ingress qdisc of link #{index} again: {e}");
            }
        }
        added
    }

    /// The links the filters of `index`'s ingress qdisc redirect to.
    pub(super) fn redirect_targets(&self, index: u32) -> NetResult<Vec<u32>> {
        let mut req = TcMessage::with_index(index as i32);
        req.header.parent = INGRESS_HANDLE;
        let replies = self
            .sock
            .dump(RouteNetlinkMessage::GetTrafficFilter(req), || {
                format!("list ingress filters of link #{index} in {}", self.ns)
            })?;
        let mut targets: Vec<u32> = replies
            .iter()
            .filter_map(|r| match r {
                RouteNetlinkMessage::NewTrafficFilter(msg) => Some(msg),
                _ => None,
            })
            .flat_map(mirred_targets)
            .collect();
        targets.sort_unstable();
        targets.dedup();
        Ok(targets)
    }
}
