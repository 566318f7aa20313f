//! The one WebGPU device per page (native: wgpu on Vulkan), behind the `webgpu` feature.

use std::cell::RefCell;
use std::rc::Rc;

use burn::tensor::wgpu::{wgpu, WgpuBackend};
use burn::tensor::Device;

/// The GPU device, once initialized.
pub struct Gpu {
    /// With autodiff, for training.
    pub device: Device,
    /// What the adapter calls itself, for the page's badge.
    pub adapter: String,
    /// The wgpu device under burn's runtime; destroying it simulates a lost GPU.
    handle: wgpu::Device,
}

impl Gpu {
    /// Loses the device on purpose, as a crashed driver or a reclaimed GPU would.
    pub fn destroy(&self) {
        self.handle.destroy();
    }
}

thread_local! {
    static GPU: RefCell<Option<Result<Rc<Gpu>, String>>> = const { RefCell::new(None) };
}

/// The WebGPU (native: wgpu) device, initialized on first use and shared afterwards: burn's
/// runtime can be registered only once per page ("A server is still registered for device").
pub async fn gpu() -> Result<Rc<Gpu>, String> {
    if let Some(cached) = GPU.with(|gpu| gpu.borrow().clone()) {
        return cached;
    }
    let result = init_gpu().await.map(Rc::new);
    GPU.with(|gpu| *gpu.borrow_mut() = Some(result.clone()));
    result
}

async fn init_gpu() -> Result<Gpu, String> {
    #[cfg(target_arch = "wasm32")]
    let api = {
        browser_has_webgpu()?;
        WgpuBackend::WebGpu
    };
    #[cfg(not(target_arch = "wasm32"))]
    let api = WgpuBackend::Auto;
    let (device, setup) = Device::wgpu_options()
        .graphics_api(api)
        .init_with_setup_async()
        .await
        .map_err(|e| format!("WebGPU could not start: {e}"))?;
    let info = setup.adapter.get_info();
    let adapter = [
        info.name.as_str(),
        info.driver.as_str(),
        info.driver_info.as_str(),
    ]
    .into_iter()
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join(" · ");
    Ok(Gpu {
        device: device.autodiff(),
        adapter: if adapter.is_empty() {
            "WebGPU adapter".into()
        } else {
            adapter
        },
        handle: setup.device,
    })
}

/// burn panics deep inside wgpu when there is no WebGPU at all; say so plainly instead.
#[cfg(target_arch = "wasm32")]
fn browser_has_webgpu() -> Result<(), String> {
    use wasm_bindgen::JsValue;
    let navigator = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("navigator"))
        .unwrap_or(JsValue::UNDEFINED);
    let gpu =
        js_sys::Reflect::get(&navigator, &JsValue::from_str("gpu")).unwrap_or(JsValue::UNDEFINED);
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser has no WebGPU (navigator.gpu is missing)".into());
    }
    Ok(())
}
