//! GPU isolation (`PLS-GPU-*`): devices visible outside the device
//! plugin's allocation, host device nodes, GPU nodes open to any pod, GPU
//! sharing across tenants. (`hostIPC` for shared memory is PLS-POD-004.)

use crate::rule::Rule;

mod device_access;
mod driver_capabilities;
mod node_taint;
mod sharing;
mod visible_devices;

/// The rules of this group.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(visible_devices::VisibleDevices),
        Box::new(driver_capabilities::DriverCapabilities),
        Box::new(device_access::DeviceAccess),
        Box::new(node_taint::NodeTaint),
        Box::new(sharing::Sharing),
    ]
}
