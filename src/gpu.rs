//! The one WebGPU device per page (native: wgpu on Vulkan), behind the `webgpu` feature.

use std::cell::RefCell;
use std::rc::Rc;

use burn::tensor::wgpu::{wgpu, WgpuBackend};
use burn::tensor::Device;

use crate::error::Error;

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
    static GPU: RefCell<Option<Result<Rc<Gpu>, Error>>> = const { RefCell::new(None) };
}

/// The WebGPU (native: wgpu) device, initialized on first use and shared afterwards: burn's
/// runtime can be registered only once per page ("A server is still registered for device").
pub async fn gpu() -> Result<Rc<Gpu>, Error> {
    if let Some(cached) = GPU.with(|gpu| gpu.borrow().clone()) {
        return cached;
    }
    let result = init_gpu().await.map(Rc::new);
    GPU.with(|gpu| *gpu.borrow_mut() = Some(result.clone()));
    result
}

/// Kernel launches cubecl gathers into one queue submit. Its default, 32, split a baby-GPT
/// training step (~150 launches) into 5 or more submits, each a round trip into the browser's
/// GPU process; a step's launches queue in well under a millisecond of host time, so the GPU
/// waits little for a larger batch.
const TASKS_PER_SUBMIT: usize = 256;

async fn init_gpu() -> Result<Gpu, Error> {
    #[cfg(target_arch = "wasm32")]
    let (api, browser_info) = (WgpuBackend::WebGpu, browser_adapter().await?);
    #[cfg(not(target_arch = "wasm32"))]
    let (api, browser_info) = (WgpuBackend::Auto, String::new());
    let (device, setup) = Device::wgpu_options()
        .graphics_api(api)
        .tasks_max(TASKS_PER_SUBMIT)
        .init_with_setup_async()
        .await
        .map_err(|e| Error::device(format!("WebGPU could not start: {e}")))?;
    let info = setup.adapter.get_info();
    let adapter = [
        info.name.as_str(),
        info.driver.as_str(),
        info.driver_info.as_str(),
        browser_info.as_str(),
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

/// Asks the browser for an adapter before burn does: burn panics deep inside wgpu when there is
/// no WebGPU at all, and its error for a missing adapter is a paragraph, not a notice. Returns
/// what the browser says about the adapter (`GPUAdapterInfo`), which wgpu leaves empty on the web.
#[cfg(target_arch = "wasm32")]
async fn browser_adapter() -> Result<String, Error> {
    use js_sys::{Function, Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    let get = |object: &JsValue, key: &str| {
        Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    };
    let gpu = get(&get(&js_sys::global(), "navigator"), "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        return Err(Error::device("this browser has no WebGPU"));
    }
    let adapter = match get(&gpu, "requestAdapter").dyn_into::<Function>() {
        Ok(request) => match request.call0(&gpu).map(Promise::from) {
            Ok(promise) => wasm_bindgen_futures::JsFuture::from(promise).await,
            Err(error) => Err(error),
        },
        Err(_) => {
            return Err(Error::device(
                "this browser's WebGPU cannot request an adapter",
            ))
        }
    };
    match adapter {
        Ok(adapter) if !adapter.is_null() && !adapter.is_undefined() => {
            let info = get(&adapter, "info");
            let parts: Vec<String> = ["vendor", "architecture", "device", "description"]
                .iter()
                .filter_map(|key| get(&info, key).as_string())
                .filter(|part| !part.is_empty())
                .collect();
            Ok(parts.join(" "))
        }
        Ok(_) => Err(Error::device("the browser offers no WebGPU adapter")),
        Err(error) => Err(Error::device(format!(
            "the browser refused a WebGPU adapter: {error:?}"
        ))),
    }
}
