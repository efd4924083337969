//! Finding a device by its place in sysfs (`kernelpath`, `pciBusID`), under
//! a sysfs root that is `/sys` in the binary and a scratch tree in tests.

use cni_core::CniError;
use std::path::{Path, PathBuf};

/// Drivers that hand a PCI network function to user space (DPDK): such a
/// device has no kernel interface to move, only addresses to allocate.
const USERSPACE_DRIVERS: [&str; 3] = ["vfio-pci", "uio_pci_generic", "igb_uio"];

fn pci_dir(sys: &Path, pci: &str) -> PathBuf {
    sys.join("bus/pci/devices").join(pci)
}

/// `kernelpath` (which begins with `/sys/`) under the sysfs root.
fn under_root(sys: &Path, kernel_path: &Path) -> PathBuf {
    sys.join(kernel_path.strip_prefix("/sys").unwrap_or(kernel_path))
}

/// The names in `dir`, sorted as Go's `os.ReadDir` returns them.
fn names(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}

/// The interface names under `<kernelpath>/net`, in order.
pub fn kernel_path_interfaces(sys: &Path, kernel_path: &Path) -> Result<Vec<String>, CniError> {
    let dir = under_root(sys, kernel_path).join("net");
    names(&dir).map_err(|e| {
        CniError::invalid_config(format!(
            "kernelpath: no network devices at {}: {e}",
            kernel_path.join("net").display()
        ))
    })
}

/// The interface names of a PCI function: `<device>/net`, or for a virtio
/// device `<device>/virtio*/net`.
pub fn pci_interfaces(sys: &Path, pci: &str) -> Result<Vec<String>, CniError> {
    let dev = pci_dir(sys, pci);
    let mut dir = dev.join("net");
    if std::fs::symlink_metadata(&dir).is_err() {
        let virtio = names(&dev)
            .unwrap_or_default()
            .into_iter()
            .find(|n| n.starts_with("virtio") && dev.join(n).join("net").is_dir());
        match virtio {
            Some(v) => dir = dev.join(v).join("net"),
            None => {
                return Err(CniError::invalid_config(format!(
                    "pciBusID: no net directory under PCI device {pci}"
                )))
            }
        }
    }
    names(&dir).map_err(|e| CniError::io(format!("reading {}: {e}", dir.display())))
}

/// Whether the PCI function is bound to a user-space (DPDK) driver. A
/// device without a driver link is not: it has no driver at all.
pub fn has_userspace_driver(sys: &Path, pci: &str) -> Result<bool, CniError> {
    let dev = pci_dir(sys, pci);
    if !dev.exists() {
        return Err(CniError::invalid_config(format!(
            "pciBusID: no PCI device {pci} in {}",
            dev.parent().unwrap_or(&dev).display()
        )));
    }
    Ok(std::fs::read_link(dev.join("driver"))
        .ok()
        .and_then(|target| target.file_name().map(|n| n.to_string_lossy().into_owned()))
        .is_some_and(|driver| USERSPACE_DRIVERS.contains(&driver.as_str())))
}
